// The runtime checks each cpu_kernel op against the signature the code was
// compiled with (<symbol>_signature: buffer count, outer range, bytes per
// buffer), so a file whose metadata was changed after compilation is
// refused instead of running the kernel out of bounds. The file is edited
// through flatc's JSON form (flatc 2.0.8 rejects force_align 64 when it
// parses JSON, so the schema copy drops it; this graph has no constants).
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: sed 's/(force_align: 64)//' %kiln_src_root/runtime/schema/kiln.fbs > %t.dir/kiln.fbs
// RUN: kiln-compile %s -o %t.dir/good.kiln
// RUN: flatc --json --strict-json --raw-binary --size-prefixed -o %t.dir %kiln_src_root/runtime/schema/kiln.fbs -- %t.dir/good.kiln
// RUN: python3 %S/Inputs/edit_kernel_op.py %t.dir/good.json %t.dir/outer.json outer
// RUN: python3 %S/Inputs/edit_kernel_op.py %t.dir/good.json %t.dir/shape.json shape
// RUN: python3 %S/Inputs/edit_kernel_op.py %t.dir/good.json %t.dir/symbol.json symbol
// RUN: cd %t.dir && flatc -b --size-prefixed kiln.fbs outer.json shape.json symbol.json
// RUN: not kiln-run %t.dir/outer.kiln --random-inputs 1 2>&1 | FileCheck %s --check-prefix=OUTER
// RUN: not kiln-run %t.dir/shape.kiln --random-inputs 1 2>&1 | FileCheck %s --check-prefix=SHAPE
// RUN: not kiln-run %t.dir/symbol.kiln --random-inputs 1 2>&1 | FileCheck %s --check-prefix=SYMBOL

// OUTER: error: DataLoss: {{.*}}(cpu_kernel): native kernel 'kiln_kernel_0' was compiled for 3 buffers and outer range 1; the op has 3 and 2
// SHAPE: error: DataLoss: {{.*}}(cpu_kernel): buffer #0 of native kernel 'kiln_kernel_0' is 128 bytes; the code was compiled for 4096 bytes
// SYMBOL: error: DataLoss: {{.*}}(cpu_kernel): calls native kernel 'kiln_kernel_9', which the native code does not list
func.func @f(%x: tensor<16x64xf32>, %y: tensor<16x64xf32>) -> tensor<16x64xf32> {
  %a = kiln.add %x, %y : tensor<16x64xf32>, tensor<16x64xf32>
  %b = kiln.tanh %a : tensor<16x64xf32>
  return %b : tensor<16x64xf32>
}
