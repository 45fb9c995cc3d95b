// Kiln generated-kernel prelude: one device function per kiln elementwise
// op, with the formulas of the CPU kernels (runtime/src/cpu and
// compiler/Target/CPU/ScalarOps.cpp) so GPU and CPU results agree to
// rounding. f16/bf16 values are f32 in registers. No host headers.
#ifndef KILN_CUDA_HOST_EMULATION // kiln-cuda-compile --emulate
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#endif

#define KILN_D __device__ __forceinline__
#define KILN_MATH1(name, f32, f64)                                             \
  KILN_D float name(float x) { return f32(x); }                                \
  KILN_D double name(double x) { return f64(x); }
KILN_MATH1(kiln_expf_, expf, exp)
KILN_MATH1(kiln_logf_, logf, log)
KILN_MATH1(kiln_sqrtf_, sqrtf, sqrt)
KILN_MATH1(kiln_tanhf_, tanhf, tanh)
KILN_MATH1(kiln_expm1f_, expm1f, expm1)
KILN_MATH1(kiln_log1pf_, log1pf, log1p)
KILN_MATH1(kiln_sinf_, sinf, sin)
KILN_MATH1(kiln_cosf_, cosf, cos)
KILN_MATH1(kiln_erff_, erff, erf)
KILN_MATH1(kiln_floorf_, floorf, floor)
KILN_MATH1(kiln_ceilf_, ceilf, ceil)
KILN_MATH1(kiln_rintf_, rintf, rint)
KILN_MATH1(kiln_fabsf_, fabsf, fabs)
KILN_D float kiln_powf_(float x, float y) { return powf(x, y); }
KILN_D double kiln_powf_(double x, double y) { return pow(x, y); }

// --- loads and stores: storage type <-> register type --------------------
KILN_D float kiln_ld(const float *p) { return *p; }
KILN_D double kiln_ld(const double *p) { return *p; }
KILN_D float kiln_ld(const __half *p) { return __half2float(*p); }
KILN_D float kiln_ld(const __nv_bfloat16 *p) { return __bfloat162float(*p); }
KILN_D bool kiln_ld(const unsigned char *p) { return *p != 0; }
KILN_D signed char kiln_ld(const signed char *p) { return *p; }
KILN_D int kiln_ld(const int *p) { return *p; }
KILN_D long long kiln_ld(const long long *p) { return *p; }
KILN_D void kiln_st(float *p, float v) { *p = v; }
KILN_D void kiln_st(double *p, double v) { *p = v; }
KILN_D void kiln_st(__half *p, float v) { *p = __float2half_rn(v); }
KILN_D void kiln_st(__nv_bfloat16 *p, float v) { *p = __float2bfloat16_rn(v); }
KILN_D void kiln_st(unsigned char *p, bool v) { *p = v ? 1 : 0; }
KILN_D void kiln_st(signed char *p, signed char v) { *p = v; }
KILN_D void kiln_st(int *p, int v) { *p = v; }
KILN_D void kiln_st(long long *p, long long v) { *p = v; }
// Rounding of an f16/bf16 op result kept in f32 (the eager kernels store
// every op's result in its dtype).
KILN_D float kiln_round_f16(float x) { return __half2float(__float2half_rn(x)); }
KILN_D float kiln_round_bf16(float x) {
  return __bfloat162float(__float2bfloat16_rn(x));
}
// N elements loaded or stored at once (16-byte accesses for f32).
template <class T, int N> struct alignas(sizeof(T) * N) kiln_vec { T v[N]; };

// --- float ops --------------------------------------------------------------
template <class T> KILN_D T kiln_neg(T x) { return -x; }
template <class T> KILN_D T kiln_abs(T x) { return x < T(0) ? -x : x; }
KILN_D float kiln_abs(float x) { return kiln_fabsf_(x); }
KILN_D double kiln_abs(double x) { return kiln_fabsf_(x); }
template <class T> KILN_D T kiln_exp(T x) { return kiln_expf_(x); }
template <class T> KILN_D T kiln_log(T x) { return kiln_logf_(x); }
template <class T> KILN_D T kiln_sqrt(T x) { return kiln_sqrtf_(x); }
template <class T> KILN_D T kiln_rsqrt(T x) { return T(1) / kiln_sqrtf_(x); }
template <class T> KILN_D T kiln_reciprocal(T x) { return T(1) / x; }
template <class T> KILN_D T kiln_tanh(T x) { return kiln_tanhf_(x); }
template <class T> KILN_D T kiln_sigmoid(T x) {
  return T(1) / (T(1) + kiln_expf_(-x));
}
template <class T> KILN_D T kiln_relu(T x) { return x < T(0) ? T(0) : x; }
template <class T> KILN_D T kiln_leaky_relu(T x, T alpha) {
  return x >= T(0) ? x : alpha * x;
}
template <class T> KILN_D T kiln_elu(T x, T alpha) {
  return x > T(0) ? x : alpha * kiln_expm1f_(x);
}
template <class T> KILN_D T kiln_gelu(T x) {
  return T(0.5) * x * (T(1) + kiln_erff_(x * T(0.70710678118654752440)));
}
template <class T> KILN_D T kiln_gelu_tanh(T x) {
  T inner = T(0.79788456080286535588) * (x + T(0.044715) * x * x * x);
  return T(0.5) * x * (T(1) + kiln_tanhf_(inner));
}
template <class T> KILN_D T kiln_silu(T x) { return x / (T(1) + kiln_expf_(-x)); }
template <class T> KILN_D T kiln_softplus(T x) {
  return (x < T(0) ? T(0) : x) + kiln_log1pf_(kiln_expf_(-kiln_fabsf_(x)));
}
template <class T> KILN_D T kiln_sin(T x) { return kiln_sinf_(x); }
template <class T> KILN_D T kiln_cos(T x) { return kiln_cosf_(x); }
template <class T> KILN_D T kiln_erf(T x) { return kiln_erff_(x); }
template <class T> KILN_D T kiln_floor(T x) { return kiln_floorf_(x); }
template <class T> KILN_D T kiln_ceil(T x) { return kiln_ceilf_(x); }
template <class T> KILN_D T kiln_round(T x) { return kiln_rintf_(x); }
template <class T> KILN_D T kiln_sign(T x) {
  if (x != x)
    return x;
  return x > T(0) ? T(1) : x < T(0) ? T(-1) : T(0);
}
template <class T> KILN_D T kiln_add(T x, T y) { return x + y; }
template <class T> KILN_D T kiln_sub(T x, T y) { return x - y; }
template <class T> KILN_D T kiln_mul(T x, T y) { return x * y; }
template <class T> KILN_D T kiln_div(T x, T y) { return x / y; }
template <class T> KILN_D T kiln_pow(T x, T y) { return kiln_powf_(x, y); }
// NaN-propagating, as numpy.maximum: x if (x > y or x is NaN) else y.
template <class T> KILN_D T kiln_max(T x, T y) { return (x > y || x != x) ? x : y; }
template <class T> KILN_D T kiln_min(T x, T y) { return (x < y || x != x) ? x : y; }

// --- dropout: the eager kernel's mask (runtime/src/eager/Losses.cpp) ----
// Philox-4x32-10 (Random.cpp) at counter idx / 4, key seed; word idx % 4.
KILN_D unsigned kiln_philox_word(unsigned long long counter,
                                 unsigned long long key, int word) {
  unsigned c0 = unsigned(counter), c1 = unsigned(counter >> 32), c2 = 0, c3 = 0;
  unsigned k0 = unsigned(key), k1 = unsigned(key >> 32);
  for (int round = 0; round < 10; ++round) {
    unsigned long long p0 = 0xD2511F53ull * c0, p1 = 0xCD9E8D57ull * c2;
    unsigned n0 = unsigned(p1 >> 32) ^ c1 ^ k0;
    unsigned n2 = unsigned(p0 >> 32) ^ c3 ^ k1;
    c1 = unsigned(p1);
    c3 = unsigned(p0);
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return word == 0 ? c0 : word == 1 ? c1 : word == 2 ? c2 : c3;
}
template <class T>
KILN_D T kiln_dropout(T x, long long idx, unsigned long long seed,
                      unsigned long long threshold, T scale) {
  unsigned w = kiln_philox_word((unsigned long long)idx >> 2, seed, int(idx & 3));
  return (unsigned long long)w >= threshold ? x * scale : T(0);
}

// --- integer ops: wrap-around; x / 0 = 0 and x / -1 = -x (no trap) ---------
template <class T> KILN_D T kiln_ineg(T x) {
  return T((unsigned long long)0 - (unsigned long long)x);
}
template <class T> KILN_D T kiln_iabs(T x) { return x < T(0) ? kiln_ineg(x) : x; }
template <class T> KILN_D T kiln_isign(T x) { return T((x > T(0)) - (x < T(0))); }
template <class T> KILN_D T kiln_iadd(T x, T y) {
  return T((unsigned long long)x + (unsigned long long)y);
}
template <class T> KILN_D T kiln_isub(T x, T y) {
  return T((unsigned long long)x - (unsigned long long)y);
}
template <class T> KILN_D T kiln_imul(T x, T y) {
  return T((unsigned long long)x * (unsigned long long)y);
}
template <class T> KILN_D T kiln_idiv(T x, T y) {
  return y == T(0) ? T(0) : y == T(-1) ? kiln_ineg(x) : T(x / y);
}
template <class T> KILN_D T kiln_imax(T x, T y) { return x > y ? x : y; }
template <class T> KILN_D T kiln_imin(T x, T y) { return x < y ? x : y; }

// float -> integer saturates, NaN -> 0 (LLVM's fptosi.sat, as the CPU).
template <class To, class From>
KILN_D To kiln_f2i(From x, double lo, double hi, To loValue, To hiValue) {
  if (x != x)
    return To(0);
  if (double(x) <= lo)
    return loValue;
  if (double(x) >= hi)
    return hiValue;
  return To(x);
}

// --- block reductions: warp shuffles, then one value per warp in shared ---
template <class T, class Op>
KILN_D T kiln_block_reduce(T v, Op op, T identity, T *shared) {
  for (int o = 16; o > 0; o >>= 1)
    v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warps = (blockDim.x + 31) >> 5;
  __syncthreads(); // `shared` may hold the previous reduction
  if (lane == 0)
    shared[warp] = v;
  __syncthreads();
  v = lane < warps ? shared[lane] : identity;
  for (int o = 16; o > 0; o >>= 1)
    v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v; // every thread holds the block's result
}
struct kiln_sum_op {
  template <class T> KILN_D T operator()(T a, T b) const { return a + b; }
};
struct kiln_prod_op {
  template <class T> KILN_D T operator()(T a, T b) const { return a * b; }
};
struct kiln_max_op {
  template <class T> KILN_D T operator()(T a, T b) const { return kiln_max(a, b); }
};
struct kiln_min_op {
  template <class T> KILN_D T operator()(T a, T b) const { return kiln_min(a, b); }
};
