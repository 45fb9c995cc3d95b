// A pre-norm transformer encoder block: d=64, 4 heads of 16, sequence 16,
// batch 2; attention with softmax(Q K^T / 4) V, then a GELU MLP (d_ff 256),
// each with a residual connection.
func.func @encoder_block(%x: tensor<2x16x64xf32>) -> tensor<2x16x64xf32> {
  %g1 = kiln.parameter "ln1.scale" : tensor<64xf32>
  %be1 = kiln.parameter "ln1.bias" : tensor<64xf32>
  %n1 = kiln.layer_norm %x, %g1, %be1 : tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf32>
  %wq = kiln.parameter "attn.q.weight" : tensor<64x64xf32>
  %bq = kiln.parameter "attn.q.bias" : tensor<64xf32>
  %wk = kiln.parameter "attn.k.weight" : tensor<64x64xf32>
  %bk = kiln.parameter "attn.k.bias" : tensor<64xf32>
  %wv = kiln.parameter "attn.v.weight" : tensor<64x64xf32>
  %bv = kiln.parameter "attn.v.bias" : tensor<64xf32>
  %q0 = kiln.matmul %n1, %wq : tensor<2x16x64xf32>, tensor<64x64xf32>
  %q1 = kiln.add %q0, %bq : tensor<2x16x64xf32>, tensor<64xf32>
  %k0 = kiln.matmul %n1, %wk : tensor<2x16x64xf32>, tensor<64x64xf32>
  %k1 = kiln.add %k0, %bk : tensor<2x16x64xf32>, tensor<64xf32>
  %v0 = kiln.matmul %n1, %wv : tensor<2x16x64xf32>, tensor<64x64xf32>
  %v1 = kiln.add %v0, %bv : tensor<2x16x64xf32>, tensor<64xf32>
  %q2 = kiln.reshape %q1 : tensor<2x16x64xf32> -> tensor<2x16x4x16xf32>
  %q = kiln.transpose %q2 {permutation = array<i64: 0, 2, 1, 3>} : tensor<2x16x4x16xf32>
  %k2 = kiln.reshape %k1 : tensor<2x16x64xf32> -> tensor<2x16x4x16xf32>
  %k = kiln.transpose %k2 {permutation = array<i64: 0, 2, 1, 3>} : tensor<2x16x4x16xf32>
  %v2 = kiln.reshape %v1 : tensor<2x16x64xf32> -> tensor<2x16x4x16xf32>
  %v = kiln.transpose %v2 {permutation = array<i64: 0, 2, 1, 3>} : tensor<2x16x4x16xf32>
  %s0 = kiln.matmul %q, %k {transpose_rhs = true} : tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32>
  %scale = kiln.constant dense<0.25> : tensor<f32>
  %s1 = kiln.mul %s0, %scale : tensor<2x4x16x16xf32>, tensor<f32>
  %p = kiln.softmax %s1 {axis = -1 : i64} : tensor<2x4x16x16xf32>
  %c0 = kiln.matmul %p, %v : tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32>
  %c1 = kiln.transpose %c0 {permutation = array<i64: 0, 2, 1, 3>} : tensor<2x4x16x16xf32>
  %c2 = kiln.reshape %c1 : tensor<2x16x4x16xf32> -> tensor<2x16x64xf32>
  %wo = kiln.parameter "attn.out.weight" : tensor<64x64xf32>
  %bo = kiln.parameter "attn.out.bias" : tensor<64xf32>
  %o0 = kiln.matmul %c2, %wo : tensor<2x16x64xf32>, tensor<64x64xf32>
  %o1 = kiln.add %o0, %bo : tensor<2x16x64xf32>, tensor<64xf32>
  %x2 = kiln.add %x, %o1 : tensor<2x16x64xf32>, tensor<2x16x64xf32>
  %g2 = kiln.parameter "ln2.scale" : tensor<64xf32>
  %be2 = kiln.parameter "ln2.bias" : tensor<64xf32>
  %n2 = kiln.layer_norm %x2, %g2, %be2 : tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf32>
  %w1 = kiln.parameter "mlp.fc1.weight" : tensor<64x256xf32>
  %b1 = kiln.parameter "mlp.fc1.bias" : tensor<256xf32>
  %h0 = kiln.matmul %n2, %w1 : tensor<2x16x64xf32>, tensor<64x256xf32>
  %h1 = kiln.add %h0, %b1 : tensor<2x16x256xf32>, tensor<256xf32>
  %h2 = kiln.gelu %h1 : tensor<2x16x256xf32>
  %w2 = kiln.parameter "mlp.fc2.weight" : tensor<256x64xf32>
  %b2 = kiln.parameter "mlp.fc2.bias" : tensor<64xf32>
  %f0 = kiln.matmul %h2, %w2 : tensor<2x16x256xf32>, tensor<256x64xf32>
  %f1 = kiln.add %f0, %b2 : tensor<2x16x64xf32>, tensor<64xf32>
  %y = kiln.add %x2, %f1 : tensor<2x16x64xf32>, tensor<2x16x64xf32>
  return %y : tensor<2x16x64xf32>
}
