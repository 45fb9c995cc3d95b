#!/usr/bin/env python3
"""Writes seeded random inputs for an ONNX model and onnxruntime's outputs.

    ort_reference.py MODEL.onnx OUTDIR  ->  OUTDIR/in_<k>.npy, OUTDIR/out_<k>.npy
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort

model_path, outdir = sys.argv[1], sys.argv[2]
os.makedirs(outdir, exist_ok=True)
model = onnx.load(model_path)
inits = {t.name for t in model.graph.initializer}
rng = np.random.default_rng(1)
feeds = {}
for k, i in enumerate(x for x in model.graph.input if x.name not in inits):
    shape = [d.dim_value for d in i.type.tensor_type.shape.dim]
    feeds[i.name] = rng.uniform(-1, 1, shape).astype(np.float32)
    np.save(os.path.join(outdir, f"in_{k}.npy"), feeds[i.name])
sess = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
for k, y in enumerate(sess.run(None, feeds)):
    np.save(os.path.join(outdir, f"out_{k}.npy"), y)
