//===- Kiln.h - The Kiln runtime host API ----------------------------------===//
//
// Include this one header to use the runtime from a C++ host:
//
//   #include "kiln/Kiln.h"
//
//   kiln::Status run() {
//     KILN_ASSIGN_OR_RETURN(kiln::Tensor x, kiln::readNpy("input.npy"));
//     KILN_ASSIGN_OR_RETURN(kiln::Tensor w,
//                           kiln::Tensor::full({x.dim(-1), 4}, 0.5, x.dtype()));
//     KILN_ASSIGN_OR_RETURN(kiln::Tensor y, kiln::matmul(x, w));
//     KILN_ASSIGN_OR_RETURN(kiln::Tensor z, kiln::relu(y) + 1.0);
//     return kiln::writeNpy("output.npy", z);
//   }
//
// Errors are values: every call that can fail returns kiln::Status or
// kiln::Expected<T>; the runtime never aborts, exits or lets an exception
// escape on bad input (shapes, axes, dtypes, files, memory limits).
//
// Ownership and lifetimes
//  - Tensor is a cheap, copyable handle: copies share one reference-counted
//    Storage, which returns its memory to the device's caching allocator
//    when the last handle (including views from reshape/slice/permute) is
//    gone. Use clone() for an independent copy.
//  - Devices (cpuDevice()) and the global ThreadPool live for the whole
//    process and are never destroyed, so tensors held in statics are safe.
//  - Storage::wrap() lends the runtime memory the host owns; the host keeps
//    it valid until the release callback runs.
//  - A Tensor is not synchronized: concurrent readers are fine, a writer
//    needs exclusive access. Eager ops may be called from several host
//    threads; each parallel kernel uses the one pool (a second concurrent
//    caller runs its kernel on its own thread instead of waiting).
//
// Threads: KILN_NUM_THREADS sets the pool size (default: hardware threads);
// the libraries run single-threaded inside the pool's chunks. KILN_SPIN_US
// (default 50) is how long idle pool threads spin before sleeping.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_KILN_H
#define KILN_KILN_H

#include "kiln/Allocator.h"
#include "kiln/Autograd.h"
#include "kiln/Checkpoint.h"
#include "kiln/DType.h"
#include "kiln/Device.h"
#include "kiln/NNOps.h"
#include "kiln/Module.h"
#include "kiln/NN.h"
#include "kiln/Npy.h"
#include "kiln/Ops.h"
#include "kiln/Optim.h"
#include "kiln/Random.h"
#include "kiln/RecurrentOps.h"
#include "kiln/Status.h"
#include "kiln/Tensor.h"
#include "kiln/ThreadPool.h"
#include "kiln/TrainingOps.h"

#endif // KILN_KILN_H
