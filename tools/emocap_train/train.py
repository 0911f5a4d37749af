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

``--adversary W`` adds corpus-adversarial training (emocap_train/adversary.py): a head that
tells the training corpora apart from the embedding, its gradient reversed into the model.

``--teacher ONNX`` distils a trained model (an ensemble, usually) into this one: the target of
each window mixes the smoothed label with the teacher's utterance distribution for the same
augmented copy (``--teacher-weight``). ``--mixup`` blends pairs of windows and their targets.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DataLoader, WeightedRandomSampler
from tqdm import tqdm

from emocap_train import adversary, augment, ser_models, serdata, train_data, train_report, validation
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
    _augment_args(p)
    _target_args(p)
    p.add_argument("--stream-norm", action="store_true",
                   help="normalise by the speaker's stream statistics (emocap/stream_norm.py), not the utterance's mean")
    p.add_argument("--stream-mean-only", action="store_true",
                   help="stream normalisation that takes out the stream's mean only, not its variance")
    p.add_argument("--stream-context", type=int, default=12,
                   help="with --stream-norm: at most this many of the speaker's other clips precede each copy")
    p.add_argument("--max-clips", type=int, default=0, help="use at most this many clips per part (smoke tests)")
    p.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def _augment_args(p) -> None:
    p.add_argument("--crops", type=int, default=2, help="random windows drawn per training clip per epoch")
    p.add_argument("--noise", action="append", default=[], help="noise folder for augmentation (repeatable)")
    p.add_argument("--noise-prob", type=float, default=0.5, help="share of training windows with added noise")
    p.add_argument("--snr", type=float, nargs=2, default=(0.0, 30.0), metavar=("LO", "HI"), help="SNR range, dB")
    p.add_argument("--speed-prob", type=float, default=0.5, help="share of training clips speed-perturbed")
    p.add_argument("--speeds", type=float, nargs="+", default=[0.9, 0.95, 1.05, 1.1],
                   help="speed factors to pick from (changes tempo and pitch, as a different voice would)")
    p.add_argument("--room-prob", type=float, default=0.0,
                   help="share of augmented copies played in a synthetic room (reverberation, RT60 0.2-0.9 s)")
    p.add_argument("--band-prob", type=float, default=0.0,
                   help="share of augmented copies band-limited (a cheap or distant microphone)")
    p.add_argument("--spec-augment", action=argparse.BooleanOptionalAction, default=True,
                   help="SpecAugment-style time and coefficient masks on training windows")
    p.add_argument("--korean-weight", type=float, default=3.0,
                   help="sampling weight of Korean clips relative to others (few clips, the users' language)")
    p.add_argument("--variants", type=int, default=8,
                   help="feature copies per training clip computed before training: 1 clean + augmented")


def _target_args(p) -> None:
    p.add_argument("--teacher", help="ONNX model (tools/export.py) whose utterance probabilities are distilled")
    p.add_argument("--teacher-weight", type=float, default=0.5,
                   help="share of the teacher's distribution in each training target (with --teacher)")
    p.add_argument("--mixup", type=float, default=0.0,
                   help="Beta(a, a) mixup of window pairs and their targets (0: off)")
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--adversary", type=float, default=0.0,
                   help="weight of the corpus-adversarial loss (0: off; not with --mixup)")
    p.add_argument("--ema", type=float, default=0.995,
                   help="decay of the weight moving average validated beside the raw weights (0: raw only)")


@dataclass
class Run:
    """One training run: its options, where it writes, and its data, prepared once."""
    args: argparse.Namespace
    argv: list | None
    out: Path
    settings: FeatureSettings
    data: train_data.Data
    prep: train_data.Prepared
    t_start: float


@dataclass
class Fit:
    """The model being trained, its weight average, optimiser and schedule."""
    model: nn.Module
    ema: AveragedModel | None
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LRScheduler
    mix_rng: np.random.Generator
    adversary: adversary.CorpusAdversary | None = None
    adv_opt: torch.optim.Optimizer | None = None
    steps: int = 1
    step: int = 0

    def candidates(self) -> dict:
        """Both the raw weights and their moving average are validated; the better one counts."""
        return {"raw": self.model, **({"ema": self.ema.module} if self.ema is not None else {})}


@dataclass
class Progress:
    best: float = -1.0
    best_epoch: int = 0
    history: list = field(default_factory=list)


def start(argv) -> Run:
    """Seed, make the output folder, load and prepare the data."""
    args = parse_args(argv)
    if args.adversary > 0 and args.mixup > 0:
        raise SystemExit("train.py: --adversary and --mixup cannot be combined (a mixed window has no one corpus)")
    t_start = time.time()
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    settings = FeatureSettings(stream_norm=args.stream_norm or args.stream_mean_only,
                               stream_var=not args.stream_mean_only)
    data = train_data.load_data(args)
    prep = train_data.prepare(args, data, settings)
    return Run(args, argv, out, settings, data, prep, t_start)


def make_loader(run: Run) -> DataLoader:
    args, prep = run.args, run.prep
    # Balance labels (CREMA-D has no surprise) and give the few Korean clips more weight.
    counts = Counter(prep.y_train)
    weights = [(args.korean_weight if c.corpus == "emotiontts-ko" else 1.0) / counts[y]
               for c, y in zip(run.data.train, prep.y_train)]
    n = len(run.data.train) * args.crops
    sampler = WeightedRandomSampler(weights, num_samples=n, replacement=True)
    ds = augment.TrainWindows(prep.variants, prep.targets, args, run.settings, prep.mean, prep.std)
    if args.adversary > 0:
        ds = adversary.WithCorpus(ds, [corpus_index(run)[c.corpus] for c in run.data.train])
    # Windows are cut from memory: cheaper in this process than shipped from worker processes.
    return DataLoader(ds, batch_size=args.batch, sampler=sampler, num_workers=0, drop_last=n > args.batch)


def corpus_index(run: Run) -> dict[str, int]:
    return {c: i for i, c in enumerate(sorted({c.corpus for c in run.data.train}))}


def make_fit(run: Run, batches: int) -> Fit:
    args = run.args
    model = ser_models.build(args.arch, len(serdata.LABELS))
    if hasattr(model, "set_input_stats"):  # a model that undoes the z-score inside (small_mel)
        model.set_input_stats(run.prep.mean, run.prep.std)
    model = model.to(args.device)
    # use_buffers: BatchNorm statistics are averaged with the weights they belong to.
    ema = (AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(args.ema), use_buffers=True)
           if args.ema > 0 else None)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps = max(1, batches) * args.epochs
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps, pct_start=0.15)
    fit = Fit(model, ema, opt, sched, np.random.default_rng(args.seed + 1), steps=steps)
    if args.adversary > 0:  # after the EMA copy, so only the trained weights carry the hook
        fit.adversary = adversary.CorpusAdversary(model, len(corpus_index(run))).to(args.device)
        fit.adv_opt = torch.optim.AdamW(fit.adversary.parameters(), lr=args.lr)
    return fit


def train_epoch(args, fit: Fit, loader: DataLoader, epoch: int) -> float:
    """One pass over the sampled windows; the mean training loss."""
    fit.model.train()
    total, seen = 0.0, 0
    for x, t, *corpus in tqdm(loader, desc=f"epoch {epoch}/{args.epochs}", leave=False, mininterval=2):
        x, t = x.to(args.device), t.to(args.device)
        if args.mixup > 0:
            lam = float(fit.mix_rng.beta(args.mixup, args.mixup))
            perm = torch.randperm(len(x), device=x.device)
            x, t = lam * x + (1 - lam) * x[perm], lam * t + (1 - lam) * t[perm]
        # Cross-entropy against soft targets (smoothed label, teacher, mixup).
        loss = -(t * torch.log_softmax(fit.model(x), dim=1)).sum(dim=1).mean()
        fit.opt.zero_grad()
        if fit.adversary is not None:
            fit.adv_opt.zero_grad()
            weight = adversary.scale(fit.step / fit.steps)
            (loss + args.adversary * fit.adversary.loss(corpus[0].to(args.device), weight)).backward()
            fit.adv_opt.step()
        else:
            loss.backward()
        fit.step += 1
        nn.utils.clip_grad_norm_(fit.model.parameters(), 5.0)
        fit.opt.step()
        fit.sched.step()
        if fit.ema is not None:
            fit.ema.update_parameters(fit.model)
        total, seen = total + loss.item() * len(x), seen + len(x)
    return total / max(seen, 1)


def validate_epoch(run: Run, fit: Fit, progress: Progress, epoch: int, loss: float) -> None:
    """Score both sets of weights, keep the better, save it when it beats the best so far."""
    candidates = fit.candidates()
    scores = validation.score_candidates(candidates, run.prep, run.data.val, serdata.LABELS, run.args.device)
    chosen = max(scores, key=lambda k: scores[k][0])
    score, per_corpus, pooled = scores[chosen]
    progress.history.append({"epoch": epoch, "train_loss": loss, "val_score": score,
                             "val_macro_f1": pooled["macro_f1"], "val_accuracy": pooled["accuracy"],
                             "val_per_corpus": per_corpus, "weights": chosen,
                             **{f"val_score_{k}": v[0] for k, v in scores.items()}})
    mark = ""
    if score > progress.best:
        progress.best, progress.best_epoch, mark = score, epoch, " *"
        train_report.save_checkpoint(run, chosen, candidates[chosen], epoch)
    print(f"epoch {epoch:3d} loss {loss:.4f} val score {score:.4f} ({chosen}) "
          f"(pooled macro-F1 {pooled['macro_f1']:.4f}, acc {pooled['accuracy']:.4f}) "
          f"{json.dumps({k: round(v, 3) for k, v in per_corpus.items()})}{mark}", flush=True)


def main(argv=None) -> int:
    run = start(argv)
    loader = make_loader(run)
    fit, progress = make_fit(run, len(loader)), Progress()
    for epoch in range(1, run.args.epochs + 1):
        loss = train_epoch(run.args, fit, loader, epoch)
        validate_epoch(run, fit, progress, epoch, loss)
        report = train_report.report(run, fit.model, progress, epoch)
        train_report.write(run.out, report)
        if epoch - progress.best_epoch >= run.args.patience:
            report["stopped_by"] = f"early stop: no validation gain for {run.args.patience} epochs"
            (run.out / "report.json").write_text(json.dumps(report, indent=1))
            print(f"early stop: no validation gain for {run.args.patience} epochs", flush=True)
            break
    print(f"best epoch {progress.best_epoch} (validation score {progress.best:.4f}); wrote {run.out}/model.pt, "
          f"report.json, curve.png in {report['seconds']} s", flush=True)
    return 0
