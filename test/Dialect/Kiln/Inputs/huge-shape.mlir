// A parameter whose element count (about 1e22) does not fit in int64.
func.func @f() -> tensor<99999999999x99999999999xf32> {
  %0 = kiln.parameter "w" : tensor<99999999999x99999999999xf32>
  return %0 : tensor<99999999999x99999999999xf32>
}
