// bf16 tensors are i16 bit patterns: widened by a 16-bit shift, computed
// in f32, and narrowed with round-to-nearest-even (quiet NaN kept) after
// every op with a bf16 result, as the runtime's floatToBf16; all of it
// vectorizes with integer AVX2 ops.
// RUN: kiln-compile %s -o %t.kiln --cpu=x86-64-v3 --emit-llvm | FileCheck %s

// CHECK-LABEL: define void @kiln_kernel_0(
// CHECK: load <8 x i16>
// CHECK: shl nuw <8 x i32>
// CHECK: _ZGVdN8v_erff
// CHECK: add <8 x i32> {{.*}}<i32 32767,
// CHECK: store <8 x i16>
func.func @brain(%x: tensor<16x64xbf16>, %y: tensor<64xbf16>) -> tensor<16x64xbf16> {
  %a = kiln.add %x, %y : tensor<16x64xbf16>, tensor<64xbf16>
  %b = kiln.gelu %a : tensor<16x64xbf16>
  return %b : tensor<16x64xbf16>
}
