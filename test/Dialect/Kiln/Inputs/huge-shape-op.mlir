// An op computing on a tensor whose element count does not fit in int64.
func.func @f(%x: tensor<99999999999x99999999999xf32>) -> tensor<99999999999x99999999999xf32> {
  %0 = kiln.exp %x : tensor<99999999999x99999999999xf32>
  %1 = kiln.add %0, %0 : tensor<99999999999x99999999999xf32>, tensor<99999999999x99999999999xf32>
  return %1 : tensor<99999999999x99999999999xf32>
}
