"""Validation during training: clip labels aggregated as the runtime does, scored per corpus."""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import torch

from emocap_train import centre_train, metrics, streams
from emocap import features


def validation_windows(audio, settings, clips):
    """Windows of every clip and the clip each belongs to; with stream normalisation each
    speaker's clips are one stream, as tools/evaluate.py plays them."""
    feats = [features.utterance_features(x, settings) for x in audio]
    if settings.stream_norm:
        feats = streams.stream_features(feats, clips, settings)
    wins, owner = [], []
    for i, f in enumerate(feats):
        w = features.windows(f, settings)
        wins.append(w)
        owner += [i] * len(w)
    return np.concatenate(wins), np.array(owner)


@torch.no_grad()
def clip_predictions(model, wins, owner, mean, std, device, clips, centre_weight=None):
    """Clip-level labels, aggregated exactly as the runtime does (features.aggregate); with
    ``centre_weight`` each speaker's clips are first centred as one stream (centre_train.py)."""
    model.eval()
    x = torch.from_numpy(features.normalise(wins, mean, std))
    logits = torch.cat([model(x[i : i + 512].to(device)).cpu() for i in range(0, len(x), 512)]).numpy()
    if centre_weight is None:
        per_clip = [logits[owner == c] for c in range(len(clips))]
    else:
        per_clip = centre_train.centred_clips(logits, owner, clips, centre_weight)
    return [int(np.argmax(features.aggregate(features.softmax(w)))) for w in per_clip]


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


def score_candidates(candidates: dict, prep, clips, labels, device, centre_weight=None) -> dict:
    """``{name: (score, per-corpus macro-F1, pooled summary)}`` for each set of weights."""
    scores = {}
    for name, m in candidates.items():
        pred = clip_predictions(m, prep.val_wins, prep.val_owner, prep.mean, prep.std, device, clips, centre_weight)
        per_corpus, score = corpus_scores(clips, prep.y_val, pred, labels)
        scores[name] = (score, per_corpus, metrics.summary(metrics.confusion(prep.y_val, pred, len(labels)), labels))
    return scores
