//===- Checksum.h - The .kiln payload checksum ----------------------------===//
//
// The checksum over the payload bytes of a .kiln file. It detects
// corruption (flipped or truncated payload bytes, which the FlatBuffers
// Verifier cannot see); it is not a signature: a .kiln file is trusted code
// and data, see DESIGN.md. Written by the compiler, checked by the loader.
//
// Format 1.x files use byte-wise FNV-1a (fnv1a64). Its one dependent
// multiply per byte cost 0.45 s over BERT-base's 325 MB of weights, in the
// compiler and again in every load; format 2.x files use
// fnv1aLanes64: FNV-1a's step over 64-bit words in 8 interleaved lanes,
// memory-bound instead. Each lane's step is a bijection of its state, so a
// change confined to one word always changes the result; the length is
// folded in, so truncation does too.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_SUPPORT_CHECKSUM_H
#define KILN_SUPPORT_CHECKSUM_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>

namespace kiln {

inline uint64_t fnv1a64(const uint8_t *data, size_t size) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < size; ++i) {
    h ^= data[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

/// FNV-1a over little-endian 64-bit words in 8 lanes; the tail bytes go
/// through fnv1a's byte step, and the length is folded in last.
inline uint64_t fnv1aLanes64(const uint8_t *data, size_t size) {
  constexpr uint64_t kBasis = 0xcbf29ce484222325ull, kPrime = 0x100000001b3ull;
  auto word = [](const uint8_t *p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v); // The words are little-endian on every host.
#endif
    return v;
  };
  // Eight named lanes stay in registers: eight independent multiply
  // chains per 64-byte block.
  uint64_t l0 = kBasis, l1 = kBasis + 1, l2 = kBasis + 2, l3 = kBasis + 3,
           l4 = kBasis + 4, l5 = kBasis + 5, l6 = kBasis + 6, l7 = kBasis + 7;
  size_t blocks = size / 64;
  for (size_t b = 0; b < blocks; ++b) {
    const uint8_t *p = data + b * 64;
    l0 = (l0 ^ word(p)) * kPrime;
    l1 = (l1 ^ word(p + 8)) * kPrime;
    l2 = (l2 ^ word(p + 16)) * kPrime;
    l3 = (l3 ^ word(p + 24)) * kPrime;
    l4 = (l4 ^ word(p + 32)) * kPrime;
    l5 = (l5 ^ word(p + 40)) * kPrime;
    l6 = (l6 ^ word(p + 48)) * kPrime;
    l7 = (l7 ^ word(p + 56)) * kPrime;
  }
  uint64_t h = kBasis;
  for (uint64_t l : {l0, l1, l2, l3, l4, l5, l6, l7})
    h = (h ^ l) * kPrime;
  for (size_t i = blocks * 64; i < size; ++i)
    h = (h ^ data[i]) * kPrime;
  return (h ^ uint64_t(size)) * kPrime;
}

/// 2.0: the payload follows the FlatBuffer, with the lane checksum.
constexpr uint16_t kKilnFormatMajor = 2;
constexpr uint16_t kKilnFormatMinor = 0;

/// The payload checksum of a file of format `major`.x.
inline uint64_t payloadChecksum(uint16_t major, const uint8_t *data,
                                size_t size) {
  return major >= 2 ? fnv1aLanes64(data, size) : fnv1a64(data, size);
}

} // namespace kiln

#endif // KILN_SUPPORT_CHECKSUM_H
