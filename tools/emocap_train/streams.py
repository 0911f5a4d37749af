"""Stream normalisation (emocap/stream_norm.py) for the tools: each speaker's clips as one
stream, in the same fixed order for validation, evaluation and calibration, and for training
a random stretch of the speaker's other clips before each copy."""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from emocap.stream_norm import StreamNorm, speaker_order


def by_speaker(clips) -> list[list[int]]:
    """Clip indices grouped by speaker, each group in its stream order (speaker_order)."""
    groups = defaultdict(list)
    for i, c in enumerate(clips):
        groups[c.speaker].append(i)
    out = []
    for speaker, idx in sorted(groups.items()):
        out.append([idx[j] for j in speaker_order([str(clips[i].path) for i in idx], speaker)])
    return out


def play_streams(clips, new_stream, each) -> list:
    """``each(i, stream)`` for every clip ``i``, each speaker's clips in order on one
    ``new_stream()``; the results in clip order."""
    out: list = [None] * len(clips)
    for group in by_speaker(clips):
        stream = new_stream()
        for i in group:
            out[i] = each(i, stream)
    return out


def stream_features(feats: list[np.ndarray], clips, settings) -> list[np.ndarray]:
    """Each clip's features (of FeatureSettings ``settings``) normalised causally within its speaker's stream."""
    return play_streams(clips, lambda: StreamNorm.of(settings), lambda i, stream: stream.apply(feats[i]))


def train_variants(variants, clips, settings, max_context: int, seed: int):
    """Every feature copy normalised as if heard after 0..max_context (uniform) random other
    copies of the same speaker's training clips: the runtime's first utterance of a stream
    and its settled statistics are both trained on."""
    rng = np.random.default_rng(seed)
    peers = defaultdict(list)
    for i, c in enumerate(clips):
        peers[c.speaker].append(i)
    out = []
    for i, copies in enumerate(variants):
        others = [j for j in peers[clips[i].speaker] if j != i]
        normed = []
        for f in copies:
            stream = StreamNorm.of(settings)
            k = int(rng.integers(0, min(max_context, len(others)) + 1))
            for j in rng.choice(others, size=k, replace=False) if k else []:
                stream.add(variants[j][int(rng.integers(len(variants[j])))])
            normed.append(stream.apply(f))
        out.append(normed)
    return out


def model_windows(model, clips, load) -> list[np.ndarray]:
    """Each clip's windows for ``model`` (an EmotionModel), speakers played as streams;
    ``load(path)`` reads a clip's samples."""
    return play_streams(clips, model.new_stream, lambda i, stream: model.windows_of(load(clips[i].path), stream))
