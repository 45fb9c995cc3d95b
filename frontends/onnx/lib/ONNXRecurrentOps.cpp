//===- ONNXRecurrentOps.cpp - LSTM, GRU and RNN, unrolled -----------------===//
//
// Kiln graphs are static, so a recurrent layer over a sequence of known
// length unrolls into one step per time step. The input projection of all
// steps is one matmul up front ([seq * batch, I] x W^T); each step adds the
// recurrent matmul and applies the gates, all kiln ops that elementwise
// fusion merges per step. Gate orders follow ONNX: LSTM i, o, f, c; GRU
// z, r, h. Supported: directions forward, reverse and bidirectional; layout
// 0 and 1; initial states; LSTM peepholes; clip; activations Sigmoid, Tanh
// and Relu. Not supported (refused with a message): sequence_lens that
// differ from the sequence length, input_forget, other activations.
//
//===----------------------------------------------------------------------===//
#include "ONNXConvert.h"

namespace mlir::kiln::onnx {
namespace {

enum class Kind { LSTM, GRU, RNN };

/// The most steps unrolled, directions together (a bidirectional GRU of
/// 4096 steps imports in about 6 s under ASan).
constexpr int64_t kMaxSteps = 4096;

struct Recurrent {
  I &im;
  Node &n;
  Kind kind;
  int64_t hidden = 0, seq = 0, batch = 0, inputSize = 0, dirs = 1, gates = 1;
  int64_t layout = 0;
  std::optional<double> clip;
  SmallVector<std::string> activations;
  std::string direction;

  Location loc() const { return n.loc; }

  FailureOr<Value> sliceAxis(Value v, int64_t axis, int64_t start, int64_t end) {
    auto shape = I::shapeOf(v);
    if (start == 0 && end == shape[axis])
      return v;
    SmallVector<int64_t> starts(shape.size(), 0), ends(shape);
    starts[axis] = start;
    ends[axis] = end;
    return im.make<SliceOp>(loc(), v,
                            {im.b.getNamedAttr("starts", im.b.getDenseI64ArrayAttr(starts)),
                             im.b.getNamedAttr("ends", im.b.getDenseI64ArrayAttr(ends))});
  }

  /// Row `d` of a [dirs, ...] tensor without its leading dim.
  FailureOr<Value> dirSlice(Value v, int64_t d) {
    KILN_TRY(s, sliceAxis(v, 0, d, d + 1));
    return im.reshape(loc(), s, I::shapeOf(s).drop_front());
  }

  FailureOr<Value> binary(StringRef op, Value a, Value b) {
    if (op == "add")
      return im.make<AddOp>(loc(), ValueRange{a, b});
    if (op == "sub")
      return im.make<SubOp>(loc(), ValueRange{a, b});
    return im.make<MulOp>(loc(), ValueRange{a, b});
  }

  FailureOr<Value> activate(StringRef name, Value v) {
    if (clip) {
      KILN_TRY(c, im.make<ClipOp>(loc(), v,
                                  {im.b.getNamedAttr("min", im.b.getF64FloatAttr(-*clip)),
                                   im.b.getNamedAttr("max", im.b.getF64FloatAttr(*clip))}));
      v = c;
    }
    if (name == "Sigmoid")
      return im.make<SigmoidOp>(loc(), v);
    if (name == "Tanh")
      return im.make<TanhOp>(loc(), v);
    if (name == "Relu")
      return im.make<ReluOp>(loc(), v);
    return emitError(loc()) << "activation '" << name << "' is not supported";
  }

  LogicalResult readAttributes() {
    KILN_TRY(h, im.requireInt(n, "hidden_size"));
    // Bounded before gates * hidden and the [batch, hidden] states are formed.
    if (h < 1 || h > kMaxTensorBytes)
      return emitError(loc()) << "hidden_size " << h << " is out of range";
    hidden = h;
    KILN_TRY(dir, im.getString(n, "direction", "forward"));
    direction = dir;
    if (direction == "bidirectional")
      dirs = 2;
    else if (direction != "forward" && direction != "reverse")
      return emitError(loc()) << "direction '" << direction << "' is not valid";
    KILN_TRY(l, im.getInt(n, "layout", 0));
    layout = l;
    if (const auto *a = im.attr(n, "clip")) {
      (void)a;
      KILN_TRY(c, im.getFloat(n, "clip", 0));
      clip = c;
    }
    KILN_TRY(inputForget, im.getInt(n, "input_forget", 0));
    if (inputForget)
      return emitError(loc()) << "input_forget = 1 is not supported";
    SmallVector<std::string> dflt;
    if (kind == Kind::LSTM)
      dflt = {"Sigmoid", "Tanh", "Tanh"};
    else if (kind == Kind::GRU)
      dflt = {"Sigmoid", "Tanh"};
    else
      dflt = {"Tanh"};
    if (const auto *a = im.attr(n, "activations")) {
      for (const auto &s : a->strings())
        activations.push_back(s);
      if (activations.size() != dflt.size() * size_t(dirs))
        return emitError(loc()) << "activations needs " << dflt.size() * dirs
                                << " names, got " << activations.size();
    } else {
      for (int64_t d = 0; d < dirs; ++d)
        activations.append(dflt.begin(), dflt.end());
    }
    if (im.attr(n, "activation_alpha") || im.attr(n, "activation_beta"))
      return emitError(loc()) << "activation_alpha/beta are not supported";
    gates = kind == Kind::LSTM ? 4 : kind == Kind::GRU ? 3 : 1;
    return success();
  }

  LogicalResult run() {
    if (failed(readAttributes()))
      return failure();
    for (unsigned i = 0; i < 3; ++i)
      if (!n.hasInput(i))
        return emitError(loc()) << "expects input #" << i << ", which is missing";
    Value x = n.in(0), w = n.in(1), r = n.in(2);
    if (I::rankOf(x) != 3)
      return emitError(loc()) << "X must have rank 3";
    if (layout) {
      KILN_TRY(t, im.make<TransposeOp>(loc(), x,
                                       {im.b.getNamedAttr("permutation",
                                                          im.b.getDenseI64ArrayAttr({1, 0, 2}))}));
      x = t;
    }
    seq = I::shapeOf(x)[0];
    batch = I::shapeOf(x)[1];
    inputSize = I::shapeOf(x)[2];
    // Each step becomes a dozen ops: an empty input of 2^38 steps would
    // never finish importing.
    if (seq * dirs > kMaxSteps)
      return emitError(loc()) << "the sequence has " << seq << " steps"
                              << (dirs > 1 ? " in each of 2 directions" : "")
                              << "; Kiln unrolls at most " << kMaxSteps << " steps";
    auto expect = [&](Value v, ArrayRef<int64_t> shape, StringRef what) -> LogicalResult {
      if (I::shapeOf(v) != shape)
        return emitError(loc()) << what << " must have shape ["
                                << llvm::make_range(shape.begin(), shape.end()) << "]";
      return success();
    };
    if (failed(expect(w, {dirs, gates * hidden, inputSize}, "W")) ||
        failed(expect(r, {dirs, gates * hidden, hidden}, "R")))
      return failure();
    if (n.hasInput(4)) {
      KILN_TRY(lens, im.constInts(n, n.in(4), "sequence_lens"));
      for (int64_t len : lens)
        if (len != seq)
          return emitError(loc()) << "sequence_lens other than the sequence "
                                     "length are not supported";
    }
    // Initial states: [dirs, batch, H] (layout 1: [batch, dirs, H]).
    auto state = [&](unsigned i) -> FailureOr<Value> {
      if (!n.hasInput(i))
        return Value();
      Value v = n.in(i);
      if (layout) {
        KILN_TRY(t, im.make<TransposeOp>(loc(), v,
                                         {im.b.getNamedAttr("permutation",
                                                            im.b.getDenseI64ArrayAttr({1, 0, 2}))}));
        v = t;
      }
      if (failed(expect(v, {dirs, batch, hidden}, "initial state")))
        return failure();
      return v;
    };
    KILN_TRY(h0, state(5));
    Value c0;
    if (kind == Kind::LSTM) {
      KILN_TRY(c, state(6));
      c0 = c;
    }

    Type et = I::typeOf(x).getElementType();
    KILN_TRY(xFlat, im.reshape(loc(), x, {seq * batch, inputSize}));
    SmallVector<Value> ys(dirs), lastH(dirs), lastC(dirs);
    for (int64_t d = 0; d < dirs; ++d) {
      bool reverse = direction == "reverse" || d == 1;
      ArrayRef<std::string> act = ArrayRef<std::string>(activations)
                                      .slice(size_t(d) * (activations.size() / dirs),
                                             activations.size() / dirs);
      KILN_TRY(wd, dirSlice(w, d));
      KILN_TRY(rd, dirSlice(r, d));
      // Input projection for all steps, plus the input bias Wb.
      KILN_TRY(xw, im.make<MatmulOp>(loc(), ValueRange{xFlat, wd},
                                     {im.b.getNamedAttr("transpose_rhs", im.b.getBoolAttr(true))}));
      Value wb, rb;
      if (n.hasInput(3)) {
        KILN_TRY(bd, dirSlice(n.in(3), d));
        if (I::shapeOf(bd) != ArrayRef<int64_t>{2 * gates * hidden})
          return emitError(loc()) << "B must have shape [" << dirs << ", "
                                  << 2 * gates * hidden << "]";
        KILN_TRY(wbv, sliceAxis(bd, 0, 0, gates * hidden));
        KILN_TRY(rbv, sliceAxis(bd, 0, gates * hidden, 2 * gates * hidden));
        wb = wbv, rb = rbv;
        KILN_TRY(xwb, binary("add", xw, wb));
        xw = xwb;
      }
      KILN_TRY(xws, im.reshape(loc(), xw, {seq, batch, gates * hidden}));
      Value h, c;
      if (h0) {
        KILN_TRY(v, dirSlice(h0, d));
        h = v;
      } else {
        h = im.splat(et, 0.0, {batch, hidden});
      }
      if (kind == Kind::LSTM) {
        if (c0) {
          KILN_TRY(v, dirSlice(c0, d));
          c = v;
        } else {
          c = im.splat(et, 0.0, {batch, hidden});
        }
      }
      Value peep;
      if (kind == Kind::LSTM && n.hasInput(7)) {
        KILN_TRY(p, dirSlice(n.in(7), d));
        peep = p;
      }
      // GRU keeps the candidate's recurrent weights apart (the reset gate
      // applies before or after them).
      Value rzr = rd, rh, rbzr = rb, rbh;
      if (kind == Kind::GRU) {
        KILN_TRY(a, sliceAxis(rd, 0, 0, 2 * hidden));
        KILN_TRY(bb, sliceAxis(rd, 0, 2 * hidden, 3 * hidden));
        rzr = a, rh = bb;
        if (rb) {
          KILN_TRY(a2, sliceAxis(rb, 0, 0, 2 * hidden));
          KILN_TRY(b2, sliceAxis(rb, 0, 2 * hidden, 3 * hidden));
          rbzr = a2, rbh = b2;
        }
      }
      KILN_TRY(lbr, im.getInt(n, "linear_before_reset", 0));
      SmallVector<Value> steps(seq);
      for (int64_t i = 0; i < seq; ++i) {
        int64_t t = reverse ? seq - 1 - i : i;
        KILN_TRY(xt3, sliceAxis(xws, 0, t, t + 1));
        KILN_TRY(xt, im.reshape(loc(), xt3, {batch, gates * hidden}));
        KILN_TRY(hr, im.make<MatmulOp>(loc(), ValueRange{h, rzr},
                                       {im.b.getNamedAttr("transpose_rhs", im.b.getBoolAttr(true))}));
        if (rbzr) {
          KILN_TRY(v, binary("add", hr, rbzr));
          hr = v;
        }
        if (kind == Kind::RNN) {
          KILN_TRY(s, binary("add", xt, hr));
          KILN_TRY(hn, activate(act[0], s));
          h = hn;
        } else if (kind == Kind::LSTM) {
          KILN_TRY(s, binary("add", xt, hr));
          auto gate = [&](int k) { return sliceAxis(s, 1, k * hidden, (k + 1) * hidden); };
          KILN_TRY(gi, gate(0));
          KILN_TRY(go, gate(1));
          KILN_TRY(gf, gate(2));
          KILN_TRY(gc, gate(3));
          if (peep) {
            KILN_TRY(pi, sliceAxis(peep, 0, 0, hidden));
            KILN_TRY(pf, sliceAxis(peep, 0, 2 * hidden, 3 * hidden));
            KILN_TRY(a, binary("mul", pi, c));
            KILN_TRY(b2, binary("mul", pf, c));
            KILN_TRY(gi2, binary("add", gi, a));
            KILN_TRY(gf2, binary("add", gf, b2));
            gi = gi2, gf = gf2;
          }
          KILN_TRY(it, activate(act[0], gi));
          KILN_TRY(ft, activate(act[0], gf));
          KILN_TRY(ct, activate(act[1], gc));
          KILN_TRY(fc, binary("mul", ft, c));
          KILN_TRY(ic, binary("mul", it, ct));
          KILN_TRY(cn, binary("add", fc, ic));
          if (peep) {
            KILN_TRY(po, sliceAxis(peep, 0, hidden, 2 * hidden));
            KILN_TRY(a, binary("mul", po, cn));
            KILN_TRY(go2, binary("add", go, a));
            go = go2;
          }
          KILN_TRY(ot, activate(act[0], go));
          KILN_TRY(hc, activate(act[2], cn));
          KILN_TRY(hn, binary("mul", ot, hc));
          h = hn, c = cn;
        } else {
          KILN_TRY(xzr, sliceAxis(xt, 1, 0, 2 * hidden));
          KILN_TRY(xh, sliceAxis(xt, 1, 2 * hidden, 3 * hidden));
          KILN_TRY(s, binary("add", xzr, hr));
          KILN_TRY(sz, sliceAxis(s, 1, 0, hidden));
          KILN_TRY(sr, sliceAxis(s, 1, hidden, 2 * hidden));
          KILN_TRY(z, activate(act[0], sz));
          KILN_TRY(rt, activate(act[0], sr));
          Value cand;
          if (lbr) {
            KILN_TRY(hh, im.make<MatmulOp>(loc(), ValueRange{h, rh},
                                           {im.b.getNamedAttr("transpose_rhs", im.b.getBoolAttr(true))}));
            if (rbh) {
              KILN_TRY(v, binary("add", hh, rbh));
              hh = v;
            }
            KILN_TRY(m, binary("mul", rt, hh));
            KILN_TRY(a, binary("add", xh, m));
            cand = a;
          } else {
            KILN_TRY(rh2, binary("mul", rt, h));
            KILN_TRY(hh, im.make<MatmulOp>(loc(), ValueRange{rh2, rh},
                                           {im.b.getNamedAttr("transpose_rhs", im.b.getBoolAttr(true))}));
            if (rbh) {
              KILN_TRY(v, binary("add", hh, rbh));
              hh = v;
            }
            KILN_TRY(a, binary("add", xh, hh));
            cand = a;
          }
          KILN_TRY(ht, activate(act[1], cand));
          // (1 - z) * ht + z * h = ht + z * (h - ht)
          KILN_TRY(diff, binary("sub", h, ht));
          KILN_TRY(zd, binary("mul", z, diff));
          KILN_TRY(hn, binary("add", ht, zd));
          h = hn;
        }
        KILN_TRY(h3, im.reshape(loc(), h, {1, batch, hidden}));
        steps[t] = h3;
      }
      if (seq == 0)
        return emitError(loc()) << "an empty sequence is not supported";
      KILN_TRY(y, seq == 1 ? FailureOr<Value>(steps[0])
                           : im.make<ConcatOp>(loc(), steps,
                                               {im.b.getNamedAttr("axis", im.b.getI64IntegerAttr(0))}));
      ys[d] = y;
      lastH[d] = h;
      lastC[d] = c;
    }
    // Y: [seq, dirs, batch, H]; Y_h, Y_c: [dirs, batch, H].
    auto stack = [&](ArrayRef<Value> vs, ArrayRef<int64_t> each, int64_t axis,
                     ArrayRef<int64_t> shape) -> FailureOr<Value> {
      SmallVector<Value> parts;
      for (Value v : vs) {
        KILN_TRY(p, im.reshape(loc(), v, each));
        parts.push_back(p);
      }
      Value out = parts[0];
      if (parts.size() > 1) {
        KILN_TRY(c, im.make<ConcatOp>(loc(), parts,
                                      {im.b.getNamedAttr("axis", im.b.getI64IntegerAttr(axis))}));
        out = c;
      }
      return im.reshape(loc(), out, shape);
    };
    auto toLayout = [&](Value v, ArrayRef<int64_t> perm) -> FailureOr<Value> {
      if (!layout)
        return v;
      return im.make<TransposeOp>(loc(), v,
                                  {im.b.getNamedAttr("permutation", im.b.getDenseI64ArrayAttr(perm))});
    };
    if (n.wantsOutput(0)) {
      KILN_TRY(y, stack(ys, {seq, 1, batch, hidden}, 1, {seq, dirs, batch, hidden}));
      KILN_TRY(yl, toLayout(y, {2, 0, 1, 3}));
      n.results[0] = yl;
    }
    if (n.wantsOutput(1)) {
      KILN_TRY(yh, stack(lastH, {1, batch, hidden}, 0, {dirs, batch, hidden}));
      KILN_TRY(yl, toLayout(yh, {1, 0, 2}));
      n.results[1] = yl;
    }
    if (kind == Kind::LSTM && n.wantsOutput(2)) {
      KILN_TRY(yc, stack(lastC, {1, batch, hidden}, 0, {dirs, batch, hidden}));
      KILN_TRY(yl, toLayout(yc, {1, 0, 2}));
      n.results[2] = yl;
    }
    return success();
  }
};

} // namespace

void addRecurrentConverters(llvm::StringMap<Converter> &table) {
  table["LSTM"] = [](I &im, Node &n) { return Recurrent{im, n, Kind::LSTM}.run(); };
  table["GRU"] = [](I &im, Node &n) { return Recurrent{im, n, Kind::GRU}.run(); };
  table["RNN"] = [](I &im, Node &n) { return Recurrent{im, n, Kind::RNN}.run(); };
}

} // namespace mlir::kiln::onnx
