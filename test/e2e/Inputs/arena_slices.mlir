// Slices of a value in the arena: column blocks (strided rows), a row
// (one contiguous run) and a middle block, feeding fused kernels.
func.func @slices(%x: tensor<3x8xf32>) -> (tensor<3x2xf32>, tensor<1x8xf32>, tensor<2x4xf32>) {
  %a = kiln.exp %x : tensor<3x8xf32>
  %s0 = kiln.slice %a {starts = array<i64: 0, 0>, ends = array<i64: 3, 2>} : tensor<3x8xf32>
  %s1 = kiln.slice %a {starts = array<i64: 0, 6>, ends = array<i64: 3, 8>} : tensor<3x8xf32>
  %s2 = kiln.slice %a {starts = array<i64: 1, 0>, ends = array<i64: 2, 8>} : tensor<3x8xf32>
  %s3 = kiln.slice %a {starts = array<i64: 1, 2>, ends = array<i64: 3, 6>} : tensor<3x8xf32>
  %t = kiln.sub %s0, %s1 : tensor<3x2xf32>, tensor<3x2xf32>
  %u = kiln.mul %s2, %s2 : tensor<1x8xf32>, tensor<1x8xf32>
  %v = kiln.neg %s3 : tensor<2x4xf32>
  return %t, %u, %v : tensor<3x2xf32>, tensor<1x8xf32>, tensor<2x4xf32>
}
