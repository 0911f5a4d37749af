#!/usr/bin/env python3
"""Evaluate an ONNX emotion model on a manifest, clip by clip, through the runtime's own path.

    python tools/evaluate.py --manifest ../shared/data/ser/manifest.csv --model models/small.onnx \
        --split splits/ser_split_v2.json --part test --json --report runs/eval-small

Each clip goes through ``emocap.emotion.model.EmotionModel.predict`` (features, windows,
calibrated aggregation) exactly as a caption's utterance does; each speaker's clips are played
as one stream (emocap_train/streams.py), which matters for a stream-normalised model. Clips whose label the model
lacks are skipped and counted. ``--noise DIR --snr DB`` adds noise from DIR at that SNR first.
``--neutral-share 0.5`` plays each speaker's stream half neutral (serdata.neutral_heavy), as a
day's speech is mostly calm.
``coverage`` (share of clips whose tag would be shown) and ``shown_precision`` (accuracy of
those) are taken at the model's own ``show_confidence`` (its metadata), or ``--show-confidence``.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from emocap_train import metrics
from emocap_train import serdata, streams
from emocap.emotion.model import EmotionModel
from emocap.errors import EmocapError


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", required=True, action="append", help="manifest CSV (repeatable)")
    p.add_argument("--model", required=True, help="ONNX model with emocap metadata")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a text report")
    p.add_argument("--report", help="folder for confusion.png and report.txt")
    p.add_argument("--split", help="split JSON; with --part, evaluate only that part's clips")
    p.add_argument("--part", default="test", choices=["train", "validation", "test"])
    p.add_argument("--sentences", type=int, nargs="+",
                   help="with --part: these sentence numbers of sentence-ruled corpora instead of the part's")
    p.add_argument("--neutral-share", type=float,
                   help="each speaker's neutral clips and a seeded draw of the others, neutral making this share")
    p.add_argument("--noise", action="append", default=[], help="noise folder (repeatable)")
    p.add_argument("--snr", type=float, default=10.0, help="SNR of added noise, dB (with --noise)")
    p.add_argument("--seed", type=int, default=0, help="seed for noise placement")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--show-confidence", type=float,
                   help="threshold for coverage/shown_precision (default: the model's metadata, else 0)")
    return p.parse_args(argv)


# Worker state: one model per process (onnxruntime sessions are not fork-shared).
_model: EmotionModel | None = None
_noise: list[np.ndarray] = []


def _init(model_path: str, noise_paths: list[str]) -> None:
    global _model, _noise
    _model = EmotionModel(model_path, threads=1)
    _noise = [serdata.load_audio(p) for p in noise_paths]


def _predict_stream(job: tuple[list[tuple[int, str]], float | None, int]) -> list[tuple[int, list[float]]]:
    """One speaker's clips in stream order (a stream-normalised model carries its statistics
    from clip to clip, as the runtime does from utterance to utterance)."""
    clips, snr, seed = job
    stream, out = _model.new_stream(), []
    for i, path in clips:
        x = serdata.load_audio(path)
        if _noise and snr is not None:
            rng = np.random.default_rng(seed + i)
            x = serdata.mix_at_snr(x, _noise[int(rng.integers(len(_noise)))], snr, rng)
        pred = _model.predict(x, stream)
        out.append((i, [pred.probs[l] for l in _model.labels]))
    return out


def predict_clips(model_path, clips, noise_paths=(), snr=None, seed=0, workers=2) -> np.ndarray:
    """Utterance probabilities ``(clips, labels)`` in the model's label order."""
    jobs = [([(i, str(clips[i].path)) for i in group], snr if noise_paths else None, seed)
            for group in streams.by_speaker(clips)]
    init = (str(model_path), [str(p) for p in noise_paths])
    _init(*init)  # this process's model also serves workers=1, and gives the label count
    probs = np.zeros((len(clips), len(_model.labels)), dtype=np.float32)
    if workers <= 1:
        results = list(map(_predict_stream, jobs))
    else:
        with Pool(workers, initializer=_init, initargs=init) as pool:
            results = list(pool.imap_unordered(_predict_stream, jobs))
    results = [r for stream in results for r in stream]
    for i, p in results:
        probs[i] = p
    return probs


def shown_figures(probs: np.ndarray, y_true: list[int], threshold: float) -> dict:
    """Coverage (share of utterances shown at ``threshold``) and the precision of those shown."""
    conf, right = probs.max(axis=1), probs.argmax(axis=1) == np.asarray(y_true)
    shown = conf >= threshold
    return {"coverage": float(shown.mean()) if len(shown) else 0.0,
            "shown_precision": float(right[shown].mean()) if shown.any() else 0.0}


def evaluate(model_path, clips, noise_paths=(), snr=None, seed=0, workers=2, show_confidence=None) -> dict:
    """The DESIGN.md evaluation object (+ uar, skipped, per_corpus) for ``clips``."""
    model = EmotionModel(model_path)
    labels = model.labels
    threshold = show_confidence if show_confidence is not None else (model.show_confidence or 0.0)
    kept = [c for c in clips if c.label in labels]
    skipped = Counter(c.label for c in clips if c.label not in labels)
    probs = predict_clips(model_path, kept, noise_paths, snr, seed, workers)
    y_true = [labels.index(c.label) for c in kept]
    y_pred = [int(i) for i in probs.argmax(axis=1)]
    result = metrics.summary(metrics.confusion(y_true, y_pred, len(labels)), labels)
    result["skipped"] = sum(skipped.values())
    result["skipped_labels"] = dict(sorted(skipped.items()))
    result.update(shown_figures(probs, y_true, threshold), show_confidence=float(threshold))
    by = defaultdict(list)
    for i, c in enumerate(kept):
        by[c.corpus or "all"].append(i)
    result["per_corpus"] = {corpus: _corpus(probs[idx], [y_true[i] for i in idx], labels, threshold)
                            for corpus, idx in sorted(by.items())}
    result["predictions"] = y_pred
    return result


def _corpus(probs: np.ndarray, y_true: list[int], labels, threshold: float) -> dict:
    cm = metrics.confusion(y_true, [int(i) for i in probs.argmax(axis=1)], len(labels))
    r = {k: v for k, v in metrics.summary(cm, labels).items() if k in ("n", "accuracy", "uar", "macro_f1", "confusion")}
    return {**r, **shown_figures(probs, y_true, threshold), "precision_curve": precision_curve(probs, y_true)}


CURVE_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def precision_curve(probs: np.ndarray, y_true: list[int]) -> dict:
    """Coverage and shown precision at each of ``CURVE_THRESHOLDS``: what any default would give."""
    return {f"{t:.1f}": shown_figures(probs, y_true, t) for t in CURVE_THRESHOLDS}


def text_report(r: dict, title: str) -> str:
    lines = [title, f"clips {r['n']} (skipped {r['skipped']}: {r['skipped_labels']})",
             f"accuracy {r['accuracy']:.4f}  UAR {r['uar']:.4f}  macro-F1 {r['macro_f1']:.4f}",
             f"at show_confidence {r['show_confidence']:.2f}: coverage {r['coverage']:.4f}  "
             f"shown precision {r['shown_precision']:.4f}", "",
             f"{'label':<10} {'prec':>6} {'recall':>6} {'f1':>6} {'n':>5}"]
    for l, m in r["per_class"].items():
        lines.append(f"{l:<10} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f} {m['support']:5d}")
    lines += ["", "confusion (rows true, columns predicted): " + " ".join(l[:4] for l in r["labels"])]
    lines += [f"{l[:4]:<5} " + " ".join(f"{v:4d}" for v in row) for l, row in zip(r["labels"], r["confusion"])]
    for corpus, m in r.get("per_corpus", {}).items():
        lines.append(f"{corpus}: n {m['n']} accuracy {m['accuracy']:.4f} UAR {m['uar']:.4f} macro-F1 {m['macro_f1']:.4f}"
                     f" coverage {m['coverage']:.4f} shown precision {m['shown_precision']:.4f}")
    return "\n".join(lines) + "\n"


def plot_confusion(r: dict, path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.array(r["confusion"], dtype=float)
    rows = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(r["labels"])), r["labels"], rotation=45, ha="right")
    ax.set_yticks(range(len(r["labels"])), r["labels"])
    for i in range(len(cm)):
        for j in range(len(cm)):
            ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if rows[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{title}\nmacro-F1 {r['macro_f1']:.3f}, accuracy {r['accuracy']:.3f}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        clips = [c for m in args.manifest for c in serdata.read_manifest(m)]
        if args.split:
            split = serdata.load_split(args.split)
            if args.sentences:
                split = serdata.with_sentences(split, args.part, args.sentences)
            clips = serdata.select(clips, split, args.part)
        if args.neutral_share is not None:
            if not 0 < args.neutral_share <= 1:
                raise EmocapError(f"--neutral-share {args.neutral_share}: expected a share in (0, 1]")
            clips = serdata.neutral_heavy(clips, args.neutral_share, args.seed)
        if not clips:
            raise EmocapError(f"{', '.join(args.manifest)}: no clips to evaluate")
        noise = serdata.noise_files(args.noise)
        if args.noise and not noise:
            raise EmocapError(f"{', '.join(args.noise)}: no audio files found for --noise")
        result = evaluate(args.model, clips, noise, args.snr if noise else None, args.seed, args.workers,
                          args.show_confidence)
    except EmocapError as e:
        print(f"evaluate: {e}", file=sys.stderr)
        return 2
    result.pop("predictions")
    if args.noise:
        result["noise"] = {"folders": args.noise, "snr_db": args.snr}
    if args.neutral_share is not None:
        result["neutral_share"] = {"share": args.neutral_share, "seed": args.seed}
    title = f"{args.model} on {', '.join(args.manifest)}" + (f" [{args.part}]" if args.split else "")
    if args.report:
        out = Path(args.report)
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.txt").write_text(text_report(result, title))
        plot_confusion(result, out / "confusion.png", Path(args.model).name)
    print(json.dumps(result) if args.json else text_report(result, title), end="\n" if args.json else "")
    return 0
