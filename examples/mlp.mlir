// A small text classifier in the kiln dialect: token embedding, a
// pre-norm MLP block with a residual connection, mean pooling over the
// sequence, and an output projection tied to the embedding table.
//
// As an exporter writes it, it has an inference-time dropout and reads the
// tied table through two parameter ops; `kiln-opt --canonicalize --cse`
// removes the dropout and merges the two reads into one shared weight.
func.func @classify(%tokens: tensor<4x16xi64>) -> tensor<4x1000xf32> {
  %embed = kiln.parameter "embed" : tensor<1000x64xf32>
  %x = kiln.gather %embed, %tokens {axis = 0 : i64} : tensor<1000x64xf32>, tensor<4x16xi64>

  %g = kiln.parameter "block.norm.scale" : tensor<64xf32>
  %b = kiln.parameter "block.norm.bias" : tensor<64xf32>
  %n = kiln.layer_norm %x, %g, %b {axis = -1 : i64, epsilon = 1.0e-5 : f64} : tensor<4x16x64xf32>, tensor<64xf32>, tensor<64xf32>

  %w1 = kiln.parameter "block.fc1.weight" : tensor<64x256xf32>
  %b1 = kiln.parameter "block.fc1.bias" : tensor<256xf32>
  %h0 = kiln.matmul %n, %w1 : tensor<4x16x64xf32>, tensor<64x256xf32>
  %h1 = kiln.add %h0, %b1 : tensor<4x16x256xf32>, tensor<256xf32>
  %h2 = kiln.gelu %h1 {approximate = "tanh"} : tensor<4x16x256xf32>

  %w2 = kiln.parameter "block.fc2.weight" : tensor<256x64xf32>
  %b2 = kiln.parameter "block.fc2.bias" : tensor<64xf32>
  %o0 = kiln.matmul %h2, %w2 : tensor<4x16x256xf32>, tensor<256x64xf32>
  %o1 = kiln.add %o0, %b2 : tensor<4x16x64xf32>, tensor<64xf32>
  %o2 = kiln.dropout %o1 {ratio = 0.1 : f64, training = false} : tensor<4x16x64xf32>
  %r = kiln.add %x, %o2 : tensor<4x16x64xf32>, tensor<4x16x64xf32>

  %pooled = kiln.mean %r {axes = array<i64: 1>} : tensor<4x16x64xf32>
  %tied = kiln.parameter "embed" : tensor<1000x64xf32>
  %logits = kiln.matmul %pooled, %tied {transpose_rhs = true} : tensor<4x64xf32>, tensor<1000x64xf32>
  %out = kiln.log_softmax %logits {axis = -1 : i64} : tensor<4x1000xf32>
  return %out : tensor<4x1000xf32>
}
