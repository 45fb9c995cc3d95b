// A "reduction" fusion whose root reduces the innermost axis is one
// kernel: a loop over rows (the parallel range [begin, end)), and per row
// one pass per reduction level, each vectorized to 8 x f32 (ymm) with up to
// four accumulators; the prologue is evaluated once, in the first pass,
// and stashed in the result row for the later passes. f32 rows take the
// target's width (zmm for x86-64-v4); f16 rows are held to 8 lanes.
// RUN: kiln-compile %s -o %t.kiln --cpu=x86-64-v3 --emit-llvm | FileCheck %s --check-prefix=IR
// RUN: kiln-compile %s -o %t.kiln --cpu=x86-64-v3 --emit-asm | FileCheck %s --check-prefix=ASM
// RUN: kiln-compile %s -o %t.kiln --cpu=x86-64-v4 --emit-asm | FileCheck %s --check-prefix=V4

// softmax(x / 8): max (NaN-propagating llvm.maximum), sum of exps (inline,
// no call: the polynomial's rounding to the nearest power of 2 is
// llvm.roundeven; reassociated adds), scale; the exps stay in the result
// row.
// IR-LABEL: define void @kiln_kernel_0(ptr {{.*}}%buffers, i64 %begin, i64 %end)
// IR: icmp slt i64 %begin, %end
// IR: fmul <8 x float>
// IR: store <8 x float>{{.*}}!llvm.access.group
// IR: call <8 x float> @llvm.maximum.v8f32
// IR: call <8 x float> @llvm.maximum.v8f32
// IR: call float @llvm.vector.reduce.fmaximum.v8f32
// IR-NOT: _ZGV
// IR: call <8 x float> @llvm.roundeven.v8f32
// IR: fadd reassoc <8 x float>
// IR: fadd reassoc <8 x float>
// IR: call reassoc float @llvm.vector.reduce.fadd.v8f32
// IR: fdiv float 1.000000e+00
// IR: fmul <8 x float>
// IR: store <8 x float>
// IR-NOT: memcheck
// IR-LABEL: define void @kiln_kernel_1(
// layer_norm(x + y): mean (stashing x + y), variance, normalize, scale, shift.
// IR: fadd <8 x float>
// IR: store <8 x float>
// IR: fadd reassoc <8 x float>
// IR: call reassoc float @llvm.vector.reduce.fadd.v8f32
// IR: fsub <8 x float>
// IR: fmul <8 x float>
// IR: fadd reassoc <8 x float>
// IR: call reassoc float @llvm.vector.reduce.fadd.v8f32
// IR: call float @llvm.sqrt.f32
// IR: fmul <8 x float>
// IR: fadd <8 x float>
// IR: store <8 x float>
// IR-NOT: memcheck
// IR-LABEL: define void @kiln_kernel_2(
// f16 softmax: 8 halves per load, f32 math; the exps are recomputed in
// the last pass instead of being rounded to f16 in between.
// IR: load <8 x half>
// IR: call <8 x float> @llvm.maximum.v8f32
// IR: call <8 x float> @llvm.roundeven.v8f32
// IR: call <8 x float> @llvm.roundeven.v8f32
// IR: fptrunc <8 x float> {{.*}} to <8 x half>

// V4-LABEL: kiln_kernel_0:
// V4: vmaxps {{.*}}%zmm
// V4-NOT: callq
// V4: vrndscaleps $8, {{.*}}%zmm
// V4-LABEL: kiln_kernel_2:
// V4: vcvtph2ps {{.*}}%ymm

// ASM-LABEL: kiln_kernel_0:
// ASM: vmulps {{.*}}%ymm
// ASM: vmaxps {{.*}}%ymm
// ASM-NOT: callq
// ASM: vroundps $8, {{.*}}%ymm
// ASM: vaddps {{.*}}%ymm
// ASM: vmulps {{.*}}%ymm
// ASM: vmovups %ymm{{[0-9]+}}, (
// ASM-LABEL: kiln_kernel_1:
// ASM: vaddps {{.*}}%ymm
// ASM: vsqrtss
// ASM: vmulps {{.*}}%ymm
// ASM: vmovups %ymm{{[0-9]+}}, (
// ASM-LABEL: kiln_kernel_2:
// ASM: vcvtph2ps {{.*}}%ymm
// ASM: vcvtps2ph {{.*}}%ymm
func.func @softmax(%x: tensor<64x256xf32>) -> tensor<64x256xf32> {
  %c = kiln.constant dense<0.125> : tensor<f32>
  %s = kiln.mul %x, %c : tensor<64x256xf32>, tensor<f32>
  %p = kiln.softmax %s {axis = -1 : i64} : tensor<64x256xf32>
  return %p : tensor<64x256xf32>
}
func.func @layer_norm(%x: tensor<64x768xf32>, %y: tensor<64x768xf32>,
                      %g: tensor<768xf32>, %b: tensor<768xf32>) -> tensor<64x768xf32> {
  %s = kiln.add %x, %y : tensor<64x768xf32>, tensor<64x768xf32>
  %n = kiln.layer_norm %s, %g, %b : tensor<64x768xf32>, tensor<768xf32>, tensor<768xf32>
  return %n : tensor<64x768xf32>
}
func.func @half_softmax(%x: tensor<8x64xf16>) -> tensor<8x64xf16> {
  %p = kiln.softmax %x {axis = -1 : i64} : tensor<8x64xf16>
  return %p : tensor<8x64xf16>
}
