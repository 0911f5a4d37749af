#!/usr/bin/env python3
"""Compare INT8 quantisation choices for one checkpoint on VALIDATION windows (never test).

    python tools/quant_compare.py --checkpoint runs/ckpt/small_mel_kd_s4/model.pt \
        --manifest ../shared/data/ser/manifest.csv --manifest ../shared/data/asr/ko/emotion.csv
    python tools/quant_compare.py --model models/small.onnx --manifest ...   # from a QDQ file

For each calibration method (min/max, percentile 99.99, entropy), 8-bit or 7-bit weights, and,
for a model with a log-mel front, with that front float or INT8, prints the share of
validation windows whose label the INT8 model keeps from its FP32 parent, and the largest
probability gap between its integer kernels and its float QDQ graph on this CPU, as one JSON
object. ``--model`` takes the float parent from a shipped QDQ file (tools/requantise.py).
tools/export.py uses the best 7-bit choice as its defaults.
"""
from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import sys
import tempfile
from pathlib import Path

import onnx

from emocap_train import export, quantisation
from emocap_train import serdata
from emocap.features import FeatureSettings


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint")
    src.add_argument("--model", help="a QDQ ONNX model; its dequantised weights are the float parent")
    p.add_argument("--manifest", action="append", required=True)
    p.add_argument("--split", default=str(serdata.DEFAULT_SPLIT))
    p.add_argument("--calibration-clips", type=int, default=400)
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        ckpt = float_parent(args, fp32)
        wins = serdata.clip_windows(serdata.part_clips(ckpt["labels"], args.manifest, args.split, "validation"), ckpt)
        calib = quantisation.calibration_windows(ckpt, args.manifest, args.split, args.calibration_clips)
        has_front = any(n.name.startswith(quantisation.FLOAT_FRONT) for n in onnx.load(str(fp32)).graph.node)
        agree, gap = {}, {}
        for method, float_front, reduce_range in itertools.product(
                ("minmax", "percentile", "entropy"), (True, False) if has_front else (True,), (True, False)):
            q = Path(tmp) / f"{method}_{float_front}_{reduce_range}.onnx"
            with contextlib.redirect_stdout(sys.stderr):  # onnxruntime prints its progress
                quantisation.quantise(fp32, q, calib, method, float_front, reduce_range)
            export.add_metadata(q, ckpt)
            name = (method + ("" if not has_front else ", front float" if float_front else ", front int8")
                    + (", 7-bit weights" if reduce_range else ", 8-bit weights"))
            agree[name] = round(quantisation.window_agreement(q, fp32, wins), 4)
            gap[name] = round(kernel_gap(q, wins), 4)
    print(json.dumps({"source": args.checkpoint or args.model, "validation_windows": int(len(wins)),
                      "agreement_with_fp32": agree, "max_prob_gap_integer_vs_float_qdq": gap}, indent=1))


def float_parent(args, fp32: Path) -> dict:
    """Write the float parent to ``fp32``; return its contract (labels, statistics, features)."""
    if args.model:
        from emocap_train import requantise

        onnx.save(requantise.float_graph(onnx.load(args.model)), str(fp32))
        return requantise.contract(onnx.load(args.model))
    model, ckpt = export.load_model([args.checkpoint])
    export.export_fp32(model, fp32, FeatureSettings.from_dict(ckpt["features"]))
    export.add_metadata(fp32, ckpt)
    return ckpt


def kernel_gap(path: Path, wins) -> float:
    """Largest window-probability gap between onnxruntime's integer kernels (default graph
    optimisation) and the same file run as float QDQ (optimisation off), on this CPU."""
    import numpy as np
    import onnxruntime as ort

    from emocap import features
    from emocap.emotion.model import EmotionModel

    m = EmotionModel(path)
    x = features.normalise(wins, m.mean, m.std)
    probs = []
    for level in (ort.GraphOptimizationLevel.ORT_ENABLE_ALL, ort.GraphOptimizationLevel.ORT_DISABLE_ALL):
        opts = ort.SessionOptions()
        opts.graph_optimization_level = level
        s = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        probs.append(features.softmax(s.run(None, {"mfcc": x})[0]))
    return float(np.abs(probs[0] - probs[1]).max())
