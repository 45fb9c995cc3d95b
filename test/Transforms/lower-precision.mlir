// RUN: kiln-opt %s --split-input-file --kiln-lower-precision --canonicalize | FileCheck %s
// RUN: kiln-opt %s --split-input-file --kiln-lower-precision="precision=f16 deny=relu" --canonicalize | FileCheck %s --check-prefix=F16
// RUN: not kiln-opt %s --split-input-file --kiln-lower-precision="precision=f8" 2>&1 | FileCheck %s --check-prefix=BAD

// The GEMM and the ReLU run in bf16 with the weight stored in bf16; softmax
// stays f32, behind one cast back. The signature stays f32.
// CHECK-LABEL: func.func @gemm_then_softmax(%arg0: tensor<8x64xf32>) -> tensor<8x64xf32>
// CHECK:         %[[X:.*]] = kiln.cast %arg0 : tensor<8x64xf32> -> tensor<8x64xbf16>
// CHECK:         %[[W:.*]] = kiln.parameter "w" : tensor<64x64xbf16>
// CHECK:         %[[M:.*]] = kiln.matmul %[[X]], %[[W]] : tensor<8x64xbf16>, tensor<64x64xbf16>
// CHECK:         %[[R:.*]] = kiln.relu %[[M]] : tensor<8x64xbf16>
// CHECK:         %[[B:.*]] = kiln.cast %[[R]] : tensor<8x64xbf16> -> tensor<8x64xf32>
// CHECK:         kiln.softmax %[[B]] : tensor<8x64xf32>
// F16-LABEL: func.func @gemm_then_softmax
// F16:         kiln.matmul {{.*}} : tensor<8x64xf16>, tensor<64x64xf16>
// F16:         kiln.cast {{.*}} : tensor<8x64xf16> -> tensor<8x64xf32>
// F16:         kiln.relu {{.*}} : tensor<8x64xf32>
// BAD: error: precision must be f16 or bf16, got 'f8'
func.func @gemm_then_softmax(%x: tensor<8x64xf32>) -> tensor<8x64xf32> {
  %w = kiln.parameter "w" : tensor<64x64xf32>
  %m = kiln.matmul %x, %w : tensor<8x64xf32>, tensor<64x64xf32>
  %r = kiln.relu %m : tensor<8x64xf32>
  %s = kiln.softmax %r : tensor<8x64xf32>
  return %s : tensor<8x64xf32>
}

// -----

// A parameter also read by a kept op (layer_norm scale) stays f32 and is
// cast once for the lowered user; exp stays f32 (range), and one cast of
// %x serves both lowered users.
// CHECK-LABEL: func.func @shared_parameter
// CHECK:         %[[X:.*]] = kiln.cast %arg0 : tensor<4x8xf32> -> tensor<4x8xbf16>
// CHECK:         %[[G:.*]] = kiln.parameter "g" : tensor<8xf32>
// CHECK:         %[[GL:.*]] = kiln.cast %[[G]] : tensor<8xf32> -> tensor<8xbf16>
// CHECK:         kiln.layer_norm %arg0, %[[G]] : tensor<4x8xf32>, tensor<8xf32>
// CHECK:         kiln.mul %[[X]], %[[GL]] : tensor<4x8xbf16>, tensor<8xbf16>
// CHECK:         kiln.add %[[X]], %{{.*}} : tensor<4x8xbf16>, tensor<4x8xbf16>
// CHECK:         kiln.exp %{{.*}} : tensor<4x8xf32>
// CHECK:         kiln.add %{{.*}}, %{{.*}} : tensor<4x8xbf16>, tensor<4x8xbf16>
func.func @shared_parameter(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %g = kiln.parameter "g" : tensor<8xf32>
  %n = kiln.layer_norm %x, %g : tensor<4x8xf32>, tensor<8xf32>
  %m = kiln.mul %x, %g : tensor<4x8xf32>, tensor<8xf32>
  %a = kiln.add %x, %m : tensor<4x8xf32>, tensor<4x8xf32>
  %e = kiln.exp %a : tensor<4x8xf32>
  %s = kiln.add %e, %n : tensor<4x8xf32>, tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}

// -----

// Integer and f64 graphs are left alone.
// CHECK-LABEL: func.func @not_f32
// CHECK-NOT:     kiln.cast
func.func @not_f32(%a: tensor<4xi32>, %b: tensor<4xf64>) -> (tensor<4xi32>, tensor<4xf64>) {
  %0 = kiln.add %a, %a : tensor<4xi32>, tensor<4xi32>
  %1 = kiln.mul %b, %b : tensor<4xf64>, tensor<4xf64>
  return %0, %1 : tensor<4xi32>, tensor<4xf64>
}
