// A broadcast add whose result (2^62 x 4 x 2) has more elements than int64.
func.func @f() -> tensor<4611686018427387904x4x2xf32> {
  %a = kiln.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %b = kiln.constant dense<1.0> : tensor<4611686018427387904x4x2xf32>
  %0 = kiln.add %a, %b : tensor<2xf32>, tensor<4611686018427387904x4x2xf32>
  return %0 : tensor<4611686018427387904x4x2xf32>
}
