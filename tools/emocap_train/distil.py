"""Training targets: smoothed labels, mixed with a teacher's utterance distributions (``--teacher``)."""
from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
import torch

from emocap import features


def teacher_probs(path, variants, settings, labels) -> list[np.ndarray]:
    """The teacher's utterance distribution ``(copies, labels)`` for every copy of every clip.
    ``variants`` are the copies before any stream normalisation: a teacher that normalises by
    the utterance's mean gets them so normalised, a stream-normalised student included."""
    from emocap.emotion.model import EmotionModel

    teacher = EmotionModel(path, threads=torch.get_num_threads())
    ts = teacher.settings
    same = replace(ts, stream_norm=settings.stream_norm, stream_var=settings.stream_var) == settings
    if not same or ts.stream_norm or sorted(teacher.labels) != sorted(labels):
        sys.exit(f"train: {path} has other features or labels than this run; cannot distil it")
    cmn = settings.stream_norm and ts.cmn  # the student's copies are raw then: the teacher's own mean normalisation
    order = [teacher.labels.index(l) for l in labels]
    out = []
    for copies in variants:
        wins = [features.windows(f - f.mean(axis=1, keepdims=True) if cmn and f.shape[1] else f, ts) for f in copies]
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


def copy_targets(y_train, variants, teacher, n_labels, args) -> list[np.ndarray]:
    """One target row per feature copy (the teacher saw each copy; without it the rows are equal)."""
    return [np.broadcast_to(soft_targets(y, n_labels, args.label_smoothing, teacher[i] if teacher else None,
                                         args.teacher_weight), (len(variants[i]), n_labels))
            for i, y in enumerate(y_train)]
