//===- Passes.td - Kiln's graph passes ------------------------------------===//
//
// Grouped by stage, alphabetical within a group. The order in which they
// run lives in one place only: compiler/Pipelines/Pipeline.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_COMPILER_TRANSFORMS_PASSES_TD
#define KILN_COMPILER_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Fusion
//===----------------------------------------------------------------------===//

def FuseElementwise : Pass<"kiln-fuse-elementwise", "func::FuncOp"> {
  let summary = "Groups elementwise chains and reductions into kiln.fusion kernels";
  let description = [{
    Walks each function from its last op to its first. Every elementwise op
    or reduction not yet in a group roots a new group, which then pulls in
    its elementwise producers (producer-consumer fusion) while:
      - all of a producer's users are in the group; otherwise a cheap
        producer (add, mul, cast, ...) is recomputed inside the group and
        an expensive one (exp, tanh, erf, pow, ...) is left outside: the
        cost rule never recomputes expensive work;
      - an expensive producer is not broadcast into a larger root (it would
        be evaluated once per output element).
    Splat constants are cloned into the body; everything else the group
    reads becomes an input. Each group becomes one `kiln.fusion`: "loop" for
    elementwise roots, "reduction" for reductions, softmax, log_softmax and
    layer_norm roots.

    Static slices (positive steps, non-empty):
      - are first moved above the elementwise ops they select from,
        `slice(add(a, b))` -> `add(slice(a), slice(b))` (a broadcast dim of
        an operand stays whole), when the op is read only by such slices
        whose users are elementwise and the slices together select no more
        elements than the op computes (no added work). Dropout and
        broadcast_to are not crossed; a slice that lands on a slice merges
        with it into one slice of the inner one's input.
      - join loop groups (never reductions) as reads: the CPU and CUDA
        code generators read the sliced input's buffer at a fixed element
        offset with its strides times the steps. The sliced value always
        stays an input (a value some member slices never joins the group);
        a shared slice is recomputed in each group, and a slice left
        without users is erased.
    A producer that is also read after the root, with the root's shape,
    joins as an extra result of a loop group (multi-output fusion) instead
    of keeping a kernel of its own. So an LSTM step, whose gate
    pre-activations are one [B, 4H] sum cut into four column blocks, is one
    kernel reading the two GEMM results and c_{t-1} and storing h_t and c_t.

    Before:
    ```mlir
    %0 = kiln.add %x, %b : tensor<8x64xf32>, tensor<64xf32>
    %1 = kiln.gelu %0 : tensor<8x64xf32>
    %2 = kiln.add %1, %r : tensor<8x64xf32>, tensor<8x64xf32>
    ```
    After:
    ```mlir
    %2 = kiln.fusion "loop" (%x, %b, %r) : (...) -> tensor<8x64xf32> {
    ^bb0(%a: tensor<8x64xf32>, %c: tensor<64xf32>, %d: tensor<8x64xf32>):
      %0 = kiln.add %a, %c ...
      %1 = kiln.gelu %0 ...
      %2 = kiln.add %1, %d ...
      kiln.yield %2 : tensor<8x64xf32>
    }
    ```

    Slices and an extra result, before:
    ```mlir
    %g = kiln.add %x, %y : tensor<2x8xf32>, tensor<2x8xf32>
    %i = kiln.slice %g {starts = array<i64: 0, 0>, ends = array<i64: 2, 4>} : tensor<2x8xf32>
    %f = kiln.slice %g {starts = array<i64: 0, 4>, ends = array<i64: 2, 8>} : tensor<2x8xf32>
    %c1 = kiln.mul %i, %c : tensor<2x4xf32>, tensor<2x4xf32>
    %s = kiln.sigmoid %f : tensor<2x4xf32>
    %h = kiln.mul %s, %c1 : tensor<2x4xf32>, tensor<2x4xf32>
    return %h, %c1 ...
    ```
    After (the add computed per block on slices of x and y):
    ```mlir
    %r:2 = kiln.fusion "loop" (%x, %y, %c) : (...) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
    ^bb0(%a: tensor<2x8xf32>, %b: tensor<2x8xf32>, %d: tensor<2x4xf32>):
      %0 = kiln.slice %a {starts = array<i64: 0, 0>, ...}
      %1 = kiln.slice %b {starts = array<i64: 0, 0>, ...}
      %2 = kiln.add %0, %1 ...
      %3 = kiln.slice %a {starts = array<i64: 0, 4>, ...}
      %4 = kiln.slice %b {starts = array<i64: 0, 4>, ...}
      %5 = kiln.add %3, %4 ...
      %6 = kiln.mul %2, %d ...
      %7 = kiln.sigmoid %5 ...
      %8 = kiln.mul %7, %6 ...
      kiln.yield %8, %6 : tensor<2x4xf32>, tensor<2x4xf32>
    }
    return %r#0, %r#1 ...
    ```
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect"];
}

def ConvLayout : Pass<"kiln-conv-layout", "func::FuncOp"> {
  let summary = "Moves CPU convolution chains to channels-last (NHWC) activations";
  let description = [{
    ONNX convolutions are NCHW, but the fast CPU kernels (oneDNN's brgemm
    convolutions, Kiln's depthwise and 1x1 kernels) want the channels
    contiguous. Called on NCHW activations they either run a slower plain
    kernel or reorder the input and the result around every call, which on
    MobileNetV2 costs more than many of its layers compute. This pass gives
    each f32 conv2d with at least `min-channels` output channels (and at
    least as many input channels, or at most 4: an image stem) the layout
    "nhwc" between two transposes, then cancels the transposes along the
    chain:
      - transpose(transpose(x)) folds (a conv reading a conv's result);
      - an NHWC-to-NCHW transpose moves below elementwise ops whose other
        operands are the same transpose, one-element constants, per-channel
        values ([1, C, 1, 1], reshaped to [C]), or values already
        transposed to NHWC for another op (the residual add and its ReLU),
        below concat (along the matching NHWC dim), and below max_pool2d,
        which takes the layout too;
      - a batch_norm on an NHWC value becomes x * s + t with per-channel
        s and t, which broadcast along NHWC's last dim (and fuse with the
        ops after it);
      - what is left is one transpose in from the graph input and one out
        where the chain ends (a global pool, a flatten, a return).
    Run after kiln-fuse-epilogues (bias and activation already folded) and
    before kiln-fuse-elementwise.

    Before:
    ```mlir
    %a = kiln.conv2d %x, %w1, %b1 {activation = "relu"} : tensor<1x32x8x8xf32>, tensor<32x32x1x1xf32>, tensor<32xf32>
    %c = kiln.conv2d %a, %w2, %b2 : tensor<1x32x8x8xf32>, tensor<32x32x1x1xf32>, tensor<32xf32>
    %r = kiln.add %c, %x : tensor<1x32x8x8xf32>, tensor<1x32x8x8xf32>
    ```
    After:
    ```mlir
    %t = kiln.transpose %x {permutation = array<i64: 0, 2, 3, 1>} : tensor<1x32x8x8xf32>
    %a = kiln.conv2d %t, %w1, %b1 {activation = "relu", layout = "nhwc"} : tensor<1x8x8x32xf32>, ...
    %c = kiln.conv2d %a, %w2, %b2 {layout = "nhwc"} : tensor<1x8x8x32xf32>, ...
    %s = kiln.add %c, %t : tensor<1x8x8x32xf32>, tensor<1x8x8x32xf32>
    %r = kiln.transpose %s {permutation = array<i64: 0, 3, 1, 2>} : tensor<1x8x8x32xf32>
    ```
  }];
  let options = [
    Option<"minChannels", "min-channels", "int64_t", /*default=*/"16",
           "Fewest output channels for which a conv2d moves to NHWC">,
  ];
  let dependentDialects = ["::mlir::kiln::KilnDialect"];
}

def FuseEpilogues : Pass<"kiln-fuse-epilogues", "func::FuncOp"> {
  let summary = "Folds bias adds and activations into GEMM and convolution calls";
  let description = [{
    `activation(matmul(a, b) + bias)` with a bias along the last dim becomes
    one `kiln.gemm` (oneDNN post-ops and cuBLASLt epilogues do the rest in
    the library call); `activation(conv2d(x, w) + b)` with a per-channel `b`
    becomes a conv2d with a bias operand and that `activation` (a oneDNN
    post-op). Only single-use intermediates are folded, so no value is
    computed twice.

    Before:
    ```mlir
    %m = kiln.matmul %x, %w : tensor<8x64xf32>, tensor<64x32xf32>
    %a = kiln.add %m, %b : tensor<8x32xf32>, tensor<32xf32>
    %r = kiln.relu %a : tensor<8x32xf32>
    ```
    After:
    ```mlir
    %r = kiln.gemm %x, %w, %b {activation = "relu"} : tensor<8x64xf32>, tensor<64x32xf32>, tensor<32xf32>
    ```
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect"];
}

def FusionReport : Pass<"kiln-fusion-report", "func::FuncOp"> {
  let summary = "Reports the kernels a function will run as remarks";
  let description = [{
    Emits one remark per function: the number of graph ops (counting those
    inside fusions, a gemm as the matmul, bias add and activation it
    absorbed, and a conv2d as the conv and its activation; constants and
    return excluded), the number of kernels it dispatches (fusions, library
    calls and other ops), and one remark per fusion listing its ops. Run it
    after the fusion passes; `kiln-opt --verify-diagnostics` checks it.
  }];
}

//===----------------------------------------------------------------------===//
// Precision
//===----------------------------------------------------------------------===//

def LowerPrecision : Pass<"kiln-lower-precision", "func::FuncOp"> {
  let summary = "Stores tensors and feeds GEMMs in f16 or bf16, keeping f32 where it matters";
  let description = [{
    Mixed precision by op class, as autocast does it:
      - lowered: GEMMs and convolutions (the runtime accumulates in f32),
        cheap elementwise ops (add, mul, relu, gelu, ...), data movement
        (transpose, reshape, slice, concat, pad, gather, pooling);
      - kept in f32: reductions, softmax, log_softmax, layer_norm,
        batch_norm, losses, and range-sensitive math (exp, log, pow,
        softplus, erf), whose f16 results overflow or lose too much.
    `allow` adds op names to the lowered set and `deny` removes them. The
    function signature stays f32: casts are inserted at the boundaries
    between lowered and kept ops (once per value), and a parameter whose
    every user is lowered is stored in the low precision itself (half the
    weight bytes; kiln-compile converts f32 .npy weights).

    Before (`precision=bf16`):
    ```mlir
    %m = kiln.matmul %x, %w : tensor<8x64xf32>, tensor<64x64xf32>
    %s = kiln.softmax %m : tensor<8x64xf32>
    ```
    After:
    ```mlir
    %w = kiln.parameter "w" : tensor<64x64xbf16>
    %xl = kiln.cast %x : tensor<8x64xf32> -> tensor<8x64xbf16>
    %m = kiln.matmul %xl, %w : tensor<8x64xbf16>, tensor<64x64xbf16>
    %mf = kiln.cast %m : tensor<8x64xbf16> -> tensor<8x64xf32>
    %s = kiln.softmax %mf : tensor<8x64xf32>
    ```
  }];
  let options = [
    Option<"precision", "precision", "std::string", /*default=*/"\"bf16\"",
           "The low precision: f16 or bf16">,
    ListOption<"allow", "allow", "std::string",
               "Op names (without kiln.) to lower in addition">,
    ListOption<"deny", "deny", "std::string",
               "Op names (without kiln.) to keep in f32">,
  ];
  let dependentDialects = ["::mlir::kiln::KilnDialect"];
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

def PlanMemory : Pass<"kiln-plan-memory", "func::FuncOp"> {
  let summary = "Assigns every intermediate tensor an offset in one arena";
  let description = [{
    Computes the live range of every value a kernel writes (in program
    order; a reshape is a view and extends its source's range), lets an
    elementwise kernel write over an input that dies there (in place), and
    places buffers greedily by size at the lowest 64-byte-aligned offset
    that overlaps no buffer live at the same time. Function arguments belong
    to the caller; constants and parameters are stored apart, read-only.

    Each op that writes (or views) arena memory gets `kiln.offsets`, one
    byte offset per result (-1: not in the arena), and each function
    `kiln.arena_size`,
    `kiln.arena_lower_bound` (the largest total of buffers live at once)
    and `kiln.arena_no_reuse` (the sum of all buffers). With `report`, a
    remark states the three.
  }];
  let options = [
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark with the arena size, lower bound and no-reuse sum">,
    Option<"inPlace", "in-place", "bool", /*default=*/"true",
           "Let elementwise kernels write over an input that dies there">,
  ];
}

#endif // KILN_COMPILER_TRANSFORMS_PASSES_TD
