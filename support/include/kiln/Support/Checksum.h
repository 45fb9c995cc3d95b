//===- Checksum.h - The .kiln payload checksum ----------------------------===//
//
// FNV-1a, 64-bit, over the payload bytes of a .kiln file. It detects
// corruption (flipped or truncated payload bytes, which the FlatBuffers
// Verifier cannot see); it is not a signature: a .kiln file is trusted code
// and data, see DESIGN.md. Written by the compiler, checked by the loader.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_SUPPORT_CHECKSUM_H
#define KILN_SUPPORT_CHECKSUM_H

#include <cstddef>
#include <cstdint>

namespace kiln {

inline uint64_t fnv1a64(const uint8_t *data, size_t size) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < size; ++i) {
    h ^= data[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

/// The format version this build writes and reads; a loader refuses files
/// with a larger major version.
constexpr uint16_t kKilnFormatMajor = 1;
constexpr uint16_t kKilnFormatMinor = 0;

} // namespace kiln

#endif // KILN_SUPPORT_CHECKSUM_H
