#!/usr/bin/env python3
"""Rank trained models and their ensembles on the VALIDATION part of the split (never test).

    python tools/select_models.py --manifest ../shared/data/ser/manifest.csv \
        --manifest ../shared/data/asr/ko/emotion.csv runs/small_s0.onnx runs/small_s1.onnx ...

Prints, for each model and each ensemble of 2 or 3 (mean probabilities), the pooled
macro-F1 and the mean of per-corpus macro-F1 (the selection score train.py also uses).
"""
from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np

from emocap_train import evaluate
from emocap_train import metrics
from emocap_train import serdata


def scores(probs: np.ndarray, clips, labels) -> tuple[float, float, dict]:
    y = [labels.index(c.label) for c in clips]
    pred = [int(i) for i in probs.argmax(axis=1)]
    pooled = metrics.summary(metrics.confusion(y, pred, len(labels)), labels)["macro_f1"]
    per = {}
    for corpus in sorted({c.corpus for c in clips}):
        idx = [i for i, c in enumerate(clips) if c.corpus == corpus]
        cm = metrics.confusion([y[i] for i in idx], [pred[i] for i in idx], len(labels))
        per[corpus] = round(metrics.summary(cm, labels)["macro_f1"], 4)
    return pooled, float(np.mean(list(per.values()))), per


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", action="append", required=True)
    p.add_argument("--split", default=str(serdata.DEFAULT_SPLIT))
    p.add_argument("--max-members", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("models", nargs="+", help="ONNX models exported by tools/export.py")
    args = p.parse_args(argv)
    clips = [c for m in args.manifest for c in serdata.read_manifest(m) if c.label in serdata.LABELS]
    val = serdata.select(clips, serdata.load_split(args.split), "validation")
    probs = {Path(m).stem: evaluate.predict_clips(m, val, workers=args.workers) for m in args.models}
    rows = []
    for k in range(1, args.max_members + 1):
        for combo in itertools.combinations(sorted(probs), k):
            pooled, mean_corpus, per = scores(sum(probs[c] for c in combo) / k, val, serdata.LABELS)
            rows.append((mean_corpus, pooled, "+".join(combo), per))
    print(f"{'validation score':>16} {'pooled F1':>9}  models  (per-corpus macro-F1)")
    for mean_corpus, pooled, name, per in sorted(rows, reverse=True):
        print(f"{mean_corpus:16.4f} {pooled:9.4f}  {name}  {per}")
