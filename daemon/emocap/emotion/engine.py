"""Utterance emotion with both models loaded at start and a mode chosen at run time.

Modes: ``small`` (small model only), ``cascade`` (small; the large model re-runs an
utterance whose small-model confidence is below ``cascade_confidence``) and ``large``
(large only). ``set_mode`` is a pointer swap, safe from any thread: no model is ever
loaded after start-up, so a switch costs nothing under load.

Measured here (names and units in ``emocap/metrics.py``): latency ``emotion``, ``mfcc`` and
``infer_<model>``; counts ``runs_<model>`` (sessions run) and ``model_<model>`` (whose result
was kept: the model share).
"""
from __future__ import annotations

import time

import numpy as np

from emocap import features
from emocap.config import EmotionConfig
from emocap.metrics import INFER, KEPT, RUNS
from emocap.emotion.mode import MODES
from emocap.emotion.model import EmotionModel, ModelStream, Prediction
from emocap.errors import ModelError
from emocap.meter import Meter
from emocap.stream_norm import StreamNorm

class EmotionEngine:
    def __init__(self, cfg: EmotionConfig, meter: Meter, mode: str, sample_rate: int = 16000,
                 models: dict[str, EmotionModel] | None = None) -> None:
        self.cfg = cfg
        self.meter = meter
        self.sample_rate = sample_rate
        self.models = models or {"small": EmotionModel(cfg.small_model, cfg.threads),
                                 "large": EmotionModel(cfg.large_model, cfg.threads)}
        for m in self.models.values():
            if m.settings.sample_rate != sample_rate:
                raise ModelError(f"{m.path}: expects {m.settings.sample_rate} Hz audio, the pipeline "
                                 f"runs at {sample_rate} Hz")
        self.mode = "small"
        self.set_mode(mode)
        # Stream normalisation (emocap/stream_norm.py): one running statistics per feature
        # setting of the models that use it, fed every utterance so a cascade re-run finds them current.
        self._streams = {m.settings: StreamNorm.of(m.settings, cfg.adapt_window_s)
                         for m in self.models.values() if m.settings.stream_norm}
        # Output centring (emocap/stream_centre.py), one per centred model. It takes in the
        # utterances its model runs on: in cascade mode the large model's only the re-run ones.
        self._centres = {name: m.new_stream().centre for name, m in self.models.items() if m.centre}
        self._last_end_s: float | None = None

    def new_stream(self) -> None:
        """Another stream begins (a new source, or a long silence): its statistics start afresh."""
        for stream in (*self._streams.values(), *self._centres.values()):
            stream.reset()
        self._last_end_s = None

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.mode = mode

    def classify(self, samples: np.ndarray, start_s: float | None = None,
                 end_s: float | None = None) -> tuple[Prediction | None, str | None]:
        """The utterance's emotion and the name of the model whose result is kept;
        ``(None, None)`` for an utterance shorter than ``min_utterance_s``. ``start_s`` and
        ``end_s``, its span in stream time, let a silence over ``adapt_reset_s`` start a new stream."""
        if len(samples) < self.cfg.min_utterance_s * self.sample_rate or len(samples) == 0:
            return None, None
        t = time.perf_counter()
        if start_s is not None and self._last_end_s is not None and start_s - self._last_end_s > self.cfg.adapt_reset_s:
            self.new_stream()
        self._last_end_s = end_s if end_s is not None else self._last_end_s
        mode = self.mode  # read once: a concurrent switch applies from the next utterance
        name = "large" if mode == "large" else "small"
        normed = self._stream_features(samples)
        wins = self._windows(name, samples, normed)
        pred = self._run(name, wins)
        if mode == "cascade" and pred.confidence < self.cfg.cascade_confidence:
            if self.models["large"].settings != self.models["small"].settings:
                wins = self._windows("large", samples, normed)
            pred, name = self._run("large", wins), "large"
        self.meter.latency("emotion", (time.perf_counter() - t) * 1000)
        self.meter.count(KEPT[name])
        return pred, name

    def shows(self, pred: Prediction | None) -> bool:
        """Whether a caption draws this tag: calibrated confidence at ``show_confidence`` or above."""
        return pred is not None and pred.confidence >= self.cfg.show_confidence

    def _stream_features(self, samples: np.ndarray) -> dict:
        """The utterance's features normalised by each stream, which takes the utterance in."""
        t = time.perf_counter()
        normed = {s: stream.apply(features.utterance_features(samples, s)) for s, stream in self._streams.items()}
        if normed:
            self.meter.latency("mfcc", (time.perf_counter() - t) * 1000)
        return normed

    def _windows(self, name: str, samples: np.ndarray, normed: dict) -> np.ndarray:
        model = self.models[name]
        if model.settings in normed:
            return features.windows(normed[model.settings], model.settings)
        t = time.perf_counter()
        wins = model.windows_of(samples)
        self.meter.latency("mfcc", (time.perf_counter() - t) * 1000)
        return wins

    def _run(self, name: str, wins: np.ndarray) -> Prediction:
        t = time.perf_counter()
        pred = self.models[name].predict_windows(wins, ModelStream(None, self._centres.get(name)))
        self.meter.latency(INFER[name], (time.perf_counter() - t) * 1000)
        self.meter.count(RUNS[name])
        return pred
