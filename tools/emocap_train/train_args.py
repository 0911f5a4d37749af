"""Command-line options of tools/train.py (emocap_train/train.py, whose docstring is the help)."""
from __future__ import annotations

import argparse
import os

import torch

from emocap_train import ser_models, serdata


def parse_args(argv=None, description: str = ""):
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    p.add_argument("--tilt-prob", type=float, default=0.0,
                   help="share of augmented copies made brighter or duller (a spectral slope of either sign)")
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
    p.add_argument("--centre-train", type=float,
                   help="train and validate through stream centring of this weight (centre_train.py; not with --mixup)")
    p.add_argument("--speakers-per-batch", type=int, default=8,
                   help="with --centre-train: speakers in each batch (--batch is split evenly among them)")
    p.add_argument("--ema", type=float, default=0.995,
                   help="decay of the weight moving average validated beside the raw weights (0: raw only)")
