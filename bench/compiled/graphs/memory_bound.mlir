// Memory-bound graphs for bench/compiled/fused_bandwidth.sh: each fuses to
// one generated kernel whose speed is the memory's. Sizes are far beyond
// the caches (64 MiB per f32 tensor).

// 3 streams in, 1 out.
func.func @fma_relu(%a: tensor<4096x4096xf32>, %b: tensor<4096x4096xf32>,
                    %c: tensor<4096x4096xf32>) -> tensor<4096x4096xf32> {
  %m = kiln.mul %a, %b : tensor<4096x4096xf32>, tensor<4096x4096xf32>
  %s = kiln.add %m, %c : tensor<4096x4096xf32>, tensor<4096x4096xf32>
  %r = kiln.relu %s : tensor<4096x4096xf32>
  return %r : tensor<4096x4096xf32>
}

// A bias + GELU + residual epilogue: 2 streams in, 1 out.
func.func @bias_gelu_residual(%x: tensor<4096x4096xf32>, %bias: tensor<4096xf32>,
                              %res: tensor<4096x4096xf32>) -> tensor<4096x4096xf32> {
  %h = kiln.add %x, %bias : tensor<4096x4096xf32>, tensor<4096xf32>
  %g = kiln.gelu %h {approximate = "tanh"} : tensor<4096x4096xf32>
  %r = kiln.add %g, %res : tensor<4096x4096xf32>, tensor<4096x4096xf32>
  return %r : tensor<4096x4096xf32>
}

// Row reductions: 1 stream in, 1 out (each row is read again from cache).
func.func @softmax_rows(%x: tensor<16384x1024xf32>) -> tensor<16384x1024xf32> {
  %s = kiln.softmax %x {axis = -1 : i64} : tensor<16384x1024xf32>
  return %s : tensor<16384x1024xf32>
}

func.func @layer_norm_rows(%x: tensor<16384x1024xf32>, %g: tensor<1024xf32>,
                           %b: tensor<1024xf32>) -> tensor<16384x1024xf32> {
  %n = kiln.layer_norm %x, %g, %b {axis = -1 : i64, epsilon = 1.0e-5 : f64} : tensor<16384x1024xf32>, tensor<1024xf32>, tensor<1024xf32>
  return %n : tensor<16384x1024xf32>
}
