// An unknown --cpu is a diagnostic, not a crash; so is a missing ld.lld.
// RUN: not kiln-compile %s -o %t.kiln --cpu=pentium9 2>&1 | FileCheck %s
// RUN: env KILN_LD_LLD=%t.missing not kiln-compile %s -o %t.kiln 2>&1 | FileCheck %s --check-prefix=LLD
// A list is checked whole: one unknown name fails it, and a list of
// nothing is no target at all.
// RUN: not kiln-compile %s -o %t.kiln --cpu=x86-64-v4,pentium9 2>&1 | FileCheck %s
// RUN: not kiln-compile %s -o %t.kiln --cpu=, 2>&1 | FileCheck %s --check-prefix=EMPTY

// CHECK: error: CPU code generation: unknown x86-64 CPU 'pentium9'
// LLD: error: CPU code generation: KILN_LD_LLD={{.*}} is not an executable
// EMPTY: error: CPU code generation: no target CPU given
func.func @f(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %a = kiln.add %x, %x : tensor<4x8xf32>, tensor<4x8xf32>
  %b = kiln.tanh %a : tensor<4x8xf32>
  return %b : tensor<4x8xf32>
}
