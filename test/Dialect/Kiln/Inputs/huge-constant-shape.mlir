// A splat constant whose element count overflows int64, folded through an op.
func.func @f() -> tensor<99999999999x99999999999xf32> {
  %c = kiln.constant dense<1.0> : tensor<99999999999x99999999999xf32>
  %0 = kiln.neg %c : tensor<99999999999x99999999999xf32>
  return %0 : tensor<99999999999x99999999999xf32>
}
