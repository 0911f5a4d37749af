"""Speaker-adaptive feature normalisation that runs causally on a stream of utterances.

An utterance's MFCCs are z-scored per coefficient with the running statistics of the
stream's speech so far, this utterance included: mean and variance over the active frames of
every utterance since the last reset. Unlike the utterance's own mean (cepstral mean
normalisation), this keeps what sets the utterance apart from the speaker's usual voice
(louder, brighter, flatter), which is what an emotion is, while the voice, microphone and
room, shared by the stream, are taken out.

The first utterance of a stream is normalised by itself alone; the statistics then settle as
the speaker goes on. Older speech fades once ``max_frames`` frames are held (the sums are
scaled down), so memory is fixed and a new voice takes over within about that much speech.
The runtime resets it after a long silence (``[emotion] adapt_reset_s``); training draws a
random number of the speaker's other clips as the stream before each clip, and evaluation
plays each speaker's clips as one stream (``speaker_order``), all through this class.
"""
from __future__ import annotations

import random

import numpy as np

_VAR_FLOOR = 1e-4
WINDOW_S = 60.0
"""Seconds of speech the statistics hold (``[emotion] adapt_window_s``'s default); training,
evaluation and the runtime all size their streams from it unless told otherwise."""


class StreamNorm:
    """Running per-coefficient mean and variance of one stream's speech frames."""

    def __init__(self, numcep: int, max_frames: int, variance: bool = True) -> None:
        self.numcep, self.max_frames, self.variance = numcep, max_frames, variance
        self.reset()

    @classmethod
    def of(cls, settings, window_s: float = WINDOW_S) -> "StreamNorm":
        """A stream for features of ``settings`` (a FeatureSettings) holding ``window_s`` of speech."""
        return cls(settings.numcep, max(1, round(window_s / settings.step_s)), settings.stream_var)

    def reset(self) -> None:
        self.frames = 0.0
        self._sum = np.zeros(self.numcep)
        self._sq = np.zeros(self.numcep)

    def add(self, feats: np.ndarray) -> None:
        """Take an utterance's active frames ``(numcep, T)`` into the statistics."""
        x = np.asarray(feats, dtype=np.float64)
        self.frames += x.shape[1]
        self._sum += x.sum(axis=1)
        self._sq += (x * x).sum(axis=1)
        if self.frames > self.max_frames:  # fade older speech: the sums keep their ratios
            k = self.max_frames / self.frames
            self.frames, self._sum, self._sq = self.max_frames, self._sum * k, self._sq * k

    def apply(self, feats: np.ndarray) -> np.ndarray:
        """Add the utterance ``(numcep, T)`` to the stream, then return it z-scored by the stream
        (with ``variance`` False: only the stream's mean taken out)."""
        if feats.shape[1] == 0:
            return np.asarray(feats, dtype=np.float32)
        self.add(feats)
        mean = self._sum / self.frames
        if not self.variance:
            return (feats - mean[:, None]).astype(np.float32)
        std = np.sqrt(np.maximum(self._sq / self.frames - mean * mean, _VAR_FLOOR))
        return ((feats - mean[:, None]) / std[:, None]).astype(np.float32)


def speaker_order(keys: list[str], speaker: str) -> list[int]:
    """A fixed shuffled order of one speaker's clips (``keys``: their paths) for a stream.

    Corpora list a speaker's clips grouped by emotion; played in that order the stream would
    hold one emotion at a time. The shuffle is seeded by the speaker's name, so every tool
    plays the same sequence.
    """
    order = sorted(range(len(keys)), key=lambda i: keys[i])
    random.Random(speaker).shuffle(order)
    return order
