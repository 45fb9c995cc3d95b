// A dim larger than int64 cannot be a shape.
func.func @f() -> tensor<99999999999999999999xf32> {
  %0 = kiln.parameter "w" : tensor<99999999999999999999xf32>
  return %0 : tensor<99999999999999999999xf32>
}
