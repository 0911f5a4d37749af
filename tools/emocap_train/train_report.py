"""What a training run leaves in ``--out``: model.pt (best epoch), report.json and curve.png."""
from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path

import torch

from emocap_train import serdata


def save_checkpoint(run, weights: str, module, epoch: int) -> None:
    """``model.pt``: the weights (raw or averaged) of the best epoch and what export needs beside them."""
    torch.save({"arch": run.args.arch, "state_dict": module.state_dict(), "labels": serdata.LABELS,
                "mean": run.prep.mean, "std": run.prep.std, "features": run.settings.to_dict(), "epoch": epoch,
                "weights": weights}, run.out / "model.pt")


def report(run, model, progress, epoch: int) -> dict:
    """The run so far; written every epoch, so a run stopped early (time limit, Ctrl-C) still leaves it."""
    args, argv, data, prep = run.args, run.argv, run.data, run.prep
    return {
        "arch": args.arch, "params": sum(p.numel() for p in model.parameters()),
        "best_epoch": progress.best_epoch, "best_val_score": progress.best,
        "selection": "mean per-corpus macro-F1 on validation",
        "train_clips": len(data.train), "validation_clips": len(data.val), "noise_clips": len(data.noise),
        "feature_copies": args.variants, "seconds_features": prep.seconds_features, "teacher": args.teacher,
        "teacher_sha256": prep.teacher_sha,
        "train_speakers": sorted({c.speaker for c in data.train}),
        "validation_speakers": sorted({c.speaker for c in data.val}),
        "args": vars(args), "epochs_run": epoch, "seconds": round(time.time() - run.t_start, 1),
        "machine": {"device": args.device, "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads()},
        "command": "python tools/train.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])),
        "history": progress.history,
    }


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


def write(out: Path, rep: dict) -> None:
    (out / "report.json").write_text(json.dumps(rep, indent=1))
    plot_curve(rep["history"], out / "curve.png")
