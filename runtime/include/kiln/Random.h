//===- Random.h - Seeded, counter-based random tensors ---------------------===//
//
// Philox-4x32-10 (Salmon et al., SC'11): element i of a draw is a pure
// function of (seed, offset + i), so results are identical whatever the
// thread count or chunking. A Generator advances its offset by the number
// of elements drawn, so consecutive draws differ and replaying a seed
// replays the sequence.
//
//   kiln::Generator gen(42);
//   KILN_ASSIGN_OR_RETURN(auto w, gen.normal({784, 128}, 0.0, 0.05, kiln::DType::F32));
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RANDOM_H
#define KILN_RANDOM_H

#include "kiln/Tensor.h"

#include <array>
#include <cstdint>

namespace kiln {

/// The Philox-4x32-10 block function: four 32-bit outputs per counter.
std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 4> counter,
                                   std::array<uint32_t, 2> key);
/// The same with counter = {lo, hi, 0, 0} and key = {lo, hi}.
std::array<uint32_t, 4> philox4x32(uint64_t counter, uint64_t key);
/// Sixteen of those at once: out[w][i] is word w of philox4x32(counter + i,
/// key). The same bits as sixteen calls, computed with AVX-512 or AVX2 when
/// the CPU has them (a draw of BERT-base's weights went from ~1.3 s).
void philox4x32x16(uint64_t counter, uint64_t key, uint32_t (*out)[16]);

class Generator {
public:
  explicit Generator(uint64_t seed) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  /// Elements drawn so far (the counter of the next element).
  uint64_t offset() const { return offset_; }
  void setOffset(uint64_t offset) { offset_ = offset; }

  /// Uniform in [lo, hi) (floats only).
  Expected<Tensor> uniform(const Shape &shape, double lo, double hi,
                           DType dtype);
  /// Normal(mean, std) by Box-Muller (floats only; std >= 0).
  Expected<Tensor> normal(const Shape &shape, double mean, double std,
                          DType dtype);

private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

} // namespace kiln

#endif // KILN_RANDOM_H
