#!/usr/bin/env python3
"""Calibrate confidences on VALIDATION utterances (never test): temperature, show and cascade thresholds.

    python tools/calibrate.py --model models/small.onnx --model models/large.onnx \
        --manifest ../shared/data/ser/manifest.csv --manifest ../shared/data/asr/ko/emotion.csv \
        --plots models/

Per model: the temperature T that minimises the validation NLL of the utterance probabilities
(mean over windows of softmax(logits / T), ``emocap.emotion.model.utterance_probs``, what the
runtime shows), ECE before and after, and the lowest ``show_confidence`` whose shown tags reach
``--target-precision`` averaged over corpora (coverage as high as that allows). Both go into
the ONNX metadata (read by EmotionModel) and the model card. With two models (small first,
then large) it also picks ``cascade_confidence``: the lowest small-model threshold whose
cascade scores within ``--cascade-tolerance`` of the best over all thresholds (mean per-corpus
macro-F1), so the large model runs no more often than needed. ``--plots`` writes
reliability.png and coverage.png there.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from emocap_train import calibration_plots
from emocap_train import model_card
from emocap_train import metrics
from emocap_train import serdata
from emocap_train import streams
from emocap.emotion.model import META_SHOW, META_TEMPERATURE, EmotionModel, utterance_probs

THRESHOLDS = np.round(np.arange(0.0, 1.0001, 0.01), 2)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, action="append", help="ONNX model (small first, then large)")
    p.add_argument("--manifest", required=True, action="append")
    p.add_argument("--split", default=str(serdata.DEFAULT_SPLIT))
    p.add_argument("--target-precision", type=float, default=0.75)
    p.add_argument("--cascade-tolerance", type=float, default=0.005)
    p.add_argument("--plots", help="folder for reliability.png and coverage.png")
    p.add_argument("--dry-run", action="store_true", help="print the figures; leave models and cards alone")
    return p.parse_args(argv)


def fit_temperature(logits: list[np.ndarray], y: np.ndarray) -> float:
    """T minimising the NLL of the utterance probabilities (grid in log T, then refined)."""
    def nll(t: float) -> float:
        p = np.stack([utterance_probs(l, t) for l in logits])
        return float(-np.mean(np.log(np.maximum(p[np.arange(len(y)), y], 1e-12))))

    grid = np.exp(np.linspace(np.log(0.1), np.log(10), 61))
    best = grid[int(np.argmin([nll(t) for t in grid]))]
    fine = best * np.exp(np.linspace(-0.08, 0.08, 33))
    return round(float(fine[int(np.argmin([nll(t) for t in fine]))]), 4)


def ece(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error of the top-1 confidence, equal-width bins."""
    conf, right = probs.max(1), probs.argmax(1) == y
    idx = np.minimum((conf * bins).astype(int), bins - 1)
    return float(sum(abs(conf[idx == b].mean() - right[idx == b].mean()) * np.mean(idx == b)
                     for b in range(bins) if np.any(idx == b)))


def shown_curve(probs: np.ndarray, y: np.ndarray, corpora: list[str]) -> dict:
    """Per corpus, per threshold: coverage (share shown) and precision of the shown tags."""
    conf, right = probs.max(1), probs.argmax(1) == y
    out = {}
    for c in sorted(set(corpora)):
        m = np.array([k == c for k in corpora])
        cov = np.array([np.mean(conf[m] >= t) for t in THRESHOLDS])
        prec = np.array([right[m][conf[m] >= t].mean() if np.any(conf[m] >= t) else np.nan for t in THRESHOLDS])
        out[c] = {"coverage": cov, "precision": prec}
    return out


def at_threshold(curve: dict, t: float) -> dict:
    i = int(np.argmin(np.abs(THRESHOLDS - t)))
    per = {c: {"precision": round(float(v["precision"][i]), 4), "coverage": round(float(v["coverage"][i]), 4)}
           for c, v in curve.items()}
    return {"threshold": float(THRESHOLDS[i]), "per_corpus": per,
            "mean_precision": round(float(np.nanmean([v["precision"] for v in per.values()])), 4),
            "mean_coverage": round(float(np.mean([v["coverage"] for v in per.values()])), 4)}


def choose_show(curve: dict, target: float) -> float:
    """The lowest threshold whose corpus-averaged precision of shown tags reaches ``target``."""
    # NaN: a corpus shows no tag at that threshold and has no precision; masked, not averaged
    prec = np.ma.masked_invalid(np.stack([v["precision"] for v in curve.values()]))
    mean_prec = prec.mean(axis=0).filled(np.nan)
    ok = np.flatnonzero(mean_prec >= target)
    return float(THRESHOLDS[ok[0]]) if len(ok) else float(THRESHOLDS[-1])


def mean_corpus_f1(pred: np.ndarray, y: np.ndarray, corpora: list[str], n_labels: int) -> float:
    f1 = [metrics.summary(metrics.confusion(y[m], pred[m], n_labels), list(range(n_labels)))["macro_f1"]
          for c in sorted(set(corpora)) for m in [np.array([k == c for k in corpora])]]
    return float(np.mean(f1))


def cascade_large(model: EmotionModel, raw: list[np.ndarray], clips, rerun: np.ndarray, temperature: float) -> np.ndarray:
    """The large model's probabilities where the cascade re-runs it (zeros elsewhere): as in the
    engine, its stream (a centred model's running mean) takes in only the re-run utterances."""
    out = np.zeros((len(raw), len(model.labels)))
    for group in streams.by_speaker(clips):
        stream = model.new_stream()
        for i in (i for i in group if rerun[i]):
            out[i] = utterance_probs(model.centred(raw[i], stream), temperature)
    return out


def choose_cascade(small: np.ndarray, large, y, corpora, tolerance: float) -> dict:
    """Lowest small-model threshold whose cascade is within ``tolerance`` of the best score;
    ``large(rerun)`` gives the large model's probabilities for a re-run mask."""
    n = small.shape[1]
    rows = []
    for t in THRESHOLDS:
        rerun = small.max(1) < t
        pred = np.where(rerun, large(rerun).argmax(1), small.argmax(1))
        rows.append((float(t), mean_corpus_f1(pred, y, corpora, n), float(rerun.mean())))
    best = max(r[1] for r in rows)
    t, score, share = next(r for r in rows if r[1] >= best - tolerance)
    return {"threshold": t, "validation_mean_corpus_macro_f1": round(score, 4), "large_rerun_share": round(share, 4),
            "best_over_thresholds": round(best, 4), "small_only": round(rows[0][1], 4),
            "large_only": round(rows[-1][1], 4)}


def calibrate(model: EmotionModel, clips, wins: list[np.ndarray], y: np.ndarray, corpora, target: float) -> dict:
    # Centred as the runtime centres them (each speaker one stream) for a model with stream centring.
    raw = [model.window_logits(w) for w in wins]
    logits = streams.play_streams(clips, model.new_stream, lambda i, stream: model.centred(raw[i], stream))
    t = fit_temperature(logits, y)
    before = np.stack([utterance_probs(l, 1.0) for l in logits])
    after = np.stack([utterance_probs(l, t) for l in logits])
    curve = shown_curve(after, y, corpora)
    show = choose_show(curve, target)
    return {"temperature": t, "before": before, "after": after, "curve": curve, "raw": raw,
            "card": {"calibration": {
                "method": "temperature scaling of window logits, fitted by NLL of the utterance probabilities",
                "part": "validation", "utterances": int(len(y)), "temperature": t,
                "ece_before": round(ece(before, y), 4), "ece_after": round(ece(after, y), 4),
                "nll_before": round(float(-np.mean(np.log(before[np.arange(len(y)), y] + 1e-12))), 4),
                "nll_after": round(float(-np.mean(np.log(after[np.arange(len(y)), y] + 1e-12))), 4)},
                "show_confidence": {"target_mean_precision": target, "rule": "lowest threshold reaching the target",
                                    "validation": at_threshold(curve, show)}}}


def write_back(path: Path, temperature: float, show: float, card_part: dict) -> None:
    """Temperature and default threshold into the ONNX metadata; the card follows the file."""
    model_card.rewrite_metadata(path, {META_TEMPERATURE: temperature, META_SHOW: show}, card_part)


def main(argv=None) -> int:
    args = parse_args(argv)
    models = [EmotionModel(p) for p in args.model]
    labels = models[0].labels
    clips = serdata.part_clips(labels, args.manifest, args.split, "validation")
    if any(m.labels != labels for m in models[1:]):
        sys.exit("calibrate: the models differ in labels")
    # Each model's own windows (a stream-normalised small model beside a mean-normalised large one).
    wins = {m.settings: streams.model_windows(m, clips, serdata.load_audio) for m in models}
    y = np.array([labels.index(c.label) for c in clips])
    corpora = [c.corpus for c in clips]
    # Re-fitting starts from the raw logits: a model calibrated before is fitted afresh.
    results = [calibrate(m, clips, wins[m.settings], y, corpora, args.target_precision) for m in models]
    summary = {str(m.path.name): r["card"] for m, r in zip(models, results)}
    if len(models) == 2:
        large, fitted = results[1]["raw"], results[1]["temperature"]  # the temperature about to be written
        summary["cascade_confidence"] = choose_cascade(
            results[0]["after"], lambda rerun: cascade_large(models[1], large, clips, rerun, fitted), y, corpora,
            args.cascade_tolerance)
    if args.plots:
        calibration_plots.reliability(Path(args.plots) / "reliability.png",
                                      {m.path.stem: (r["before"], r["after"], r["temperature"]) for m, r in zip(models, results)}, y)
        calibration_plots.coverage(Path(args.plots) / "coverage.png",
                                   {m.path.stem: (r["curve"], r["card"]["show_confidence"]["validation"]["threshold"])
                                    for m, r in zip(models, results)}, THRESHOLDS, args.target_precision)
    if not args.dry_run:
        for m, r in zip(models, results):
            show = r["card"]["show_confidence"]["validation"]["threshold"]
            write_back(m.path, r["temperature"], show, r["card"])
    print(json.dumps(summary, indent=1))
    return 0
