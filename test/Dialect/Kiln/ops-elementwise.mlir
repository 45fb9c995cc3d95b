// RUN: kiln-opt %s --split-input-file | kiln-opt --split-input-file | FileCheck %s
// RUN: kiln-opt %s --split-input-file --mlir-print-op-generic | kiln-opt --split-input-file | FileCheck %s
// RUN: kiln-opt %s --split-input-file --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Round-trip of the elementwise family (unary, attribute-carrying unary,
// cast, binary with broadcasting, comparisons, logic, select). The result
// type of an inferred op is checked through the `return` that uses it; the
// GENERIC run checks it on the op itself.

// Every float-only unary op round-trips on f32.
// CHECK-LABEL: func.func @unary_float_f32
// CHECK: kiln.exp %{{.*}} : tensor<2x3xf32>
// CHECK: kiln.log %{{.*}} : tensor<2x3xf32>
// CHECK: kiln.sqrt %{{.*}} : tensor<2x3xf32>
// CHECK: kiln.rsqrt %{{.*}} : tensor<2x3xf32>
// CHECK: kiln.reciprocal %{{.*}} : tensor<2x3xf32>
// CHECK: kiln.tanh %{{.*}} : tensor<2x3xf32>
// CHECK: kiln.sigmoid %{{.*}} : tensor<2x3xf32>
// CHECK: kiln.silu %{{.*}} : tensor<2x3xf32>
// CHECK: kiln.softplus %{{.*}} : tensor<2x3xf32>
// CHECK: kiln.sin %{{.*}} : tensor<2x3xf32>
// CHECK: kiln.cos %{{.*}} : tensor<2x3xf32>
// CHECK: kiln.erf %{{.*}} : tensor<2x3xf32>
// CHECK: kiln.floor %{{.*}} : tensor<2x3xf32>
// CHECK: kiln.ceil %{{.*}} : tensor<2x3xf32>
// CHECK: kiln.round %{{.*}} : tensor<2x3xf32>
func.func @unary_float_f32(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = kiln.exp %x : tensor<2x3xf32>
  %1 = kiln.log %0 : tensor<2x3xf32>
  %2 = kiln.sqrt %1 : tensor<2x3xf32>
  %3 = kiln.rsqrt %2 : tensor<2x3xf32>
  %4 = kiln.reciprocal %3 : tensor<2x3xf32>
  %5 = kiln.tanh %4 : tensor<2x3xf32>
  %6 = kiln.sigmoid %5 : tensor<2x3xf32>
  %7 = kiln.silu %6 : tensor<2x3xf32>
  %8 = kiln.softplus %7 : tensor<2x3xf32>
  %9 = kiln.sin %8 : tensor<2x3xf32>
  %10 = kiln.cos %9 : tensor<2x3xf32>
  %11 = kiln.erf %10 : tensor<2x3xf32>
  %12 = kiln.floor %11 : tensor<2x3xf32>
  %13 = kiln.ceil %12 : tensor<2x3xf32>
  %14 = kiln.round %13 : tensor<2x3xf32>
  return %14 : tensor<2x3xf32>
}

// -----

// Float-only unary ops accept every float element type: f16, bf16, f64.
// CHECK-LABEL: func.func @unary_float_types
// CHECK: kiln.exp %{{.*}} : tensor<4xf16>
// CHECK: kiln.tanh %{{.*}} : tensor<4xbf16>
// CHECK: kiln.log %{{.*}} : tensor<4xf64>
func.func @unary_float_types(%a: tensor<4xf16>, %b: tensor<4xbf16>, %c: tensor<4xf64>)
    -> (tensor<4xf16>, tensor<4xbf16>, tensor<4xf64>) {
  %0 = kiln.exp %a : tensor<4xf16>
  %1 = kiln.tanh %b : tensor<4xbf16>
  %2 = kiln.log %c : tensor<4xf64>
  return %0, %1, %2 : tensor<4xf16>, tensor<4xbf16>, tensor<4xf64>
}

// -----

// Signed unary ops (neg, abs, relu, sign) accept floats and signed integers.
// CHECK-LABEL: func.func @unary_signed
// CHECK: kiln.neg %{{.*}} : tensor<3xi64>
// CHECK: kiln.abs %{{.*}} : tensor<3xi32>
// CHECK: kiln.relu %{{.*}} : tensor<3xi8>
// CHECK: kiln.sign %{{.*}} : tensor<3xf16>
// CHECK: kiln.relu %{{.*}} : tensor<3xbf16>
func.func @unary_signed(%a: tensor<3xi64>, %b: tensor<3xi32>, %c: tensor<3xi8>, %d: tensor<3xf16>, %e: tensor<3xbf16>)
    -> (tensor<3xi64>, tensor<3xi32>, tensor<3xi8>, tensor<3xf16>, tensor<3xbf16>) {
  %0 = kiln.neg %a : tensor<3xi64>
  %1 = kiln.abs %b : tensor<3xi32>
  %2 = kiln.relu %c : tensor<3xi8>
  %3 = kiln.sign %d : tensor<3xf16>
  %4 = kiln.relu %e : tensor<3xbf16>
  return %0, %1, %2, %3, %4 : tensor<3xi64>, tensor<3xi32>, tensor<3xi8>, tensor<3xf16>, tensor<3xbf16>
}

// -----

// Logical not is defined on i1 only.
// CHECK-LABEL: func.func @unary_not
// CHECK: kiln.not %{{.*}} : tensor<2x2xi1>
func.func @unary_not(%a: tensor<2x2xi1>) -> tensor<2x2xi1> {
  %0 = kiln.not %a : tensor<2x2xi1>
  return %0 : tensor<2x2xi1>
}

// -----

// Unary ops on rank-0 tensors.
// CHECK-LABEL: func.func @unary_rank0
// CHECK: kiln.exp %{{.*}} : tensor<f32>
// CHECK: kiln.neg %{{.*}} : tensor<i32>
func.func @unary_rank0(%a: tensor<f32>, %b: tensor<i32>) -> (tensor<f32>, tensor<i32>) {
  %0 = kiln.exp %a : tensor<f32>
  %1 = kiln.neg %b : tensor<i32>
  return %0, %1 : tensor<f32>, tensor<i32>
}

// -----

// leaky_relu and elu: the default alpha is elided, a given one is kept.
// CHECK-LABEL: func.func @alpha_ops
// CHECK: kiln.leaky_relu %{{.*}} : tensor<4xf32>{{$}}
// CHECK: kiln.leaky_relu %{{.*}} : tensor<4xf32>{{$}}
// CHECK: kiln.leaky_relu %{{.*}} {alpha = 2.000000e-01 : f64} : tensor<4xf32>
// CHECK: kiln.elu %{{.*}} : tensor<4xf32>{{$}}
// CHECK: kiln.elu %{{.*}} : tensor<4xf32>{{$}}
// CHECK: kiln.elu %{{.*}} {alpha = 5.000000e-01 : f64} : tensor<4xf16>
func.func @alpha_ops(%x: tensor<4xf32>, %h: tensor<4xf16>) -> (tensor<4xf32>, tensor<4xf16>) {
  %0 = kiln.leaky_relu %x : tensor<4xf32>
  %1 = kiln.leaky_relu %0 {alpha = 0.01 : f64} : tensor<4xf32>
  %2 = kiln.leaky_relu %1 {alpha = 0.2 : f64} : tensor<4xf32>
  %3 = kiln.elu %2 : tensor<4xf32>
  %4 = kiln.elu %3 {alpha = 1.0 : f64} : tensor<4xf32>
  %5 = kiln.elu %h {alpha = 0.5 : f64} : tensor<4xf16>
  return %4, %5 : tensor<4xf32>, tensor<4xf16>
}

// -----

// gelu: default "none" elided, "tanh" kept.
// CHECK-LABEL: func.func @gelu
// CHECK: kiln.gelu %{{.*}} : tensor<2x8xf32>{{$}}
// CHECK: kiln.gelu %{{.*}} : tensor<2x8xf32>{{$}}
// CHECK: kiln.gelu %{{.*}} {approximate = "tanh"} : tensor<2x8xf32>
// CHECK: kiln.gelu %{{.*}} {approximate = "tanh"} : tensor<2x8xbf16>
func.func @gelu(%x: tensor<2x8xf32>, %y: tensor<2x8xbf16>) -> (tensor<2x8xf32>, tensor<2x8xbf16>) {
  %0 = kiln.gelu %x : tensor<2x8xf32>
  %1 = kiln.gelu %0 {approximate = "none"} : tensor<2x8xf32>
  %2 = kiln.gelu %1 {approximate = "tanh"} : tensor<2x8xf32>
  %3 = kiln.gelu %y {approximate = "tanh"} : tensor<2x8xbf16>
  return %2, %3 : tensor<2x8xf32>, tensor<2x8xbf16>
}

// -----

// clip: no bound, one bound, both bounds, equal bounds; floats and integers.
// CHECK-LABEL: func.func @clip
// CHECK: kiln.clip %{{.*}} : tensor<5xf32>{{$}}
// CHECK: kiln.clip %{{.*}} {min = 0.000000e+00 : f64} : tensor<5xf32>
// CHECK: kiln.clip %{{.*}} {max = 6.000000e+00 : f64} : tensor<5xf32>
// CHECK: kiln.clip %{{.*}} {max = 1.000000e+00 : f64, min = -1.000000e+00 : f64} : tensor<5xf32>
// CHECK: kiln.clip %{{.*}} {max = 2.000000e+00 : f64, min = 2.000000e+00 : f64} : tensor<5xf32>
// CHECK: kiln.clip %{{.*}} {max = 1.270000e+02 : f64, min = -1.280000e+02 : f64} : tensor<5xi8>
// CHECK: kiln.clip %{{.*}} {min = 0.000000e+00 : f64} : tensor<5xi64>
func.func @clip(%x: tensor<5xf32>, %q: tensor<5xi8>, %l: tensor<5xi64>) -> (tensor<5xf32>, tensor<5xi8>, tensor<5xi64>) {
  %0 = kiln.clip %x : tensor<5xf32>
  %1 = kiln.clip %0 {min = 0.0 : f64} : tensor<5xf32>
  %2 = kiln.clip %1 {max = 6.0 : f64} : tensor<5xf32>
  %3 = kiln.clip %2 {min = -1.0 : f64, max = 1.0 : f64} : tensor<5xf32>
  %4 = kiln.clip %3 {min = 2.0 : f64, max = 2.0 : f64} : tensor<5xf32>
  %5 = kiln.clip %q {min = -128.0 : f64, max = 127.0 : f64} : tensor<5xi8>
  %6 = kiln.clip %l {min = 0.0 : f64} : tensor<5xi64>
  return %4, %5, %6 : tensor<5xf32>, tensor<5xi8>, tensor<5xi64>
}

// -----

// cast between every kind of element type, including to and from i1, and
// the same-type cast.
// CHECK-LABEL: func.func @cast
// CHECK: kiln.cast %{{.*}} : tensor<2x3xf32> -> tensor<2x3xf16>
// CHECK: kiln.cast %{{.*}} : tensor<2x3xf16> -> tensor<2x3xbf16>
// CHECK: kiln.cast %{{.*}} : tensor<2x3xbf16> -> tensor<2x3xf64>
// CHECK: kiln.cast %{{.*}} : tensor<2x3xf64> -> tensor<2x3xi64>
// CHECK: kiln.cast %{{.*}} : tensor<2x3xi64> -> tensor<2x3xi32>
// CHECK: kiln.cast %{{.*}} : tensor<2x3xi32> -> tensor<2x3xi8>
// CHECK: kiln.cast %{{.*}} : tensor<2x3xi8> -> tensor<2x3xi1>
// CHECK: kiln.cast %{{.*}} : tensor<2x3xi1> -> tensor<2x3xf32>
// CHECK: kiln.cast %{{.*}} : tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK: kiln.cast %{{.*}} : tensor<i32> -> tensor<f32>
func.func @cast(%x: tensor<2x3xf32>, %s: tensor<i32>) -> (tensor<2x3xf32>, tensor<f32>) {
  %0 = kiln.cast %x : tensor<2x3xf32> -> tensor<2x3xf16>
  %1 = kiln.cast %0 : tensor<2x3xf16> -> tensor<2x3xbf16>
  %2 = kiln.cast %1 : tensor<2x3xbf16> -> tensor<2x3xf64>
  %3 = kiln.cast %2 : tensor<2x3xf64> -> tensor<2x3xi64>
  %4 = kiln.cast %3 : tensor<2x3xi64> -> tensor<2x3xi32>
  %5 = kiln.cast %4 : tensor<2x3xi32> -> tensor<2x3xi8>
  %6 = kiln.cast %5 : tensor<2x3xi8> -> tensor<2x3xi1>
  %7 = kiln.cast %6 : tensor<2x3xi1> -> tensor<2x3xf32>
  %8 = kiln.cast %7 : tensor<2x3xf32> -> tensor<2x3xf32>
  %9 = kiln.cast %s : tensor<i32> -> tensor<f32>
  return %8, %9 : tensor<2x3xf32>, tensor<f32>
}

// -----

// Every arithmetic binary op on equal shapes; the result keeps the type.
// CHECK-LABEL: func.func @binary_arith
// CHECK: %[[ADD:.*]] = kiln.add %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<2x3xf32>
// CHECK: %[[SUB:.*]] = kiln.sub %[[ADD]], %{{.*}} : tensor<2x3xf32>, tensor<2x3xf32>
// CHECK: %[[MUL:.*]] = kiln.mul %[[SUB]], %{{.*}} : tensor<2x3xf32>, tensor<2x3xf32>
// CHECK: %[[DIV:.*]] = kiln.div %[[MUL]], %{{.*}} : tensor<2x3xf32>, tensor<2x3xf32>
// CHECK: %[[POW:.*]] = kiln.pow %[[DIV]], %{{.*}} : tensor<2x3xf32>, tensor<2x3xf32>
// CHECK: %[[MAX:.*]] = kiln.max %[[POW]], %{{.*}} : tensor<2x3xf32>, tensor<2x3xf32>
// CHECK: %[[MIN:.*]] = kiln.min %[[MAX]], %{{.*}} : tensor<2x3xf32>, tensor<2x3xf32>
// CHECK: return %[[MIN]] : tensor<2x3xf32>
func.func @binary_arith(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = kiln.add %a, %b : tensor<2x3xf32>, tensor<2x3xf32>
  %1 = kiln.sub %0, %b : tensor<2x3xf32>, tensor<2x3xf32>
  %2 = kiln.mul %1, %b : tensor<2x3xf32>, tensor<2x3xf32>
  %3 = kiln.div %2, %b : tensor<2x3xf32>, tensor<2x3xf32>
  %4 = kiln.pow %3, %b : tensor<2x3xf32>, tensor<2x3xf32>
  %5 = kiln.max %4, %b : tensor<2x3xf32>, tensor<2x3xf32>
  %6 = kiln.min %5, %b : tensor<2x3xf32>, tensor<2x3xf32>
  return %6 : tensor<2x3xf32>
}

// -----

// Binary ops on other numeric element types and on rank 0.
// CHECK-LABEL: func.func @binary_types
// CHECK: kiln.add %{{.*}}, %{{.*}} : tensor<4xf16>, tensor<4xf16>
// CHECK: kiln.mul %{{.*}}, %{{.*}} : tensor<4xbf16>, tensor<4xbf16>
// CHECK: kiln.sub %{{.*}}, %{{.*}} : tensor<4xf64>, tensor<4xf64>
// CHECK: kiln.div %{{.*}}, %{{.*}} : tensor<4xi64>, tensor<4xi64>
// CHECK: kiln.max %{{.*}}, %{{.*}} : tensor<4xi32>, tensor<4xi32>
// CHECK: kiln.min %{{.*}}, %{{.*}} : tensor<4xi8>, tensor<4xi8>
// CHECK: kiln.pow %{{.*}}, %{{.*}} : tensor<f32>, tensor<f32>
// CHECK: return %{{.*}} : tensor<4xf16>, tensor<4xbf16>, tensor<4xf64>, tensor<4xi64>, tensor<4xi32>, tensor<4xi8>, tensor<f32>
func.func @binary_types(%a: tensor<4xf16>, %b: tensor<4xbf16>, %c: tensor<4xf64>, %d: tensor<4xi64>,
                        %e: tensor<4xi32>, %f: tensor<4xi8>, %g: tensor<f32>)
    -> (tensor<4xf16>, tensor<4xbf16>, tensor<4xf64>, tensor<4xi64>, tensor<4xi32>, tensor<4xi8>, tensor<f32>) {
  %0 = kiln.add %a, %a : tensor<4xf16>, tensor<4xf16>
  %1 = kiln.mul %b, %b : tensor<4xbf16>, tensor<4xbf16>
  %2 = kiln.sub %c, %c : tensor<4xf64>, tensor<4xf64>
  %3 = kiln.div %d, %d : tensor<4xi64>, tensor<4xi64>
  %4 = kiln.max %e, %e : tensor<4xi32>, tensor<4xi32>
  %5 = kiln.min %f, %f : tensor<4xi8>, tensor<4xi8>
  %6 = kiln.pow %g, %g : tensor<f32>, tensor<f32>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<4xf16>, tensor<4xbf16>, tensor<4xf64>, tensor<4xi64>, tensor<4xi32>, tensor<4xi8>, tensor<f32>
}

// -----

// numpy broadcasting: missing leading dims, size-1 dims on either side,
// rank 0 against rank 2, and a zero-size dim.
// CHECK-LABEL: func.func @binary_broadcast
// CHECK: kiln.add %{{.*}}, %{{.*}} : tensor<3xf32>, tensor<2x3xf32>
// CHECK: kiln.mul %{{.*}}, %{{.*}} : tensor<2x1x4xf32>, tensor<3x1xf32>
// CHECK: kiln.sub %{{.*}}, %{{.*}} : tensor<f32>, tensor<2x3xf32>
// CHECK: kiln.max %{{.*}}, %{{.*}} : tensor<0x3xi32>, tensor<1x3xi32>
// CHECK: return %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<2x3xf32>, tensor<0x3xi32>
// GENERIC-LABEL: sym_name = "binary_broadcast"
// GENERIC: "kiln.add"(%{{.*}}, %{{.*}}) : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC: "kiln.mul"(%{{.*}}, %{{.*}}) : (tensor<2x1x4xf32>, tensor<3x1xf32>) -> tensor<2x3x4xf32>
// GENERIC: "kiln.sub"(%{{.*}}, %{{.*}}) : (tensor<f32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// GENERIC: "kiln.max"(%{{.*}}, %{{.*}}) : (tensor<0x3xi32>, tensor<1x3xi32>) -> tensor<0x3xi32>
func.func @binary_broadcast(%a: tensor<3xf32>, %b: tensor<2x3xf32>, %c: tensor<2x1x4xf32>, %d: tensor<3x1xf32>,
                            %e: tensor<f32>, %f: tensor<0x3xi32>, %g: tensor<1x3xi32>)
    -> (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<2x3xf32>, tensor<0x3xi32>) {
  %0 = kiln.add %a, %b : tensor<3xf32>, tensor<2x3xf32>
  %1 = kiln.mul %c, %d : tensor<2x1x4xf32>, tensor<3x1xf32>
  %2 = kiln.sub %e, %b : tensor<f32>, tensor<2x3xf32>
  %3 = kiln.max %f, %g : tensor<0x3xi32>, tensor<1x3xi32>
  return %0, %1, %2, %3 : tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<2x3xf32>, tensor<0x3xi32>
}

// -----

// Comparisons give i1 with the broadcast shape; eq/ne also accept i1.
// CHECK-LABEL: func.func @compare
// CHECK: kiln.eq %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<3xf32>
// CHECK: kiln.ne %{{.*}}, %{{.*}} : tensor<2x3xi1>, tensor<2x3xi1>
// CHECK: kiln.lt %{{.*}}, %{{.*}} : tensor<4xi32>, tensor<4xi32>
// CHECK: kiln.le %{{.*}}, %{{.*}} : tensor<4xi64>, tensor<i64>
// CHECK: kiln.gt %{{.*}}, %{{.*}} : tensor<4xf16>, tensor<4xf16>
// CHECK: kiln.ge %{{.*}}, %{{.*}} : tensor<4xi8>, tensor<4x1xi8>
// CHECK: return %{{.*}} : tensor<2x3xi1>, tensor<2x3xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4x4xi1>
// GENERIC-LABEL: sym_name = "compare"
// GENERIC: "kiln.eq"(%{{.*}}, %{{.*}}) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
// GENERIC: "kiln.ge"(%{{.*}}, %{{.*}}) : (tensor<4xi8>, tensor<4x1xi8>) -> tensor<4x4xi1>
func.func @compare(%a: tensor<2x3xf32>, %b: tensor<3xf32>, %p: tensor<2x3xi1>, %i: tensor<4xi32>,
                   %l: tensor<4xi64>, %s: tensor<i64>, %h: tensor<4xf16>, %q: tensor<4xi8>, %r: tensor<4x1xi8>)
    -> (tensor<2x3xi1>, tensor<2x3xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4x4xi1>) {
  %0 = kiln.eq %a, %b : tensor<2x3xf32>, tensor<3xf32>
  %1 = kiln.ne %p, %p : tensor<2x3xi1>, tensor<2x3xi1>
  %2 = kiln.lt %i, %i : tensor<4xi32>, tensor<4xi32>
  %3 = kiln.le %l, %s : tensor<4xi64>, tensor<i64>
  %4 = kiln.gt %h, %h : tensor<4xf16>, tensor<4xf16>
  %5 = kiln.ge %q, %r : tensor<4xi8>, tensor<4x1xi8>
  return %0, %1, %2, %3, %4, %5 : tensor<2x3xi1>, tensor<2x3xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4x4xi1>
}

// -----

// Logical and/or/xor on i1 with broadcasting.
// CHECK-LABEL: func.func @logic
// CHECK: kiln.and %{{.*}}, %{{.*}} : tensor<2x3xi1>, tensor<3xi1>
// CHECK: kiln.or %{{.*}}, %{{.*}} : tensor<2x3xi1>, tensor<2x3xi1>
// CHECK: kiln.xor %{{.*}}, %{{.*}} : tensor<2x3xi1>, tensor<i1>
// CHECK: return %{{.*}} : tensor<2x3xi1>
func.func @logic(%a: tensor<2x3xi1>, %b: tensor<3xi1>, %c: tensor<i1>) -> tensor<2x3xi1> {
  %0 = kiln.and %a, %b : tensor<2x3xi1>, tensor<3xi1>
  %1 = kiln.or %0, %a : tensor<2x3xi1>, tensor<2x3xi1>
  %2 = kiln.xor %1, %c : tensor<2x3xi1>, tensor<i1>
  return %2 : tensor<2x3xi1>
}

// -----

// select broadcasts its three operands together.
// CHECK-LABEL: func.func @select
// CHECK: kiln.select %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>
// CHECK: kiln.select %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x1xi1>, tensor<3xi64>, tensor<i64>
// CHECK: kiln.select %{{.*}}, %{{.*}}, %{{.*}} : tensor<i1>, tensor<4xi1>, tensor<4xi1>
// CHECK: return %{{.*}} : tensor<2x3xf32>, tensor<2x3xi64>, tensor<4xi1>
// GENERIC-LABEL: sym_name = "select"
// GENERIC: "kiln.select"(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<2x1xi1>, tensor<3xi64>, tensor<i64>) -> tensor<2x3xi64>
func.func @select(%c: tensor<2x3xi1>, %a: tensor<2x3xf32>, %b: tensor<2x3xf32>, %c2: tensor<2x1xi1>,
                  %t: tensor<3xi64>, %f: tensor<i64>, %s: tensor<i1>, %p: tensor<4xi1>)
    -> (tensor<2x3xf32>, tensor<2x3xi64>, tensor<4xi1>) {
  %0 = kiln.select %c, %a, %b : tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>
  %1 = kiln.select %c2, %t, %f : tensor<2x1xi1>, tensor<3xi64>, tensor<i64>
  %2 = kiln.select %s, %p, %p : tensor<i1>, tensor<4xi1>, tensor<4xi1>
  return %0, %1, %2 : tensor<2x3xf32>, tensor<2x3xi64>, tensor<4xi1>
}
