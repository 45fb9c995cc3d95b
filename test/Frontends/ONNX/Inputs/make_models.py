#!/usr/bin/env python3
"""Writes the small ONNX models the frontend's lit tests import.

    make_models.py OUTDIR NAME...     (or "all")

Each NAME is a function below that returns a ModelProto (or writes files
itself, for the external-data cases). Models are built with onnx.helper so
the tests need no binary files in the repository.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT
I64 = TensorProto.INT64


def model(nodes, inputs, outputs, inits=(), opset=17, **kw):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], **kw)
    m.ir_version = 8
    return m


def vi(name, dims, t=F):
    return helper.make_tensor_value_info(name, t, dims)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


rng = np.random.default_rng(0)


def w(*shape):
    return rng.standard_normal(shape).astype(np.float32)


# --- Models that import --------------------------------------------------

def mlp():
    """Gemm (transB, as PyTorch exports Linear), Relu, Gemm, Softmax."""
    return model(
        [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], transB=1, name="fc1"),
         helper.make_node("Relu", ["h"], ["r"], name="relu"),
         helper.make_node("Gemm", ["r", "w2", "b2"], ["z"], alpha=0.5, beta=2.0, name="fc2"),
         helper.make_node("Softmax", ["z"], ["y"], axis=1, name="softmax")],
        [vi("x", [2, 4])], [vi("y", [2, 3])],
        [init("w1", w(8, 4)), init("b1", w(8)), init("w2", w(8, 3)), init("b2", w(3))])


def cnn():
    """Conv + BatchNormalization + MaxPool + GlobalAveragePool + Flatten."""
    return model(
        [helper.make_node("Conv", ["x", "cw", "cb"], ["c"], pads=[1, 1, 1, 1], name="conv"),
         helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"], name="bn"),
         helper.make_node("Relu", ["n"], ["r"]),
         helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2], name="pool"),
         helper.make_node("GlobalAveragePool", ["p"], ["g"]),
         helper.make_node("Flatten", ["g"], ["y"])],
        [vi("x", [1, 3, 8, 8])], [vi("y", [1, 4])],
        [init("cw", w(4, 3, 3, 3)), init("cb", w(4)), init("s", w(4)), init("b", w(4)),
         init("m", w(4)), init("v", np.abs(w(4)) + 1)])


def shape_chain():
    """x.reshape(x.shape[0], -1) as exporters write it: Shape, Gather,
    Unsqueeze, Concat, Reshape. All of it folds to one reshape."""
    return model(
        [helper.make_node("Shape", ["x"], ["s"]),
         helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
         helper.make_node("Unsqueeze", ["n", "axes"], ["n1"]),
         helper.make_node("Concat", ["n1", "minus1"], ["shape"], axis=0),
         helper.make_node("Reshape", ["x", "shape"], ["y"], name="flatten")],
        [vi("x", [2, 3, 4])], [vi("y", [2, 12])],
        [init("zero", np.array(0, dtype=np.int64)), init("axes", np.array([0], dtype=np.int64)),
         init("minus1", np.array([-1], dtype=np.int64))], opset=13)


def softmax_opset11():
    """Before opset 13, Softmax flattens to 2-D at `axis` (default 1)."""
    return model([helper.make_node("Softmax", ["x"], ["y"])],
                 [vi("x", [2, 3, 4])], [vi("y", [2, 3, 4])], opset=11)


def squeeze_opsets():
    """Squeeze axes: an attribute in opset 11, an input in opset 13."""
    return model([helper.make_node("Squeeze", ["x"], ["y"], axes=[1])],
                 [vi("x", [2, 1, 3])], [vi("y", [2, 3])], opset=11)


def squeeze_opset13():
    return model([helper.make_node("Squeeze", ["x", "axes"], ["y"])],
                 [vi("x", [2, 1, 3])], [vi("y", [2, 3])],
                 [init("axes", np.array([-2], dtype=np.int64))], opset=13)


def symbolic():
    """An input with a symbolic batch dim."""
    return model([helper.make_node("Relu", ["x"], ["y"])],
                 [vi("x", ["batch", 3])], [vi("y", ["batch", 3])])


def layernorm_gelu():
    """LayerNormalization and Gelu (opset 20)."""
    return model(
        [helper.make_node("LayerNormalization", ["x", "g", "b"], ["n"], epsilon=1e-6),
         helper.make_node("Gelu", ["n"], ["y"], approximate="tanh")],
        [vi("x", [2, 5, 8])], [vi("y", [2, 5, 8])],
        [init("g", w(8)), init("b", w(8))], opset=20)


def slice_reduce():
    """Slice with negative steps, ReduceMean with axes as an input (opset 18)."""
    return model(
        [helper.make_node("Slice", ["x", "st", "en", "ax", "sp"], ["s"]),
         helper.make_node("ReduceMean", ["s", "rax"], ["y"], keepdims=0)],
        [vi("x", [4, 6])], [vi("y", [4])],
        [init("st", np.array([-1], dtype=np.int64)),
         init("en", np.array([-(2 ** 63)], dtype=np.int64)),
         init("ax", np.array([1], dtype=np.int64)), init("sp", np.array([-2], dtype=np.int64)),
         init("rax", np.array([1], dtype=np.int64))], opset=18)


def gather_scalar():
    """Gather with one constant (negative) index: Q/K/V out of a fused
    projection, as PyTorch's attention exports it."""
    return model([helper.make_node("Gather", ["x", "i"], ["y"], axis=1)],
                 [vi("x", [4, 3, 5])], [vi("y", [4, 5])],
                 [init("i", np.array(-2, dtype=np.int64))])


def unordered():
    """Nodes out of topological order still import (in dependency order)."""
    return model([helper.make_node("Neg", ["a"], ["y"]),
                  helper.make_node("Exp", ["x"], ["a"])],
                 [vi("x", [3])], [vi("y", [3])])


# --- Models that must be refused -----------------------------------------

def bad_cycle():
    return model([helper.make_node("Add", ["x", "b"], ["a"], name="first"),
                  helper.make_node("Relu", ["a"], ["b"], name="second")],
                 [vi("x", [3])], [vi("b", [3])])


def bad_dangling():
    return model([helper.make_node("Add", ["x", "nowhere"], ["y"], name="add")],
                 [vi("x", [3])], [vi("y", [3])])


def bad_duplicate():
    return model([helper.make_node("Relu", ["x"], ["y"], name="r1"),
                  helper.make_node("Neg", ["x"], ["y"], name="r2")],
                 [vi("x", [3])], [vi("y", [3])])


def bad_domain():
    m = model([helper.make_node("FusedGemm", ["x", "x"], ["y"], name="fused",
                                domain="com.microsoft")],
              [vi("x", [3, 3])], [vi("y", [3, 3])])
    m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return m


def bad_op():
    return model([helper.make_node("Resize", ["x"], ["y"], name="up")],
                 [vi("x", [1, 1, 2, 2])], [vi("y", [1, 1, 4, 4])])


def bad_opset_old():
    return model([helper.make_node("Relu", ["x"], ["y"])],
                 [vi("x", [3])], [vi("y", [3])], opset=5)


def bad_opset_new():
    return model([helper.make_node("Relu", ["x"], ["y"])],
                 [vi("x", [3])], [vi("y", [3])], opset=99)


def bad_huge_dim():
    return model([helper.make_node("Relu", ["x"], ["y"])],
                 [vi("x", [2 ** 40, 2 ** 30])], [vi("y", [2 ** 40, 2 ** 30])])


def bad_init_bytes():
    t = init("w", w(2, 3))
    t.raw_data = t.raw_data[:20]  # 5 floats for a 2x3 tensor
    return model([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
                 [vi("x", [2, 3])], [vi("y", [2, 3])], [t])


def attention_shape():
    """PyTorch's scaled_dot_product_attention export at opset 17 computes the
    head-split shape as Concat(Slice(Shape(x), 0, Mod(-1, 3) ...), [3, H],
    Slice(Shape(x), Mod(-1, 3) + 1 ...)); Mod and Slice of constants fold."""
    c = lambda name, v: helper.make_node("Constant", [], [name], value=init(name, np.array(v, np.int64)))
    return model(
        [helper.make_node("Shape", ["x"], ["s"]),
         c("m1", -1), c("three", 3), c("zero", [0]), c("one", 1), c("big", [2**62]),
         c("mid", [3, 2]), c("flat", [1]),
         helper.make_node("Mod", ["m1", "three"], ["ax"]),
         helper.make_node("Reshape", ["ax", "flat"], ["ax1"]),
         helper.make_node("Slice", ["s", "zero", "ax1"], ["head"]),
         helper.make_node("Add", ["ax", "one"], ["ax2"]),
         helper.make_node("Reshape", ["ax2", "flat"], ["ax3"]),
         helper.make_node("Slice", ["s", "ax3", "big"], ["tail"]),
         helper.make_node("Concat", ["head", "mid", "tail"], ["shape"], axis=0),
         helper.make_node("Reshape", ["x", "shape"], ["y"])],
        [vi("x", [4, 1, 6])], [vi("y", [4, 1, 3, 2])])


def mod_float():
    """Mod with fmod=1 on floats (C fmod, the sign of the dividend)."""
    return model([helper.make_node("Mod", ["a", "b"], ["y"], fmod=1)],
                 [vi("a", [3]), vi("b", [3])], [vi("y", [3])])


def bad_shape_input():
    """Reshape whose shape is a graph input: Kiln needs it constant."""
    return model([helper.make_node("Reshape", ["x", "s"], ["y"], name="reshape")],
                 [vi("x", [2, 3]), vi("s", [2], I64)], [vi("y", [3, 2])])


def bad_broadcast():
    return model([helper.make_node("Add", ["x", "z"], ["y"], name="add")],
                 [vi("x", [2, 3]), vi("z", [4])], [vi("y", [2, 3])])


# --- Hostile models (libFuzzer finds, frontends/onnx/fuzz) ----------------
# Each made the importer overflow int64 (UBSan), allocate without bound or
# run for minutes; hostile.test checks the message that replaced it.

def hostile_zero_dims():
    """An empty input whose other dims multiply past int64 (Flatten)."""
    return model([helper.make_node("Flatten", ["x"], ["y"], axis=1, name="flat")],
                 [vi("x", [0, 2 ** 62, 2 ** 62])], [vi("y", None)])


def hostile_reshape_zero():
    """allowzero Reshape of an empty tensor to dims that overflow."""
    return model([helper.make_node("Reshape", ["x", "s"], ["y"], allowzero=1, name="reshape")],
                 [vi("x", [0])], [vi("y", None)],
                 [init("s", np.array([0, 2 ** 62, 2 ** 62], np.int64))])


def hostile_tile():
    """4096 copies of a 4 GiB input: 16 TiB, past the per-tensor limit."""
    return model([helper.make_node("Tile", ["x", "r"], ["y"], name="tile")],
                 [vi("x", [2 ** 30])], [vi("y", None)],
                 [init("r", np.array([4096], np.int64))])


def hostile_cumsum():
    """CumSum's mask is len x len: len * len overflowed for len = 2^32."""
    return model([helper.make_node("CumSum", ["x", "a"], ["y"], name="cumsum")],
                 [vi("x", [2 ** 32])], [vi("y", None)], [init("a", np.int64(0))])


def hostile_conv_same():
    """SAME padding arithmetic on huge strides and dilations."""
    return model([helper.make_node("Conv", ["x", "w"], ["y"], auto_pad="SAME_UPPER",
                                   strides=[2 ** 62, 1], dilations=[2 ** 62, 1], name="conv")],
                 [vi("x", [1, 1, 4, 4]), vi("w", [1, 1, 3, 3])], [vi("y", None)])


def hostile_depth_to_space():
    """blocksize^2 overflowed."""
    return model([helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=2 ** 32, name="d2s")],
                 [vi("x", [1, 1, 1, 1])], [vi("y", None)])


def hostile_range_huge():
    """ceil((1e30 - 0) / 1) converted to int64: undefined."""
    return model([helper.make_node("Range", ["s", "l", "d"], ["y"], name="range")],
                 [], [vi("y", None)],
                 [init("s", np.float32(0)), init("l", np.float32(1e30)), init("d", np.float32(1))])


def hostile_range_nan():
    return model([helper.make_node("Range", ["s", "l", "d"], ["y"], name="range")],
                 [], [vi("y", None)],
                 [init("s", np.float32(0)), init("l", np.float32(np.inf)),
                  init("d", np.float32(np.inf))])


def hostile_range_int64():
    """start + i * delta overflowed int64 (and went through double); the
    values themselves all fit."""
    return model([helper.make_node("Range", ["s", "l", "d"], ["y"], name="range")],
                 [], [vi("y", None, I64)],
                 [init("s", np.int64(-2 ** 63)), init("l", np.int64(2 ** 63 - 1)),
                  init("d", np.int64(2 ** 62 + 1))])


def hostile_hardmax():
    """Hardmax built a 2^30-element index vector (8 GiB)."""
    return model([helper.make_node("Hardmax", ["x"], ["y"], name="hardmax")],
                 [vi("x", [2 ** 30])], [vi("y", None)])


def hostile_nll_classes():
    return model([helper.make_node("NegativeLogLikelihoodLoss", ["x", "t"], ["y"], name="nll")],
                 [vi("x", [1, 2 ** 30]), vi("t", [1], I64)], [vi("y", None)])


def of_shape(name, out, shape, dtype, value):
    return helper.make_node("ConstantOfShape", [name], [out],
                            value=helper.make_tensor("v", dtype, [1], [value]))


def hostile_shape_splat():
    """A Reshape target of 2^36 values (a ConstantOfShape splat) was read
    value by value."""
    return model([of_shape("n", "s", None, I64, 1),
                  helper.make_node("Reshape", ["x", "s"], ["y"], name="reshape")],
                 [vi("x", [1])], [vi("y", None)], [init("n", np.array([2 ** 36], np.int64))])


def hostile_float_shape():
    """A float shape of 1e30, converted to int64: undefined."""
    return model([helper.make_node("Reshape", ["x", "s"], ["y"], name="reshape")],
                 [vi("x", [1])], [vi("y", None)], [init("s", np.array([1e30], np.float32))])


def hostile_gather_splat():
    """Constant indices of 2^22 elements into a constant: the fold walked
    2^30 results. Now wrapped at run time, not folded."""
    return model([of_shape("n", "i", None, I64, 0),
                  helper.make_node("Gather", ["d", "i"], ["y"], name="gather")],
                 [], [vi("y", None)],
                 [init("n", np.array([2 ** 22], np.int64)), init("d", np.zeros((256, 256), np.float32))])


def hostile_slice_splat():
    """A slice of a 2^30-element splat copied every element out first."""
    return model([of_shape("n", "big", None, F, 0),
                  helper.make_node("Slice", ["big", "b", "e"], ["y"], name="slice")],
                 [], [vi("y", None)],
                 [init("n", np.array([2 ** 30], np.int64)), init("b", np.array([0], np.int64)),
                  init("e", np.array([3], np.int64))])


def hostile_lstm_hidden():
    """gates * hidden_size overflowed."""
    return model([helper.make_node("LSTM", ["x", "w", "r"], ["y"], hidden_size=2 ** 62, name="lstm")],
                 [vi("x", [1, 1, 1]), vi("w", [1, 4, 1]), vi("r", [1, 4, 1])], [vi("y", None)])


def hostile_lstm_steps():
    """An empty input of 2^20 steps: unrolled step by step, for minutes."""
    return model([helper.make_node("LSTM", ["x", "w", "r"], ["y"], hidden_size=1, name="lstm")],
                 [vi("x", [2 ** 20, 1, 0]), vi("w", [1, 4, 0]), vi("r", [1, 4, 1])],
                 [vi("y", None)])


# --- External data -------------------------------------------------------

def external_model(location, offset=None, length=None):
    t = TensorProto()
    t.name = "w"
    t.data_type = F
    t.dims.extend([2, 3])
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", offset), ("length", length)):
        if v is not None:
            e = t.external_data.add()
            e.key, e.value = k, str(v)
    return model([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
                 [vi("x", [2, 3])], [vi("y", [2, 3])], [t])


def write_external(outdir):
    """ext_*.onnx in OUTDIR/ext/, weights in OUTDIR/ext/weights.bin (a 16-byte
    header, then six floats 1..6) and attack cases."""
    d = os.path.join(outdir, "ext")
    os.makedirs(d, exist_ok=True)
    data = b"HEADER0123456789" + np.arange(1, 7, dtype=np.float32).tobytes()
    with open(os.path.join(d, "weights.bin"), "wb") as f:
        f.write(data)
    os.makedirs(os.path.join(d, "sub"), exist_ok=True)
    with open(os.path.join(d, "sub", "w.bin"), "wb") as f:
        f.write(np.arange(1, 7, dtype=np.float32).tobytes())
    outside = os.path.join(outdir, "outside.bin")
    with open(outside, "wb") as f:
        f.write(np.zeros(6, dtype=np.float32).tobytes())
    for name, target in (("link.bin", outside), ("inlink.bin", "weights.bin")):
        p = os.path.join(d, name)
        if os.path.lexists(p):
            os.remove(p)
        os.symlink(target, p)
    hard = os.path.join(d, "hard.bin")
    if os.path.lexists(hard):
        os.remove(hard)
    os.link(outside, hard)
    cases = {
        "ext_ok": ("weights.bin", 16, 24),
        "ext_subdir": ("sub/w.bin", None, None),
        "ext_inlink": ("inlink.bin", 16, 24),
        "ext_absolute": (outside, None, None),
        "ext_dotdot": ("../outside.bin", None, None),
        "ext_dotdot_inner": ("sub/../../outside.bin", None, None),
        "ext_symlink": ("link.bin", None, None),
        "ext_hardlink": ("hard.bin", None, None),
        "ext_missing": ("nothere.bin", None, None),
        "ext_offset": ("weights.bin", 100, None),
        "ext_length": ("weights.bin", 16, 1000),
        "ext_short": ("weights.bin", 16, 20),
        "ext_badnum": ("weights.bin", "-5", None),
    }
    for name, (loc, off, ln) in cases.items():
        onnx.save(external_model(loc, off, ln), os.path.join(d, name + ".onnx"))


# --- Raw bytes -----------------------------------------------------------

def write_bytes(outdir):
    with open(os.path.join(outdir, "garbage.onnx"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n this is not a protobuf \xff\xff\xff\xff")
    with open(os.path.join(outdir, "text.onnx"), "wb") as f:
        f.write(b"hello, I am a text file\n")
    full = mlp().SerializeToString()
    with open(os.path.join(outdir, "truncated.onnx"), "wb") as f:
        f.write(full[: len(full) // 2])
    with open(os.path.join(outdir, "empty.onnx"), "wb") as f:
        pass


MODELS = {k: v for k, v in globals().items()
          if callable(v) and (k in ("mlp", "cnn", "shape_chain", "softmax_opset11",
                                    "squeeze_opsets", "squeeze_opset13", "symbolic",
                                    "layernorm_gelu", "slice_reduce", "unordered",
                                    "attention_shape", "mod_float", "gather_scalar")
                              or k.startswith(("bad_", "hostile_")))}


def main():
    outdir, names = sys.argv[1], sys.argv[2:]
    os.makedirs(outdir, exist_ok=True)
    if not names or names == ["all"]:
        names = list(MODELS) + ["external", "bytes"]
    for name in names:
        if name == "external":
            write_external(outdir)
        elif name == "bytes":
            write_bytes(outdir)
        else:
            onnx.save(MODELS[name](), os.path.join(outdir, name + ".onnx"))


if __name__ == "__main__":
    main()
