//===- Checkpoint.h - safetensors files and training checkpoints -----------===//
//
// Checkpoints are safetensors files (DESIGN.md), the format PyTorch and the
// Hugging Face tools read and write
// (https://github.com/huggingface/safetensors):
//
//   8 bytes   N, little-endian u64
//   N bytes   JSON: {"w": {"dtype": "F32", "shape": [2, 3],
//                          "data_offsets": [0, 24]}, ...,
//                    "__metadata__": {"step": "100"}}
//   the rest  the data buffer; each tensor's C-order little-endian bytes at
//             [begin, end) relative to the buffer's start
//
//   // Save and load a set of named tensors:
//   KILN_RETURN_IF_ERROR(kiln::saveSafetensors("w.safetensors",
//                                              {{"w", w}, {"b", b}},
//                                              {{"step", "100"}}));
//   KILN_ASSIGN_OR_RETURN(kiln::SafetensorsFile file,
//                         kiln::loadSafetensors("w.safetensors"));
//   // Copy them into a model's existing parameters, checked by name:
//   KILN_RETURN_IF_ERROR(kiln::loadInto(file, params));
//
//   // Model and optimizer in one file (prefixes "model." and "optim."):
//   KILN_RETURN_IF_ERROR(kiln::saveCheckpoint("ckpt.safetensors",
//                                             net->stateDict(),
//                                             optimizer->stateDict(),
//                                             {{"step", "100"}}));
//   KILN_ASSIGN_OR_RETURN(kiln::Checkpoint ckpt,
//                         kiln::loadCheckpoint("ckpt.safetensors"));
//   KILN_RETURN_IF_ERROR(net->loadStateDict(ckpt.model));
//   KILN_RETURN_IF_ERROR(optimizer->loadStateDict(ckpt.optimizer));
//
// NamedTensorList is the same type as nn::NamedTensors and
// optim::StateDict, so state dicts pass in and out without conversion; this
// header does not depend on either.
//
// dtypes: F64 F32 F16 BF16 I64 I32 I8 BOOL, one for each kiln::DType. Other
// safetensors dtypes (U8, I16, F8_E4M3, ...) are refused with a Status.
//
// Writes are atomic: the bytes go to a temporary file in the destination's
// directory (".<name>.tmp.<pid>.<n>"), which is fsync'ed, renamed over the
// destination, and the directory is fsync'ed. A crash at any moment leaves
// either the old file or the new one under the final name, never a mix; it
// may leave a stray temporary file beside it. The new file gets the default
// permissions (0666 less the umask), and a symlink at the destination is
// replaced, not followed.
//
// Reads trust nothing: a truncated file, an oversized header, malformed
// JSON, an unknown dtype, a duplicate name, a shape whose size overflows, or
// data offsets that are out of range, overlap, leave gaps or disagree with
// shape and dtype are each a DataLoss (or InvalidArgument for an unsupported
// dtype) naming the file and the tensor, never a crash. Nothing is allocated
// for tensor data before the whole header has been checked against the size
// of the file, so a hostile header cannot request more memory than the file
// holds.
//
// Ownership: loaded tensors are new CPU tensors owned by the returned value;
// loadInto copies into the caller's tensors and keeps no reference to them.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_CHECKPOINT_H
#define KILN_CHECKPOINT_H

#include "kiln/Tensor.h"

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln {

/// Largest JSON header the reader accepts (the reference implementation's
/// limit, 100 MB).
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

/// A list of (name, tensor): a model's or an optimizer's stateDict().
using NamedTensorList = std::vector<std::pair<std::string, Tensor>>;

/// The contents of a safetensors file.
struct SafetensorsFile {
  /// Sorted by name; names are unique.
  NamedTensorList tensors;
  /// The "__metadata__" map (empty when the file has none).
  std::map<std::string, std::string> metadata;

  /// The tensor called `name`, or nullptr.
  const Tensor *find(std::string_view name) const;
};

/// The safetensors name of a dtype: "F32", "BF16", "BOOL", ...
std::string_view safetensorsDTypeName(DType t);
/// The DType of a safetensors dtype name; InvalidArgument for names Kiln
/// does not support.
Expected<DType> parseSafetensorsDType(std::string_view name);

/// Encodes tensors (any strides, any order; names unique and not
/// "__metadata__") as a safetensors image. The data follow the order given.
Expected<std::vector<uint8_t>>
encodeSafetensors(const NamedTensorList &tensors,
                  const std::map<std::string, std::string> &metadata = {});
/// Parses an in-memory safetensors image; `name` is used in messages.
Expected<SafetensorsFile> parseSafetensors(std::span<const uint8_t> bytes,
                                        std::string_view name = "<memory>");

/// Writes a safetensors file atomically (see above). IoError when the
/// directory does not exist or a write, fsync or rename fails; the
/// destination is then untouched.
Status saveSafetensors(const std::string &path, const NamedTensorList &tensors,
                       const std::map<std::string, std::string> &metadata = {});
/// Reads a safetensors file into new CPU tensors.
Expected<SafetensorsFile> loadSafetensors(const std::string &path);

/// Copies `source` into the existing tensors of `destination` by name
/// (Tensor::copyFrom; views stay views, storage is shared as before). Shapes
/// and dtypes must match exactly. With `strict`, every destination name must
/// be in `source` and every source name in `destination`; without, names
/// present on one side only are skipped. Every problem (missing, unexpected,
/// wrong shape, wrong dtype) is listed by name in one InvalidArgument, and
/// then nothing is copied.
Status loadInto(const NamedTensorList &source, NamedTensorList &destination,
                bool strict = true);
Status loadInto(const SafetensorsFile &source, NamedTensorList &destination,
                bool strict = true);

/// Prefixes of model parameters and optimizer state in a checkpoint file.
inline constexpr std::string_view kCheckpointModelPrefix = "model.";
inline constexpr std::string_view kCheckpointOptimizerPrefix = "optim.";

/// A checkpoint read back: names without their prefixes, sorted by name.
struct Checkpoint {
  NamedTensorList model;
  NamedTensorList optimizer;
  std::map<std::string, std::string> metadata;
};

/// Saves model parameters as "model.<name>" and optimizer state as
/// "optim.<name>" in one safetensors file, atomically.
Status saveCheckpoint(const std::string &path, const NamedTensorList &model,
                      const NamedTensorList &optimizerState,
                      const std::map<std::string, std::string> &metadata = {});
/// Reads a file written by saveCheckpoint; a tensor with neither prefix is
/// DataLoss.
Expected<Checkpoint> loadCheckpoint(const std::string &path);

} // namespace kiln

#endif // KILN_CHECKPOINT_H
