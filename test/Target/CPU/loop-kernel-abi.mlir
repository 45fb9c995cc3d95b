// The ABI of a generated loop kernel: void kiln_kernel_N(ptr buffers,
// i64 begin, i64 end), buffers = inputs then results; the bias operand of a
// [8, 128] + [128] add is broadcast (stride 0 on rows), so the kernel stays
// 2-D with rows as its parallel range, and the row loop is vectorized with
// 8 x f32 and carries the parallel-access metadata (no runtime alias checks).
// RUN: kiln-compile %s -o %t.kiln --cpu=x86-64-v3 --emit-llvm | FileCheck %s

// CHECK-LABEL: define void @kiln_kernel_0(ptr {{.*}}%buffers, i64 %begin, i64 %end)
// CHECK: %buf0 = load ptr, ptr %buffers
// CHECK: %buf1 = load ptr
// CHECK: %buf2 = load ptr
// CHECK: icmp slt i64 %begin, %end
// CHECK: load <8 x float>{{.*}}!llvm.access.group
// CHECK: fadd <8 x float>
// CHECK: store <8 x float>{{.*}}!llvm.access.group
// CHECK-NOT: memcheck
func.func @bias_relu(%x: tensor<8x128xf32>, %b: tensor<128xf32>) -> tensor<8x128xf32> {
  %a = kiln.add %x, %b : tensor<8x128xf32>, tensor<128xf32>
  %r = kiln.relu %a : tensor<8x128xf32>
  return %r : tensor<8x128xf32>
}
