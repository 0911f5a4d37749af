"""The data of a training run, loaded and prepared once before the first epoch: the split's
train and validation clips, their audio, feature statistics, validation windows, and the
augmented feature copies of each training clip with their targets."""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from emocap_train import augment, distil, serdata, streams, validation
from emocap import features
from emocap.features import FeatureSettings


@dataclass
class Data:
    """The clips of the split's train and validation parts, their audio and the noise clips."""
    train: list
    val: list
    train_audio: list
    val_audio: list
    noise: list


@dataclass
class Prepared:
    """Everything computed once before the first epoch."""
    mean: np.ndarray
    std: np.ndarray
    y_train: list
    y_val: list
    val_wins: np.ndarray
    val_owner: np.ndarray
    variants: list
    targets: list
    seconds_features: float
    teacher_sha: str | None


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


def load_data(args) -> Data:
    rng = np.random.default_rng(args.seed)
    split = serdata.load_split(args.split)
    train = load_clips(args.manifest, split, "train", args.max_clips, rng)
    val = load_clips(args.manifest, split, "validation", args.max_clips, rng)
    print(f"train clips {len(train)}, validation clips {len(val)}", flush=True)
    train_audio = load_audio_all([c.path for c in train], args.workers)
    val_audio = load_audio_all([c.path for c in val], args.workers)
    noise_paths = serdata.noise_files(args.noise, exclude=serdata.HELD_OUT_NOISE)
    noise = load_audio_all(noise_paths, args.workers) if noise_paths else []
    print(f"noise clips for augmentation: {len(noise)}", flush=True)
    return Data(train, val, train_audio, val_audio, noise)


def prepare(args, data: Data, settings: FeatureSettings) -> Prepared:
    """Feature statistics, validation windows, the augmented feature copies and their targets."""
    labels = serdata.LABELS
    y_train = [labels.index(c.label) for c in data.train]
    y_val = [labels.index(c.label) for c in data.val]
    val_wins, val_owner = validation.validation_windows(data.val_audio, settings, data.val)
    t_feat = time.time()
    variants = augment.feature_variants(data.train_audio, data.noise, args, settings)
    teacher = distil.teacher_probs(args.teacher, variants, settings, labels) if args.teacher else None
    if settings.stream_norm:
        variants = streams.train_variants(variants, data.train, settings, args.stream_context, args.seed)
    mean, std = feature_stats([v[0] for v in variants])  # v[0]: each clip's clean copy
    # The teacher's path may later hold another model: its hash says which one taught.
    teacher_sha = hashlib.sha256(Path(args.teacher).read_bytes()).hexdigest() if args.teacher else None
    targets = distil.copy_targets(y_train, variants, teacher, len(labels), args)
    seconds_features = round(time.time() - t_feat, 1)
    print(f"{args.variants} feature copies per clip{' and teacher targets' if teacher else ''} "
          f"in {seconds_features} s", flush=True)
    return Prepared(mean, std, y_train, y_val, val_wins, val_owner, variants, targets, seconds_features, teacher_sha)


def feature_stats(feats):
    frames = np.concatenate(feats, axis=1)
    return frames.mean(axis=1).astype(np.float32), (frames.std(axis=1) + 1e-6).astype(np.float32)
