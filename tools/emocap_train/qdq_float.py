"""An FP32 twin of a QDQ INT8 ONNX model: the same graph with float compute.

A static-INT8 model in QDQ form holds each weight as int8 + scale + zero point behind a
DequantizeLinear, and each quantised activation as a QuantizeLinear -> DequantizeLinear pair.
Here every DequantizeLinear of a constant is folded into a float32 initializer
((q - zero_point) * scale, per channel along its axis), and every activation pair is removed
(its consumers read the float tensor; a range that starts at 0, where the quantiser folded a
Relu away, becomes that Relu again). What is left is the float graph the quantiser started
from, with the weights as INT8 rounded them: timing it beside the INT8 model measures what
the 8-bit kernels buy on this CPU, with identical work otherwise. It is not the float parent
checkpoint (that one is not shipped), so its outputs differ from it by the weights' rounding.

    python tools/qdq_float.py models/small.onnx --out /tmp/small_fp32.onnx
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def _dequantize(q: np.ndarray, scale: np.ndarray, zero: np.ndarray | None, axis: int) -> np.ndarray:
    zero = np.zeros_like(scale, dtype=np.int64) if zero is None else zero.astype(np.int64)
    if scale.ndim == 1 and scale.size > 1:  # per channel: broadcast along ``axis``
        shape = [1] * q.ndim
        shape[axis] = scale.size
        scale, zero = scale.reshape(shape), zero.reshape(shape)
    return ((q.astype(np.int64) - zero) * scale).astype(np.float32)


def _clips_at_zero(q: onnx.NodeProto, inits: dict) -> bool:
    """Whether a QuantizeLinear's range starts at 0.0 (zero point at the type's minimum): the
    form onnxruntime's quantiser gives a Conv/Gemm whose Relu it removed."""
    zero = inits.get(q.input[2]) if len(q.input) > 2 else None
    return zero is not None and np.all(zero == np.iinfo(zero.dtype).min)


def _axis(node: onnx.NodeProto) -> int:
    return next((a.i for a in node.attribute if a.name == "axis"), 1)


def _fold(g: onnx.GraphProto, inits: dict) -> tuple[list, dict[str, str], list[onnx.TensorProto]]:
    """The nodes to keep, the tensors to read instead of others, and the folded weights."""
    rename: dict[str, str] = {}  # tensor read by consumers -> the float tensor to read instead
    folded: list[onnx.TensorProto] = []
    keep = []
    producers = {o: n for n in g.node for o in n.output}
    for n in g.node:
        if n.op_type == "DequantizeLinear" and n.input[0] in inits:
            zero = inits.get(n.input[2]) if len(n.input) > 2 and n.input[2] else None
            w = _dequantize(inits[n.input[0]], inits[n.input[1]], zero, _axis(n))
            folded.append(numpy_helper.from_array(w, n.output[0]))
        elif n.op_type == "DequantizeLinear" and producers.get(n.input[0], n).op_type == "QuantizeLinear":
            q = producers[n.input[0]]
            if _clips_at_zero(q, inits):  # the quantiser dropped a Relu into this range: restore it
                keep.append(onnx.helper.make_node("Relu", [q.input[0]], [n.output[0] + "_relu"]))
                rename[n.output[0]] = n.output[0] + "_relu"
            else:
                rename[n.output[0]] = q.input[0]
        elif n.op_type == "QuantizeLinear":
            continue  # its DequantizeLinear is bypassed above; nothing else may read int8
        else:
            keep.append(n)
    return keep, rename, folded


def float_model(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of ``model`` with its QDQ nodes folded away (see the module docstring)."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    g = model.graph
    keep, rename, folded = _fold(g, {i.name: numpy_helper.to_array(i) for i in g.initializer})
    for n in keep:
        for i, name in enumerate(n.input):
            while name in rename:
                name = rename[name]
            n.input[i] = name
    for o in g.output:  # a graph output behind a QDQ pair keeps its name
        if o.name in rename:
            src = rename[o.name]
            while src in rename:
                src = rename[src]
            keep.append(onnx.helper.make_node("Identity", [src], [o.name]))
    used = {i for n in keep for i in n.input}
    g.ClearField("node")
    g.node.extend(keep)
    old = [i for i in g.initializer if i.name in used and i.name not in {f.name for f in folded}]
    g.ClearField("initializer")
    g.initializer.extend(old + [f for f in folded if f.name in used])
    g.ClearField("value_info")
    onnx.checker.check_model(model)
    return model


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="QDQ INT8 ONNX model")
    p.add_argument("--out", required=True, help="FP32 ONNX file to write")
    args = p.parse_args(argv)
    onnx.save(float_model(onnx.load(args.model)), args.out)
    return 0
