"""One ONNX emotion model: its contract (metadata) and utterance classification.

Labels, normalisation statistics and feature settings are read from the model's own
metadata, never from constants, so a model and its features cannot drift apart.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from emocap import features
from emocap.emotion.integrity import check_against_card
from emocap.errors import ModelError
from emocap.features import FeatureSettings

INPUT = "mfcc"
OUTPUT = "logits"
# ONNX metadata_props keys (JSON values); the model card repeats them.
META_LABELS, META_MEAN, META_STD, META_FEATURES = "labels", "norm_mean", "norm_std", "features"


@dataclass(frozen=True)
class Prediction:
    """An utterance's emotion: the winning label, its probability and the full distribution."""

    label: str
    confidence: float
    probs: dict[str, float]
    windows: int


def _meta(session: ort.InferenceSession, path: Path) -> dict:
    props = session.get_modelmeta().custom_metadata_map
    missing = [k for k in (META_LABELS, META_MEAN, META_STD, META_FEATURES) if k not in props]
    if missing:
        raise ModelError(f"{path}: metadata lacks {', '.join(missing)}; rebuild it with tools/export.py")
    return {k: json.loads(v) for k, v in props.items() if k in (META_LABELS, META_MEAN, META_STD, META_FEATURES)}


class EmotionModel:
    """An ONNX session plus the metadata needed to feed it; thread-compatible, not shared."""

    def __init__(self, path: str | Path, threads: int = 1):
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelError(f"{self.path}: no such model file; build it with tools/export.py")
        check_against_card(self.path)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own untyped errors for bad files
            raise ModelError(f"{self.path}: not a loadable ONNX model ({type(e).__name__})") from None
        meta = _meta(self.session, self.path)
        self.labels: list[str] = list(meta[META_LABELS])
        self.mean = np.asarray(meta[META_MEAN], dtype=np.float32)
        self.std = np.asarray(meta[META_STD], dtype=np.float32)
        self.settings = FeatureSettings.from_dict(meta[META_FEATURES])
        self._check_io()

    def _check_io(self) -> None:
        (inp,), (out,) = self.session.get_inputs(), self.session.get_outputs()
        s = self.settings
        if inp.name != INPUT or out.name != OUTPUT or list(inp.shape[1:]) != [1, s.numcep, s.frames]:
            raise ModelError(
                f"{self.path}: expected input '{INPUT}' [batch, 1, {s.numcep}, {s.frames}] and output "
                f"'{OUTPUT}', found '{inp.name}' {inp.shape} and '{out.name}'"
            )
        if len(self.mean) != s.numcep or len(self.std) != s.numcep:
            raise ModelError(f"{self.path}: normalisation statistics do not have {s.numcep} values")

    def window_logits(self, wins: np.ndarray) -> np.ndarray:
        """Logits ``(n, labels)`` for un-normalised windows ``(n, numcep, frames)``."""
        x = features.normalise(wins, self.mean, self.std)
        return self.session.run([OUTPUT], {INPUT: x})[0]

    def windows_of(self, samples: np.ndarray) -> np.ndarray:
        """The model windows of an utterance's int16 samples."""
        return features.windows(features.utterance_features(samples, self.settings), self.settings)

    def predict_windows(self, wins: np.ndarray) -> Prediction:
        probs = features.aggregate(features.softmax(self.window_logits(wins)))
        best = int(np.argmax(probs))
        return Prediction(
            label=self.labels[best],
            confidence=float(probs[best]),
            probs={l: float(p) for l, p in zip(self.labels, probs)},
            windows=len(wins),
        )

    def predict(self, samples: np.ndarray) -> Prediction:
        """Classify one utterance of int16 samples at the model's sample rate."""
        return self.predict_windows(self.windows_of(samples))
