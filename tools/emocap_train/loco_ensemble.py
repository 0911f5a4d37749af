"""Ensembles on the leave-one-corpus-out yardstick: do several fold models together beat one?

    python tools/loco_ensemble.py --names rb rbt snrb5 snrbt [--folds crema-d ravdess emotiontts-ko]

For each fold, every named recipe's fold model (``OUT/NAME_FOLD/model.onnx``, from
``tools/loco.py``) predicts the fold's validation part (the other corpora's validation speakers)
and its held-out corpus, each speaker one stream, through its own normalisation and temperature
(``tools/evaluate.py``'s path, so members may differ in normalisation). Each subset's mean
probabilities are scored. Per fold it reports every member alone, the ensemble of all members,
and the subset chosen on validation (mean per-corpus macro-F1, the score train.py and
select_models.py choose on): its held-out figures are the honest ones, since the held-out corpus
took no part in the choice. Probabilities are cached beside each model (``probs_PART.npz``, keyed
by the clip paths), so adding a member re-runs only that member.
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
from pathlib import Path

import numpy as np

from emocap_train import ROOT, evaluate, loco, select_models, serdata


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--names", nargs="+", required=True, help="recipe names given to tools/loco.py")
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "loco")
    p.add_argument("--folds", nargs="+", default=list(loco.FOLDS))
    p.add_argument("--workers", type=int, default=2)
    return p.parse_args(argv)


def clips_key(clips) -> str:
    """A short hash of the clips' paths in order: a cache made for other clips is not reused."""
    return hashlib.sha256("\n".join(str(c.path) for c in clips).encode()).hexdigest()[:16]


def member_probs(model: Path, clips, part: str, workers: int) -> np.ndarray:
    """Utterance probabilities of ``model`` on ``clips``, from the cache when the clips match."""
    cache, key = model.parent / f"probs_{part}.npz", clips_key(clips)
    if cache.exists():
        with np.load(cache) as saved:
            if str(saved["key"]) == key and saved["mtime"] == model.stat().st_mtime:
                return saved["probs"]
    probs = evaluate.predict_clips(model, clips, workers=workers)
    np.savez(cache, probs=probs, key=key, mtime=model.stat().st_mtime)
    return probs


def score(probs: np.ndarray, clips) -> dict:
    """Mean per-corpus macro-F1 (and each corpus's) of the argmax of ``probs``, as select_models ranks."""
    _, mean_corpus, per = select_models.scores(probs, clips, serdata.LABELS)
    y = np.array([serdata.LABELS.index(c.label) for c in clips])
    return {"macro_f1": round(mean_corpus, 4), "per_corpus": per,
            "accuracy": round(float(np.mean(probs.argmax(axis=1) == y)), 4)}


def shown(members: list[np.ndarray], clips) -> dict:
    """How far the ensemble's tags can be trusted: coverage and precision of the mean's tags at each
    curve threshold, and of the tags every member agrees on."""
    y = np.array([serdata.LABELS.index(c.label) for c in clips])
    mean = sum(members) / len(members)
    pred = mean.argmax(axis=1)
    agree = np.all([m.argmax(axis=1) == pred for m in members], axis=0)
    return {"precision_curve": evaluate.precision_curve(mean, y),
            "all_agree": {"coverage": round(float(agree.mean()), 4),
                          "shown_precision": round(float((pred == y)[agree].mean()), 4) if agree.any() else 0.0}}


def subsets(names: list[str]):
    for k in range(1, len(names) + 1):
        yield from itertools.combinations(names, k)


def rank(val: dict[str, np.ndarray], test: dict[str, np.ndarray], val_clips, test_clips) -> dict:
    """Every subset scored on validation and held-out; the validation choice and the full ensemble."""
    rows = []
    for combo in subsets(sorted(val)):
        v = score(sum(val[n] for n in combo) / len(combo), val_clips)["macro_f1"]
        t = score(sum(test[n] for n in combo) / len(combo), test_clips)
        rows.append({"members": list(combo), "validation_f1": v, "held_out_f1": t["macro_f1"],
                     "held_out_accuracy": t["accuracy"]})
    full = sorted(val)
    rows[-1]["validation_shown"] = shown([val[n] for n in full], val_clips)
    rows[-1]["held_out_shown"] = shown([test[n] for n in full], test_clips)
    best = max(rows, key=lambda r: (r["validation_f1"], -len(r["members"])))  # ties: fewer members
    return {"chosen_on_validation": best, "all_members": rows[-1],
            "alone": {r["members"][0]: r for r in rows if len(r["members"]) == 1}, "subsets": rows}


def fold(args, corpus: str) -> dict:
    runs = {n: loco.run_dir(args.out, n, corpus) for n in args.names}
    runs = {n: r for n, r in runs.items() if (r / "model.onnx").exists()}
    if not runs:
        raise SystemExit(f"{args.out}: no fold model for {corpus} among {args.names}")
    split = next(iter(runs.values())) / "split.json"  # the folds' splits are made alike
    val_clips = serdata.part_clips(serdata.LABELS, loco.manifests(), split, "validation")
    test_clips = [c for c in serdata.part_clips(serdata.LABELS, loco.manifests(), split, "test")
                  if c.corpus == corpus.partition(":")[0]]
    val = {n: member_probs(r / "model.onnx", val_clips, "validation", args.workers) for n, r in runs.items()}
    test = {n: member_probs(r / "model.onnx", test_clips, "test", args.workers) for n, r in runs.items()}
    return rank(val, test, val_clips, test_clips)


def summary(results: dict) -> dict:
    """Means over folds of the held-out macro-F1: each member alone, all members, the validation choice."""
    def mean(pick):
        vals = [pick(r) for r in results.values()]
        return round(float(np.mean(vals)), 4) if all(v is not None for v in vals) else None
    names = sorted({n for r in results.values() for n in r["alone"]})
    out = {f"alone:{n}": mean(lambda r, n=n: r["alone"].get(n, {}).get("held_out_f1")) for n in names}
    out["all_members"] = mean(lambda r: r["all_members"]["held_out_f1"])
    out["chosen_on_validation"] = mean(lambda r: r["chosen_on_validation"]["held_out_f1"])
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    results = {c: fold(args, c) for c in args.folds}
    for r in results.values():
        r.pop("subsets")
    print(json.dumps({"names": args.names, "folds": results, "mean_over_folds": summary(results)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
