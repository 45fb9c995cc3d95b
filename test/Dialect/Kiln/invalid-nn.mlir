// RUN: kiln-opt %s --split-input-file --verify-diagnostics

// Verifier rules and inference errors of the neural-network family.

// matmul operands need rank >= 2.
func.func @matmul_rank1(%a: tensor<3xf32>, %b: tensor<3x4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.matmul' op matmul operands must have rank >= 2, got [3] and [3, 4]}}
  %0 = kiln.matmul %a, %b : tensor<3xf32>, tensor<3x4xf32>
  return %0 : tensor<4xf32>
}

// -----

// matmul contraction dims must agree.
func.func @matmul_contraction(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{'kiln.matmul' op matmul contraction dims differ: [2, 3] x [4, 5] contracts 3 with 4}}
  %0 = kiln.matmul %a, %b : tensor<2x3xf32>, tensor<4x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// transpose_rhs changes which dim is contracted.
func.func @matmul_contraction_transposed(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'kiln.matmul' op matmul contraction dims differ: [2, 3] x [3, 4] contracts 3 with 4}}
  %0 = kiln.matmul %a, %b {transpose_rhs = true} : tensor<2x3xf32>, tensor<3x4xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// matmul batch dims must broadcast.
func.func @matmul_batch(%a: tensor<2x2x3xf32>, %b: tensor<3x3x4xf32>) -> tensor<2x2x4xf32> {
  // expected-error @+1 {{'kiln.matmul' op matmul batch dims: shapes [2] and [3] do not broadcast (dimension 0: 2 vs 3)}}
  %0 = kiln.matmul %a, %b : tensor<2x2x3xf32>, tensor<3x3x4xf32>
  return %0 : tensor<2x2x4xf32>
}

// -----

// matmul operands share one element type.
func.func @matmul_types(%a: tensor<2x3xf32>, %b: tensor<3x4xf16>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'kiln.matmul' op failed to verify that all of {lhs, rhs, result} have same element type}}
  %0 = kiln.matmul %a, %b : tensor<2x3xf32>, tensor<3x4xf16>
  return %0 : tensor<2x4xf32>
}

// -----

// conv2d input is NCHW.
func.func @conv2d_input_rank(%x: tensor<3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1xf32> {
  // expected-error @+1 {{'kiln.conv2d' op conv2d input must have rank 4 (NCHW), got [3, 8, 8]}}
  %0 = kiln.conv2d %x, %w : tensor<3x8x8xf32>, tensor<4x3x3x3xf32>
  return %0 : tensor<1xf32>
}

// -----

// conv2d weight is OIHW, and the message says so (KNOWN_BUGS 25).
func.func @conv2d_weight_rank(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3xf32>) -> tensor<1xf32> {
  // expected-error @+1 {{'kiln.conv2d' op conv2d weight must have rank 4 (OIHW), got [4, 3, 3]}}
  %0 = kiln.conv2d %x, %w : tensor<1x3x8x8xf32>, tensor<4x3x3xf32>
  return %0 : tensor<1xf32>
}

// -----

// conv2d weight input channels must match the input.
func.func @conv2d_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<16x4x3x3xf32>) -> tensor<1x16x6x6xf32> {
  // expected-error @+1 {{'kiln.conv2d' op conv2d weight [16, 4, 3, 3] expects 4 input channels, input has 3}}
  %0 = kiln.conv2d %x, %w : tensor<1x3x8x8xf32>, tensor<16x4x3x3xf32>
  return %0 : tensor<1x16x6x6xf32>
}

// -----

// conv2d groups must divide the input channels and the filters.
func.func @conv2d_groups_divide(%x: tensor<1x4x8x8xf32>, %w: tensor<6x1x3x3xf32>) -> tensor<1x6x6x6xf32> {
  // expected-error @+1 {{'kiln.conv2d' op groups 4 must divide the input channels (4) and the filters (6)}}
  %0 = kiln.conv2d %x, %w {groups = 4 : i64} : tensor<1x4x8x8xf32>, tensor<6x1x3x3xf32>
  return %0 : tensor<1x6x6x6xf32>
}

// -----

// conv2d groups >= 1.
func.func @conv2d_groups_zero(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv2d' op groups must be >= 1, got 0}}
  %0 = kiln.conv2d %x, %w {groups = 0 : i64} : tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// conv2d activations come from kiln.gemm's list.
func.func @conv2d_activation(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv2d' op unknown activation "leaky_relu"; expected none, relu, relu6, gelu, gelu_tanh, silu, sigmoid or tanh}}
  %0 = kiln.conv2d %x, %w {activation = "leaky_relu"} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// The kernel does not fit the (unpadded) input.
func.func @conv2d_window_too_big(%x: tensor<1x3x2x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x1x6xf32> {
  // expected-error @+1 {{'kiln.conv2d' op window of extent 3 does not fit the padded input of size 2 (spatial dim 0)}}
  %0 = kiln.conv2d %x, %w : tensor<1x3x2x8xf32>, tensor<4x3x3x3xf32>
  return %0 : tensor<1x4x1x6xf32>
}

// -----

// Dilation makes the window too big for the second spatial dim.
func.func @conv2d_dilated_window(%x: tensor<1x3x8x4xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x1xf32> {
  // expected-error @+1 {{'kiln.conv2d' op window of extent 5 does not fit the padded input of size 4 (spatial dim 1)}}
  %0 = kiln.conv2d %x, %w {dilations = array<i64: 1, 2>} : tensor<1x3x8x4xf32>, tensor<4x3x3x3xf32>
  return %0 : tensor<1x4x6x1xf32>
}

// -----

// Strides must be positive.
func.func @conv2d_stride_zero(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv2d' op strides must be >= 1, got [0, 1]}}
  %0 = kiln.conv2d %x, %w {strides = array<i64: 0, 1>} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Strides come in pairs.
func.func @conv2d_stride_count(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv2d' op window needs 2 kernel sizes, 2 strides, 4 pads and 2 dilations}}
  %0 = kiln.conv2d %x, %w {strides = array<i64: 2>} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Pads must not be negative.
func.func @conv2d_negative_pad(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv2d' op pads must be >= 0, got [0, -1, 0, 0]}}
  %0 = kiln.conv2d %x, %w {pads = array<i64: 0, -1, 0, 0>} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// Dilations must be positive.
func.func @conv2d_dilation_zero(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv2d' op dilations must be >= 1, got [1, 0]}}
  %0 = kiln.conv2d %x, %w {dilations = array<i64: 1, 0>} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// The bias has one value per output channel.
func.func @conv2d_bias_shape(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv2d' op bias must have shape [4] (one value per output channel)}}
  %0 = kiln.conv2d %x, %w, %b : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// conv2d is float-only.
func.func @conv2d_int(%x: tensor<1x3x8x8xi32>, %w: tensor<4x3x3x3xi32>) -> tensor<1x4x6x6xi32> {
  // expected-error @+1 {{'kiln.conv2d' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<1x3x8x8xi32>'}}
  %0 = kiln.conv2d %x, %w : tensor<1x3x8x8xi32>, tensor<4x3x3x3xi32>
  return %0 : tensor<1x4x6x6xi32>
}

// -----

// conv2d input and weight share one element type.
func.func @conv2d_types(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf16>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv2d' op failed to verify that all of {input, weight, result} have same element type}}
  %0 = kiln.conv2d %x, %w : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf16>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// conv_transpose2d weight dim 0 is the input channels.
func.func @conv_transpose2d_channels(%x: tensor<1x4x5x5xf32>, %w: tensor<3x2x3x3xf32>) -> tensor<1x2x7x7xf32> {
  // expected-error @+1 {{'kiln.conv_transpose2d' op conv_transpose2d weight [3, 2, 3, 3] expects 3 input channels, input has 4}}
  %0 = kiln.conv_transpose2d %x, %w : tensor<1x4x5x5xf32>, tensor<3x2x3x3xf32>
  return %0 : tensor<1x2x7x7xf32>
}

// -----

// conv_transpose2d groups must divide the input channels.
func.func @conv_transpose2d_groups(%x: tensor<1x4x5x5xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x6x7x7xf32> {
  // expected-error @+1 {{'kiln.conv_transpose2d' op groups 3 must divide the input channels (4)}}
  %0 = kiln.conv_transpose2d %x, %w {groups = 3 : i64} : tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>
  return %0 : tensor<1x6x7x7xf32>
}

// -----

// output_padding must be smaller than the stride (stride 1 here).
func.func @conv_transpose2d_output_padding(%x: tensor<1x4x5x5xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x2x8x7xf32> {
  // expected-error @+1 {{'kiln.conv_transpose2d' op output_padding [1, 0] must be >= 0 and smaller than the stride or dilation}}
  %0 = kiln.conv_transpose2d %x, %w {output_padding = array<i64: 1, 0>} : tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>
  return %0 : tensor<1x2x8x7xf32>
}

// -----

// output_padding equal to the stride is also too large.
func.func @conv_transpose2d_output_padding_eq_stride(%x: tensor<1x4x5x5xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x2x13x12xf32> {
  // expected-error @+1 {{'kiln.conv_transpose2d' op output_padding [2, 1] must be >= 0 and smaller than the stride or dilation}}
  %0 = kiln.conv_transpose2d %x, %w {strides = array<i64: 2, 2>, output_padding = array<i64: 2, 1>} : tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>
  return %0 : tensor<1x2x13x12xf32>
}

// -----

// output_padding comes in pairs.
func.func @conv_transpose2d_output_padding_count(%x: tensor<1x4x5x5xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x2x7x7xf32> {
  // expected-error @+1 {{'kiln.conv_transpose2d' op output_padding needs 2 values}}
  %0 = kiln.conv_transpose2d %x, %w {output_padding = array<i64: 0>} : tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>
  return %0 : tensor<1x2x7x7xf32>
}

// -----

// Padding larger than the output leaves no output.
func.func @conv_transpose2d_empty_output(%x: tensor<1x4x1x1xf32>, %w: tensor<4x2x1x1xf32>) -> tensor<1x2x1x1xf32> {
  // expected-error @+1 {{'kiln.conv_transpose2d' op conv_transpose2d output size would be -1 in spatial dim 0}}
  %0 = kiln.conv_transpose2d %x, %w {pads = array<i64: 1, 0, 1, 0>} : tensor<1x4x1x1xf32>, tensor<4x2x1x1xf32>
  return %0 : tensor<1x2x1x1xf32>
}

// -----

// conv_transpose2d bias has one value per output channel.
func.func @conv_transpose2d_bias(%x: tensor<1x4x5x5xf32>, %w: tensor<4x2x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x2x7x7xf32> {
  // expected-error @+1 {{'kiln.conv_transpose2d' op bias must have shape [2] (one value per output channel)}}
  %0 = kiln.conv_transpose2d %x, %w, %b : tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>
  return %0 : tensor<1x2x7x7xf32>
}

// -----

// max_pool2d has no default kernel.
func.func @max_pool2d_no_kernel(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32> {
  // expected-error @+1 {{'kiln.max_pool2d' op requires attribute 'kernel'}}
  %0 = kiln.max_pool2d %x : tensor<1x3x8x8xf32>
  return %0 : tensor<1x3x8x8xf32>
}

// -----

// avg_pool2d has no default kernel either.
func.func @avg_pool2d_no_kernel(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32> {
  // expected-error @+1 {{'kiln.avg_pool2d' op requires attribute 'kernel'}}
  %0 = kiln.avg_pool2d %x {strides = array<i64: 2, 2>} : tensor<1x3x8x8xf32>
  return %0 : tensor<1x3x8x8xf32>
}

// -----

// A pad as large as the kernel would make windows of padding only.
func.func @max_pool2d_pad_ge_kernel(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x9x9xf32> {
  // expected-error @+1 {{'kiln.max_pool2d' op pads [2, 0, 0, 0] must be smaller than the kernel [2, 2]}}
  %0 = kiln.max_pool2d %x {kernel = array<i64: 2, 2>, pads = array<i64: 2, 0, 0, 0>} : tensor<1x3x8x8xf32>
  return %0 : tensor<1x3x9x9xf32>
}

// -----

// The same rule on the high side of the second spatial dim.
func.func @avg_pool2d_pad_ge_kernel(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x6x9xf32> {
  // expected-error @+1 {{'kiln.avg_pool2d' op pads [0, 0, 0, 3] must be smaller than the kernel [3, 3]}}
  %0 = kiln.avg_pool2d %x {kernel = array<i64: 3, 3>, pads = array<i64: 0, 0, 0, 3>} : tensor<1x3x8x8xf32>
  return %0 : tensor<1x3x6x9xf32>
}

// -----

// Pooling input is NCHW.
func.func @max_pool2d_rank(%x: tensor<3x8x8xf32>) -> tensor<3x7x7xf32> {
  // expected-error @+1 {{'kiln.max_pool2d' op pooling input must have rank 4 (NCHW), got [3, 8, 8]}}
  %0 = kiln.max_pool2d %x {kernel = array<i64: 2, 2>} : tensor<3x8x8xf32>
  return %0 : tensor<3x7x7xf32>
}

// -----

// A kernel larger than the input does not fit, with ceil_mode too.
func.func @max_pool2d_ceil_window_too_big(%x: tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32> {
  // expected-error @+1 {{'kiln.max_pool2d' op window of extent 2 does not fit the padded input of size 1 (spatial dim 0)}}
  %0 = kiln.max_pool2d %x {kernel = array<i64: 2, 2>, ceil_mode = true} : tensor<1x1x1x1xf32>
  return %0 : tensor<1x1x1x1xf32>
}

// -----

// ceil_mode adds a partial window (5x5, kernel 2, stride 2: 3 not 2); a
// generic op claiming the floor-mode size is rejected.
func.func @max_pool2d_ceil_result(%x: tensor<1x1x5x5xf32>) -> tensor<1x1x2x2xf32> {
  // expected-error @+2 {{'kiln.max_pool2d' op failed to infer returned types}}
  // expected-error @+1 {{'kiln.max_pool2d' op inferred type(s) 'tensor<1x1x3x3xf32>' are incompatible with return type(s) of operation 'tensor<1x1x2x2xf32>'}}
  %0 = "kiln.max_pool2d"(%x) {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, ceil_mode = true} : (tensor<1x1x5x5xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// -----

// ceil_mode is a bool.
func.func @avg_pool2d_ceil_mode_not_bool(%x: tensor<1x1x5x5xf32>) -> tensor<1x1x3x3xf32> {
  // expected-error @+1 {{'kiln.avg_pool2d' op attribute 'ceil_mode' failed to satisfy constraint: bool attribute}}
  %0 = "kiln.avg_pool2d"(%x) {kernel = array<i64: 2, 2>, ceil_mode = 1 : i64} : (tensor<1x1x5x5xf32>) -> tensor<1x1x3x3xf32>
  return %0 : tensor<1x1x3x3xf32>
}

// -----

// avg_pool2d is float-only (max_pool2d takes integers).
func.func @avg_pool2d_int(%x: tensor<1x1x4x4xi32>) -> tensor<1x1x3x3xi32> {
  // expected-error @+1 {{'kiln.avg_pool2d' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<1x1x4x4xi32>'}}
  %0 = kiln.avg_pool2d %x {kernel = array<i64: 2, 2>} : tensor<1x1x4x4xi32>
  return %0 : tensor<1x1x3x3xi32>
}

// -----

// global_avg_pool needs spatial dims.
func.func @global_avg_pool_rank2(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'kiln.global_avg_pool' op needs an input of rank >= 3 ([N, C, spatial...]), got rank 2}}
  %0 = kiln.global_avg_pool %x : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// batch_norm per-channel operands have shape [C].
func.func @batch_norm_channels(%x: tensor<2x3x4x4xf32>, %s: tensor<4xf32>) -> tensor<2x3x4x4xf32> {
  // expected-error @+1 {{'kiln.batch_norm' op scale must have shape [3] (one value per channel), got 'tensor<4xf32>'}}
  %0 = kiln.batch_norm %x, %s, %s, %s, %s : tensor<2x3x4x4xf32>, tensor<4xf32>
  return %0 : tensor<2x3x4x4xf32>
}

// -----

// batch_norm per-channel operands are rank 1.
func.func @batch_norm_rank2_scale(%x: tensor<2x3x4x4xf32>, %s: tensor<3x1xf32>) -> tensor<2x3x4x4xf32> {
  // expected-error @+1 {{'kiln.batch_norm' op scale must have shape [3] (one value per channel), got 'tensor<3x1xf32>'}}
  %0 = kiln.batch_norm %x, %s, %s, %s, %s : tensor<2x3x4x4xf32>, tensor<3x1xf32>
  return %0 : tensor<2x3x4x4xf32>
}

// -----

// batch_norm needs a channel dim.
func.func @batch_norm_rank1(%x: tensor<3xf32>, %s: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.batch_norm' op needs an input of rank >= 2 ([N, C, ...]), got rank 1}}
  %0 = kiln.batch_norm %x, %s, %s, %s, %s : tensor<3xf32>, tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// batch_norm epsilon must not be negative.
func.func @batch_norm_epsilon(%x: tensor<2x3xf32>, %s: tensor<3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'kiln.batch_norm' op epsilon must be >= 0}}
  %0 = kiln.batch_norm %x, %s, %s, %s, %s {epsilon = -1.0 : f64} : tensor<2x3xf32>, tensor<3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// batch_norm's four per-channel operands share one type (generic form).
func.func @batch_norm_operand_types(%x: tensor<2x3xf32>, %s: tensor<3xf32>, %v: tensor<3xf16>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'kiln.batch_norm' op failed to verify that all of {scale, bias, mean, variance} have same type}}
  %0 = "kiln.batch_norm"(%x, %s, %s, %s, %v) : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf16>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// layer_norm scale has the normalized shape (dims [axis, rank)).
func.func @layer_norm_scale_shape(%x: tensor<2x5x8xf32>, %s: tensor<5xf32>) -> tensor<2x5x8xf32> {
  // expected-error @+1 {{'kiln.layer_norm' op scale must have the normalized shape [8], got 'tensor<5xf32>'}}
  %0 = kiln.layer_norm %x, %s : tensor<2x5x8xf32>, tensor<5xf32>
  return %0 : tensor<2x5x8xf32>
}

// -----

// With axis 1 the normalized shape is [5, 8].
func.func @layer_norm_scale_shape_axis1(%x: tensor<2x5x8xf32>, %s: tensor<8xf32>) -> tensor<2x5x8xf32> {
  // expected-error @+1 {{'kiln.layer_norm' op scale must have the normalized shape [5, 8], got 'tensor<8xf32>'}}
  %0 = kiln.layer_norm %x, %s {axis = 1 : i64} : tensor<2x5x8xf32>, tensor<8xf32>
  return %0 : tensor<2x5x8xf32>
}

// -----

// layer_norm bias has the normalized shape too.
func.func @layer_norm_bias_shape(%x: tensor<2x5x8xf32>, %s: tensor<8xf32>, %b: tensor<1x8xf32>) -> tensor<2x5x8xf32> {
  // expected-error @+1 {{'kiln.layer_norm' op bias must have the normalized shape [8], got 'tensor<1x8xf32>'}}
  %0 = kiln.layer_norm %x, %s, %b : tensor<2x5x8xf32>, tensor<8xf32>, tensor<1x8xf32>
  return %0 : tensor<2x5x8xf32>
}

// -----

// layer_norm axis past the last dim.
func.func @layer_norm_axis(%x: tensor<2x5x8xf32>, %s: tensor<8xf32>) -> tensor<2x5x8xf32> {
  // expected-error @+1 {{'kiln.layer_norm' op axis 3 is out of range for rank 3}}
  %0 = kiln.layer_norm %x, %s {axis = 3 : i64} : tensor<2x5x8xf32>, tensor<8xf32>
  return %0 : tensor<2x5x8xf32>
}

// -----

// layer_norm negative axis before the first dim.
func.func @layer_norm_axis_negative(%x: tensor<2x5x8xf32>, %s: tensor<8xf32>) -> tensor<2x5x8xf32> {
  // expected-error @+1 {{'kiln.layer_norm' op axis -4 is out of range for rank 3}}
  %0 = kiln.layer_norm %x, %s {axis = -4 : i64} : tensor<2x5x8xf32>, tensor<8xf32>
  return %0 : tensor<2x5x8xf32>
}

// -----

// layer_norm epsilon must not be negative.
func.func @layer_norm_epsilon(%x: tensor<2x8xf32>, %s: tensor<8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'kiln.layer_norm' op epsilon must be >= 0}}
  %0 = kiln.layer_norm %x, %s {epsilon = -1.0e-5 : f64} : tensor<2x8xf32>, tensor<8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// layer_norm scale has the input's element type.
func.func @layer_norm_scale_type(%x: tensor<2x8xf32>, %s: tensor<8xf16>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'kiln.layer_norm' op failed to verify that all of {input, scale, result} have same element type}}
  %0 = kiln.layer_norm %x, %s : tensor<2x8xf32>, tensor<8xf16>
  return %0 : tensor<2x8xf32>
}

// -----

// softmax axis past the last dim.
func.func @softmax_axis(%x: tensor<4x10xf32>) -> tensor<4x10xf32> {
  // expected-error @+1 {{'kiln.softmax' op axis 2 is out of range for rank 2}}
  %0 = kiln.softmax %x {axis = 2 : i64} : tensor<4x10xf32>
  return %0 : tensor<4x10xf32>
}

// -----

// log_softmax negative axis before the first dim.
func.func @log_softmax_axis(%x: tensor<4x10xf32>) -> tensor<4x10xf32> {
  // expected-error @+1 {{'kiln.log_softmax' op axis -3 is out of range for rank 2}}
  %0 = kiln.log_softmax %x {axis = -3 : i64} : tensor<4x10xf32>
  return %0 : tensor<4x10xf32>
}

// -----

// softmax of a rank-0 tensor has no axis (the default -1 included).
func.func @softmax_rank0(%x: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'kiln.softmax' op axis -1 is out of range for rank 0}}
  %0 = kiln.softmax %x : tensor<f32>
  return %0 : tensor<f32>
}

// -----

// softmax is float-only.
func.func @softmax_int(%x: tensor<4xi32>) -> tensor<4xi32> {
  // expected-error @+1 {{'kiln.softmax' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<4xi32>'}}
  %0 = kiln.softmax %x : tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

// dropout ratio 1 would drop everything and divide by zero.
func.func @dropout_ratio_one(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.dropout' op ratio must be in [0, 1), got 1.000000e+00}}
  %0 = kiln.dropout %x {ratio = 1.0 : f64, training = true} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// dropout ratio must not be negative.
func.func @dropout_ratio_negative(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.dropout' op ratio must be in [0, 1), got -1.000000e-01}}
  %0 = kiln.dropout %x {ratio = -0.1 : f64} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// gather axis past the last dim.
func.func @gather_axis(%d: tensor<10x4xf32>, %i: tensor<3xi64>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'kiln.gather' op axis 2 is out of range for rank 2}}
  %0 = kiln.gather %d, %i {axis = 2 : i64} : tensor<10x4xf32>, tensor<3xi64>
  return %0 : tensor<3x4xf32>
}

// -----

// gather from a rank-0 tensor.
func.func @gather_rank0(%d: tensor<f32>, %i: tensor<3xi64>) -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.gather' op gather needs data of rank >= 1}}
  %0 = kiln.gather %d, %i : tensor<f32>, tensor<3xi64>
  return %0 : tensor<3xf32>
}

// -----

// gather indices are i32 or i64.
func.func @gather_float_indices(%d: tensor<10x4xf32>, %i: tensor<3xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'kiln.gather' op operand #1 must be statically shaped tensor of 64-bit signless integer or 32-bit signless integer values, but got 'tensor<3xf32>'}}
  %0 = kiln.gather %d, %i : tensor<10x4xf32>, tensor<3xf32>
  return %0 : tensor<3x4xf32>
}

// -----

// cross_entropy logits are [N, C].
func.func @cross_entropy_logits_rank(%x: tensor<4x10x2xf32>, %l: tensor<4xi64>) -> tensor<f32> {
  // expected-error @+1 {{'kiln.cross_entropy' op logits must have rank 2 ([N, C]), got 'tensor<4x10x2xf32>'}}
  %0 = kiln.cross_entropy %x, %l : tensor<4x10x2xf32>, tensor<4xi64>
  return %0 : tensor<f32>
}

// -----

// cross_entropy labels are [N].
func.func @cross_entropy_labels_shape(%x: tensor<4x10xf32>, %l: tensor<5xi64>) -> tensor<f32> {
  // expected-error @+1 {{'kiln.cross_entropy' op labels must have shape [4], got 'tensor<5xi64>'}}
  %0 = kiln.cross_entropy %x, %l : tensor<4x10xf32>, tensor<5xi64>
  return %0 : tensor<f32>
}

// -----

// cross_entropy labels are not one-hot.
func.func @cross_entropy_labels_rank(%x: tensor<4x10xf32>, %l: tensor<4x10xi64>) -> tensor<f32> {
  // expected-error @+1 {{'kiln.cross_entropy' op labels must have shape [4], got 'tensor<4x10xi64>'}}
  %0 = kiln.cross_entropy %x, %l : tensor<4x10xf32>, tensor<4x10xi64>
  return %0 : tensor<f32>
}

// -----

// cross_entropy labels are integer class indices.
func.func @cross_entropy_float_labels(%x: tensor<4x10xf32>, %l: tensor<4xf32>) -> tensor<f32> {
  // expected-error @+1 {{'kiln.cross_entropy' op operand #1 must be statically shaped tensor of 64-bit signless integer or 32-bit signless integer values, but got 'tensor<4xf32>'}}
  %0 = kiln.cross_entropy %x, %l : tensor<4x10xf32>, tensor<4xf32>
  return %0 : tensor<f32>
}

// -----

// A loss reduction is "none", "mean" or "sum".
func.func @cross_entropy_reduction(%x: tensor<4x10xf32>, %l: tensor<4xi64>) -> tensor<f32> {
  // expected-error @+1 {{'kiln.cross_entropy' op reduction must be "none", "mean" or "sum", got "avg"}}
  %0 = kiln.cross_entropy %x, %l {reduction = "avg"} : tensor<4x10xf32>, tensor<4xi64>
  return %0 : tensor<f32>
}

// -----

// The same rule for bce_with_logits (case matters).
func.func @bce_reduction(%x: tensor<4xf32>) -> tensor<f32> {
  // expected-error @+1 {{'kiln.bce_with_logits' op reduction must be "none", "mean" or "sum", got "Mean"}}
  %0 = kiln.bce_with_logits %x, %x {reduction = "Mean"} : tensor<4xf32>, tensor<4xf32>
  return %0 : tensor<f32>
}

// -----

// mse input and target have the same type (element type differs).
func.func @mse_types(%x: tensor<4xf32>, %t: tensor<4xf16>) -> tensor<f32> {
  // expected-error @+1 {{'kiln.mse' op input and target must have the same type, got 'tensor<4xf32>' and 'tensor<4xf16>'}}
  %0 = kiln.mse %x, %t : tensor<4xf32>, tensor<4xf16>
  return %0 : tensor<f32>
}

// -----

// mse does not broadcast the target.
func.func @mse_shapes(%x: tensor<4x3xf32>, %t: tensor<3xf32>) -> tensor<f32> {
  // expected-error @+1 {{'kiln.mse' op input and target must have the same type, got 'tensor<4x3xf32>' and 'tensor<3xf32>'}}
  %0 = kiln.mse %x, %t : tensor<4x3xf32>, tensor<3xf32>
  return %0 : tensor<f32>
}

// -----

// bce_with_logits input and target have the same type.
func.func @bce_types(%x: tensor<4xf32>, %t: tensor<5xf32>) -> tensor<f32> {
  // expected-error @+1 {{'kiln.bce_with_logits' op input and target must have the same type, got 'tensor<4xf32>' and 'tensor<5xf32>'}}
  %0 = kiln.bce_with_logits %x, %t : tensor<4xf32>, tensor<5xf32>
  return %0 : tensor<f32>
}

// -----

// A mean loss is a rank-0 tensor: a generic op claiming per-sample values is
// rejected.
func.func @mse_mean_result(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+2 {{'kiln.mse' op failed to infer returned types}}
  // expected-error @+1 {{'kiln.mse' op inferred type(s) 'tensor<f32>' are incompatible with return type(s) of operation 'tensor<4xf32>'}}
  %0 = "kiln.mse"(%x, %x) {reduction = "mean"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// conv_transpose2d weight is [C_in, C_out/groups, kH, kW]: IOHW.
func.func @conv_transpose2d_weight_rank(%x: tensor<1x4x5x5xf32>, %w: tensor<4x2x3xf32>) {
  // expected-error @+1 {{'kiln.conv_transpose2d' op conv_transpose2d weight must have rank 4 (IOHW), got [4, 2, 3]}}
  %0 = kiln.conv_transpose2d %x, %w : tensor<1x4x5x5xf32>, tensor<4x2x3xf32>
  return
}

// -----

// max_pool2d's kernel as an array attribute, not array<i64: ...> (used to
// request a huge allocation; KNOWN_BUGS 07).
func.func @max_pool2d_array_attr_kernel(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{'kiln.max_pool2d' op attribute 'kernel' failed to satisfy constraint: i64 dense array attribute}}
  %0 = kiln.max_pool2d %x {kernel = [2, 2]} : tensor<1x3x8x8xf32>
  return
}

// -----

// A defaulted window attribute of the wrong kind on conv2d.
func.func @conv2d_array_attr_strides(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv2d' op attribute 'strides' failed to satisfy constraint: i64 dense array attribute}}
  %0 = kiln.conv2d %x, %w {strides = [2, 2]} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>
  return
}

// -----

// A reduction string that is not a string.
func.func @mse_integer_reduction(%x: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.mse' op attribute 'reduction' failed to satisfy constraint: string attribute}}
  %0 = kiln.mse %x, %x {reduction = 1 : i64} : tensor<4xf32>, tensor<4xf32>
  return
}

// -----

// conv2d with a pad near INT64_MAX (used to overflow; KNOWN_BUGS 15).
func.func @conv2d_pad_overflow(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv2d' op padded input size 8 + 9223372036854775807 + 1 overflows int64 (spatial dim 0)}}
  %0 = kiln.conv2d %x, %w {pads = array<i64: 9223372036854775807, 0, 1, 0>} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>
  return
}

// -----

// conv2d with a dilation near INT64_MAX (KNOWN_BUGS 16).
func.func @conv2d_dilation_overflow(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv2d' op window extent (dilation 9223372036854775807, kernel 3) overflows int64 (spatial dim 0)}}
  %0 = kiln.conv2d %x, %w {dilations = array<i64: 9223372036854775807, 1>} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>
  return
}

// -----

// conv_transpose2d with a stride near INT64_MAX (KNOWN_BUGS 17).
func.func @conv_transpose2d_stride_overflow(%x: tensor<1x4x5x5xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv_transpose2d' op conv_transpose2d output size overflows int64 in spatial dim 0}}
  %0 = kiln.conv_transpose2d %x, %w {strides = array<i64: 9223372036854775807, 1>} : tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>
  return
}

// -----

// max_pool2d with a huge kernel and dilation 2 (KNOWN_BUGS 18).
func.func @max_pool2d_kernel_overflow(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{'kiln.max_pool2d' op window extent (dilation 2, kernel 9223372036854775807) overflows int64 (spatial dim 0)}}
  %0 = kiln.max_pool2d %x {kernel = array<i64: 9223372036854775807, 9223372036854775807>, dilations = array<i64: 2, 2>} : tensor<1x3x8x8xf32>
  return
}

// -----

// A dynamic channel dim is rejected as such, not printed as
// -9223372036854775808 input channels (KNOWN_BUGS 24).
func.func @conv2d_dynamic_channels(%x: tensor<1x?x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv2d' op operand #0 must be statically shaped tensor, but got 'tensor<1x?x8x8xf32>'}}
  %0 = kiln.conv2d %x, %w : tensor<1x?x8x8xf32>, tensor<4x3x3x3xf32>
  return
}

// -----

// A zero kernel size is reported as such, not as a pads problem
// (KNOWN_BUGS 26).
func.func @max_pool2d_zero_kernel(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{'kiln.max_pool2d' op kernel sizes must be >= 1, got [0, 2]}}
  %0 = kiln.max_pool2d %x {kernel = array<i64: 0, 2>} : tensor<1x3x8x8xf32>
  return
}

// -----

// layer_norm's bias has the input's element type (KNOWN_BUGS 27).
func.func @layer_norm_bias_type(%x: tensor<2x8xf32>, %s: tensor<8xf32>, %b: tensor<8xf16>) {
  // expected-error @+1 {{'kiln.layer_norm' op bias element type 'f16' must match the input's 'f32'}}
  %0 = kiln.layer_norm %x, %s, %b : tensor<2x8xf32>, tensor<8xf32>, tensor<8xf16>
  return
}

// -----

// conv2d's bias has the input's element type (KNOWN_BUGS 28).
func.func @conv2d_bias_type(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xbf16>) {
  // expected-error @+1 {{'kiln.conv2d' op bias element type 'bf16' must match the input's 'f32'}}
  %0 = kiln.conv2d %x, %w, %b : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xbf16>
  return
}

// -----

// Likewise conv_transpose2d's (KNOWN_BUGS 28).
func.func @conv_transpose2d_bias_type(%x: tensor<1x4x5x5xf32>, %w: tensor<4x2x3x3xf32>, %b: tensor<2xf16>) {
  // expected-error @+1 {{'kiln.conv_transpose2d' op bias element type 'f16' must match the input's 'f32'}}
  %0 = kiln.conv_transpose2d %x, %w, %b : tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>, tensor<2xf16>
  return
}

// -----

// A NaN epsilon is rejected: `epsilon < 0` is false for NaN (KNOWN_BUGS 30).
func.func @batch_norm_nan_epsilon(%x: tensor<2x3xf32>, %s: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.batch_norm' op epsilon must be >= 0, got nan}}
  %0 = kiln.batch_norm %x, %s, %s, %s, %s {epsilon = 0x7FF8000000000000 : f64} : tensor<2x3xf32>, tensor<3xf32>
  return
}

// -----

// The same for layer_norm.
func.func @layer_norm_nan_epsilon(%x: tensor<2x8xf32>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'kiln.layer_norm' op epsilon must be >= 0, got nan}}
  %0 = kiln.layer_norm %x, %s {epsilon = 0x7FF8000000000000 : f64} : tensor<2x8xf32>, tensor<8xf32>
  return
}

// -----

// dropout already rejected a NaN ratio; keep it that way.
func.func @dropout_nan_ratio(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.dropout' op ratio must be in [0, 1), got nan}}
  %0 = kiln.dropout %x {ratio = 0x7FF8000000000000 : f64} : tensor<2x3xf32>
  return
}

// -----

// layout is "nchw" or "nhwc", and the message says which it got.
func.func @conv2d_bad_layout(%x: tensor<1x8x8x3xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x6x6x4xf32> {
  // expected-error @+1 {{'kiln.conv2d' op layout must be "nchw" or "nhwc", got "nwhc"}}
  %0 = kiln.conv2d %x, %w {layout = "nwhc"} : tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>
  return %0 : tensor<1x6x6x4xf32>
}

// -----

// An NHWC conv2d reads its channels from the last dim: here 8, not the
// weight's 3.
func.func @conv2d_nhwc_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x1x6x4xf32> {
  // expected-error @+1 {{'kiln.conv2d' op conv2d weight [4, 3, 3, 3] expects 3 input channels, input has 8}}
  %0 = kiln.conv2d %x, %w {layout = "nhwc"} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>
  return %0 : tensor<1x1x6x4xf32>
}

// -----

// The bias of an NHWC conv2d still has one value per output channel (the
// last dim of the result).
func.func @conv2d_nhwc_bias(%x: tensor<1x8x8x3xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<6xf32>) -> tensor<1x6x6x4xf32> {
  // expected-error @+1 {{'kiln.conv2d' op bias must have shape [4] (one value per output channel)}}
  %0 = kiln.conv2d %x, %w, %b {layout = "nhwc"} : tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>, tensor<6xf32>
  return %0 : tensor<1x6x6x4xf32>
}

// -----

func.func @max_pool2d_nhwc_rank(%x: tensor<8x8x3xf32>) -> tensor<4x4x3xf32> {
  // expected-error @+1 {{'kiln.max_pool2d' op pooling input must have rank 4 (NHWC), got [8, 8, 3]}}
  %0 = kiln.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, layout = "nhwc"} : tensor<8x8x3xf32>
  return %0 : tensor<4x4x3xf32>
}
