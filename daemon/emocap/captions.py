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
    speech_start_ns: int | None = None
    """Monotonic time (ns) at which the first word's start was captured (the audio clock)."""
    speech_end_ns: int | None = None
    """Monotonic time (ns) at which the last word's end was captured: the end of speech."""
    first_partial_ns: int | None = None
    """Monotonic time (ns) the utterance's first partial text went to the sinks; None without one."""
    t_closed: float | None = None
    """Audio fed to the recogniser when the utterance was closed (an early caption: when it was
    shown), seconds of the stream: what the wait would be (t_closed - t_end) if decoding took no
    time."""
    shown: bool = True
    """False when the calibrated confidence is under ``[emotion] show_confidence``: then no
    tag (emoji, [label], OLED icon) is drawn anywhere; emotion/confidence stay for the logs."""
    final: bool = True
    """False for an early caption: the words so far and their tag, shown at a pause before Vosk
    closed the utterance (``[captions] early_pause_s``); the utterance's final caption replaces
    it. Only displays show early captions; the JSON output, transcript and counts keep finals."""
    early_ns: int | None = None
    """A final's: monotonic time (ns) its early caption went to the sinks, when that caption
    already held the utterance's last word; None otherwise."""
    early_text: str | None = None
    """A final's, with ``early_ns``: the text its early caption showed; it may differ from ``text``."""

    @property
    def tagged(self) -> bool:
        """True when a sink draws the tag: there is a label and it is confident enough."""
        return self.emotion is not None and self.shown

    def render(self) -> str:
        """``<text> <emoji> [<label>]``, e.g. ``오늘 기분이 좋아보이네요 😊 [happiness]``; the text
        alone when the caption is not tagged."""
        if not self.tagged:
            return self.text
        return f"{self.text} {self.emoji} [{self.emotion}]".replace("  ", " ")

    def delays_ms(self, now_ns: int) -> dict:
        """What the wearer waits, for a sink showing this at ``now_ns``: end of speech -> this
        caption, end of speech -> the utterance first shown as a caption (its early caption, else
        this one), and speech onset -> the first partial text (None where not known)."""
        ms = lambda a, b: round((a - b) / 1e6, 1) if a is not None and b is not None else None
        return {"end_to_caption_ms": ms(now_ns, self.speech_end_ns),
                "end_to_shown_ms": ms(self.early_ns if self.early_ns is not None else now_ns, self.speech_end_ns),
                "onset_to_partial_ms": ms(self.first_partial_ns, self.speech_start_ns),
                "end_to_close_audio_ms": round((self.t_closed - self.t_end) * 1000, 1)
                if self.t_closed is not None else None}

    def to_json(self) -> dict:
        return {"t_start": round(self.t_start, 3), "t_end": round(self.t_end, 3), "text": self.text,
                "emotion": self.emotion, "confidence": round(self.confidence, 4), "model": self.model,
                "latency_ms": round(self.latency_ms, 2), "shown": self.tagged}
