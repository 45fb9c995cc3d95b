//===- KilnLoadFuzzer.cpp - libFuzzer target for the .kiln loader ---------===//
//
// Load, verify and run (with zero inputs) whatever bytes the fuzzer makes.
// A structurally valid buffer gets its payload checksum recomputed first, so
// mutations reach the semantic checks and the executor instead of stopping
// at the checksum (as image fuzzers skip CRCs). Any crash, hang, leak or
// sanitizer report is a bug; a returned Status is the expected outcome.
//
// Build (clang only): see test/fuzz/README.md.
//
//===----------------------------------------------------------------------===//
#include "kiln/Kiln.h"
#include "kiln/Support/Checksum.h"
#include "kiln/format/kiln_generated.h"

#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  if (size >= 8) {
    flatbuffers::Verifier verifier(bytes.data(), bytes.size());
    if (kiln::format::VerifySizePrefixedModuleBuffer(verifier)) {
      auto *module = kiln::format::GetMutableSizePrefixedModule(bytes.data());
      // Where the loader looks for the payload (Verify.cpp): inside the
      // FlatBuffer (format 1) or at the next 64-byte offset after it.
      const uint8_t *at = nullptr;
      size_t n = 0;
      if (module->version_major() < 2) {
        if (const auto *payload = module->payload())
          at = payload->data(), n = payload->size();
      } else {
        size_t start = (size_t(flatbuffers::ReadScalar<uint32_t>(bytes.data())) + 4 + 63) / 64 * 64;
        if (start <= bytes.size())
          at = bytes.data() + start, n = bytes.size() - start;
      }
      module->mutate_payload_checksum(
          kiln::payloadChecksum(module->version_major(), at, n));
    }
  }
  auto module = kiln::Module::loadBytes(std::move(bytes), "fuzz.kiln");
  if (!module.ok())
    return 0;
  // Well under libFuzzer's -rss_limit_mb: a file that needs more is refused
  // by newSession, which is the behaviour under test.
  kiln::SessionOptions options;
  options.memoryLimit = size_t(256) << 20;
  for (const std::string &name : (*module)->functionNames()) {
    auto session = (*module)->newSession(name, options);
    if (!session.ok())
      continue;
    std::vector<kiln::Tensor> inputs;
    bool small = true;
    for (const kiln::TensorSpec &spec : session->inputs()) {
      auto n = kiln::shapes::numElements(spec.shape);
      if (!n || *n > (1 << 20)) {
        small = false;
        break;
      }
      auto t = kiln::Tensor::zeros(spec.shape, spec.dtype);
      if (!t.ok()) {
        small = false;
        break;
      }
      inputs.push_back(*t);
    }
    if (small)
      (void)session->run(inputs);
  }
  return 0;
}
