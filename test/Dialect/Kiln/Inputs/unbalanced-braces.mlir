// A function body that is never closed.
func.func @f(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = kiln.exp %x : tensor<3xf32>
  return %0 : tensor<3xf32>
