// Host emulation of the CUDA features generated kernels use, for
// kiln-cuda-compile --emulate: the kernels' CUDA C compiled as host C++
// and run with one std::thread per CUDA thread (a block at a time), so
// their indexing, broadcasting, reductions and rounding are checked against
// the runtime without a GPU. Math comes from the host's libm, not CUDA's,
// so this checks the code's structure, not libdevice's accuracy.
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __restrict__ __restrict
// One block runs at a time, so per-block shared memory can be static.
#define __shared__ static

struct dim3 { unsigned x = 1, y = 1, z = 1; };
inline thread_local dim3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;

struct KilnEmuBlock {
  explicit KilnEmuBlock(unsigned n) : barrier(n), slots(n) {}
  std::barrier<> barrier;
  std::vector<uint64_t> slots;
};
inline KilnEmuBlock *kiln_emu_block = nullptr;

inline void __syncthreads() { kiln_emu_block->barrier.arrive_and_wait(); }
template <class T> T __shfl_xor_sync(unsigned, T v, int offset) {
  KilnEmuBlock &b = *kiln_emu_block;
  std::memcpy(&b.slots[threadIdx.x], &v, sizeof v);
  b.barrier.arrive_and_wait();
  unsigned src = (threadIdx.x & ~31u) | ((threadIdx.x & 31u) ^ unsigned(offset));
  if (src >= blockDim.x)
    src = threadIdx.x;
  T r;
  std::memcpy(&r, &b.slots[src], sizeof r);
  b.barrier.arrive_and_wait();
  return r;
}

inline float __int_as_float(int x) { float f; std::memcpy(&f, &x, 4); return f; }
inline double __longlong_as_double(long long x) {
  double d;
  std::memcpy(&d, &x, 8);
  return d;
}
using std::erf; // the rest of libm is in the global namespace already

// f16 through the host's _Float16 (round to nearest even); bf16 by hand,
// as the runtime does (nearest even, NaN stays a quiet NaN).
struct __half { _Float16 v; };
inline float __half2float(__half h) { return float(h.v); }
inline __half __float2half_rn(float f) { return __half{_Float16(f)}; }
struct __nv_bfloat16 { uint16_t bits; };
inline float __bfloat162float(__nv_bfloat16 h) {
  uint32_t u = uint32_t(h.bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline __nv_bfloat16 __float2bfloat16_rn(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return {uint16_t((u >> 16) | 0x40)};
  return {uint16_t((u + 0x7fffu + ((u >> 16) & 1)) >> 16)};
}

// Launches `kernel` (pointer parameters only) on host threads.
template <class... P, size_t... I>
void kiln_emu_call(void (*kernel)(P...), void **buffers, std::index_sequence<I...>) {
  kernel(static_cast<P>(buffers[I])...);
}
template <class... P>
void kiln_emu_launch(void (*kernel)(P...), void **buffers, unsigned grid,
                     unsigned block) {
  gridDim.x = grid;
  blockDim.x = block;
  for (unsigned g = 0; g < grid; ++g) {
    KilnEmuBlock state(block);
    kiln_emu_block = &state;
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < block; ++t)
      threads.emplace_back([=] {
        blockIdx.x = g;
        threadIdx.x = t;
        kiln_emu_call(kernel, buffers, std::index_sequence_for<P...>{});
      });
    for (std::thread &th : threads)
      th.join();
  }
}
