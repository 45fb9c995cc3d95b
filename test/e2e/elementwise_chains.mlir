// Chains of elementwise ops that kiln-fuse-elementwise turns into "loop"
// kernels, so that every op the CPU code generator handles runs through
// generated code (compiler/Target/CPU) in the fused build and through the
// eager kernels in the unfused one: broadcasting, every unary op, binary
// ops, comparisons to i1, select, casts, f32 and f64.

// Every float unary op, f32, [8, 300] (a 1-D kernel with a tail).
func.func @unary_f32(%x: tensor<8x300xf32>) -> tensor<8x300xf32> {
  %a = kiln.tanh %x : tensor<8x300xf32>
  %b = kiln.sigmoid %x : tensor<8x300xf32>
  %c = kiln.gelu %x : tensor<8x300xf32>
  %d = kiln.gelu %x {approximate = "tanh"} : tensor<8x300xf32>
  %e = kiln.silu %x : tensor<8x300xf32>
  %f = kiln.softplus %x : tensor<8x300xf32>
  %g = kiln.elu %x {alpha = 0.5 : f64} : tensor<8x300xf32>
  %h = kiln.leaky_relu %x {alpha = 0.1 : f64} : tensor<8x300xf32>
  %i = kiln.relu %x : tensor<8x300xf32>
  %j = kiln.erf %x : tensor<8x300xf32>
  %k = kiln.sin %x : tensor<8x300xf32>
  %l = kiln.cos %x : tensor<8x300xf32>
  %m = kiln.abs %x : tensor<8x300xf32>
  %n = kiln.exp %x : tensor<8x300xf32>
  %o = kiln.log %m : tensor<8x300xf32>
  %p = kiln.sqrt %m : tensor<8x300xf32>
  %q = kiln.rsqrt %n : tensor<8x300xf32>
  %r = kiln.reciprocal %n : tensor<8x300xf32>
  %s = kiln.floor %x : tensor<8x300xf32>
  %t = kiln.ceil %x : tensor<8x300xf32>
  %u = kiln.round %x : tensor<8x300xf32>
  %v = kiln.sign %x : tensor<8x300xf32>
  %w = kiln.neg %x : tensor<8x300xf32>
  %y = kiln.clip %x {min = -0.5 : f64, max = 0.25 : f64} : tensor<8x300xf32>
  %s1 = kiln.add %a, %b : tensor<8x300xf32>, tensor<8x300xf32>
  %s2 = kiln.add %s1, %c : tensor<8x300xf32>, tensor<8x300xf32>
  %s3 = kiln.add %s2, %d : tensor<8x300xf32>, tensor<8x300xf32>
  %s4 = kiln.add %s3, %e : tensor<8x300xf32>, tensor<8x300xf32>
  %s5 = kiln.add %s4, %f : tensor<8x300xf32>, tensor<8x300xf32>
  %s6 = kiln.add %s5, %g : tensor<8x300xf32>, tensor<8x300xf32>
  %s7 = kiln.add %s6, %h : tensor<8x300xf32>, tensor<8x300xf32>
  %s8 = kiln.add %s7, %i : tensor<8x300xf32>, tensor<8x300xf32>
  %s9 = kiln.add %s8, %j : tensor<8x300xf32>, tensor<8x300xf32>
  %s10 = kiln.add %s9, %k : tensor<8x300xf32>, tensor<8x300xf32>
  %s11 = kiln.add %s10, %l : tensor<8x300xf32>, tensor<8x300xf32>
  %s12 = kiln.add %s11, %o : tensor<8x300xf32>, tensor<8x300xf32>
  %s13 = kiln.add %s12, %p : tensor<8x300xf32>, tensor<8x300xf32>
  %s14 = kiln.add %s13, %q : tensor<8x300xf32>, tensor<8x300xf32>
  %s15 = kiln.add %s14, %r : tensor<8x300xf32>, tensor<8x300xf32>
  %s16 = kiln.add %s15, %s : tensor<8x300xf32>, tensor<8x300xf32>
  %s17 = kiln.add %s16, %t : tensor<8x300xf32>, tensor<8x300xf32>
  %s18 = kiln.add %s17, %u : tensor<8x300xf32>, tensor<8x300xf32>
  %s19 = kiln.add %s18, %v : tensor<8x300xf32>, tensor<8x300xf32>
  %s20 = kiln.add %s19, %w : tensor<8x300xf32>, tensor<8x300xf32>
  %s21 = kiln.add %s20, %y : tensor<8x300xf32>, tensor<8x300xf32>
  return %s21 : tensor<8x300xf32>
}

// The same in f64 (4-lane vectors, the f64 libmvec variants).
func.func @unary_f64(%x: tensor<4x37xf64>) -> tensor<4x37xf64> {
  %a = kiln.tanh %x : tensor<4x37xf64>
  %b = kiln.sigmoid %x : tensor<4x37xf64>
  %c = kiln.gelu %x : tensor<4x37xf64>
  %e = kiln.silu %x : tensor<4x37xf64>
  %f = kiln.softplus %x : tensor<4x37xf64>
  %g = kiln.elu %x : tensor<4x37xf64>
  %k = kiln.sin %x : tensor<4x37xf64>
  %n = kiln.exp %x : tensor<4x37xf64>
  %m = kiln.abs %x : tensor<4x37xf64>
  %o = kiln.log %m : tensor<4x37xf64>
  %s1 = kiln.add %a, %b : tensor<4x37xf64>, tensor<4x37xf64>
  %s2 = kiln.mul %s1, %c : tensor<4x37xf64>, tensor<4x37xf64>
  %s3 = kiln.sub %s2, %e : tensor<4x37xf64>, tensor<4x37xf64>
  %s4 = kiln.add %s3, %f : tensor<4x37xf64>, tensor<4x37xf64>
  %s5 = kiln.add %s4, %g : tensor<4x37xf64>, tensor<4x37xf64>
  %s6 = kiln.add %s5, %k : tensor<4x37xf64>, tensor<4x37xf64>
  %s7 = kiln.div %s6, %n : tensor<4x37xf64>, tensor<4x37xf64>
  %s8 = kiln.add %s7, %o : tensor<4x37xf64>, tensor<4x37xf64>
  return %s8 : tensor<4x37xf64>
}

// Broadcasting in three shapes (row, column, scalar), binary ops, pow.
func.func @broadcast_binary(%x: tensor<6x5x40xf32>, %row: tensor<40xf32>,
                            %col: tensor<6x1x1xf32>, %s: tensor<f32>) -> tensor<6x5x40xf32> {
  %a = kiln.add %x, %row : tensor<6x5x40xf32>, tensor<40xf32>
  %b = kiln.mul %a, %col : tensor<6x5x40xf32>, tensor<6x1x1xf32>
  %c = kiln.sub %b, %s : tensor<6x5x40xf32>, tensor<f32>
  %d = kiln.max %c, %row : tensor<6x5x40xf32>, tensor<40xf32>
  %e = kiln.min %d, %col : tensor<6x5x40xf32>, tensor<6x1x1xf32>
  %f = kiln.abs %e : tensor<6x5x40xf32>
  %g = kiln.pow %f, %s : tensor<6x5x40xf32>, tensor<f32>
  %h = kiln.div %g, %col : tensor<6x5x40xf32>, tensor<6x1x1xf32>
  return %h : tensor<6x5x40xf32>
}

// Comparisons to i1 (stored as bytes), logic, select, casts.
func.func @compare_select_cast(%x: tensor<16x33xf32>, %y: tensor<33xf32>) -> (tensor<16x33xf32>, tensor<16x33xi1>) {
  %gt = kiln.gt %x, %y : tensor<16x33xf32>, tensor<33xf32>
  %le = kiln.le %x, %y : tensor<16x33xf32>, tensor<33xf32>
  %ne = kiln.ne %x, %y : tensor<16x33xf32>, tensor<33xf32>
  %o = kiln.or %gt, %le : tensor<16x33xi1>, tensor<16x33xi1>
  %a = kiln.and %o, %ne : tensor<16x33xi1>, tensor<16x33xi1>
  %n = kiln.not %a : tensor<16x33xi1>
  %z = kiln.xor %n, %gt : tensor<16x33xi1>, tensor<16x33xi1>
  %sel = kiln.select %z, %x, %y : tensor<16x33xi1>, tensor<16x33xf32>, tensor<33xf32>
  %d = kiln.cast %sel : tensor<16x33xf32> -> tensor<16x33xf64>
  %e = kiln.mul %d, %d : tensor<16x33xf64>, tensor<16x33xf64>
  %f = kiln.cast %e : tensor<16x33xf64> -> tensor<16x33xf32>
  %b = kiln.cast %gt : tensor<16x33xi1> -> tensor<16x33xf32>
  %r = kiln.add %f, %b : tensor<16x33xf32>, tensor<16x33xf32>
  return %r, %z : tensor<16x33xf32>, tensor<16x33xi1>
}

// A large residual add + GELU (1-D, many blocks over the thread pool).
func.func @large(%x: tensor<64x4096xf32>, %y: tensor<64x4096xf32>) -> tensor<64x4096xf32> {
  %a = kiln.add %x, %y : tensor<64x4096xf32>, tensor<64x4096xf32>
  %b = kiln.gelu %a : tensor<64x4096xf32>
  return %b : tensor<64x4096xf32>
}

// f16 storage, f32 compute, rounded to f16 after each op (as eager mode).
func.func @half(%x: tensor<8x100xf16>, %b: tensor<100xf16>) -> tensor<8x100xf16> {
  %a = kiln.add %x, %b : tensor<8x100xf16>, tensor<100xf16>
  %g = kiln.gelu %a : tensor<8x100xf16>
  %t = kiln.tanh %g : tensor<8x100xf16>
  %m = kiln.mul %t, %x : tensor<8x100xf16>, tensor<8x100xf16>
  %c = kiln.cast %m : tensor<8x100xf16> -> tensor<8x100xf32>
  %e = kiln.exp %c : tensor<8x100xf32>
  %h = kiln.cast %e : tensor<8x100xf32> -> tensor<8x100xf16>
  return %h : tensor<8x100xf16>
}

// bf16 storage, f32 compute, rounded to bf16 after each op (as eager mode).
func.func @brain(%x: tensor<8x100xbf16>, %b: tensor<100xbf16>) -> tensor<8x100xbf16> {
  %a = kiln.add %x, %b : tensor<8x100xbf16>, tensor<100xbf16>
  %g = kiln.gelu %a : tensor<8x100xbf16>
  %t = kiln.sigmoid %g : tensor<8x100xbf16>
  %m = kiln.mul %t, %x : tensor<8x100xbf16>, tensor<8x100xbf16>
  %c = kiln.cast %m : tensor<8x100xbf16> -> tensor<8x100xf32>
  %e = kiln.exp %c : tensor<8x100xf32>
  %h = kiln.cast %e : tensor<8x100xf32> -> tensor<8x100xbf16>
  return %h : tensor<8x100xbf16>
}

// Integers as the runtime computes them: wrap-around, x / 0 = 0,
// x / -1 = -x, clip bounds compared in double; comparisons are signed.
func.func @integers(%x: tensor<8x50xi32>, %y: tensor<50xi32>) -> tensor<8x50xi32> {
  %a = kiln.add %x, %y : tensor<8x50xi32>, tensor<50xi32>
  %m = kiln.mul %a, %x : tensor<8x50xi32>, tensor<8x50xi32>
  %s = kiln.sub %m, %y : tensor<8x50xi32>, tensor<50xi32>
  %d = kiln.div %s, %y : tensor<8x50xi32>, tensor<50xi32>
  %n = kiln.neg %d : tensor<8x50xi32>
  %b = kiln.abs %n : tensor<8x50xi32>
  %r = kiln.relu %s : tensor<8x50xi32>
  %g = kiln.sign %s : tensor<8x50xi32>
  %c = kiln.clip %s {min = -3.5 : f64, max = 100.2 : f64} : tensor<8x50xi32>
  %mx = kiln.max %b, %r : tensor<8x50xi32>, tensor<8x50xi32>
  %mn = kiln.min %mx, %c : tensor<8x50xi32>, tensor<8x50xi32>
  %t = kiln.add %mn, %g : tensor<8x50xi32>, tensor<8x50xi32>
  %lt = kiln.lt %t, %y : tensor<8x50xi32>, tensor<50xi32>
  %o = kiln.select %lt, %t, %y : tensor<8x50xi1>, tensor<8x50xi32>, tensor<50xi32>
  return %o : tensor<8x50xi32>
}
