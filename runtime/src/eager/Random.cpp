//===- Random.cpp - Seeded, counter-based random tensors -------------------===//
#include "kiln/Random.h"

#include "kiln/ThreadPool.h"

#include <cmath>

namespace kiln {

std::array<uint32_t, 4> philox4x32(uint64_t counter, uint64_t key) {
  return philox4x32({uint32_t(counter), uint32_t(counter >> 32), 0, 0},
                    {uint32_t(key), uint32_t(key >> 32)});
}

std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 4> ctr,
                                   std::array<uint32_t, 2> key) {
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
  uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = uint64_t(0xD2511F53u) * c0;
    uint64_t p1 = uint64_t(0xCD9E8D57u) * c2;
    uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ k0;
    uint32_t n2 = uint32_t(p0 >> 32) ^ c3 ^ k1;
    c1 = uint32_t(p1);
    c3 = uint32_t(p0);
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u; // The Weyl key schedule.
    k1 += 0xBB67AE85u;
  }
  return {c0, c1, c2, c3};
}

namespace {
/// A double in [0, 1) from 53 random bits.
double toUnit(uint32_t hi, uint32_t lo) {
  uint64_t bits = (uint64_t(hi) << 21) ^ (uint64_t(lo) >> 11);
  return double(bits & ((uint64_t(1) << 53) - 1)) * 0x1.0p-53;
}

template <typename Fn>
Expected<Tensor> fill(const Shape &shape, DType dtype, const char *what,
                      Fn &&valueAt) {
  if (!isFloat(dtype))
    return invalidArgument(what, ": dtype ", dtypeName(dtype),
                           " is not a float dtype");
  KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::empty(shape, dtype));
  char *p = static_cast<char *>(t.rawData());
  size_t es = sizeOf(dtype);
  ThreadPool::global().parallelFor(0, t.numel(), 16384, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      storeFromDouble(dtype, p + size_t(i) * es, valueAt(uint64_t(i)));
  });
  return t;
}
} // namespace

Expected<Tensor> Generator::uniform(const Shape &shape, double lo, double hi,
                                    DType dtype) {
  if (!(lo <= hi) || !std::isfinite(lo) || !std::isfinite(hi))
    return invalidArgument("uniform: bad range [", lo, ", ", hi, ")");
  uint64_t base = offset_, key = seed_;
  auto t = fill(shape, dtype, "uniform", [&](uint64_t i) {
    auto r = philox4x32(base + i, key);
    return lo + (hi - lo) * toUnit(r[0], r[1]);
  });
  if (t)
    offset_ += uint64_t(t->numel());
  return t;
}

Expected<Tensor> Generator::normal(const Shape &shape, double mean, double std,
                                   DType dtype) {
  if (!(std >= 0) || !std::isfinite(std) || !std::isfinite(mean))
    return invalidArgument("normal: bad parameters mean=", mean, " std=", std);
  uint64_t base = offset_, key = seed_;
  auto t = fill(shape, dtype, "normal", [&](uint64_t i) {
    auto r = philox4x32(base + i, key);
    double u1 = 1.0 - toUnit(r[0], r[1]); // (0, 1]: log is finite.
    double u2 = toUnit(r[2], r[3]);
    return mean + std * std::sqrt(-2.0 * std::log(u1)) *
                      std::cos(6.283185307179586 * u2);
  });
  if (t)
    offset_ += uint64_t(t->numel());
  return t;
}

} // namespace kiln
