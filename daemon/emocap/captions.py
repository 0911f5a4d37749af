"""Caption events: what the pipeline emits and every sink (display, terminal, JSON) consumes."""
from __future__ import annotations

from dataclasses import dataclass, field
import time


@dataclass(frozen=True)
class Partial:
    """In-progress text of the current utterance (replaced by its Caption)."""

    text: str
    t_mono_ns: int = field(default_factory=time.monotonic_ns)


@dataclass(frozen=True)
class Caption:
    """A final caption: recognised text plus the utterance's emotion."""

    text: str
    emotion: str | None
    """Label, or None when the utterance was too short to tag."""
    confidence: float
    model: str | None
    """'small' or 'large': the model whose result was kept; None when no model ran."""
    t_start: float
    """Utterance start, seconds from the start of the audio stream."""
    t_end: float
    latency_ms: float
    """From the recogniser's final result to this caption."""
    emoji: str = ""
    t_mono_ns: int = field(default_factory=time.monotonic_ns)

    def render(self) -> str:
        """``<text> <emoji> [<label>]``, e.g. ``오늘 기분이 좋아보이네요 😊 [happiness]``."""
        if self.emotion is None:
            return self.text
        return f"{self.text} {self.emoji} [{self.emotion}]".replace("  ", " ")

    def to_json(self) -> dict:
        return {"t_start": round(self.t_start, 3), "t_end": round(self.t_end, 3), "text": self.text,
                "emotion": self.emotion, "confidence": round(self.confidence, 4), "model": self.model,
                "latency_ms": round(self.latency_ms, 2)}
