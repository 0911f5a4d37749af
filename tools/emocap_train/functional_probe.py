"""A probe on the leave-one-corpus-out yardstick: a linear model on speaker-centred utterance
functionals, alone and averaged with the CNN fold models of tools/loco.py.

    python tools/functional_probe.py [--with rb] [--weight 2] [--folds crema-d ravdess emotiontts-ko]
        [--neutral-share 0.5]

Each utterance becomes 120 numbers: per MFCC coefficient (the runtime's extractor, active frames,
no mean normalisation) its mean, log standard deviation and log standard deviation of the
frame-to-frame change. Each is centred by its speaker's stream (emocap/stream_centre.py's rule:
the running mean of the utterances so far, this one included, shrunk towards the training mean
by ``--weight`` pseudo-utterances). For a linear model that is exactly stream centring of its
logits. A class-balanced logistic regression is trained on the fold's training speakers, its L2
strength chosen on the fold's validation speakers, and scored on the held-out corpus. ``--with
NAME``: also the mean of its probabilities and those of ``runs/loco/NAME_FOLD/model.onnx``
(cached by tools/loco_ensemble.py). Not a shipped model: it tells whether utterance-level
speaker centring is worth building into one.
"""
from __future__ import annotations

import argparse
import json
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import torch

from emocap_train import ROOT, loco, loco_ensemble, make_split, select_models, serdata, streams
from emocap import features
from emocap.features import FeatureSettings

RAW = FeatureSettings(cmn=False)  # the shipped settings without utterance mean normalisation
L2 = (1e-3, 1e-2, 1e-1, 1.0)  # inverse strengths tried on validation (C, as in liblinear)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--with", dest="names", nargs="*", default=[], help="tools/loco.py recipe names to average with")
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "loco")
    p.add_argument("--folds", nargs="+", default=list(loco.FOLDS))
    p.add_argument("--weight", type=float, default=2.0, help="pseudo-utterances of the prior in each stream")
    p.add_argument("--neutral-share", type=float, help="held-out streams with this share of neutral clips")
    return p.parse_args(argv)


def functionals(samples: np.ndarray) -> np.ndarray:
    x = features.utterance_features(samples, RAW).astype(np.float64)
    d = np.diff(x, axis=1) if x.shape[1] > 1 else np.zeros_like(x)
    return np.concatenate([x.mean(1), np.log(x.std(1) + 1e-3), np.log(d.std(1) + 1e-3)])


def _one(path: str) -> np.ndarray:
    return functionals(serdata.load_audio(path))


def all_functionals(clips, cache: Path) -> np.ndarray:
    key = loco_ensemble.clips_key(clips)
    if cache.exists():
        with np.load(cache) as saved:
            if str(saved["key"]) == key:
                return saved["f"]
    with Pool(2) as pool:
        f = np.stack(pool.map(_one, [str(c.path) for c in clips], chunksize=16))
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, f=f, key=key)
    return f


def centred(f: np.ndarray, clips, prior: np.ndarray, weight: float) -> np.ndarray:
    """Each row less its speaker stream's shrunk running mean (speakers in streams.by_speaker order)."""
    out = np.empty_like(f)
    for group in streams.by_speaker(clips):
        total, n = np.zeros_like(prior), 0
        for i in group:
            total, n = total + f[i], n + 1
            out[i] = f[i] - (total + weight * prior) / (n + weight)
    return out


def fit(x: np.ndarray, y: np.ndarray, c: float, n_labels: int) -> torch.nn.Linear:
    """Class-balanced multinomial logistic regression, L2 of strength 1/c, by L-BFGS."""
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    counts = np.bincount(y, minlength=n_labels)
    w = torch.tensor(np.where(counts > 0, len(y) / (np.maximum(counts, 1) * (counts > 0).sum()), 0), dtype=torch.float32)
    torch.manual_seed(0)
    lin = torch.nn.Linear(x.shape[1], n_labels)
    opt = torch.optim.LBFGS(lin.parameters(), max_iter=500, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(lin(xt), yt, weight=w, reduction="sum") / len(y) \
            + (lin.weight ** 2).sum() / (2 * c * len(y))
        loss.backward()
        return loss
    opt.step(closure)
    return lin


def probs(lin, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return torch.softmax(lin(torch.tensor(x, dtype=torch.float32)), dim=1).numpy()


def fold_split(corpus_or_half: str) -> dict:
    base, manifests = serdata.load_split(ROOT / "splits" / "ser_split_v2.json"), [str(m) for m in loco.manifests()]
    if ":" in corpus_or_half:
        return make_split.hold_out_half(base, manifests, corpus_or_half)
    return make_split.leave_out(base, manifests, corpus_or_half)


def score(p: np.ndarray, clips) -> float:
    return round(select_models.scores(p, clips, serdata.LABELS)[1], 4)  # mean of per-corpus macro-F1


def fold(args, name: str, clips, f) -> dict:
    split, corpus = fold_split(name), name.partition(":")[0]
    row = {c: i for i, c in enumerate(clips)}
    parts = {p: serdata.select(clips, split, p) for p in ("train", "validation", "test")}
    parts["test"] = [c for c in parts["test"] if c.corpus == corpus]
    if args.neutral_share is not None:
        parts["test"] = serdata.neutral_heavy(parts["test"], args.neutral_share)
    prior = f[[row[c] for c in parts["train"]]].mean(axis=0)
    x = {p: centred(f[[row[c] for c in cs]], cs, prior, args.weight) for p, cs in parts.items()}
    mu, sd = x["train"].mean(axis=0), x["train"].std(axis=0) + 1e-6
    x = {p: (v - mu) / sd for p, v in x.items()}
    y = np.array([serdata.LABELS.index(c.label) for c in parts["train"]])
    fits = [(c, fit(x["train"], y, c, len(serdata.LABELS))) for c in L2]
    c, lin = max(fits, key=lambda t: score(probs(t[1], x["validation"]), parts["validation"]))
    p_val, p_test = probs(lin, x["validation"]), probs(lin, x["test"])
    out = {"linear": {"c": c, "validation": score(p_val, parts["validation"]), "held_out": score(p_test, parts["test"])},
           "n_held_out": len(parts["test"])}
    for n in args.names:
        model = loco.run_dir(args.out, n, name) / "model.onnx"
        cnn_val = loco_ensemble.member_probs(model, parts["validation"], "validation", 2)
        cnn_test = loco_ensemble.member_probs(model, parts["test"], "test", 2)
        out[n] = {"validation": score(cnn_val, parts["validation"]), "held_out": score(cnn_test, parts["test"])}
        out[f"{n}+linear"] = {"validation": score((cnn_val + p_val) / 2, parts["validation"]),
                              "held_out": score((cnn_test + p_test) / 2, parts["test"])}
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(1)
    clips = [c for m in loco.manifests() for c in serdata.read_manifest(m) if c.label in serdata.LABELS]
    f = all_functionals(clips, args.out / "functionals.npz")
    results = {name: fold(args, name, clips, f) for name in args.folds}
    rows = [k for k in next(iter(results.values())) if k != "n_held_out"]
    mean = {k: round(float(np.mean([r[k]["held_out"] for r in results.values()])), 4) for k in rows}
    print(json.dumps({"weight": args.weight, "neutral_share": args.neutral_share, "folds": results,
                      "mean_held_out": mean}, indent=1))
    return 0
