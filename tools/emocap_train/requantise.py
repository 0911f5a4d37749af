#!/usr/bin/env python3
"""Re-quantise a shipped QDQ model from its own float weights, and take members out of ensembles.

    python tools/requantise.py --model models/small.onnx --out models/small.onnx \
        --manifest ../shared/data/ser/manifest.csv --manifest ../shared/data/asr/ko/emotion.csv

``float_graph`` turns a QDQ model back into a float one: every weight DequantizeLinear becomes
the float initializer it computes (so the float graph holds exactly the weights the INT8 model
uses) and every activation QuantizeLinear -> DequantizeLinear pair becomes the clamp it applies. That float model
is then quantised again by ``quantisation.quantise`` (7-bit weights, see there) with the calibration
windows export.py uses (training speakers only). ``member`` takes one member out of a model
joined by tools/ensemble.py (the large model's teacher), with the ensemble's contract metadata.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper, utils

from emocap_train import export, model_card, quantisation
from emocap_train import serdata
from emocap.emotion.model import INPUT, OUTPUT


def _dequantised(q: np.ndarray, scale: np.ndarray, zp: np.ndarray | None, axis: int) -> np.ndarray:
    shape = [1] * q.ndim
    if scale.ndim == 1 and q.ndim > 0:
        shape[axis] = -1
    zp = np.zeros_like(scale, dtype=np.int64) if zp is None else zp.astype(np.int64)
    return ((q.astype(np.int64) - zp.reshape(shape)) * scale.reshape(shape).astype(np.float64)).astype(np.float32)


def _clip(q: onnx.NodeProto, out: str, inits: dict, new_inits: dict) -> onnx.NodeProto:
    """A Q -> DQ pair without its rounding: the clamp to the range it can represent.

    The quantiser drops a Relu before a Q whose zero point is 0; this clamp puts it back.
    """
    scale = float(inits[q.input[1]])
    zp = int(inits[q.input[2]]) if len(q.input) > 2 and q.input[2] else 0
    info = np.iinfo(inits[q.input[2]].dtype) if len(q.input) > 2 and q.input[2] else np.iinfo(np.uint8)
    lo, hi = out + "_clip_lo", out + "_clip_hi"
    new_inits[lo] = np.array((info.min - zp) * scale, dtype=np.float32)
    new_inits[hi] = np.array((info.max - zp) * scale, dtype=np.float32)
    return onnx.helper.make_node("Clip", [q.input[0], lo, hi], [out], name=out + "_clip")


def float_graph(qdq: onnx.ModelProto) -> onnx.ModelProto:
    """The float model a QDQ model computes when its integer steps are exact (see module doc)."""
    m = onnx.ModelProto()
    m.CopyFrom(qdq)
    g = m.graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    new_inits, keep = {}, []
    producers = {o: n for n in g.node for o in n.output}
    for n in g.node:
        if n.op_type == "DequantizeLinear" and n.input[0] in inits:
            axis = next((a.i for a in n.attribute if a.name == "axis"), 1)
            zp = inits[n.input[2]] if len(n.input) > 2 and n.input[2] else None
            new_inits[n.output[0]] = _dequantised(inits[n.input[0]], inits[n.input[1]], zp, axis)
        elif n.op_type == "DequantizeLinear" and producers.get(n.input[0], n).op_type == "QuantizeLinear":
            keep.append(_clip(producers[n.input[0]], n.output[0], inits, new_inits))
        elif n.op_type != "QuantizeLinear":
            keep.append(n)
    used = {i for n in keep for i in n.input}
    del g.node[:]
    g.node.extend(keep)
    kept_inits = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(kept_inits + [numpy_helper.from_array(v, k) for k, v in new_inits.items() if k in used])
    onnx.checker.check_model(m)
    return m


def contract(m: onnx.ModelProto) -> dict:
    """What quantisation.calibration_windows needs of a checkpoint, read from the model's metadata."""
    meta = {p.key: p.value for p in m.metadata_props}
    return {"labels": json.loads(meta["labels"]), "mean": json.loads(meta["norm_mean"]),
            "std": json.loads(meta["norm_std"]), "features": json.loads(meta["features"]),
            "arch": meta.get("arch", "?")}


def member(ensemble_path: Path, index: int, out: Path, arch: str) -> None:
    """Member ``index`` of a tools/ensemble.py model, names unprefixed, contract metadata kept."""
    prefix = f"m{index}_"
    with tempfile.TemporaryDirectory() as tmp:
        part = Path(tmp) / "part.onnx"
        utils.extract_model(str(ensemble_path), str(part), [prefix + INPUT], [prefix + OUTPUT])
        m = onnx.load(str(part))
    strip = lambda s: s[len(prefix):] if s.startswith(prefix) else s  # noqa: E731
    for n in m.graph.node:
        n.name = strip(n.name)
        n.input[:] = [strip(i) for i in n.input]
        n.output[:] = [strip(o) for o in n.output]
    for v in list(m.graph.input) + list(m.graph.output) + list(m.graph.value_info):
        v.name = strip(v.name)
    for t in m.graph.initializer:
        t.name = strip(t.name)
    src = onnx.load(str(ensemble_path), load_external_data=False)
    del m.metadata_props[:]
    for p in src.metadata_props:
        m.metadata_props.add(key=p.key, value=arch if p.key == "arch" else p.value)
    del m.opset_import[:]
    m.opset_import.extend(src.opset_import)
    onnx.checker.check_model(m)
    model_card.drop_stale_card(out)
    onnx.save(m, str(out))
    card = ensemble_path.with_suffix(".json")
    if card.is_file():  # the ensemble's card says what the member is; ensemble.py reads it back
        entry = json.loads(card.read_text()).get("members", [])[index]
        model_card.save_card({**model_card.file_card(out, f"member {index} of {ensemble_path.name}"),
                              **{k: entry.get(k) for k in ("arch", "precision", "checkpoints", "training")}}, out)


def requantise(model: Path, out: Path, manifests, split, n_clips: int, float_out: Path | None = None) -> None:
    qdq = onnx.load(str(model))
    ckpt = contract(qdq)
    calib = quantisation.calibration_windows(ckpt, manifests, split, n_clips)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(float_out) if float_out else Path(tmp) / "float.onnx"
        onnx.save(float_graph(qdq), str(fp32))
        with contextlib.redirect_stdout(sys.stderr):  # onnxruntime prints its progress
            quantisation.quantise(fp32, out, calib)
        export.add_metadata(out, ckpt)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="QDQ model to re-quantise (or ensemble, with --member)")
    p.add_argument("--out", required=True)
    p.add_argument("--manifest", action="append", default=[])
    p.add_argument("--split", default=str(serdata.DEFAULT_SPLIT))
    p.add_argument("--calibration-clips", type=int, default=400)
    p.add_argument("--float-out", help="also keep the recovered float model here")
    p.add_argument("--member", type=int, help="write member N of an ensemble model instead")
    p.add_argument("--arch", default="?", help="arch metadata of the extracted member")
    args = p.parse_args(argv)
    if args.member is not None:
        member(Path(args.model), args.member, Path(args.out), args.arch)
    else:
        if not args.manifest:
            sys.exit("requantise: --manifest is needed for calibration windows")
        requantise(Path(args.model), Path(args.out), args.manifest, args.split, args.calibration_clips,
                   args.float_out)
    model_card.refresh_card(Path(args.out))
    print(f"wrote {args.out}")
    return 0
