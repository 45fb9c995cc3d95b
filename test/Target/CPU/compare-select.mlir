// Comparisons produce i1, stored as one byte per element (zext to i8);
// i1 inputs are loaded as bytes and tested against 0; select becomes a
// vector select; casts follow the runtime (float -> int saturates).
// (LLVM folds not(gt) into fcmp ule and the byte test into icmp eq.)
// RUN: kiln-compile %s -o %t.kiln --cpu=x86-64-v3 --emit-llvm | FileCheck %s

// CHECK-LABEL: define void @kiln_kernel_0(
// CHECK: fcmp {{ogt|ule}} <8 x float>
// CHECK: zext <8 x i1> {{.*}} to <8 x i8>
// CHECK: store <8 x i8>
// CHECK-LABEL: define void @kiln_kernel_1(
// CHECK: icmp {{ne|eq}} <{{[0-9]+}} x i8>
// CHECK: select <{{[0-9]+}} x i1>
// CHECK-LABEL: define void @kiln_kernel_2(
// CHECK: llvm.fptosi.sat
func.func @mask(%x: tensor<16x64xf32>, %y: tensor<16x64xf32>) -> tensor<16x64xi1> {
  %gt = kiln.gt %x, %y : tensor<16x64xf32>, tensor<16x64xf32>
  %n = kiln.not %gt : tensor<16x64xi1>
  return %n : tensor<16x64xi1>
}
func.func @where(%m: tensor<16x64xi1>, %x: tensor<16x64xf32>, %y: tensor<64xf32>) -> tensor<16x64xf32> {
  %s = kiln.select %m, %x, %y : tensor<16x64xi1>, tensor<16x64xf32>, tensor<64xf32>
  %r = kiln.relu %s : tensor<16x64xf32>
  return %r : tensor<16x64xf32>
}
func.func @quantize(%x: tensor<16x64xf32>) -> tensor<16x64xi32> {
  %a = kiln.round %x : tensor<16x64xf32>
  %q = kiln.cast %a : tensor<16x64xf32> -> tensor<16x64xi32>
  return %q : tensor<16x64xi32>
}
