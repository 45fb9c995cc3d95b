// RUN: kiln-opt %s --split-input-file | kiln-opt --split-input-file | FileCheck %s
// RUN: kiln-opt %s --split-input-file --mlir-print-op-generic | kiln-opt --split-input-file | FileCheck %s

// Round-trip of the source family: constant, parameter, iota.

// Dense constants of every element type, splat and non-splat, and rank 0.
// CHECK-LABEL: func.func @constants
// CHECK: kiln.constant dense<1.000000e+00> : tensor<2x3xf32>
// CHECK: kiln.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf16>
// CHECK: kiln.constant dense<5.000000e-01> : tensor<bf16>
// CHECK: kiln.constant dense<{{\[\[}}1.000000e+00], [2.500000e+00]]> : tensor<2x1xf64>
// CHECK: kiln.constant dense<[1, -2, 3]> : tensor<3xi64>
// CHECK: kiln.constant dense<7> : tensor<i32>
// CHECK: kiln.constant dense<-128> : tensor<4xi8>
// CHECK: kiln.constant dense<[true, false]> : tensor<2xi1>
// CHECK: kiln.constant dense<> : tensor<0xf32>
func.func @constants() -> (tensor<2x3xf32>, tensor<2xf16>, tensor<bf16>, tensor<2x1xf64>, tensor<3xi64>,
                           tensor<i32>, tensor<4xi8>, tensor<2xi1>, tensor<0xf32>) {
  %0 = kiln.constant dense<1.0> : tensor<2x3xf32>
  %1 = kiln.constant dense<[1.0, 2.0]> : tensor<2xf16>
  %2 = kiln.constant dense<0.5> : tensor<bf16>
  %3 = kiln.constant dense<[[1.0], [2.5]]> : tensor<2x1xf64>
  %4 = kiln.constant dense<[1, -2, 3]> : tensor<3xi64>
  %5 = kiln.constant dense<7> : tensor<i32>
  %6 = kiln.constant dense<-128> : tensor<4xi8>
  %7 = kiln.constant dense<[true, false]> : tensor<2xi1>
  %8 = kiln.constant dense<> : tensor<0xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7, %8 : tensor<2x3xf32>, tensor<2xf16>, tensor<bf16>, tensor<2x1xf64>,
      tensor<3xi64>, tensor<i32>, tensor<4xi8>, tensor<2xi1>, tensor<0xf32>
}

// -----

// A constant with an attribute dictionary before the value.
// CHECK-LABEL: func.func @constant_with_attr
// CHECK: kiln.constant {note = "x"} dense<0> : tensor<2xi32>
func.func @constant_with_attr() -> tensor<2xi32> {
  %0 = kiln.constant {note = "x"} dense<0> : tensor<2xi32>
  return %0 : tensor<2xi32>
}

// -----

// Parameters: trainable by default (elided when given as true), frozen kept,
// any element type, rank 0, names with dots and spaces.
// CHECK-LABEL: func.func @parameters
// CHECK: kiln.parameter "fc1.weight" : tensor<784x128xf32>{{$}}
// CHECK: kiln.parameter "fc1.bias" : tensor<128xf32>{{$}}
// CHECK: kiln.parameter "embed" {trainable = false} : tensor<1000x64xbf16>
// CHECK: kiln.parameter "step count" : tensor<i64>
// CHECK: kiln.parameter "mask" {trainable = false} : tensor<4xi1>
// CHECK: kiln.parameter "h" : tensor<2xf16>
// CHECK: kiln.parameter "d" : tensor<2xf64>
// CHECK: kiln.parameter "q" : tensor<2xi8>
// CHECK: kiln.parameter "n" : tensor<2xi32>
func.func @parameters() -> (tensor<784x128xf32>, tensor<128xf32>, tensor<1000x64xbf16>, tensor<i64>, tensor<4xi1>,
                            tensor<2xf16>, tensor<2xf64>, tensor<2xi8>, tensor<2xi32>) {
  %0 = kiln.parameter "fc1.weight" : tensor<784x128xf32>
  %1 = kiln.parameter "fc1.bias" {trainable = true} : tensor<128xf32>
  %2 = kiln.parameter "embed" {trainable = false} : tensor<1000x64xbf16>
  %3 = kiln.parameter "step count" : tensor<i64>
  %4 = kiln.parameter "mask" {trainable = false} : tensor<4xi1>
  %5 = kiln.parameter "h" : tensor<2xf16>
  %6 = kiln.parameter "d" : tensor<2xf64>
  %7 = kiln.parameter "q" : tensor<2xi8>
  %8 = kiln.parameter "n" : tensor<2xi32>
  return %0, %1, %2, %3, %4, %5, %6, %7, %8 : tensor<784x128xf32>, tensor<128xf32>, tensor<1000x64xbf16>,
      tensor<i64>, tensor<4xi1>, tensor<2xf16>, tensor<2xf64>, tensor<2xi8>, tensor<2xi32>
}

// -----

// iota: defaults elided (axis 0, start 0, step 1), given values kept,
// negative axis, integer and float results.
// CHECK-LABEL: func.func @iota
// CHECK: kiln.iota : tensor<5xi64>{{$}}
// CHECK: kiln.iota : tensor<5xi64>{{$}}
// CHECK: kiln.iota {axis = 1 : i64, start = 1.000000e+00 : f64, step = 5.000000e-01 : f64} : tensor<2x3xf32>
// CHECK: kiln.iota {axis = -1 : i64} : tensor<2x3xi32>
// CHECK: kiln.iota {step = -1.000000e+00 : f64} : tensor<4xi8>
// CHECK: kiln.iota : tensor<3xbf16>{{$}}
// CHECK: kiln.iota : tensor<3xf16>{{$}}
// CHECK: kiln.iota : tensor<3xf64>{{$}}
func.func @iota() -> (tensor<5xi64>, tensor<5xi64>, tensor<2x3xf32>, tensor<2x3xi32>, tensor<4xi8>,
                      tensor<3xbf16>, tensor<3xf16>, tensor<3xf64>) {
  %0 = kiln.iota : tensor<5xi64>
  %1 = kiln.iota {axis = 0 : i64, start = 0.0 : f64, step = 1.0 : f64} : tensor<5xi64>
  %2 = kiln.iota {axis = 1 : i64, start = 1.0 : f64, step = 0.5 : f64} : tensor<2x3xf32>
  %3 = kiln.iota {axis = -1 : i64} : tensor<2x3xi32>
  %4 = kiln.iota {step = -1.0 : f64} : tensor<4xi8>
  %5 = kiln.iota : tensor<3xbf16>
  %6 = kiln.iota : tensor<3xf16>
  %7 = kiln.iota : tensor<3xf64>
  return %0, %1, %2, %3, %4, %5, %6, %7 : tensor<5xi64>, tensor<5xi64>, tensor<2x3xf32>, tensor<2x3xi32>,
      tensor<4xi8>, tensor<3xbf16>, tensor<3xf16>, tensor<3xf64>
}
