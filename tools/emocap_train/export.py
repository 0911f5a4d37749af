#!/usr/bin/env python3
"""Export a trained checkpoint to ONNX (opset 17) with its metadata and a model card.

    python tools/export.py --checkpoint runs/small/model.pt --out models/small.onnx --int8 \
        --manifest ../shared/data/ser/manifest.csv --manifest ../shared/data/asr/ko/emotion.csv

Input ``mfcc`` [batch, 1, 40, 128], output ``logits`` [batch, 7], dynamic batch. ``--int8``
quantises statically (QDQ, per-channel weights) with calibration windows from training
speakers only. Labels, normalisation statistics and feature settings go into the ONNX
metadata and into ``<out>.json`` (the model card), with test-split metrics when
``--manifest`` is given. The quantisation is emocap_train/quantisation.py's, the card
emocap_train/model_card.py's; this module exports, stores weights and writes the metadata.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch

from emocap_train import model_card, quantisation, ser_models, serdata
from emocap.emotion.model import INPUT, META_FEATURES, META_LABELS, META_MEAN, META_STD, OUTPUT, EmotionModel
from emocap.features import FeatureSettings

OPSET = 17


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, action="append",
                   help="model.pt written by tools/train.py; several make an ensemble (mean probabilities)")
    p.add_argument("--out", required=True, help="ONNX file to write; the card goes beside it as .json")
    p.add_argument("--int8", action="store_true", help="static INT8 (QDQ) quantisation")
    p.add_argument("--fp16", action="store_true",
                   help="store weights as float16 (cast to float32 when loaded; halves the file)")
    p.add_argument("--manifest", action="append", default=[], help="manifests for calibration and test metrics")
    p.add_argument("--split", default=str(serdata.DEFAULT_SPLIT))
    p.add_argument("--calibration-clips", type=int, default=400, help="training clips for INT8 calibration")
    p.add_argument("--noise", action="append", default=[], help="unseen-noise folders for the robustness metric")
    p.add_argument("--skip-metrics", action="store_true",
                   help="no test-split metrics or agreement in the card (quick exports, smoke tests)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--description", default="", help="one line for the card")
    return p.parse_args(argv)


def export_fp32(model: torch.nn.Module, path: Path, settings: FeatureSettings) -> None:
    dummy = torch.zeros(2, 1, settings.numcep, settings.frames)
    torch.onnx.export(
        model, dummy, str(path), input_names=[INPUT], output_names=[OUTPUT], opset_version=OPSET,
        dynamic_axes={INPUT: {0: "batch"}, OUTPUT: {0: "batch"}}, do_constant_folding=True, dynamo=False,
    )


def load_model(paths: list[str]) -> tuple[torch.nn.Module, dict]:
    """One checkpoint, or an ensemble of several that share labels, statistics and features."""
    ckpts = [torch.load(p, map_location="cpu", weights_only=False) for p in paths]
    models = []
    for c in ckpts:
        m = ser_models.build(c["arch"], len(c["labels"]))
        m.load_state_dict(c["state_dict"])
        models.append(m.eval())
    first = ckpts[0]
    for p, c in zip(paths[1:], ckpts[1:]):
        same = (c["labels"] == first["labels"] and c["features"] == first["features"]
                and np.allclose(c["mean"], first["mean"]) and np.allclose(c["std"], first["std"]))
        if not same:
            sys.exit(f"export: {p} differs from {paths[0]} in labels, statistics or features; cannot ensemble")
    if len(models) == 1:
        return models[0], first
    arch = "ensemble(" + ",".join(c["arch"] for c in ckpts) + ")"
    meta = {**first, "arch": arch, "epoch": [c.get("epoch") for c in ckpts]}
    return ser_models.Ensemble(models).eval(), meta


def store_fp16(path: Path) -> None:
    """Float32 weights -> float16 initializers, each followed by a Cast back to float32.

    onnxruntime folds the casts when it loads the model, so inference stays float32; only
    the file shrinks (and the weights are rounded to float16).
    """
    from onnx import helper, numpy_helper

    m = onnx.load(str(path))
    g = m.graph
    casts, inits = [], []
    for t in g.initializer:
        arr = numpy_helper.to_array(t)
        if t.data_type == onnx.TensorProto.FLOAT and arr.size > 64:
            inits.append(numpy_helper.from_array(arr.astype(np.float16), t.name + "_fp16"))
            casts.append(helper.make_node("Cast", [t.name + "_fp16"], [t.name], to=onnx.TensorProto.FLOAT))
        else:
            inits.append(t)
    del g.initializer[:]
    g.initializer.extend(inits)
    for i, n in enumerate(casts):
        g.node.insert(i, n)
    onnx.save(m, str(path))


def add_metadata(path: Path, ckpt: dict) -> None:
    m = onnx.load(str(path))
    meta = {
        META_LABELS: json.dumps(ckpt["labels"]),
        META_MEAN: json.dumps([round(float(v), 6) for v in ckpt["mean"]]),
        META_STD: json.dumps([round(float(v), 6) for v in ckpt["std"]]),
        META_FEATURES: json.dumps(ckpt["features"]),
        "arch": ckpt["arch"],
    }
    del m.metadata_props[:]
    for k, v in meta.items():
        m.metadata_props.add(key=k, value=v)
    m.producer_name = "emocap tools/export.py"
    onnx.save(m, str(path))


def main(argv=None) -> int:
    args = parse_args(argv)
    model, ckpt = load_model(args.checkpoint)
    settings = FeatureSettings.from_dict(ckpt["features"])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    card: dict = {}
    if args.int8:  # read the data first: bad input must not cost the old model its card
        if not args.manifest:
            sys.exit("export: --int8 needs --manifest for calibration windows")
        calib = quantisation.calibration_windows(ckpt, args.manifest, args.split, args.calibration_clips)
        card["quantisation"] = quantisation.scheme(args.calibration_clips)
    model_card.drop_stale_card(out)

    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx" if (args.int8 or args.fp16) else out
        export_fp32(model, fp32, settings)
        add_metadata(fp32, ckpt)
        if args.fp16:
            out.write_bytes(fp32.read_bytes())
            store_fp16(out)
        if args.int8:
            quantisation.quantise(fp32, out, calib)
            add_metadata(out, ckpt)
        if (args.int8 or args.fp16) and args.manifest and not args.skip_metrics:
            test = serdata.part_clips(ckpt["labels"], args.manifest, args.split, "test")
            wins = serdata.clip_windows(test, ckpt)
            card["fp32_window_agreement_test"] = round(quantisation.window_agreement(out, fp32, wins), 4)
            card["fp32_agreement_windows"] = int(len(wins))
    EmotionModel(out)  # the written file honours the runtime contract
    model_card.write_card(export_card(out, args, ckpt, model, settings, card), out, args, "tools/export.py", argv)
    return 0


def export_card(out: Path, args, ckpt: dict, model, settings: FeatureSettings, extra: dict) -> dict:
    """The model card of an exported file: what it is, its contract, where it came from."""
    return {
        **model_card.file_card(out, args.description),
        "arch": ckpt["arch"],
        "params": int(sum(p.numel() for p in model.parameters())),
        "precision": (quantisation.PRECISION if args.int8
                      else "float16 weights, float32 compute" if args.fp16 else "float32"),
        "ops": quantisation.op_summary(out),
        **model_card.contract_card(ckpt["labels"], ckpt["mean"], ckpt["std"], settings, args.manifest, args.split),
        "checkpoint_epoch": ckpt.get("epoch"),
        "checkpoints": args.checkpoint,
        **extra,
        "training": model_card.training_summary(args.checkpoint),
    }
