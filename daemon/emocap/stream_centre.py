"""Speaker-bias correction of a model's output, causal over a stream of utterances.

A voice, microphone or room the model never heard tends to pull every utterance of a stream
the same way: one speaker's calm voice read as sad throughout, another's bright one as happy.
``StreamCentre`` takes that shared pull out. Each utterance's window logits are moved by the
stream's running mean utterance logit (this utterance included) less the ``prior``, the mean
utterance logit of the calibration voices. The running mean is shrunk towards the prior by
``weight`` pseudo-utterances, so the first utterance of a stream is moved only part of the way,
and older utterances fade once ``max_utterances`` are held.

Why logits: a model's last layer is linear, so subtracting the stream's mean logit is exactly
subtracting the stream's mean embedding from each utterance's embedding, the utterance-level
counterpart of emocap/stream_norm.py's frame statistics, with no change to the ONNX graph.
The settings live in the model's metadata (``stream_centre``, written by tools/centre.py); the
runtime, tools/evaluate.py and tools/calibrate.py all apply them through this class.
"""
from __future__ import annotations

import numpy as np

META_KEY = "stream_centre"


class StreamCentre:
    """Running mean utterance logit of one stream, shrunk towards the population's."""

    def __init__(self, prior, weight: float, max_utterances: int) -> None:
        self.prior = np.asarray(prior, dtype=np.float64)
        self.weight, self.max_utterances = float(weight), int(max_utterances)
        self.reset()

    @classmethod
    def from_meta(cls, spec: dict) -> "StreamCentre":
        """A stream for the metadata ``{"prior": [...], "weight": w, "max_utterances": n}``."""
        return cls(spec["prior"], spec["weight"], spec["max_utterances"])

    def reset(self) -> None:
        self.count = 0.0
        self._sum = np.zeros_like(self.prior)

    def apply(self, logits: np.ndarray) -> np.ndarray:
        """Take the utterance's window logits ``(n, labels)`` into the stream; return them moved
        by the stream's shrunk mean less the prior."""
        logits = np.asarray(logits, dtype=np.float32)
        if len(logits) == 0:
            return logits
        self.count += 1
        self._sum += logits.mean(axis=0)
        if self.count > self.max_utterances:  # fade older utterances: the sum keeps its ratio
            self._sum *= self.max_utterances / self.count
            self.count = float(self.max_utterances)
        centre = (self._sum + self.weight * self.prior) / (self.count + self.weight)
        return (logits - (centre - self.prior)).astype(np.float32)
