// RUN: kiln-opt %s --split-input-file --verify-diagnostics

// Verifier rules and inference errors of the shape family.

// reshape keeps the element count.
func.func @reshape_count(%x: tensor<2x3xf32>) -> tensor<5xf32> {
  // expected-error @+1 {{'kiln.reshape' op cannot reshape [2, 3] (6 elements) to [5] (5 elements)}}
  %0 = kiln.reshape %x : tensor<2x3xf32> -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

// reshape keeps the element type.
func.func @reshape_element_type(%x: tensor<2x3xf32>) -> tensor<6xf16> {
  // expected-error @+1 {{'kiln.reshape' op failed to verify that all of {input, result} have same element type}}
  %0 = kiln.reshape %x : tensor<2x3xf32> -> tensor<6xf16>
  return %0 : tensor<6xf16>
}

// -----

// A reshape whose element count overflows int64: every kiln op rejects such
// a type, before reshape's own count comparison.
func.func @reshape_overflow(%x: tensor<99999999999x99999999999xf32>) -> tensor<1xf32> {
  // expected-error @+1 {{'kiln.reshape' op operand #0 of type 'tensor<99999999999x99999999999xf32>' has an element count that overflows int64}}
  %0 = kiln.reshape %x : tensor<99999999999x99999999999xf32> -> tensor<1xf32>
  return %0 : tensor<1xf32>
}

// -----

// transpose has no default permutation.
func.func @transpose_no_permutation(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'kiln.transpose' op requires attribute 'permutation'}}
  %0 = kiln.transpose %x : tensor<2x3xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// A permutation names every dim once: too few entries.
func.func @transpose_wrong_length(%x: tensor<2x3x4xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'kiln.transpose' op permutation [1, 0] has 2 entries for rank 3}}
  %0 = kiln.transpose %x {permutation = array<i64: 1, 0>} : tensor<2x3x4xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// A permutation names every dim once: a repeated entry.
func.func @transpose_repeated(%x: tensor<2x3x4xf32>) -> tensor<2x2x4xf32> {
  // expected-error @+1 {{'kiln.transpose' op permutation [0, 0, 2] is not a permutation of [0, 3)}}
  %0 = kiln.transpose %x {permutation = array<i64: 0, 0, 2>} : tensor<2x3x4xf32>
  return %0 : tensor<2x2x4xf32>
}

// -----

// A permutation entry out of range (negative entries are not accepted).
func.func @transpose_out_of_range(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'kiln.transpose' op permutation [-1, 0] is not a permutation of [0, 2)}}
  %0 = kiln.transpose %x {permutation = array<i64: -1, 0>} : tensor<2x3xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// A permutation entry past the rank.
func.func @transpose_too_large(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'kiln.transpose' op permutation [2, 0] is not a permutation of [0, 2)}}
  %0 = kiln.transpose %x {permutation = array<i64: 2, 0>} : tensor<2x3xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// broadcast_to cannot stretch a dim that is not 1.
func.func @broadcast_to_incompatible(%x: tensor<3xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'kiln.broadcast_to' op cannot broadcast [3] to [2, 4]}}
  %0 = kiln.broadcast_to %x : tensor<3xf32> -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// broadcast_to cannot drop dims.
func.func @broadcast_to_lower_rank(%x: tensor<2x3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.broadcast_to' op cannot broadcast [2, 3] to [3]}}
  %0 = kiln.broadcast_to %x : tensor<2x3xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// concat has no default axis.
func.func @concat_no_axis(%a: tensor<2x3xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{'kiln.concat' op requires attribute 'axis'}}
  %0 = kiln.concat %a, %a : tensor<2x3xf32>, tensor<2x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// concat axis past the last dim.
func.func @concat_axis(%a: tensor<2x3xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{'kiln.concat' op axis 2 is out of range for rank 2}}
  %0 = kiln.concat %a, %a {axis = 2 : i64} : tensor<2x3xf32>, tensor<2x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// concat operands agree outside the axis.
func.func @concat_shapes(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{'kiln.concat' op concat operand 1 has shape [2, 4], which differs from [2, 3] outside axis 0}}
  %0 = kiln.concat %a, %b {axis = 0 : i64} : tensor<2x3xf32>, tensor<2x4xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// concat operands have one rank.
func.func @concat_ranks(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{'kiln.concat' op concat operand 1 has rank 1, expected 2}}
  %0 = kiln.concat %a, %b {axis = 0 : i64} : tensor<2x3xf32>, tensor<3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// concat operands have one element type.
func.func @concat_types(%a: tensor<2x3xf32>, %b: tensor<2x3xf16>) -> tensor<4x3xf32> {
  // expected-error @+1 {{'kiln.concat' op requires the same element type for all operands}}
  %0 = kiln.concat %a, %b {axis = 0 : i64} : tensor<2x3xf32>, tensor<2x3xf16>
  return %0 : tensor<4x3xf32>
}

// -----

// concat of nothing (generic form).
func.func @concat_empty() -> tensor<0xf32> {
  // expected-error @+1 {{'kiln.concat' op expected 1 or more operands, but found 0}}
  %0 = "kiln.concat"() {axis = 0 : i64} : () -> tensor<0xf32>
  return %0 : tensor<0xf32>
}

// -----

// slice has no default starts.
func.func @slice_no_starts(%x: tensor<10xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'kiln.slice' op requires attribute 'starts'}}
  %0 = kiln.slice %x {ends = array<i64: 8>} : tensor<10xf32>
  return %0 : tensor<8xf32>
}

// -----

// slice needs one start per dim.
func.func @slice_starts_count(%x: tensor<4x6xf32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{'kiln.slice' op slice needs one start, end and step per dimension (rank 2)}}
  %0 = kiln.slice %x {starts = array<i64: 2>, ends = array<i64: 4, 6>} : tensor<4x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

// slice needs one step per dim when steps are given.
func.func @slice_steps_count(%x: tensor<4x6xf32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{'kiln.slice' op slice needs one start, end and step per dimension (rank 2)}}
  %0 = kiln.slice %x {starts = array<i64: 2, 0>, ends = array<i64: 4, 6>, steps = array<i64: 1>} : tensor<4x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

// A zero step never advances.
func.func @slice_step_zero(%x: tensor<4x6xf32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{'kiln.slice' op slice step is 0 in dimension 1}}
  %0 = kiln.slice %x {starts = array<i64: 0, 0>, ends = array<i64: 4, 6>, steps = array<i64: 1, 0>} : tensor<4x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

// pad needs a low and a high value per dim.
func.func @pad_count(%x: tensor<2x3xf32>) -> tensor<4x5xf32> {
  // expected-error @+1 {{'kiln.pad' op pad needs 4 values (low and high per dimension), got 2}}
  %0 = kiln.pad %x {pads = array<i64: 1, 1>} : tensor<2x3xf32>
  return %0 : tensor<4x5xf32>
}

// -----

// pad amounts are not negative (that would be a slice).
func.func @pad_negative(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{'kiln.pad' op pads must be >= 0, got [0, 0, 0, -1]}}
  %0 = kiln.pad %x {pads = array<i64: 0, 0, 0, -1>} : tensor<2x3xf32>
  return %0 : tensor<2x2xf32>
}

// -----

// pad has no default pads.
func.func @pad_no_pads(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'kiln.pad' op requires attribute 'pads'}}
  %0 = kiln.pad %x : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// split has no default axis.
func.func @split_no_axis(%x: tensor<6xf32>) -> tensor<6xf32> {
  // expected-error @+1 {{'kiln.split' op requires attribute 'axis'}}
  %0 = kiln.split %x {sizes = array<i64: 6>} : tensor<6xf32>
  return %0 : tensor<6xf32>
}

// -----

// split sizes add up to the axis size.
func.func @split_sum(%x: tensor<6x4xf32>) -> (tensor<1x4xf32>, tensor<2x4xf32>) {
  // expected-error @+1 {{'kiln.split' op split sizes [1, 2] sum to 3 but axis 0 has size 6}}
  %r:2 = kiln.split %x {axis = 0 : i64, sizes = array<i64: 1, 2>} : tensor<6x4xf32>
  return %r#0, %r#1 : tensor<1x4xf32>, tensor<2x4xf32>
}

// -----

// split sizes are not negative.
func.func @split_negative(%x: tensor<6xf32>) -> (tensor<7xf32>, tensor<1xf32>) {
  // expected-error @+1 {{'kiln.split' op split sizes must be >= 0, got [7, -1]}}
  %r:2 = kiln.split %x {axis = 0 : i64, sizes = array<i64: 7, -1>} : tensor<6xf32>
  return %r#0, %r#1 : tensor<7xf32>, tensor<1xf32>
}

// -----

// split needs at least one piece.
func.func @split_no_pieces(%x: tensor<6xf32>) {
  // expected-error @+1 {{'kiln.split' op split needs at least one piece}}
  kiln.split %x {axis = 0 : i64, sizes = array<i64>} : tensor<6xf32>
  return
}

// -----

// split axis past the last dim (normalized axis reported for negatives).
func.func @split_axis(%x: tensor<6x4xf32>) -> tensor<6x4xf32> {
  // expected-error @+1 {{'kiln.split' op axis -3 is out of range for rank 2}}
  %0 = kiln.split %x {axis = -3 : i64, sizes = array<i64: 6>} : tensor<6x4xf32>
  return %0 : tensor<6x4xf32>
}

// -----

// The number of results follows from sizes.
func.func @split_result_count(%x: tensor<6xf32>) -> tensor<6xf32> {
  // expected-error @+1 {{operation defines 2 results but was provided 1 to bind}}
  %0 = kiln.split %x {axis = 0 : i64, sizes = array<i64: 3, 3>} : tensor<6xf32>
  return %0 : tensor<6xf32>
}

// -----

// expand_dims has no default axes.
func.func @expand_dims_no_axes(%x: tensor<2x3xf32>) -> tensor<1x2x3xf32> {
  // expected-error @+1 {{'kiln.expand_dims' op requires attribute 'axes'}}
  %0 = kiln.expand_dims %x : tensor<2x3xf32>
  return %0 : tensor<1x2x3xf32>
}

// -----

// expand_dims needs at least one axis.
func.func @expand_dims_empty(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'kiln.expand_dims' op expand_dims needs at least one axis}}
  %0 = kiln.expand_dims %x {axes = array<i64>} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// expand_dims axes are positions in the result (rank 3 here).
func.func @expand_dims_axis(%x: tensor<2x3xf32>) -> tensor<2x3x1xf32> {
  // expected-error @+1 {{'kiln.expand_dims' op axis 3 is out of range for rank 3}}
  %0 = kiln.expand_dims %x {axes = array<i64: 3>} : tensor<2x3xf32>
  return %0 : tensor<2x3x1xf32>
}

// -----

// expand_dims axes do not repeat.
func.func @expand_dims_repeated(%x: tensor<2x3xf32>) -> tensor<1x1x2x3xf32> {
  // expected-error @+1 {{'kiln.expand_dims' op expand_dims axes [0, -4] repeat an axis}}
  %0 = kiln.expand_dims %x {axes = array<i64: 0, -4>} : tensor<2x3xf32>
  return %0 : tensor<1x1x2x3xf32>
}

// -----

// squeeze can only remove a size-1 dim.
func.func @squeeze_not_unit(%x: tensor<1x2x1xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{'kiln.squeeze' op cannot squeeze axis 1 of size 2}}
  %0 = kiln.squeeze %x {axes = array<i64: 1>} : tensor<1x2x1xf32>
  return %0 : tensor<1x1xf32>
}

// -----

// squeeze axis past the last dim.
func.func @squeeze_axis(%x: tensor<1x2x1xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'kiln.squeeze' op axis 3 is out of range for rank 3}}
  %0 = kiln.squeeze %x {axes = array<i64: 3>} : tensor<1x2x1xf32>
  return %0 : tensor<2xf32>
}

// -----

// squeeze axes do not repeat.
func.func @squeeze_repeated(%x: tensor<1x2x1xf32>) -> tensor<2x1xf32> {
  // expected-error @+1 {{'kiln.squeeze' op squeeze axes [0, -3] repeat an axis}}
  %0 = kiln.squeeze %x {axes = array<i64: 0, -3>} : tensor<1x2x1xf32>
  return %0 : tensor<2x1xf32>
}

// -----

// one_hot has no default depth (generic form, reported by the verifier).
func.func @one_hot_no_depth(%i: tensor<4xi64>) -> tensor<4x10xf32> {
  // expected-error @+1 {{'kiln.one_hot' op requires attribute 'depth'}}
  %0 = kiln.one_hot %i : tensor<4xi64> -> tensor<4x10xf32>
  return %0 : tensor<4x10xf32>
}

// -----

// one_hot result shape is the indices' shape with depth inserted at axis.
func.func @one_hot_result_shape(%i: tensor<4xi64>) -> tensor<10x4xf32> {
  // expected-error @+1 {{'kiln.one_hot' op result shape must be [4, 10], got 'tensor<10x4xf32>'}}
  %0 = kiln.one_hot %i {depth = 10 : i64} : tensor<4xi64> -> tensor<10x4xf32>
  return %0 : tensor<10x4xf32>
}

// -----

// one_hot depth must be positive.
func.func @one_hot_depth(%i: tensor<4xi64>) -> tensor<4x0xf32> {
  // expected-error @+1 {{'kiln.one_hot' op one_hot depth must be >= 1, got 0}}
  %0 = kiln.one_hot %i {depth = 0 : i64} : tensor<4xi64> -> tensor<4x0xf32>
  return %0 : tensor<4x0xf32>
}

// -----

// one_hot axis is a position in the result (rank 2 here).
func.func @one_hot_axis(%i: tensor<4xi64>) -> tensor<4x10xf32> {
  // expected-error @+1 {{'kiln.one_hot' op axis 2 is out of range for rank 2}}
  %0 = kiln.one_hot %i {depth = 10 : i64, axis = 2 : i64} : tensor<4xi64> -> tensor<4x10xf32>
  return %0 : tensor<4x10xf32>
}

// -----

// one_hot indices are integers.
func.func @one_hot_float_indices(%i: tensor<4xf32>) -> tensor<4x10xf32> {
  // expected-error @+1 {{'kiln.one_hot' op operand #0 must be statically shaped tensor of 64-bit signless integer or 32-bit signless integer values, but got 'tensor<4xf32>'}}
  %0 = kiln.one_hot %i {depth = 10 : i64} : tensor<4xf32> -> tensor<4x10xf32>
  return %0 : tensor<4x10xf32>
}

// -----

// one_hot produces numbers, not booleans.
func.func @one_hot_i1_result(%i: tensor<4xi64>) -> tensor<4x10xi1> {
  // expected-error @+1 {{'kiln.one_hot' op result #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type or 64-bit signless integer or 32-bit signless integer or 8-bit signless integer values, but got 'tensor<4x10xi1>'}}
  %0 = kiln.one_hot %i {depth = 10 : i64} : tensor<4xi64> -> tensor<4x10xi1>
  return %0 : tensor<4x10xi1>
}

// -----

//===----------------------------------------------------------------------===//
// Attributes are checked before inference reads them. MLIR 19 infers result
// types while parsing, before ODS checks attributes; a missing required one
// or one of the wrong kind used to crash or read garbage (KNOWN_BUGS 02-11).
//===----------------------------------------------------------------------===//

// slice with neither starts nor ends (used to SEGV in the adaptor).
func.func @slice_no_bounds(%x: tensor<10xf32>) {
  // expected-error @+1 {{'kiln.slice' op requires attribute 'starts'}}
  %0 = kiln.slice %x : tensor<10xf32>
  return
}

// -----

// split with neither axis nor sizes (used to overflow a pointer).
func.func @split_no_attributes(%x: tensor<10xf32>) {
  // expected-error @+1 {{'kiln.split' op requires attribute 'axis'}}
  %0 = kiln.split %x : tensor<10xf32>
  return
}

// -----

// slice with starts but no ends names the missing one.
func.func @slice_no_ends(%x: tensor<10xf32>) {
  // expected-error @+1 {{'kiln.slice' op requires attribute 'ends'}}
  %0 = kiln.slice %x {starts = array<i64: 2>} : tensor<10xf32>
  return
}

// -----

// split with an axis but no sizes names the missing one.
func.func @split_no_sizes(%x: tensor<6xf32>) {
  // expected-error @+1 {{'kiln.split' op requires attribute 'sizes'}}
  %0 = kiln.split %x {axis = 0 : i64} : tensor<6xf32>
  return
}

// -----

// A permutation written as an array attribute, not array<i64: ...> (used to
// overflow a heap buffer).
func.func @transpose_array_attr(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.transpose' op attribute 'permutation' failed to satisfy constraint: i64 dense array attribute}}
  %0 = kiln.transpose %x {permutation = [1, 0]} : tensor<2x3xf32>
  return
}

// -----

// expand_dims axes given as one integer (used to SEGV).
func.func @expand_dims_integer_axes(%x: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.expand_dims' op attribute 'axes' failed to satisfy constraint: i64 dense array attribute}}
  %0 = kiln.expand_dims %x {axes = 0 : i64} : tensor<3xf32>
  return
}

// -----

// concat axis given as a string (used to print a pointer as the axis).
func.func @concat_string_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.concat' op attribute 'axis' failed to satisfy constraint: 64-bit signless integer attribute}}
  %0 = kiln.concat %x {axis = "a"} : tensor<2x3xf32>
  return
}

// -----

// An integer attribute of another width is not an I64Attr either.
func.func @concat_i32_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.concat' op attribute 'axis' failed to satisfy constraint: 64-bit signless integer attribute}}
  %0 = kiln.concat %x {axis = 0 : i32} : tensor<2x3xf32>
  return
}

// -----

// pad's pads as an array attribute (used to print a garbage count).
func.func @pad_array_attr(%x: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.pad' op attribute 'pads' failed to satisfy constraint: i64 dense array attribute}}
  %0 = kiln.pad %x {pads = [1, 1]} : tensor<3xf32>
  return
}

// -----

// array<i32: ...> is not array<i64: ...> (used to be read as one).
func.func @slice_i32_arrays(%x: tensor<6xf32>) {
  // expected-error @+1 {{'kiln.slice' op attribute 'starts' failed to satisfy constraint: i64 dense array attribute}}
  %0 = kiln.slice %x {starts = array<i32: 0>, ends = array<i32: 6>} : tensor<6xf32>
  return
}

// -----

// A defaulted attribute of the wrong kind is caught the same way.
func.func @squeeze_bool_axes(%x: tensor<1x3xf32>) {
  // expected-error @+1 {{'kiln.squeeze' op attribute 'axes' failed to satisfy constraint: i64 dense array attribute}}
  %0 = kiln.squeeze %x {axes = true} : tensor<1x3xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Sizes near INT64_MAX give an error, never a signed overflow
// (KNOWN_BUGS 12-20).
//===----------------------------------------------------------------------===//

// A pad that overflows the padded size.
func.func @pad_overflow(%x: tensor<10xf32>) {
  // expected-error @+1 {{'kiln.pad' op padded size of dimension 0 (10 + 9223372036854775807 + 1) overflows int64}}
  %0 = kiln.pad %x {pads = array<i64: 9223372036854775807, 1>} : tensor<10xf32>
  return
}

// -----

// split sizes whose sum overflows.
func.func @split_sum_overflow(%x: tensor<10xf32>) {
  // expected-error @+1 {{'kiln.split' op the sum of split sizes [9223372036854775807, 9223372036854775807] overflows int64}}
  %0:2 = kiln.split %x {axis = 0 : i64, sizes = array<i64: 9223372036854775807, 9223372036854775807>} : tensor<10xf32>
  return
}

// -----

// A concat whose result dim would pass INT64_MAX.
func.func @concat_overflow(%x: tensor<9223372036854775807xf32>) {
  // expected-error @+1 {{'kiln.concat' op concat result size along axis 0 overflows int64}}
  %0 = kiln.concat %x, %x {axis = 0 : i64} : tensor<9223372036854775807xf32>, tensor<9223372036854775807xf32>
  return
}
