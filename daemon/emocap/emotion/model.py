"""One ONNX emotion model: its contract (metadata) and utterance classification.

Labels, normalisation statistics and feature settings are read from the model's own
metadata, never from constants, so a model and its features cannot drift apart. So are the
calibration temperature (fitted on validation by tools/calibrate.py; 1.0 when absent) and
the model's default ``show_confidence``: ``utterance_probs`` is the one function that turns
window logits into the calibrated utterance probabilities, for the runtime and the tools.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from emocap import features, stream_centre, stream_norm
from emocap.emotion.integrity import check_against_card
from emocap.errors import ModelError
from emocap.features import FeatureSettings
from emocap.stream_centre import StreamCentre
from emocap.stream_norm import StreamNorm

INPUT = "mfcc"
OUTPUT = "logits"
# ONNX metadata_props keys (JSON values); the model card repeats them.
META_LABELS, META_MEAN, META_STD, META_FEATURES = "labels", "norm_mean", "norm_std", "features"
META_TEMPERATURE, META_SHOW = "temperature", "show_confidence"
META_CENTRE = stream_centre.META_KEY


def utterance_probs(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Calibrated utterance probabilities: the mean over windows of softmax(logits / T)."""
    return features.aggregate(features.softmax(np.asarray(logits, dtype=np.float32) / np.float32(temperature)))


@dataclass(frozen=True)
class Prediction:
    """An utterance's emotion: the winning label, its probability and the full distribution."""

    label: str
    confidence: float
    probs: dict[str, float]
    windows: int


@dataclass
class ModelStream:
    """One model's state across a stream's utterances: the frame statistics of a
    stream-normalised model and the output centring of a centred one (None where unused)."""

    norm: StreamNorm | None
    centre: StreamCentre | None


def _meta(session: ort.InferenceSession, path: Path) -> dict:
    props = session.get_modelmeta().custom_metadata_map
    missing = [k for k in (META_LABELS, META_MEAN, META_STD, META_FEATURES) if k not in props]
    if missing:
        raise ModelError(f"{path}: metadata lacks {', '.join(missing)}; rebuild it with tools/export.py")
    keys = (META_LABELS, META_MEAN, META_STD, META_FEATURES, META_TEMPERATURE, META_SHOW, META_CENTRE)
    try:
        return {k: json.loads(v) for k, v in props.items() if k in keys}
    except ValueError:
        raise ModelError(f"{path}: metadata is not valid JSON; rebuild it with tools/export.py") from None


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
        # Without onnxruntime's arena the memory of a long utterance's batch goes back after the
        # run: -35 MB of RSS after a 30 s utterance, same latency (README, "Memory over a long run").
        opts.enable_cpu_mem_arena = False
        try:
            self.session = ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own untyped errors for bad files
            raise ModelError(f"{self.path}: not a loadable ONNX model ({type(e).__name__})") from None
        meta = _meta(self.session, self.path)
        self.labels: list[str] = list(meta[META_LABELS])
        self.mean = np.asarray(meta[META_MEAN], dtype=np.float32)
        self.std = np.asarray(meta[META_STD], dtype=np.float32)
        self.settings = FeatureSettings.from_dict(meta[META_FEATURES])
        self.temperature = float(meta.get(META_TEMPERATURE, 1.0))
        """Logits are divided by this before the softmax (fitted on validation)."""
        self.show_confidence = meta.get(META_SHOW)
        """Default threshold for showing a tag, chosen on validation, or None (uncalibrated)."""
        self.centre = meta.get(META_CENTRE)
        """Stream centring settings (emocap/stream_centre.py), or None: logits used as they are."""
        if not 0.01 <= self.temperature <= 100:
            raise ModelError(f"{self.path}: temperature {self.temperature} outside 0.01..100")
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
        c = self.centre
        if c is not None and not (isinstance(c, dict) and len(c.get("prior", ())) == len(self.labels)
                                  and c.get("weight", -1) >= 0 and c.get("max_utterances", 0) >= 1):
            raise ModelError(f"{self.path}: metadata '{META_CENTRE}' needs a prior of {len(self.labels)} "
                             "logits, weight >= 0 and max_utterances >= 1; rewrite it with tools/centre.py")
        calm = c.get("calm_label") if c is not None else None
        if calm is not None and (calm not in self.labels or len(self.labels) < 2):
            raise ModelError(f"{self.path}: metadata '{META_CENTRE}' names calm_label {calm!r}, "
                             f"expected one of the model's labels {self.labels} (two or more)")

    def window_logits(self, wins: np.ndarray) -> np.ndarray:
        """Logits ``(n, labels)`` for un-normalised windows ``(n, numcep, frames)``."""
        x = features.normalise(wins, self.mean, self.std)
        return self.session.run([OUTPUT], {INPUT: x})[0]

    def windows_of(self, samples: np.ndarray, stream: ModelStream | None = None) -> np.ndarray:
        """The model windows of an utterance's int16 samples. A model trained with stream
        normalisation z-scores them by ``stream``'s statistics of the utterances heard
        before it (which take this one in); without a stream the utterance is a stream alone."""
        feats = features.utterance_features(samples, self.settings)
        if self.settings.stream_norm:
            feats = (stream or self.new_stream()).norm.apply(feats)
        return features.windows(feats, self.settings)

    def new_stream(self, window_s: float = stream_norm.WINDOW_S) -> ModelStream:
        """Fresh per-stream state for this model (``window_s``: seconds of speech the frame
        statistics hold)."""
        norm = StreamNorm.of(self.settings, window_s) if self.settings.stream_norm else None
        centre = StreamCentre.from_meta(self.centre, self.labels) if self.centre else None
        return ModelStream(norm, centre)

    def stream_logits(self, wins: np.ndarray, stream: ModelStream | None = None) -> np.ndarray:
        """Window logits as the utterance probabilities use them (``centred``)."""
        return self.centred(self.window_logits(wins), stream)

    def centred(self, logits: np.ndarray, stream: ModelStream | None = None) -> np.ndarray:
        """An utterance's window logits centred by ``stream`` (which takes the utterance in) for
        a centred model, as they are; without a stream the utterance is a stream alone."""
        if self.centre:
            logits = (stream or self.new_stream()).centre.apply(logits)
        return logits

    def predict_windows(self, wins: np.ndarray, stream: ModelStream | None = None) -> Prediction:
        return self.predict_logits(self.window_logits(wins), stream)

    def predict_logits(self, logits: np.ndarray, stream: ModelStream | None = None) -> Prediction:
        """The prediction from an utterance's raw window logits (centred by ``stream`` here)."""
        probs = utterance_probs(self.centred(logits, stream), self.temperature)
        best = int(np.argmax(probs))
        return Prediction(
            label=self.labels[best],
            confidence=float(probs[best]),
            probs={l: float(p) for l, p in zip(self.labels, probs)},
            windows=len(logits),
        )

    def predict(self, samples: np.ndarray, stream: ModelStream | None = None) -> Prediction:
        """Classify one utterance of int16 samples at the model's sample rate."""
        return self.predict_windows(self.windows_of(samples, stream), stream)
