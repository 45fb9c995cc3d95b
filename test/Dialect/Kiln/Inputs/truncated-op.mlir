// An op cut off in the middle of its attribute dictionary.
func.func @f(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = kiln.softmax %x {axis =
