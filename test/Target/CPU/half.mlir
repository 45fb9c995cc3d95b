// f16 tensors are loaded with F16C (vcvtph2ps), computed in f32 and
// rounded back to f16 after every op whose result is f16 (as the eager
// kernels store each op's result), then stored with vcvtps2ph. (LLVM
// may do the add in half directly: f32 rounding then f16 rounding of a sum
// of two halves equals rounding it to f16 once.)
// RUN: kiln-compile %s -o %t.kiln --cpu=x86-64-v3 --emit-llvm | FileCheck %s --check-prefix=IR
// RUN: kiln-compile %s -o %t.kiln --cpu=x86-64-v3 --emit-asm | FileCheck %s --check-prefix=ASM

// IR-LABEL: define void @kiln_kernel_0(
// IR: load <8 x half>
// IR: fpext <8 x half> {{.*}} to <8 x float>
// IR: _ZGVdN8v_erff
// IR: fptrunc <8 x float> {{.*}} to <8 x half>
// IR: store <8 x half>
// ASM-LABEL: kiln_kernel_0:
// ASM: vcvtph2ps {{.*}}%ymm
// ASM: vcvtps2ph {{.*}}%ymm
func.func @half(%x: tensor<16x64xf16>, %y: tensor<64xf16>) -> tensor<16x64xf16> {
  %a = kiln.add %x, %y : tensor<16x64xf16>, tensor<64xf16>
  %b = kiln.gelu %a : tensor<16x64xf16>
  return %b : tensor<16x64xf16>
}
