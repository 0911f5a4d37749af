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

``--centre-train W`` trains through the runtime's stream centring (emocap_train/centre_train.py):
batches of a few speakers' windows each, every window's logits centred on its speaker's mean. The
saved model carries no centring metadata: tools/centre.py adds it (as loco.py --centre does).
"""
from __future__ import annotations

import argparse
import functools
import json
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

from emocap_train import adversary, augment, centre_train, ser_models, serdata, train_args, train_data, train_report, validation
from emocap.features import FeatureSettings


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

    @functools.cached_property
    def corpus_index(self) -> dict[str, int]:
        """Training corpus -> the adversary's class index (sorted names, so every run agrees)."""
        return {c: i for i, c in enumerate(sorted({c.corpus for c in self.data.train}))}


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
    args = train_args.parse_args(argv, __doc__)
    if args.adversary > 0 and args.mixup > 0:
        raise SystemExit("train.py: --adversary and --mixup cannot be combined (a mixed window has no one corpus)")
    centre_train.check_args(args)
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
    ds = augment.TrainWindows(prep.variants, prep.targets, args, run.settings, prep.mean, prep.std)
    if args.adversary > 0:
        index = run.corpus_index
        ds = adversary.WithCorpus(ds, [index[c.corpus] for c in run.data.train])
    # Windows are cut from memory: cheaper in this process than shipped from worker processes.
    if args.centre_train is not None:
        batches = centre_train.SpeakerBatches([c.speaker for c in run.data.train], weights, max(1, n // args.batch),
                                              args.speakers_per_batch, args.batch // args.speakers_per_batch, args.seed)
        return DataLoader(ds, batch_sampler=batches, num_workers=0)
    sampler = WeightedRandomSampler(weights, num_samples=n, replacement=True)
    return DataLoader(ds, batch_size=args.batch, sampler=sampler, num_workers=0, drop_last=n > args.batch)


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
    fit = Fit(model, ema, opt, sched, np.random.default_rng(args.seed + 1))
    if args.adversary > 0:  # after the EMA copy, so only the trained weights carry the hook
        fit.adversary = adversary.CorpusAdversary(model, len(run.corpus_index)).to(args.device)
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
        logits = fit.model(x)
        if args.centre_train is not None:
            logits = centre_train.centred(logits, args.batch // args.speakers_per_batch, args.centre_train)
        # Cross-entropy against soft targets (smoothed label, teacher, mixup).
        loss = -(t * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
        fit.opt.zero_grad()
        if fit.adversary is not None:
            fit.adv_opt.zero_grad()
            weight = adversary.scale(fit.sched.last_epoch / fit.sched.total_steps)  # share of training done
            (loss + args.adversary * fit.adversary.loss(corpus[0].to(args.device), weight)).backward()
            fit.adv_opt.step()
        else:
            loss.backward()
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
    scores = validation.score_candidates(candidates, run.prep, run.data.val, serdata.LABELS, run.args.device,
                                         run.args.centre_train)
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
