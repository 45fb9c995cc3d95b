// Memory-bound kernels at sizes that measure bandwidth, for
// tools/gpu-check/gpu-check.sh (kiln-cuda-compile --run): bias + GELU on a
// 8192 x 8192 activation (f32 and bf16), a residual add + layer_norm and a
// softmax over 16384 rows of 1024. The issue's goal: fused elementwise at
// >= 85 % of the device's copy bandwidth.
func.func @bias_gelu_f32(%x: tensor<8192x8192xf32>, %b: tensor<8192xf32>) -> tensor<8192x8192xf32> {
  %a = kiln.add %x, %b : tensor<8192x8192xf32>, tensor<8192xf32>
  %g = kiln.gelu %a : tensor<8192x8192xf32>
  return %g : tensor<8192x8192xf32>
}
func.func @bias_gelu_bf16(%x: tensor<8192x8192xbf16>, %b: tensor<8192xbf16>) -> tensor<8192x8192xbf16> {
  %a = kiln.add %x, %b : tensor<8192x8192xbf16>, tensor<8192xbf16>
  %g = kiln.gelu %a : tensor<8192x8192xbf16>
  return %g : tensor<8192x8192xbf16>
}
func.func @residual_layer_norm(%x: tensor<16384x1024xf32>, %r: tensor<16384x1024xf32>,
                               %s: tensor<1024xf32>, %b: tensor<1024xf32>) -> tensor<16384x1024xf32> {
  %a = kiln.add %x, %r : tensor<16384x1024xf32>, tensor<16384x1024xf32>
  %n = kiln.layer_norm %a, %s, %b : tensor<16384x1024xf32>, tensor<1024xf32>, tensor<1024xf32>
  return %n : tensor<16384x1024xf32>
}
func.func @softmax(%x: tensor<16384x1024xf32>) -> tensor<16384x1024xf32> {
  %p = kiln.softmax %x {axis = -1 : i64} : tensor<16384x1024xf32>
  return %p : tensor<16384x1024xf32>
}
