#!/usr/bin/env python3
"""Train a speech-emotion model on manifests, with the committed speaker-independent split.

    python tools/train.py --manifest ../shared/data/ser/manifest.csv \
        --manifest ../shared/data/asr/ko/emotion.csv --arch small --out runs/small

Only the split's train and validation parts are read; test is left to tools/evaluate.py.
The checkpoint is the epoch with the best validation score: the mean over corpora of each
corpus's macro-F1 (so no single corpus dominates the choice). Each epoch validates both the
raw weights and an exponential moving average of them (``--ema``) and keeps the better: with a
few thousand windows per epoch the raw weights' score swings by several points from epoch to
epoch, which the average smooths once training has settled (early on it lags behind). Writes ``model.pt``,
``report.json`` and ``curve.png`` into ``--out``.

Augmented features are computed once, before the first epoch: ``--variants`` copies of each
training clip (the clean one and speed/noise-perturbed ones), from which every epoch draws
random windows with SpecAugment masks. An epoch then costs only the model's own compute, so
the small model trains in minutes per epoch on two CPU cores.

``--teacher ONNX`` distils a trained model (an ensemble, usually) into this one: the target of
each window mixes the smoothed label with the teacher's utterance distribution for the same
augmented copy (``--teacher-weight``). ``--mixup`` blends pairs of windows and their targets.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shlex
import sys
import time
from collections import Counter, defaultdict
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DataLoader, Dataset, WeightedRandomSampler
from tqdm import tqdm

from emocap_train import metrics
from emocap_train import ser_models
from emocap_train import serdata
from emocap import features
from emocap.audio.io import resample, to_int16
from emocap.features import FeatureSettings


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", action="append", required=True, help="manifest CSV (repeatable)")
    p.add_argument("--split", default=str(serdata.DEFAULT_SPLIT), help="split JSON (speakers per part)")
    p.add_argument("--arch", default="small", choices=sorted(ser_models.ARCHS))
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--patience", type=int, default=10, help="epochs without validation gain before stopping")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=5e-2)
    p.add_argument("--crops", type=int, default=2, help="random windows drawn per training clip per epoch")
    p.add_argument("--noise", action="append", default=[], help="noise folder for augmentation (repeatable)")
    p.add_argument("--noise-prob", type=float, default=0.5, help="share of training windows with added noise")
    p.add_argument("--snr", type=float, nargs=2, default=(0.0, 30.0), metavar=("LO", "HI"), help="SNR range, dB")
    p.add_argument("--speed-prob", type=float, default=0.5, help="share of training clips speed-perturbed")
    p.add_argument("--speeds", type=float, nargs="+", default=[0.9, 0.95, 1.05, 1.1],
                   help="speed factors to pick from (changes tempo and pitch, as a different voice would)")
    p.add_argument("--spec-augment", action=argparse.BooleanOptionalAction, default=True,
                   help="SpecAugment-style time and coefficient masks on training windows")
    p.add_argument("--korean-weight", type=float, default=3.0,
                   help="sampling weight of Korean clips relative to others (few clips, the users' language)")
    p.add_argument("--variants", type=int, default=8,
                   help="feature copies per training clip computed before training: 1 clean + augmented")
    p.add_argument("--teacher", help="ONNX model (tools/export.py) whose utterance probabilities are distilled")
    p.add_argument("--teacher-weight", type=float, default=0.5,
                   help="share of the teacher's distribution in each training target (with --teacher)")
    p.add_argument("--mixup", type=float, default=0.0,
                   help="Beta(a, a) mixup of window pairs and their targets (0: off)")
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--ema", type=float, default=0.995,
                   help="decay of the weight moving average validated beside the raw weights (0: raw only)")
    p.add_argument("--max-clips", type=int, default=0, help="use at most this many clips per part (smoke tests)")
    p.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def load_clips(manifests, split, part, max_clips, rng):
    clips = [c for m in manifests for c in serdata.read_manifest(m) if c.label in serdata.LABELS]
    chosen = serdata.select(clips, split, part)
    if max_clips and len(chosen) > max_clips:
        chosen = [chosen[i] for i in sorted(rng.choice(len(chosen), max_clips, replace=False))]
    return chosen


def _load(path):
    return serdata.load_audio(path)


def load_audio_all(paths, workers):
    with Pool(max(1, workers)) as pool:
        return pool.map(_load, [str(p) for p in paths], chunksize=16)


# Read by the pool workers that build the feature copies (set before the pool forks).
_AUG: dict = {}


def _clip_variants(job) -> list[np.ndarray]:
    """Features of one clip: the clean copy, then copies with random speed and noise."""
    i, seed = job
    x, noise, args, s = _AUG["audio"][i], _AUG["noise"], _AUG["args"], _AUG["settings"]
    rng = np.random.default_rng(seed)
    out = [features.utterance_features(x, s)]
    for _ in range(args.variants - 1):
        y = x
        if rng.random() < args.speed_prob:
            y = speed_perturb(y, float(rng.choice(args.speeds)), s.sample_rate)
        if noise and rng.random() < args.noise_prob:
            y = serdata.mix_at_snr(y, noise[rng.integers(len(noise))], rng.uniform(*args.snr), rng)
        out.append(features.utterance_features(y, s))
    return out


def feature_variants(audio, noise, args, settings) -> list[list[np.ndarray]]:
    """``args.variants`` feature copies of every clip, computed once (the costly part of augmentation)."""
    _AUG.update(audio=audio, noise=noise, args=args, settings=settings)
    jobs = [(i, args.seed * 1_000_003 + i) for i in range(len(audio))]
    if args.workers <= 1:
        return [_clip_variants(j) for j in jobs]
    with Pool(args.workers) as pool:
        return pool.map(_clip_variants, jobs, chunksize=8)


def teacher_probs(path, variants, settings, labels) -> list[np.ndarray]:
    """The teacher's utterance distribution ``(copies, labels)`` for every copy of every clip."""
    from emocap.emotion.model import EmotionModel

    teacher = EmotionModel(path, threads=torch.get_num_threads())
    if teacher.settings != settings or sorted(teacher.labels) != sorted(labels):
        sys.exit(f"train: {path} has other features or labels than this run; cannot distil it")
    order = [teacher.labels.index(l) for l in labels]
    out = []
    for copies in variants:
        wins = [features.windows(f, settings) for f in copies]
        probs = features.softmax(teacher.window_logits(np.concatenate(wins)))
        bounds = np.cumsum([0] + [len(w) for w in wins])
        out.append(np.stack([features.aggregate(probs[a:b])[order] for a, b in zip(bounds, bounds[1:])]))
    return out


def soft_targets(y: int, n_labels: int, smoothing: float, teacher=None, weight: float = 0.0) -> np.ndarray:
    """Smoothed one-hot label, optionally mixed with teacher distributions (one row per copy)."""
    t = np.full(n_labels, smoothing / n_labels, dtype=np.float32)
    t[y] += 1.0 - smoothing
    if teacher is None:
        return t[None]
    return ((1.0 - weight) * t[None] + weight * teacher).astype(np.float32)


class TrainWindows(Dataset):
    """A random 128-frame window of a random copy of each clip, z-scored and masked, with its target."""

    def __init__(self, variants, targets, args, settings, mean, std):
        self.variants, self.targets = variants, targets
        self.args, self.s, self.mean, self.std = args, settings, mean, std

    def __len__(self):
        return len(self.variants)

    def __getitem__(self, i):
        rng = np.random.default_rng()
        v = int(rng.integers(len(self.variants[i])))
        f = self.variants[i][v]
        if f.shape[1] > self.s.frames:
            start = rng.integers(0, f.shape[1] - self.s.frames + 1)
            f = f[:, start : start + self.s.frames]
        win = features.normalise(features.windows(f, self.s), self.mean, self.std)[0]
        if self.args.spec_augment:
            win = spec_augment(win, rng)
        return torch.from_numpy(win), torch.tensor(self.targets[i][v])


def speed_perturb(x, factor, rate):
    """Play ``factor`` times faster: read the samples as if taken at rate*factor, resample back."""
    return to_int16(resample(x.astype(np.float32) / 32768.0, int(round(rate * factor)), rate))


def spec_augment(win, rng, time_masks=2, max_t=16, coef_masks=1, max_c=6):
    """SpecAugment-style masking on a normalised window (masked cells set to the mean, 0)."""
    win = win.copy()
    _, n_c, n_t = win.shape
    for _ in range(time_masks):
        w = rng.integers(0, max_t + 1)
        t0 = rng.integers(0, n_t - w + 1)
        win[:, :, t0 : t0 + w] = 0.0
    for _ in range(coef_masks):
        w = rng.integers(0, max_c + 1)
        c0 = rng.integers(1, n_c - w + 1)  # keep c0, the level contour
        win[:, c0 : c0 + w, :] = 0.0
    return win


def feature_stats(feats):
    frames = np.concatenate(feats, axis=1)
    return frames.mean(axis=1).astype(np.float32), (frames.std(axis=1) + 1e-6).astype(np.float32)


def validation_windows(audio, settings):
    wins, owner = [], []
    for i, x in enumerate(audio):
        w = features.windows(features.utterance_features(x, settings), settings)
        wins.append(w)
        owner += [i] * len(w)
    return np.concatenate(wins), np.array(owner)


@torch.no_grad()
def clip_predictions(model, wins, owner, mean, std, device, n_clips):
    """Clip-level labels, aggregated exactly as the runtime does (features.aggregate)."""
    model.eval()
    x = torch.from_numpy(features.normalise(wins, mean, std))
    logits = torch.cat([model(x[i : i + 512].to(device)).cpu() for i in range(0, len(x), 512)]).numpy()
    probs = features.softmax(logits)
    return [int(np.argmax(features.aggregate(probs[owner == c]))) for c in range(n_clips)]


def corpus_scores(clips, y_true, y_pred, labels):
    """Per-corpus macro-F1 (over the labels each corpus has) and their mean."""
    by = defaultdict(list)
    for c, t, p in zip(clips, y_true, y_pred):
        by[c.corpus or "all"].append((t, p))
    scores = {}
    for corpus, pairs in sorted(by.items()):
        t, p = zip(*pairs)
        scores[corpus] = metrics.summary(metrics.confusion(t, p, len(labels)), labels)["macro_f1"]
    return scores, float(np.mean(list(scores.values())))


def plot_curve(history, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = [h["epoch"] for h in history]
    fig, ax1 = plt.subplots(figsize=(7, 4))
    ax1.plot(ep, [h["train_loss"] for h in history], label="train loss", color="tab:blue")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("loss")
    ax2 = ax1.twinx()
    ax2.plot(ep, [h["val_score"] for h in history], label="val mean per-corpus macro-F1", color="tab:red")
    ax2.plot(ep, [h["val_macro_f1"] for h in history], label="val macro-F1 (pooled)", color="tab:orange", ls="--")
    ax2.set_ylabel("macro-F1")
    fig.legend(loc="lower center", ncol=3, fontsize=8)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    t_start = time.time()
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    settings = FeatureSettings()
    labels = serdata.LABELS
    split = serdata.load_split(args.split)

    train = load_clips(args.manifest, split, "train", args.max_clips, rng)
    val = load_clips(args.manifest, split, "validation", args.max_clips, rng)
    print(f"train clips {len(train)}, validation clips {len(val)}", flush=True)
    train_audio = load_audio_all([c.path for c in train], args.workers)
    val_audio = load_audio_all([c.path for c in val], args.workers)
    noise_paths = serdata.noise_files(args.noise, exclude=serdata.HELD_OUT_NOISE)
    noise = load_audio_all(noise_paths, args.workers) if noise_paths else []
    print(f"noise clips for augmentation: {len(noise)}", flush=True)

    mean, std = feature_stats([features.utterance_features(x, settings) for x in train_audio])
    y_train = [labels.index(c.label) for c in train]
    y_val = [labels.index(c.label) for c in val]
    val_wins, val_owner = validation_windows(val_audio, settings)

    t_feat = time.time()
    variants = feature_variants(train_audio, noise, args, settings)
    teacher = teacher_probs(args.teacher, variants, settings, labels) if args.teacher else None
    # The teacher's path may later hold another model: its hash says which one taught.
    teacher_sha = hashlib.sha256(Path(args.teacher).read_bytes()).hexdigest() if args.teacher else None
    # One target row per feature copy (the teacher saw each copy; without it the rows are equal).
    targets = [np.broadcast_to(soft_targets(y, len(labels), args.label_smoothing, teacher[i] if teacher else None,
                                            args.teacher_weight), (len(variants[i]), len(labels)))
               for i, y in enumerate(y_train)]
    seconds_features = round(time.time() - t_feat, 1)
    print(f"{args.variants} feature copies per clip{' and teacher targets' if teacher else ''} "
          f"in {seconds_features} s", flush=True)

    # Balance labels (CREMA-D has no surprise) and give the few Korean clips more weight.
    counts = Counter(y_train)
    weights = [(args.korean_weight if c.corpus == "emotiontts-ko" else 1.0) / counts[y]
               for c, y in zip(train, y_train)]
    sampler = WeightedRandomSampler(weights, num_samples=len(train) * args.crops, replacement=True)
    ds = TrainWindows(variants, targets, args, settings, mean, std)
    # Windows are cut from memory: cheaper in this process than shipped from worker processes.
    loader = DataLoader(ds, batch_size=args.batch, sampler=sampler, num_workers=0,
                        drop_last=len(train) * args.crops > args.batch)

    model = ser_models.build(args.arch, len(labels))
    if hasattr(model, "set_input_stats"):  # a model that undoes the z-score inside (small_mel)
        model.set_input_stats(mean, std)
    model = model.to(args.device)
    # use_buffers: BatchNorm statistics are averaged with the weights they belong to.
    ema = (AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(args.ema), use_buffers=True)
           if args.ema > 0 else None)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps = max(1, len(loader)) * args.epochs
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps, pct_start=0.15)
    mix_rng = np.random.default_rng(args.seed + 1)

    best, best_epoch, history = -1.0, 0, []
    for epoch in range(1, args.epochs + 1):
        model.train()
        total, seen = 0.0, 0
        for x, t in tqdm(loader, desc=f"epoch {epoch}/{args.epochs}", leave=False, mininterval=2):
            x, t = x.to(args.device), t.to(args.device)
            if args.mixup > 0:
                lam = float(mix_rng.beta(args.mixup, args.mixup))
                perm = torch.randperm(len(x), device=x.device)
                x, t = lam * x + (1 - lam) * x[perm], lam * t + (1 - lam) * t[perm]
            # Cross-entropy against soft targets (smoothed label, teacher, mixup).
            loss = -(t * torch.log_softmax(model(x), dim=1)).sum(dim=1).mean()
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            if ema is not None:
                ema.update_parameters(model)
            total, seen = total + loss.item() * len(x), seen + len(x)
        # Both the raw weights and their moving average are validated; the better one counts.
        candidates = {"raw": model, **({"ema": ema.module} if ema is not None else {})}
        scores = {}
        for name, m in candidates.items():
            pred = clip_predictions(m, val_wins, val_owner, mean, std, args.device, len(val))
            per_corpus, score = corpus_scores(val, y_val, pred, labels)
            scores[name] = (score, per_corpus, metrics.summary(metrics.confusion(y_val, pred, len(labels)), labels))
        chosen = max(scores, key=lambda k: scores[k][0])
        score, per_corpus, pooled = scores[chosen]
        history.append({"epoch": epoch, "train_loss": total / max(seen, 1), "val_score": score,
                        "val_macro_f1": pooled["macro_f1"], "val_accuracy": pooled["accuracy"],
                        "val_per_corpus": per_corpus, "weights": chosen,
                        **{f"val_score_{k}": v[0] for k, v in scores.items()}})
        mark = ""
        if score > best:
            best, best_epoch, mark = score, epoch, " *"
            torch.save({"arch": args.arch, "state_dict": candidates[chosen].state_dict(), "labels": labels,
                        "mean": mean, "std": std, "features": settings.to_dict(), "epoch": epoch,
                        "weights": chosen}, out / "model.pt")
        print(f"epoch {epoch:3d} loss {total / max(seen, 1):.4f} val score {score:.4f} ({chosen}) "
              f"(pooled macro-F1 {pooled['macro_f1']:.4f}, acc {pooled['accuracy']:.4f}) "
              f"{json.dumps({k: round(v, 3) for k, v in per_corpus.items()})}{mark}", flush=True)
        # Written every epoch, so a run stopped early (time limit, Ctrl-C) still leaves its report.
        report = {
            "arch": args.arch, "params": sum(p.numel() for p in model.parameters()),
            "best_epoch": best_epoch, "best_val_score": best, "selection": "mean per-corpus macro-F1 on validation",
            "train_clips": len(train), "validation_clips": len(val), "noise_clips": len(noise),
            "feature_copies": args.variants, "seconds_features": seconds_features, "teacher": args.teacher,
            "teacher_sha256": teacher_sha,
            "train_speakers": sorted({c.speaker for c in train}),
            "validation_speakers": sorted({c.speaker for c in val}),
            "args": vars(args), "epochs_run": epoch, "seconds": round(time.time() - t_start, 1),
            "machine": {"device": args.device, "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads()},
            "command": "python tools/train.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])),
            "history": history,
        }
        (out / "report.json").write_text(json.dumps(report, indent=1))
        plot_curve(history, out / "curve.png")
        if epoch - best_epoch >= args.patience:
            report["stopped_by"] = f"early stop: no validation gain for {args.patience} epochs"
            (out / "report.json").write_text(json.dumps(report, indent=1))
            print(f"early stop: no validation gain for {args.patience} epochs", flush=True)
            break

    print(f"best epoch {best_epoch} (validation score {best:.4f}); wrote {out}/model.pt, report.json, curve.png "
          f"in {report['seconds']} s", flush=True)
