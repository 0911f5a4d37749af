#!/usr/bin/env python3
"""Export a trained checkpoint to ONNX (opset 17) with its metadata and a model card.

    python tools/export.py --checkpoint runs/small/model.pt --out models/small.onnx --int8 \
        --manifest ../shared/data/ser/manifest.csv --manifest ../shared/data/asr/ko/emotion.csv

Input ``mfcc`` [batch, 1, 40, 128], output ``logits`` [batch, 7], dynamic batch. ``--int8``
quantises statically (QDQ, per-channel weights) with calibration windows from training
speakers only. Labels, normalisation statistics and feature settings go into the ONNX
metadata and into ``<out>.json`` (the model card), with test-split metrics when
``--manifest`` is given.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import shlex
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import torch

from emocap_train import ser_models
from emocap_train import serdata
from emocap import features
from emocap.emotion.model import INPUT, META_FEATURES, META_LABELS, META_MEAN, META_STD, OUTPUT, EmotionModel
from emocap.features import FeatureSettings

OPSET = 17
# Weightless ops of a statistics-pooling block, kept float by quantise().
POOLING_OPS = ("ReduceMean", "Mul", "Sub", "Clip", "Sqrt", "Concat")
# Node-name prefix of the fixed inverse-DCT front of small_mel, also kept float by quantise().
FLOAT_FRONT = "/logmel/"


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


class _Windows:
    """onnxruntime CalibrationDataReader over normalised MFCC windows."""

    def __init__(self, wins: np.ndarray, batch: int = 32):
        # Equal batches: the percentile calibrator stacks them and rejects a short last one.
        n = max(1, len(wins) // batch) * batch
        self.batches = [{INPUT: wins[i : i + batch]} for i in range(0, min(n, len(wins)), batch)]

    def get_next(self):
        return self.batches.pop() if self.batches else None


def part_clips(labels, manifests, split, part) -> list:
    """Clips of one split part whose label the model has."""
    clips = [c for m in manifests for c in serdata.read_manifest(m) if c.label in labels]
    return serdata.select(clips, serdata.load_split(split), part)


def clip_windows(clips, ckpt) -> np.ndarray:
    """Un-normalised model windows of every clip, cut exactly as the runtime cuts them."""
    s = FeatureSettings.from_dict(ckpt["features"])
    return np.concatenate([features.windows(features.utterance_features(serdata.load_audio(c.path), s), s)
                           for c in clips])


def calibration_windows(ckpt, manifests, split, n_clips) -> np.ndarray:
    """Normalised windows of ``n_clips`` random training clips (never validation or test)."""
    train = part_clips(ckpt["labels"], manifests, split, "train")
    rng = np.random.default_rng(0)
    chosen = [train[i] for i in rng.choice(len(train), min(n_clips, len(train)), replace=False)]
    return features.normalise(clip_windows(chosen, ckpt), np.asarray(ckpt["mean"]), np.asarray(ckpt["std"]))


def quantise(fp32: Path, out: Path, calib: np.ndarray, method: str = "minmax", float_front: bool = True,
             reduce_range: bool = True, float_logits: bool = True) -> None:
    """Static QDQ: 7-bit (``reduce_range``) per-channel weights, UINT8 activations with calibrated ranges.

    7-bit weights (-64..64) keep onnxruntime's x86 AVX2 kernels (no VNNI) exact: they add
    pairs of u8 x s8 products in 16 bits, which saturate above 32767; 2 * 255 * 64 = 32640
    cannot. With 8-bit weights those machines gave other confidences than the float QDQ
    graph and arm64 (tests/test_quant_exact.py checks the shipped files). ``float_logits``
    keeps the last layer (7 x 128 weights) float, so the logits are not rounded to 8 bits:
    one step there moved probabilities by about 0.01, near the test's tolerance.

    The statistics pooling (mean, E[h^2] - mean^2, sqrt) stays float: it holds no weights, and
    in 8 bits the subtraction cancels badly. So does (``float_front``) a log-mel front
    (``small_mel``): its fixed inverse DCT (40x40 weights) reads the input MFCCs, which lose too
    much in 8 bits with one scale for all coefficients. ``tools/quant_compare.py`` measures the
    choices (min/max against percentile and entropy ranges, the front float or INT8) on
    validation windows. On the shipped small model: min/max with the front float 98.6 % (entropy
    the same, percentile 98.3 %); with the front INT8 97.9 % (percentile 97.7 %).
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    methods = {"minmax": (CalibrationMethod.MinMax, {}), "entropy": (CalibrationMethod.Entropy, {}),
               "percentile": (CalibrationMethod.Percentile, {"CalibPercentile": 99.99})}
    calibrate_method, extra = methods[method]
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
        keep_float = [n.name for n in onnx.load(str(pre)).graph.node
                      if ("/pool/" in n.name and n.op_type in POOLING_OPS)
                      or (float_front and n.name.startswith(FLOAT_FRONT))
                      or (float_logits and OUTPUT in n.output)]
        quantize_static(
            str(pre), str(out), _Windows(calib), quant_format=QuantFormat.QDQ, per_channel=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            calibrate_method=calibrate_method, extra_options=extra, nodes_to_exclude=keep_float,
            reduce_range=reduce_range,
        )


def op_summary(path: Path) -> dict:
    """Which compute ops read INT8 (fed by DequantizeLinear) and which stay float."""
    g = onnx.load(str(path)).graph
    produced_by = {o: n.op_type for n in g.node for o in n.output}
    quant, floats = Counter(), Counter()
    for n in g.node:
        if n.op_type in ("QuantizeLinear", "DequantizeLinear"):
            continue
        fed_by_dq = any(produced_by.get(i) == "DequantizeLinear" for i in n.input)
        (quant if fed_by_dq else floats)[n.op_type] += 1
    weights = sum(int(np.prod(t.dims)) for t in g.initializer)
    int8_weights = sum(int(np.prod(t.dims)) for t in g.initializer if t.data_type in (onnx.TensorProto.INT8, onnx.TensorProto.UINT8))
    return {"int8_input_ops": dict(quant), "float_ops": dict(floats),
            "int8_weight_share": round(int8_weights / max(weights, 1), 4)}


def window_agreement(a: Path, b: Path, wins: np.ndarray) -> float:
    """Share of windows where two models pick the same label (INT8 vs its FP32 parent)."""
    ma, mb = EmotionModel(a), EmotionModel(b)
    return float(np.mean(ma.window_logits(wins).argmax(1) == mb.window_logits(wins).argmax(1)))


def test_metrics(path: Path, manifests, split, noise, workers) -> dict:
    """Whole test split, its Korean part (from the same predictions), and the split under noise."""
    from emocap_train import evaluate
    from emocap_train import metrics

    clips = [c for m in manifests for c in serdata.read_manifest(m)]
    test = serdata.select(clips, serdata.load_split(split), "test")
    keep = ("n", "accuracy", "uar", "macro_f1", "per_class", "confusion", "per_corpus", "skipped",
            "show_confidence", "coverage", "shown_precision")
    whole = evaluate.evaluate(path, test, workers=workers)
    out = {"test": {k: whole[k] for k in keep}}
    labels = whole["labels"]
    kept = [c for c in test if c.label in labels]  # the clips evaluate() predicted, in order
    korean = [(labels.index(c.label), p) for c, p in zip(kept, whole["predictions"]) if c.corpus == "emotiontts-ko"]
    if korean:
        r = metrics.summary(metrics.confusion(*zip(*korean), len(labels)), labels)
        out["test_korean"] = {**{k: r[k] for k in keep if k in r}, "skipped": 0}
    if noise:
        files = serdata.noise_files(noise)
        r = evaluate.evaluate(path, test, files, 10.0, workers=workers)
        out["test_noise_10db"] = {"folders": noise, "macro_f1": r["macro_f1"], "accuracy": r["accuracy"]}
    return out


def training_summary(checkpoints: list[str]) -> list[dict]:
    """What train.py reported beside each checkpoint (report.json): epochs, validation, command."""
    out = []
    for c in checkpoints:
        rep = Path(c).with_name("report.json")
        r = json.loads(rep.read_text()) if rep.is_file() else {}
        keep = ("arch", "best_epoch", "best_val_score", "selection", "epochs_run", "stopped_by", "command", "seconds",
                "seconds_features", "machine", "teacher", "teacher_sha256")
        out.append({"checkpoint": c, **{k: r[k] for k in keep if k in r}})
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def file_card(out: Path, description: str) -> dict:
    return {"name": out.stem, "file": out.name, "bytes": out.stat().st_size, "sha256": sha256(out),
            "description": description}


def contract_card(labels, mean, std, settings: FeatureSettings, manifests, split_path) -> dict:
    """The card's copy of the model contract (I/O, labels, statistics, features) and its data."""
    split = serdata.load_split(split_path)
    return {
        "input": {"name": INPUT, "shape": ["batch", 1, settings.numcep, settings.frames], "dtype": "float32",
                  "normalisation": "z-score per coefficient after utterance mean normalisation"},
        "output": {"name": OUTPUT, "shape": ["batch", len(labels)], "dtype": "float32"},
        "labels": list(labels),
        "norm_mean": [round(float(v), 6) for v in mean],
        "norm_std": [round(float(v), 6) for v in std],
        "features": settings.to_dict(),
        "aggregation": "mean of window softmax over an utterance's windows (emocap.features.aggregate)",
        "data": {"manifests": manifests, "split_file": str(Path(split_path).name),
                 "train_speakers": split["train"]["speakers"],
                 "validation_speakers": split["validation"]["speakers"],
                 "test_speakers": split["test"]["speakers"]},
    }


def write_card(card: dict, out: Path, args, tool: str, argv) -> None:
    """Test metrics (unless skipped), date and command; the card goes beside the model as .json."""
    if args.manifest and not args.skip_metrics:
        card["metrics"] = test_metrics(out, args.manifest, args.split, args.noise, args.workers)
    card["date"] = datetime.date.today().isoformat()
    card["command"] = f"python {tool} " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    out.with_suffix(".json").write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {out} ({card['bytes']} bytes) and {out.with_suffix('.json')}")
    if "metrics" in card:
        t = card["metrics"]["test"]
        print(f"test: macro-F1 {t['macro_f1']:.4f} accuracy {t['accuracy']:.4f} UAR {t['uar']:.4f}")


def main(argv=None) -> int:
    args = parse_args(argv)
    model, ckpt = load_model(args.checkpoint)
    settings = FeatureSettings.from_dict(ckpt["features"])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    card: dict = {}

    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx" if (args.int8 or args.fp16) else out
        export_fp32(model, fp32, settings)
        add_metadata(fp32, ckpt)
        if args.fp16:
            out.write_bytes(fp32.read_bytes())
            store_fp16(out)
        if args.int8:
            if not args.manifest:
                sys.exit("export: --int8 needs --manifest for calibration windows")
            quantise(fp32, out, calibration_windows(ckpt, args.manifest, args.split, args.calibration_clips))
            add_metadata(out, ckpt)
        if (args.int8 or args.fp16) and args.manifest and not args.skip_metrics:
            wins = clip_windows(part_clips(ckpt["labels"], args.manifest, args.split, "test"), ckpt)
            card["fp32_window_agreement_test"] = round(window_agreement(out, fp32, wins), 4)
            card["fp32_agreement_windows"] = int(len(wins))
    EmotionModel(out)  # the written file honours the runtime contract
    write_card(export_card(out, args, ckpt, model, settings, card), out, args, "tools/export.py", argv)
    return 0


def export_card(out: Path, args, ckpt: dict, model, settings: FeatureSettings, extra: dict) -> dict:
    """The model card of an exported file: what it is, its contract, where it came from."""
    return {
        **file_card(out, args.description),
        "arch": ckpt["arch"],
        "params": int(sum(p.numel() for p in model.parameters())),
        "precision": ("int8 (static QDQ, per-channel weights)" if args.int8
                      else "float16 weights, float32 compute" if args.fp16 else "float32"),
        "ops": op_summary(out),
        **contract_card(ckpt["labels"], ckpt["mean"], ckpt["std"], settings, args.manifest, args.split),
        "checkpoint_epoch": ckpt.get("epoch"),
        "checkpoints": args.checkpoint,
        **extra,
        "training": training_summary(args.checkpoint),
    }
