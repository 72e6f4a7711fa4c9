#!/usr/bin/env python3
"""Writes a SkipScope weights file (safetensors) as a standard ONNX model.

    pip install -r python/requirements-onnx.txt
    python3 python/onnx_export.py www/models/camvid-transposed-add.safetensors out.onnx

The graph is the engine's inference pass (crates/engine/src/model.rs), batch norm folded
into each convolution as the engine folds it:

- input  `x`:      float32 `[1, 3, H, W]`, already normalised (`(pixel / 255 - mean) / std`,
  the file's `normalization`); H and W multiples of `2^depth`, free (dynamic axes);
- output `scores`: float32 `[1, n_classes, H, W]`, the class scores before softmax.

Layout conversions (the engine is NHWC, ONNX is NCHW): conv weights `[KH, KW, C_in, C_out]`
-> `[C_out, C_in, KH, KW]`; transposed-conv weights `[C_in, KH, KW, C_out]` ->
`[C_in, C_out, KH, KW]`. Max unpooling uses ONNX MaxPool's indices (flat over N, C, H, W),
which MaxUnpool reads back; bilinear x2 is Resize with `half_pixel` (PyTorch's
`align_corners=False`).
"""

import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file
from safetensors import safe_open

BN_EPS = 1e-5  # crates/engine/src/layers/batch_norm.rs EPS
OPSET = 17


def read(path):
    """(tensors as float32, config dict) of a SkipScope weights file."""
    with safe_open(path, "np") as f:
        meta = f.metadata() or {}
    if meta.get("format") != "skipscope":
        raise SystemExit(f"{path}: not a SkipScope weights file (no format=skipscope in its metadata)")
    tensors = {k: v.astype(np.float32) for k, v in load_file(path).items()}
    return tensors, json.loads(meta["config"])


class Graph:
    """Collects nodes and initialisers; every value gets a unique name."""

    def __init__(self, tensors):
        self.t = tensors
        self.nodes = []
        self.inits = []

    def init(self, name, array):
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    def node(self, op, inputs, name, outputs=1, **attrs):
        outs = [name] if outputs == 1 else [f"{name}:{i}" for i in range(outputs)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=name, **attrs))
        return outs[0] if outputs == 1 else outs

    def conv(self, x, prefix, bn=None, relu=False):
        """`prefix.weight` `[KH, KW, C_in, C_out]` + `prefix.bias`, batch norm `bn` folded in."""
        w = self.t[f"{prefix}.weight"].transpose(3, 2, 0, 1)
        b = self.t[f"{prefix}.bias"]
        if bn is not None:
            scale = self.t[f"{bn}.weight"] / np.sqrt(self.t[f"{bn}.running_var"] + BN_EPS)
            w = w * scale[:, None, None, None]
            b = (b - self.t[f"{bn}.running_mean"]) * scale + self.t[f"{bn}.bias"]
        k = w.shape[2]
        pad = (k - 1) // 2
        y = self.node("Conv", [x, self.init(f"{prefix}.w", w), self.init(f"{prefix}.b", b)], prefix, kernel_shape=[k, k], pads=[pad] * 4)
        return self.node("Relu", [y], f"{prefix}.relu") if relu else y

    def double_conv(self, x, prefix):
        h = self.conv(x, f"{prefix}.conv1", f"{prefix}.bn1", relu=True)
        return self.conv(h, f"{prefix}.conv2", f"{prefix}.bn2", relu=True)

    def transposed(self, x, prefix):
        w = self.t[f"{prefix}.weight"].transpose(0, 3, 1, 2)
        b = self.t[f"{prefix}.bias"]
        k = w.shape[2]
        pad = (k - 2) // 2  # k4 s2 p1 and k2 s2 p0 both double the size
        return self.node("ConvTranspose", [x, self.init(f"{prefix}.w", w), self.init(f"{prefix}.b", b)], prefix, kernel_shape=[k, k], strides=[2, 2], pads=[pad] * 4)


def build(tensors, config):
    g = Graph(tensors)
    depth, upsample, skip = config["depth"], config["upsample"], config["skip"]
    h = "x"
    skips, indices = [], []
    for k in range(depth):
        e = g.double_conv(h, f"enc.{k}")
        pooled, idx = g.node("MaxPool", [e], f"pool.{k}", outputs=2, kernel_shape=[2, 2], strides=[2, 2])
        skips.append(e)
        indices.append(idx)
        h = pooled
    h = g.double_conv(h, "bottleneck")
    scales = g.init("scales_x2", np.array([1, 1, 2, 2], dtype=np.float32)) if upsample == "bilinear" else None
    for k in reversed(range(depth)):
        e = skips[k]
        if upsample == "unpool":
            shape = g.node("Shape", [e], f"dec.{k}.target_shape")
            up = g.node("MaxUnpool", [h, indices[k], shape], f"dec.{k}.unpool", kernel_shape=[2, 2], strides=[2, 2])
        elif upsample == "transposed":
            up = g.transposed(h, f"dec.{k}.up")
        elif upsample == "bilinear":
            up = g.node("Resize", [h, "", scales], f"dec.{k}.bilinear", mode="linear", coordinate_transformation_mode="half_pixel")
        else:
            raise SystemExit(f"unknown upsample {upsample!r}")
        if skip == "none":
            fused = up
        elif skip == "add":
            fused = g.node("Add", [up, g.conv(e, f"dec.{k}.proj")], f"dec.{k}.add")
        elif skip == "concat":
            fused = g.node("Concat", [up, e], f"dec.{k}.concat", axis=1)
        else:
            raise SystemExit(f"unknown skip {skip!r}")
        h = g.double_conv(fused, f"dec.{k}")
    scores = g.conv(h, "head")
    g.nodes.append(helper.make_node("Identity", [scores], ["scores"], name="scores"))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, config["in_channels"], "H", "W"])
    y = helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, config["n_classes"], "H", "W"])
    name = f"skipscope {upsample}-{skip} depth {depth} width {config['width']}"
    model = helper.make_model(helper.make_graph(g.nodes, name, [x], [y], g.inits), opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def export(weights_path, onnx_path):
    tensors, config = read(weights_path)
    onnx.save(build(tensors, config), onnx_path)
    return config


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    config = export(sys.argv[1], sys.argv[2])
    print(f"wrote {sys.argv[2]} ({config['upsample']}-{config['skip']}, depth {config['depth']}, width {config['width']})")
