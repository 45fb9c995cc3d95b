//===- Npy.h - Reading and writing .npy files ------------------------------===//
//
// numpy's .npy format (versions 1.0, 2.0, 3.0): a magic string, a header that
// is a Python dict literal ({'descr': '<f4', 'fortran_order': False,
// 'shape': (2, 3), }) and the raw elements. Files come from anywhere, so the
// reader trusts nothing: bad magic, a malformed or oversized header, an
// unsupported dtype, a declared shape that overflows or does not match the
// bytes present are each a Status naming the file, never a crash or a huge
// allocation. Fortran-order files are read (and returned C-contiguous);
// big-endian data is byte-swapped.
//
// dtypes: f64 '<f8', f32 '<f4', f16 '<f2', i64 '<i8', i32 '<i4', i8 '|i1',
// i1 '|b1'. bf16 has no numpy dtype; writing it is an InvalidArgument
// (convert it with Tensor::to(DType::F32) first).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_NPY_H
#define KILN_NPY_H

#include "kiln/Tensor.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

/// Largest header the reader accepts (numpy itself writes < 64 KiB).
inline constexpr size_t kMaxNpyHeaderBytes = 1 << 20;

/// Parses an in-memory .npy image; `name` is used in messages.
Expected<Tensor> parseNpy(std::span<const uint8_t> bytes,
                          std::string_view name = "<memory>");
/// Reads a .npy file into a new CPU tensor.
Expected<Tensor> readNpy(const std::string &path);

/// Encodes a tensor (any strides) as a version 1.0 .npy image, C order.
Expected<std::vector<uint8_t>> encodeNpy(const Tensor &t);
/// Writes a .npy file (IoError when the file cannot be written).
Status writeNpy(const std::string &path, const Tensor &t);

} // namespace kiln

#endif // KILN_NPY_H
