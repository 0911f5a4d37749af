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

The calm guard (``calm_label``, e.g. "neutral"): from logits alone, a stream that reads calmer
than the prior is either a voice the model hears as too calm or a speaker who is calm, and a
wearer's day is mostly calm speech. Unguarded, centring reads a long calm stretch as emotional:
the shipped large model called 45 % of the clips of all-neutral validation streams neutral, 78 %
with the guard (README, "The calm guard"). So the calm label's shift is capped at the other labels'
shift, each weighted by how much the stream leans to it (the softmax of its running mean
logit): centring may raise calm against that lean-weighted average, never lower it below. Labels the
stream never approaches are left out of that comparison, since their shift says nothing about
calm (a Korean stream has no fear, disgust or surprise, and those logits fall as the stream
goes on). A stream pulled away from calm is moved exactly as before.
"""
from __future__ import annotations

import numpy as np

META_KEY = "stream_centre"


class StreamCentre:
    """Running mean utterance logit of one stream, shrunk towards the population's."""

    def __init__(self, prior, weight: float, max_utterances: int, calm: int | None = None) -> None:
        self.prior = np.asarray(prior, dtype=np.float64)
        self.weight, self.max_utterances = float(weight), int(max_utterances)
        self.calm = calm
        """Index of the calm label the shift never lowers against the labels the stream leans to,
        or None (unguarded)."""
        self.reset()

    @classmethod
    def from_meta(cls, spec: dict, labels: list[str]) -> "StreamCentre":
        """A stream for the metadata ``{"prior": [...], "weight": w, "max_utterances": n}`` and
        optionally ``"calm_label": "neutral"`` (one of ``labels``)."""
        calm = spec.get("calm_label")
        return cls(spec["prior"], spec["weight"], spec["max_utterances"],
                   None if calm is None else list(labels).index(calm))

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
        return (logits - self.guarded(centre - self.prior, centre)).astype(np.float32)

    def guarded(self, shift: np.ndarray, centre: np.ndarray) -> np.ndarray:
        """``shift`` with the calm label's shift capped at the others' shift weighted by the
        stream's lean to each (softmax of ``centre``, its mean logit); as it is without a calm label."""
        if self.calm is None:
            return shift
        others = np.delete(np.arange(len(shift)), self.calm)
        lean = np.exp(centre[others] - centre[others].max())
        cap = float(lean @ shift[others] / lean.sum())
        if not shift[self.calm] > cap:  # also when a NaN reached the stream: leave the shift as it is
            return shift
        shift = shift.copy()
        shift[self.calm] = cap
        return shift
