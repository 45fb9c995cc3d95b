// Reduction fusions: one block per row for trailing-axis reductions,
// softmax and layer_norm (block-wide warp-shuffle reductions; elementwise
// producers evaluated in the row loop), one thread per output for a
// reduction over leading/middle axes.
// RUN: kiln-cuda-compile %s --emit-cuda | FileCheck %s
// Run on host threads (one per CUDA thread, shuffles and barriers
// emulated), every kernel gives the runtime's op-by-op results:
// RUN: kiln-cuda-compile %s --emulate | FileCheck %s --check-prefix=EMU
// EMU: kiln_cuda_kernel_0 (softmax): matches the runtime
// EMU: kiln_cuda_kernel_1 (layer_norm): matches the runtime
// EMU: kiln_cuda_kernel_2 (row_reduce): matches the runtime
// EMU: kiln_cuda_kernel_3 (column_reduce): matches the runtime

// Scaled softmax over the last axis: max, sum of exp, then the quotient.
// CHECK-LABEL: // softmax kernel at
// CHECK: kiln_cuda_kernel_0_value(long long row, long long col
// CHECK: const float a0 = kiln_ld(in0 + row * 16 + col);
// CHECK: const float [[C:v[0-9]+]] = 0.25f;
// CHECK: kiln_mul(a0, [[C]]);
// CHECK: __launch_bounds__(32) kiln_cuda_kernel_0(
// CHECK: m = kiln_block_reduce(m, kiln_max_op(), float(-(__int_as_float(0x7f800000))), shared);
// CHECK: s += kiln_exp(kiln_cuda_kernel_0_value(row, col, in0, out0) - m);
// CHECK: s = kiln_block_reduce(s, kiln_sum_op(), float(0), shared);
// CHECK: kiln_st(out0 + row * 16 + col, kiln_exp(kiln_cuda_kernel_0_value(row, col, in0, out0) - m) * inv);
func.func @softmax(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %c = kiln.constant dense<0.25> : tensor<f32>
  %s = kiln.mul %x, %c : tensor<8x16xf32>, tensor<f32>
  %p = kiln.softmax %s {axis = -1 : i64} : tensor<8x16xf32>
  return %p : tensor<8x16xf32>
}

// Residual add + layer_norm: mean, then the variance around it (two
// passes), scale and bias read at the column.
// CHECK-LABEL: // layer_norm kernel at
// CHECK: const float v{{[0-9]+}} = kiln_add(a0, a1);
// CHECK: __launch_bounds__(256) kiln_cuda_kernel_1(
// CHECK: const float mean = kiln_block_reduce(s, kiln_sum_op(), float(0), shared) / 300.0f;
// CHECK: q += d * d;
// CHECK: const float rstd = float(1) / kiln_sqrt(var + 1e-05f);
// CHECK: * rstd * kiln_ld(in2 + col) + kiln_ld(in3 + col));
func.func @residual_layer_norm(%x: tensor<4x300xf32>, %y: tensor<4x300xf32>,
                               %g: tensor<300xf32>, %b: tensor<300xf32>) -> tensor<4x300xf32> {
  %a = kiln.add %x, %y : tensor<4x300xf32>, tensor<4x300xf32>
  %n = kiln.layer_norm %a, %g, %b : tensor<4x300xf32>, tensor<300xf32>, tensor<300xf32>
  return %n : tensor<4x300xf32>
}

// A row max of exp(x): NaN-propagating max, one result per row.
// CHECK-LABEL: // row_reduce kernel at
// CHECK: float a = -(__int_as_float(0x7f800000));
// CHECK: a = kiln_max_op()(a, kiln_cuda_kernel_2_value(row, col, in0, out0));
// CHECK: if (threadIdx.x == 0)
// CHECK-NEXT: kiln_st(out0 + row, a);
func.func @row_max(%x: tensor<3x7x5xf32>) -> tensor<3xf32> {
  %e = kiln.exp %x : tensor<3x7x5xf32>
  %m = kiln.reduce_max %e {axes = array<i64: 1, 2>} : tensor<3x7x5xf32>
  return %m : tensor<3xf32>
}

// A mean over the middle axis: each thread walks one column.
// CHECK-LABEL: // column_reduce kernel at
// CHECK: e < 10;
// CHECK: const long long row = e / 5, inner = e % 5;
// CHECK: for (long long r = 0; r < 6; ++r) {
// CHECK: const long long col = r * 5 + inner;
// CHECK: a = a / 6.0f;
// CHECK: kiln_st(out0 + e, a);
func.func @middle_mean(%x: tensor<2x6x5xf32>) -> tensor<2x5xf32> {
  %s = kiln.sqrt %x : tensor<2x6x5xf32>
  %m = kiln.mean %s {axes = array<i64: 1>} : tensor<2x6x5xf32>
  return %m : tensor<2x5xf32>
}
