"""Spans of the stream -> tagged captions: the span's audio cut from the recent-audio history,
its emotion from the engine, its capture times from the audio clock. The captioner's thread
uses it."""
from __future__ import annotations

from emocap.audio.clock import AudioClock
from emocap.audio.history import History
from emocap.captions import Caption
from emocap.emotion.engine import EmotionEngine
from emocap.emotion.model import Prediction


class Tagger:
    def __init__(self, engine: EmotionEngine, history: History, clock: AudioClock, emoji: dict[str, str],
                 rate: int) -> None:
        self._engine, self._history, self._clock, self._emoji, self._rate = engine, history, clock, emoji, rate

    def classify(self, start: float, end: float) -> tuple[Prediction | None, str | None]:
        """The emotion of the audio from ``start`` to ``end`` (seconds of the stream)."""
        audio = self._history.slice(round(start * self._rate), round(end * self._rate))
        return self._engine.classify(audio, start, end)

    def caption(self, text: str, start: float, end: float, pred: Prediction | None, model: str | None,
                latency_ms: float, **more) -> Caption:
        """The caption of ``text`` spanning ``start``-``end`` with this emotion; ``more``: other fields."""
        return Caption(text=text, emotion=pred.label if pred else None,
                       confidence=pred.confidence if pred else 0.0, model=model, t_start=start, t_end=end,
                       latency_ms=latency_ms, emoji=self._emoji.get(pred.label, "") if pred else "",
                       speech_start_ns=self._clock.at(round(start * self._rate)),
                       speech_end_ns=self._clock.at(round(end * self._rate)),
                       shown=self._engine.shows(pred), **more)
