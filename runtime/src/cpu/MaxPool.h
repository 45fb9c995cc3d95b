//===- MaxPool.h - Vectorized f32 max pooling without padding -------------===//
//
// Internal. The common max pooling of CNNs (2x2 or 3x3 windows, stride 1
// or 2, no padding) spends its time in a per-tap loop that reads every
// other input column: the compiler does not vectorize that, and LeNet's
// first pool took 250 us for 1.2 MB. This kernel reads each window row
// with AVX-512 masked loads, takes the even lanes for stride 2 in one
// permute, and handles a whole output row (up to 16 outputs) per vector,
// so rows as short as LeNet's (14 and 5 outputs) still use one vector each.
//
// A compiled module's padded pooling (prepareMaxPool2d) runs the same
// kernel on each plane copied inside a border of -inf (MaxPool.cpp says
// why the values stay the eager rule's).
//
// Results equal the eager kernel's bit for bit (Pooling.cpp): the first
// maximum in row-major window order wins, and the first NaN sticks. The
// window is reduced row by row (left to right, then rows top to bottom),
// which picks the same element: the top-most row holding the maximum (or a
// NaN) and, in it, the left-most.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_CPU_MAXPOOL_H
#define KILN_RUNTIME_CPU_MAXPOOL_H

#include "kiln/Support/Shapes.h"

#include <cstdint>

namespace kiln::cpu {

/// `planes` row-major planes of h x w in, oh x ow out.
struct PoolPlanes {
  int64_t planes, h, w, oh, ow;
};

/// Whether maxPoolPlanesF32 runs `win` over `g`: no padding, dilation 1,
/// every window inside the input (ceil mode adds none), horizontal stride
/// 1 or 2, and a CPU with AVX-512F.
bool canMaxPoolFast(const PoolPlanes &g, const shapes::Window2D &win);

/// Max pooling of planes [p0, p1) of x into y, on the calling thread.
/// Only where canMaxPoolFast(g, win).
void maxPoolPlanesF32(const float *x, float *y, const PoolPlanes &g,
                      const shapes::Window2D &win, int64_t p0, int64_t p1);

/// All planes, split over Kiln's pool when there is enough work.
void maxPoolF32(const float *x, float *y, const PoolPlanes &g,
                const shapes::Window2D &win);

/// maxPoolF32 that also records each output's winner (its offset in the
/// plane; the first maximum in row-major window order, a NaN sticks), as
/// training's max pooling needs for its gradient. Only where
/// canMaxPoolFast(g, win) and a plane has fewer than 2^31 elements.
void maxPoolWinnersF32(const float *x, float *y, int64_t *winners,
                       const PoolPlanes &g, const shapes::Window2D &win);

} // namespace kiln::cpu

#endif // KILN_RUNTIME_CPU_MAXPOOL_H
