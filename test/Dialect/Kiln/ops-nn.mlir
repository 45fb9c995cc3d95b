// RUN: kiln-opt %s --split-input-file | kiln-opt --split-input-file | FileCheck %s
// RUN: kiln-opt %s --split-input-file --mlir-print-op-generic | kiln-opt --split-input-file | FileCheck %s
// RUN: kiln-opt %s --split-input-file --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Round-trip of the neural-network family: matmul, convolutions, pooling,
// norms, softmax, dropout, gather and the losses. Inferred result types are
// checked through the `return` that uses them.

// matmul: plain, each transpose flag, explicit defaults, batch broadcasting,
// integer and half types.
// CHECK-LABEL: func.func @matmul
// CHECK: kiln.matmul %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<3x4xf32>{{$}}
// CHECK: kiln.matmul %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<3x4xf32>{{$}}
// CHECK: kiln.matmul %{{.*}}, %{{.*}} {transpose_lhs = true} : tensor<3x2xf32>, tensor<3x4xf32>
// CHECK: kiln.matmul %{{.*}}, %{{.*}} {transpose_rhs = true} : tensor<2x3xf32>, tensor<4x3xf32>
// CHECK: kiln.matmul %{{.*}}, %{{.*}} {transpose_lhs = true, transpose_rhs = true} : tensor<3x2xf32>, tensor<4x3xf32>
// CHECK: kiln.matmul %{{.*}}, %{{.*}} : tensor<5x1x2x3xbf16>, tensor<7x3x4xbf16>
// CHECK: kiln.matmul %{{.*}}, %{{.*}} : tensor<2x3xi32>, tensor<6x3x4xi32>
// CHECK: kiln.matmul %{{.*}}, %{{.*}} : tensor<2x3xf16>, tensor<3x4xf16>
// CHECK: return %{{.*}} : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<5x7x2x4xbf16>, tensor<6x2x4xi32>, tensor<2x4xf16>
// GENERIC-LABEL: sym_name = "matmul"
// GENERIC: "kiln.matmul"(%{{.*}}, %{{.*}}) {transpose_lhs = false, transpose_rhs = false} : (tensor<5x1x2x3xbf16>, tensor<7x3x4xbf16>) -> tensor<5x7x2x4xbf16>
func.func @matmul(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %at: tensor<3x2xf32>, %bt: tensor<4x3xf32>,
                  %c: tensor<5x1x2x3xbf16>, %d: tensor<7x3x4xbf16>, %i: tensor<2x3xi32>, %j: tensor<6x3x4xi32>,
                  %h: tensor<2x3xf16>, %g: tensor<3x4xf16>)
    -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<5x7x2x4xbf16>,
        tensor<6x2x4xi32>, tensor<2x4xf16>) {
  %0 = kiln.matmul %a, %b : tensor<2x3xf32>, tensor<3x4xf32>
  %1 = kiln.matmul %a, %b {transpose_lhs = false, transpose_rhs = false} : tensor<2x3xf32>, tensor<3x4xf32>
  %2 = kiln.matmul %at, %b {transpose_lhs = true} : tensor<3x2xf32>, tensor<3x4xf32>
  %3 = kiln.matmul %a, %bt {transpose_rhs = true} : tensor<2x3xf32>, tensor<4x3xf32>
  %4 = kiln.matmul %at, %bt {transpose_lhs = true, transpose_rhs = true} : tensor<3x2xf32>, tensor<4x3xf32>
  %5 = kiln.matmul %c, %d : tensor<5x1x2x3xbf16>, tensor<7x3x4xbf16>
  %6 = kiln.matmul %i, %j : tensor<2x3xi32>, tensor<6x3x4xi32>
  %7 = kiln.matmul %h, %g : tensor<2x3xf16>, tensor<3x4xf16>
  return %0, %1, %2, %3, %4, %5, %6, %7 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>,
      tensor<2x4xf32>, tensor<5x7x2x4xbf16>, tensor<6x2x4xi32>, tensor<2x4xf16>
}

// -----

// conv2d: bias absent and present, explicit defaults, strides with pads,
// dilations, groups (depthwise-style), f16 and f64.
// CHECK-LABEL: func.func @conv2d
// CHECK: kiln.conv2d %{{.*}}, %{{.*}} : tensor<1x3x8x8xf32>, tensor<16x3x3x3xf32>{{$}}
// CHECK: kiln.conv2d %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x3x8x8xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>{{$}}
// CHECK: kiln.conv2d %{{.*}}, %{{.*}} : tensor<1x3x8x8xf32>, tensor<16x3x3x3xf32>{{$}}
// CHECK: kiln.conv2d %{{.*}}, %{{.*}}, %{{.*}} {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x3x8x8xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>
// CHECK: kiln.conv2d %{{.*}}, %{{.*}} {dilations = array<i64: 2, 2>} : tensor<1x3x8x8xf32>, tensor<16x3x3x3xf32>
// CHECK: kiln.conv2d %{{.*}}, %{{.*}} {groups = 3 : i64} : tensor<2x3x8x8xf16>, tensor<6x1x3x3xf16>
// CHECK: kiln.conv2d %{{.*}}, %{{.*}} {pads = array<i64: 0, 1, 2, 3>} : tensor<1x1x5x5xf64>, tensor<1x1x1x1xf64>
// CHECK: return %{{.*}} : tensor<1x16x6x6xf32>, tensor<1x16x6x6xf32>, tensor<1x16x6x6xf32>, tensor<1x16x4x4xf32>, tensor<1x16x4x4xf32>, tensor<2x6x6x6xf16>, tensor<1x1x7x9xf64>
// GENERIC-LABEL: sym_name = "conv2d"
// GENERIC: "kiln.conv2d"(%{{.*}}, %{{.*}}, %{{.*}}) {activation = "none", dilations = array<i64: 1, 1>, groups = 1 : i64, layout = "nchw", pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x3x8x8xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>) -> tensor<1x16x4x4xf32>
func.func @conv2d(%x: tensor<1x3x8x8xf32>, %w: tensor<16x3x3x3xf32>, %b: tensor<16xf32>,
                  %xh: tensor<2x3x8x8xf16>, %wh: tensor<6x1x3x3xf16>, %xd: tensor<1x1x5x5xf64>, %wd: tensor<1x1x1x1xf64>)
    -> (tensor<1x16x6x6xf32>, tensor<1x16x6x6xf32>, tensor<1x16x6x6xf32>, tensor<1x16x4x4xf32>, tensor<1x16x4x4xf32>,
        tensor<2x6x6x6xf16>, tensor<1x1x7x9xf64>) {
  %0 = kiln.conv2d %x, %w : tensor<1x3x8x8xf32>, tensor<16x3x3x3xf32>
  %1 = kiln.conv2d %x, %w, %b : tensor<1x3x8x8xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>
  %2 = kiln.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>,
                           dilations = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x3x8x8xf32>, tensor<16x3x3x3xf32>
  %3 = kiln.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>}
      : tensor<1x3x8x8xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>
  %4 = kiln.conv2d %x, %w {dilations = array<i64: 2, 2>} : tensor<1x3x8x8xf32>, tensor<16x3x3x3xf32>
  %5 = kiln.conv2d %xh, %wh {groups = 3 : i64} : tensor<2x3x8x8xf16>, tensor<6x1x3x3xf16>
  %6 = kiln.conv2d %xd, %wd {pads = array<i64: 0, 1, 2, 3>} : tensor<1x1x5x5xf64>, tensor<1x1x1x1xf64>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<1x16x6x6xf32>, tensor<1x16x6x6xf32>, tensor<1x16x6x6xf32>,
      tensor<1x16x4x4xf32>, tensor<1x16x4x4xf32>, tensor<2x6x6x6xf16>, tensor<1x1x7x9xf64>
}

// -----

// conv2d and max_pool2d on NHWC activations (kiln-conv-layout's): channels
// last in the input and the result, the weight still OIHW, the bias per
// output channel.
// CHECK-LABEL: func.func @nhwc
// CHECK: kiln.conv2d %{{.*}}, %{{.*}}, %{{.*}} {layout = "nhwc", pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x8x8x3xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>
// CHECK: kiln.max_pool2d %{{.*}} {kernel = array<i64: 3, 3>, layout = "nhwc", pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x4x4x16xf32>
// CHECK: return %{{.*}} : tensor<1x2x2x16xf32>
func.func @nhwc(%x: tensor<1x8x8x3xf32>, %w: tensor<16x3x3x3xf32>, %b: tensor<16xf32>) -> tensor<1x2x2x16xf32> {
  %0 = kiln.conv2d %x, %w, %b {layout = "nhwc", strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>}
      : tensor<1x8x8x3xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>
  %1 = kiln.max_pool2d %0 {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, layout = "nhwc"} : tensor<1x4x4x16xf32>
  return %1 : tensor<1x2x2x16xf32>
}

// -----

// conv2d with an epilogue activation (what kiln-fuse-epilogues folds in);
// "none" is the default and is not printed.
// CHECK-LABEL: func.func @conv2d_activation
// CHECK: kiln.conv2d %{{.*}}, %{{.*}}, %{{.*}} {activation = "relu", pads = array<i64: 1, 1, 1, 1>} : tensor<1x3x8x8xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>
// CHECK: kiln.conv2d %{{.*}}, %{{.*}} {activation = "gelu_tanh"} : tensor<1x3x8x8xf32>, tensor<16x3x3x3xf32>
// CHECK: kiln.conv2d %{{.*}}, %{{.*}} : tensor<1x3x8x8xf32>, tensor<16x3x3x3xf32>{{$}}
// GENERIC-LABEL: sym_name = "conv2d_activation"
// GENERIC: "kiln.conv2d"(%{{.*}}, %{{.*}}, %{{.*}}) {activation = "relu",
func.func @conv2d_activation(%x: tensor<1x3x8x8xf32>, %w: tensor<16x3x3x3xf32>, %b: tensor<16xf32>)
    -> (tensor<1x16x8x8xf32>, tensor<1x16x6x6xf32>, tensor<1x16x6x6xf32>) {
  %0 = kiln.conv2d %x, %w, %b {activation = "relu", pads = array<i64: 1, 1, 1, 1>}
      : tensor<1x3x8x8xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>
  %1 = kiln.conv2d %x, %w {activation = "gelu_tanh"} : tensor<1x3x8x8xf32>, tensor<16x3x3x3xf32>
  %2 = kiln.conv2d %x, %w {activation = "none"} : tensor<1x3x8x8xf32>, tensor<16x3x3x3xf32>
  return %0, %1, %2 : tensor<1x16x8x8xf32>, tensor<1x16x6x6xf32>, tensor<1x16x6x6xf32>
}

// -----

// conv_transpose2d: bias absent and present, strides with output_padding,
// pads, groups, explicit defaults.
// CHECK-LABEL: func.func @conv_transpose2d
// CHECK: kiln.conv_transpose2d %{{.*}}, %{{.*}} : tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>{{$}}
// CHECK: kiln.conv_transpose2d %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>, tensor<2xf32>{{$}}
// CHECK: kiln.conv_transpose2d %{{.*}}, %{{.*}} {output_padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>
// CHECK: kiln.conv_transpose2d %{{.*}}, %{{.*}} {output_padding = array<i64: 1, 0>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>
// CHECK: kiln.conv_transpose2d %{{.*}}, %{{.*}}, %{{.*}} {groups = 2 : i64} : tensor<1x4x5x5xbf16>, tensor<4x3x3x3xbf16>, tensor<6xbf16>
// CHECK: kiln.conv_transpose2d %{{.*}}, %{{.*}} : tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>{{$}}
// CHECK: return %{{.*}} : tensor<1x2x7x7xf32>, tensor<1x2x7x7xf32>, tensor<1x2x12x12xf32>, tensor<1x2x10x9xf32>, tensor<1x6x7x7xbf16>, tensor<1x2x7x7xf32>
func.func @conv_transpose2d(%x: tensor<1x4x5x5xf32>, %w: tensor<4x2x3x3xf32>, %b: tensor<2xf32>,
                            %xg: tensor<1x4x5x5xbf16>, %wg: tensor<4x3x3x3xbf16>, %bg: tensor<6xbf16>)
    -> (tensor<1x2x7x7xf32>, tensor<1x2x7x7xf32>, tensor<1x2x12x12xf32>, tensor<1x2x10x9xf32>, tensor<1x6x7x7xbf16>,
        tensor<1x2x7x7xf32>) {
  %0 = kiln.conv_transpose2d %x, %w : tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>
  %1 = kiln.conv_transpose2d %x, %w, %b : tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>, tensor<2xf32>
  %2 = kiln.conv_transpose2d %x, %w {strides = array<i64: 2, 2>, output_padding = array<i64: 1, 1>}
      : tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>
  %3 = kiln.conv_transpose2d %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>,
                                     output_padding = array<i64: 1, 0>} : tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>
  %4 = kiln.conv_transpose2d %xg, %wg, %bg {groups = 2 : i64} : tensor<1x4x5x5xbf16>, tensor<4x3x3x3xbf16>, tensor<6xbf16>
  %5 = kiln.conv_transpose2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>,
                                     dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>,
                                     groups = 1 : i64} : tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<1x2x7x7xf32>, tensor<1x2x7x7xf32>, tensor<1x2x12x12xf32>,
      tensor<1x2x10x9xf32>, tensor<1x6x7x7xbf16>, tensor<1x2x7x7xf32>
}

// -----

// max_pool2d: kernel only, strides, pads, dilations, ceil_mode on and off,
// integer input.
// CHECK-LABEL: func.func @max_pool2d
// CHECK: kiln.max_pool2d %{{.*}} {kernel = array<i64: 2, 2>} : tensor<1x3x8x8xf32>
// CHECK: kiln.max_pool2d %{{.*}} {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : tensor<1x3x8x8xf32>
// CHECK: kiln.max_pool2d %{{.*}} {kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x3x8x8xf32>
// CHECK: kiln.max_pool2d %{{.*}} {dilations = array<i64: 2, 2>, kernel = array<i64: 2, 2>} : tensor<1x3x8x8xf32>
// CHECK: kiln.max_pool2d %{{.*}} {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : tensor<1x1x5x5xi32>
// CHECK: kiln.max_pool2d %{{.*}} {ceil_mode = true, kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : tensor<1x1x5x5xi32>
// CHECK: kiln.max_pool2d %{{.*}} {kernel = array<i64: 2, 2>} : tensor<1x3x8x8xf32>{{$}}
// CHECK: return %{{.*}} : tensor<1x3x7x7xf32>, tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>, tensor<1x3x6x6xf32>, tensor<1x1x2x2xi32>, tensor<1x1x3x3xi32>, tensor<1x3x7x7xf32>
func.func @max_pool2d(%x: tensor<1x3x8x8xf32>, %i: tensor<1x1x5x5xi32>)
    -> (tensor<1x3x7x7xf32>, tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>, tensor<1x3x6x6xf32>, tensor<1x1x2x2xi32>,
        tensor<1x1x3x3xi32>, tensor<1x3x7x7xf32>) {
  %0 = kiln.max_pool2d %x {kernel = array<i64: 2, 2>} : tensor<1x3x8x8xf32>
  %1 = kiln.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : tensor<1x3x8x8xf32>
  %2 = kiln.max_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : tensor<1x3x8x8xf32>
  %3 = kiln.max_pool2d %x {kernel = array<i64: 2, 2>, dilations = array<i64: 2, 2>} : tensor<1x3x8x8xf32>
  %4 = kiln.max_pool2d %i {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : tensor<1x1x5x5xi32>
  %5 = kiln.max_pool2d %i {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, ceil_mode = true} : tensor<1x1x5x5xi32>
  %6 = kiln.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>,
                           dilations = array<i64: 1, 1>, ceil_mode = false} : tensor<1x3x8x8xf32>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<1x3x7x7xf32>, tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>,
      tensor<1x3x6x6xf32>, tensor<1x1x2x2xi32>, tensor<1x1x3x3xi32>, tensor<1x3x7x7xf32>
}

// -----

// ceil_mode drops a last window that would start in the right padding
// (PyTorch/ONNX rule): 5 wide, kernel 2, stride 3, pads 0/1 gives 2, not 3.
// CHECK-LABEL: func.func @max_pool2d_ceil_last_window
// CHECK: kiln.max_pool2d %{{.*}} {ceil_mode = true, kernel = array<i64: 2, 2>, pads = array<i64: 0, 0, 1, 1>, strides = array<i64: 3, 3>} : tensor<1x1x5x5xf32>
// CHECK: return %{{.*}} : tensor<1x1x2x2xf32>
func.func @max_pool2d_ceil_last_window(%x: tensor<1x1x5x5xf32>) -> tensor<1x1x2x2xf32> {
  %0 = kiln.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 3, 3>, pads = array<i64: 0, 0, 1, 1>,
                           ceil_mode = true} : tensor<1x1x5x5xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// -----

// avg_pool2d: kernel only, count_include_pad, ceil_mode, pads, explicit defaults.
// CHECK-LABEL: func.func @avg_pool2d
// CHECK: kiln.avg_pool2d %{{.*}} {kernel = array<i64: 2, 2>} : tensor<1x3x8x8xf32>
// CHECK: kiln.avg_pool2d %{{.*}} {count_include_pad = true, kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>} : tensor<1x3x8x8xf32>
// CHECK: kiln.avg_pool2d %{{.*}} {ceil_mode = true, kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : tensor<1x1x5x5xf16>
// CHECK: kiln.avg_pool2d %{{.*}} {kernel = array<i64: 2, 2>} : tensor<1x3x8x8xf32>{{$}}
// CHECK: return %{{.*}} : tensor<1x3x7x7xf32>, tensor<1x3x8x8xf32>, tensor<1x1x3x3xf16>, tensor<1x3x7x7xf32>
func.func @avg_pool2d(%x: tensor<1x3x8x8xf32>, %h: tensor<1x1x5x5xf16>)
    -> (tensor<1x3x7x7xf32>, tensor<1x3x8x8xf32>, tensor<1x1x3x3xf16>, tensor<1x3x7x7xf32>) {
  %0 = kiln.avg_pool2d %x {kernel = array<i64: 2, 2>} : tensor<1x3x8x8xf32>
  %1 = kiln.avg_pool2d %x {kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, count_include_pad = true} : tensor<1x3x8x8xf32>
  %2 = kiln.avg_pool2d %h {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, ceil_mode = true} : tensor<1x1x5x5xf16>
  %3 = kiln.avg_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>,
                           ceil_mode = false, count_include_pad = false} : tensor<1x3x8x8xf32>
  return %0, %1, %2, %3 : tensor<1x3x7x7xf32>, tensor<1x3x8x8xf32>, tensor<1x1x3x3xf16>, tensor<1x3x7x7xf32>
}

// -----

// global_avg_pool keeps N and C and sets every spatial dim to 1, for 1-D,
// 2-D and 3-D spatial inputs.
// CHECK-LABEL: func.func @global_avg_pool
// CHECK: kiln.global_avg_pool %{{.*}} : tensor<2x3x10xf32>
// CHECK: kiln.global_avg_pool %{{.*}} : tensor<2x3x7x7xbf16>
// CHECK: kiln.global_avg_pool %{{.*}} : tensor<1x4x2x3x5xf64>
// CHECK: return %{{.*}} : tensor<2x3x1xf32>, tensor<2x3x1x1xbf16>, tensor<1x4x1x1x1xf64>
func.func @global_avg_pool(%a: tensor<2x3x10xf32>, %b: tensor<2x3x7x7xbf16>, %c: tensor<1x4x2x3x5xf64>)
    -> (tensor<2x3x1xf32>, tensor<2x3x1x1xbf16>, tensor<1x4x1x1x1xf64>) {
  %0 = kiln.global_avg_pool %a : tensor<2x3x10xf32>
  %1 = kiln.global_avg_pool %b : tensor<2x3x7x7xbf16>
  %2 = kiln.global_avg_pool %c : tensor<1x4x2x3x5xf64>
  return %0, %1, %2 : tensor<2x3x1xf32>, tensor<2x3x1x1xbf16>, tensor<1x4x1x1x1xf64>
}

// -----

// batch_norm: default epsilon elided, explicit epsilon kept, rank 2 and 4.
// CHECK-LABEL: func.func @batch_norm
// CHECK: kiln.batch_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3x4x4xf32>, tensor<3xf32>{{$}}
// CHECK: kiln.batch_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3x4x4xf32>, tensor<3xf32>{{$}}
// CHECK: kiln.batch_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-03 : f64} : tensor<8x3xf16>, tensor<3xf16>
func.func @batch_norm(%x: tensor<2x3x4x4xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>,
                      %y: tensor<8x3xf16>, %sh: tensor<3xf16>) -> (tensor<2x3x4x4xf32>, tensor<8x3xf16>) {
  %0 = kiln.batch_norm %x, %s, %b, %m, %v : tensor<2x3x4x4xf32>, tensor<3xf32>
  %1 = kiln.batch_norm %0, %s, %b, %m, %v {epsilon = 1.0e-5 : f64} : tensor<2x3x4x4xf32>, tensor<3xf32>
  %2 = kiln.batch_norm %y, %sh, %sh, %sh, %sh {epsilon = 1.0e-3 : f64} : tensor<8x3xf16>, tensor<3xf16>
  return %1, %2 : tensor<2x3x4x4xf32>, tensor<8x3xf16>
}

// -----

// layer_norm: bias present and absent, default axis -1, axis over the last
// two dims, explicit epsilon.
// CHECK-LABEL: func.func @layer_norm
// CHECK: kiln.layer_norm %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x5x8xf32>, tensor<8xf32>, tensor<8xf32>{{$}}
// CHECK: kiln.layer_norm %{{.*}}, %{{.*}} : tensor<2x5x8xf32>, tensor<8xf32>{{$}}
// CHECK: kiln.layer_norm %{{.*}}, %{{.*}} : tensor<2x5x8xf32>, tensor<8xf32>{{$}}
// CHECK: kiln.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64, epsilon = 9.9999999999999995E-7 : f64} : tensor<2x5x8xf32>, tensor<5x8xf32>, tensor<5x8xf32>
// CHECK: kiln.layer_norm %{{.*}}, %{{.*}} {axis = -2 : i64} : tensor<2x5x8xbf16>, tensor<5x8xbf16>
func.func @layer_norm(%x: tensor<2x5x8xf32>, %s: tensor<8xf32>, %b: tensor<8xf32>, %s2: tensor<5x8xf32>,
                      %xb: tensor<2x5x8xbf16>, %sb: tensor<5x8xbf16>) -> (tensor<2x5x8xf32>, tensor<2x5x8xbf16>) {
  %0 = kiln.layer_norm %x, %s, %b : tensor<2x5x8xf32>, tensor<8xf32>, tensor<8xf32>
  %1 = kiln.layer_norm %0, %s : tensor<2x5x8xf32>, tensor<8xf32>
  %2 = kiln.layer_norm %1, %s {axis = -1 : i64, epsilon = 1.0e-5 : f64} : tensor<2x5x8xf32>, tensor<8xf32>
  %3 = kiln.layer_norm %2, %s2, %s2 {axis = 1 : i64, epsilon = 1.0e-6 : f64} : tensor<2x5x8xf32>, tensor<5x8xf32>, tensor<5x8xf32>
  %4 = kiln.layer_norm %xb, %sb {axis = -2 : i64} : tensor<2x5x8xbf16>, tensor<5x8xbf16>
  return %3, %4 : tensor<2x5x8xf32>, tensor<2x5x8xbf16>
}

// -----

// softmax and log_softmax: default axis -1 elided, other axes kept.
// CHECK-LABEL: func.func @softmax
// CHECK: kiln.softmax %{{.*}} : tensor<4x10xf32>{{$}}
// CHECK: kiln.softmax %{{.*}} : tensor<4x10xf32>{{$}}
// CHECK: kiln.softmax %{{.*}} {axis = 0 : i64} : tensor<4x10xf32>
// CHECK: kiln.log_softmax %{{.*}} : tensor<4x10xf32>{{$}}
// CHECK: kiln.log_softmax %{{.*}} {axis = -2 : i64} : tensor<4x10xf16>
// CHECK: kiln.softmax %{{.*}} : tensor<7xf64>
func.func @softmax(%x: tensor<4x10xf32>, %h: tensor<4x10xf16>, %d: tensor<7xf64>)
    -> (tensor<4x10xf32>, tensor<4x10xf16>, tensor<7xf64>) {
  %0 = kiln.softmax %x : tensor<4x10xf32>
  %1 = kiln.softmax %0 {axis = -1 : i64} : tensor<4x10xf32>
  %2 = kiln.softmax %1 {axis = 0 : i64} : tensor<4x10xf32>
  %3 = kiln.log_softmax %2 : tensor<4x10xf32>
  %4 = kiln.log_softmax %h {axis = -2 : i64} : tensor<4x10xf16>
  %5 = kiln.softmax %d : tensor<7xf64>
  return %3, %4, %5 : tensor<4x10xf32>, tensor<4x10xf16>, tensor<7xf64>
}

// -----

// dropout: defaults elided, ratio/training/seed kept, ratio 0 allowed.
// CHECK-LABEL: func.func @dropout
// CHECK: kiln.dropout %{{.*}} : tensor<4x8xf32>{{$}}
// CHECK: kiln.dropout %{{.*}} : tensor<4x8xf32>{{$}}
// CHECK: kiln.dropout %{{.*}} {ratio = 1.000000e-01 : f64, seed = 42 : i64, training = true} : tensor<4x8xf32>
// CHECK: kiln.dropout %{{.*}} {ratio = 0.000000e+00 : f64, training = true} : tensor<4x8xbf16>
func.func @dropout(%x: tensor<4x8xf32>, %y: tensor<4x8xbf16>) -> (tensor<4x8xf32>, tensor<4x8xbf16>) {
  %0 = kiln.dropout %x : tensor<4x8xf32>
  %1 = kiln.dropout %0 {ratio = 0.5 : f64, training = false, seed = 0 : i64} : tensor<4x8xf32>
  %2 = kiln.dropout %1 {ratio = 0.1 : f64, training = true, seed = 42 : i64} : tensor<4x8xf32>
  %3 = kiln.dropout %y {ratio = 0.0 : f64, training = true} : tensor<4x8xbf16>
  return %2, %3 : tensor<4x8xf32>, tensor<4x8xbf16>
}

// -----

// gather: embedding lookup on axis 0, indices of rank 2 on axis 1, negative
// axis, rank-0 indices, i32 indices and non-float data.
// CHECK-LABEL: func.func @gather
// CHECK: kiln.gather %{{.*}}, %{{.*}} : tensor<10x4xf32>, tensor<3xi64>{{$}}
// CHECK: kiln.gather %{{.*}}, %{{.*}} {axis = 1 : i64} : tensor<10x4xf32>, tensor<2x2xi32>
// CHECK: kiln.gather %{{.*}}, %{{.*}} {axis = -1 : i64} : tensor<10x4xf32>, tensor<i64>
// CHECK: kiln.gather %{{.*}}, %{{.*}} : tensor<5xi1>, tensor<2x3xi32>
// CHECK: kiln.gather %{{.*}}, %{{.*}} : tensor<10x4xf32>, tensor<3xi64>{{$}}
// CHECK: return %{{.*}} : tensor<3x4xf32>, tensor<10x2x2xf32>, tensor<10xf32>, tensor<2x3xi1>, tensor<3x4xf32>
// GENERIC-LABEL: sym_name = "gather"
// GENERIC: "kiln.gather"(%{{.*}}, %{{.*}}) {axis = 1 : i64} : (tensor<10x4xf32>, tensor<2x2xi32>) -> tensor<10x2x2xf32>
func.func @gather(%d: tensor<10x4xf32>, %i: tensor<3xi64>, %j: tensor<2x2xi32>, %k: tensor<i64>,
                  %p: tensor<5xi1>, %q: tensor<2x3xi32>)
    -> (tensor<3x4xf32>, tensor<10x2x2xf32>, tensor<10xf32>, tensor<2x3xi1>, tensor<3x4xf32>) {
  %0 = kiln.gather %d, %i : tensor<10x4xf32>, tensor<3xi64>
  %1 = kiln.gather %d, %j {axis = 1 : i64} : tensor<10x4xf32>, tensor<2x2xi32>
  %2 = kiln.gather %d, %k {axis = -1 : i64} : tensor<10x4xf32>, tensor<i64>
  %3 = kiln.gather %p, %q : tensor<5xi1>, tensor<2x3xi32>
  %4 = kiln.gather %d, %i {axis = 0 : i64} : tensor<10x4xf32>, tensor<3xi64>
  return %0, %1, %2, %3, %4 : tensor<3x4xf32>, tensor<10x2x2xf32>, tensor<10xf32>, tensor<2x3xi1>, tensor<3x4xf32>
}

// -----

// cross_entropy: mean (default, rank-0 result), sum, none (one per sample),
// i32 and i64 labels.
// CHECK-LABEL: func.func @cross_entropy
// CHECK: kiln.cross_entropy %{{.*}}, %{{.*}} : tensor<4x10xf32>, tensor<4xi64>{{$}}
// CHECK: kiln.cross_entropy %{{.*}}, %{{.*}} : tensor<4x10xf32>, tensor<4xi64>{{$}}
// CHECK: kiln.cross_entropy %{{.*}}, %{{.*}} {reduction = "sum"} : tensor<4x10xf32>, tensor<4xi32>
// CHECK: kiln.cross_entropy %{{.*}}, %{{.*}} {reduction = "none"} : tensor<4x10xbf16>, tensor<4xi64>
// CHECK: return %{{.*}} : tensor<f32>, tensor<f32>, tensor<f32>, tensor<4xbf16>
func.func @cross_entropy(%x: tensor<4x10xf32>, %l: tensor<4xi64>, %l32: tensor<4xi32>, %xb: tensor<4x10xbf16>)
    -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<4xbf16>) {
  %0 = kiln.cross_entropy %x, %l : tensor<4x10xf32>, tensor<4xi64>
  %1 = kiln.cross_entropy %x, %l {reduction = "mean"} : tensor<4x10xf32>, tensor<4xi64>
  %2 = kiln.cross_entropy %x, %l32 {reduction = "sum"} : tensor<4x10xf32>, tensor<4xi32>
  %3 = kiln.cross_entropy %xb, %l {reduction = "none"} : tensor<4x10xbf16>, tensor<4xi64>
  return %0, %1, %2, %3 : tensor<f32>, tensor<f32>, tensor<f32>, tensor<4xbf16>
}

// -----

// mse and bce_with_logits: scalar for mean/sum, the input shape for none.
// CHECK-LABEL: func.func @pair_losses
// CHECK: kiln.mse %{{.*}}, %{{.*}} : tensor<4x3xf32>, tensor<4x3xf32>{{$}}
// CHECK: kiln.mse %{{.*}}, %{{.*}} {reduction = "none"} : tensor<4x3xf32>, tensor<4x3xf32>
// CHECK: kiln.bce_with_logits %{{.*}}, %{{.*}} : tensor<4x3xf16>, tensor<4x3xf16>{{$}}
// CHECK: kiln.bce_with_logits %{{.*}}, %{{.*}} {reduction = "sum"} : tensor<4x3xf16>, tensor<4x3xf16>
// CHECK: kiln.bce_with_logits %{{.*}}, %{{.*}} {reduction = "none"} : tensor<f64>, tensor<f64>
// CHECK: return %{{.*}} : tensor<f32>, tensor<4x3xf32>, tensor<f16>, tensor<f16>, tensor<f64>
// GENERIC-LABEL: sym_name = "pair_losses"
// GENERIC: "kiln.mse"(%{{.*}}, %{{.*}}) {reduction = "none"} : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
func.func @pair_losses(%a: tensor<4x3xf32>, %b: tensor<4x3xf32>, %h: tensor<4x3xf16>, %d: tensor<f64>)
    -> (tensor<f32>, tensor<4x3xf32>, tensor<f16>, tensor<f16>, tensor<f64>) {
  %0 = kiln.mse %a, %b : tensor<4x3xf32>, tensor<4x3xf32>
  %1 = kiln.mse %a, %b {reduction = "none"} : tensor<4x3xf32>, tensor<4x3xf32>
  %2 = kiln.bce_with_logits %h, %h : tensor<4x3xf16>, tensor<4x3xf16>
  %3 = kiln.bce_with_logits %h, %h {reduction = "sum"} : tensor<4x3xf16>, tensor<4x3xf16>
  %4 = kiln.bce_with_logits %d, %d {reduction = "none"} : tensor<f64>, tensor<f64>
  return %0, %1, %2, %3, %4 : tensor<f32>, tensor<4x3xf32>, tensor<f16>, tensor<f16>, tensor<f64>
}
