"""Early captions: at a pause, the words so far and their tag, before Vosk closes the utterance.

Vosk's endpointer closes an utterance a second or more after the last word (its rules need
0.5-2 s of decoded trailing silence; README, "Caption latency"). A pause of
``[captions] early_pause_s`` in the audio itself (emocap/pause.py) shows the words so far at
once: Vosk's partial result, the best path through what was fed, as a caption that is not
final, and a moment later the same words with the emotion of the speech up to where the pause
began. The decoding goes on uncut (no final result is taken at the pause; only the pending
audio goes to Vosk as a short block, so its endpointer may look a block sooner); when Vosk
closes the utterance its final caption replaces the early one and keeps the early tag when it
is the same speech, so the tag does not change under the reader's eyes and the emotion runs
once. The partial text may differ from the final one, mostly in the last syllables (README,
"Caption latency": how often, and the text's CER).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from emocap.captions import Caption
from emocap.pause import PauseDetector
from emocap.tagging import Tagger

SAME_START_S = 0.3
"""The final's first word may be placed a few frames off the partial's."""


@dataclass(frozen=True)
class Shown:
    """An early caption shown for the current utterance, and what it was made of."""

    caption: Caption
    """The first one sent: its text, untagged (when it appeared is when the words were shown)."""
    pred: object
    model: str | None
    heard_s: float
    """Audio the recogniser had been fed when it was made, seconds of the stream."""
    finals: int
    """The recogniser's count of closed utterances then: the next one closed is its utterance."""
    tagged: bool
    """Vosk had placed the first word, so ``pred`` is the emotion of the utterance's speech."""

    def covers(self, start: float, end: float, text: str) -> bool:
        """Whether a final spanning ``start``-``end`` and reading ``text`` is the speech this
        caption showed: no word after what had been heard, and the same first word (by its
        start; untagged, Vosk had not placed it yet, so by its first syllable)."""
        if end > self.heard_s:
            return False
        if self.tagged:
            return abs(start - self.caption.t_start) <= SAME_START_S
        return text.lstrip()[:1] == self.caption.text.lstrip()[:1] != ""


class EarlyCaptions:
    """When an early caption is due, and the one shown for the current utterance. One thread
    (the captioner) uses it."""

    def __init__(self, rate: int, pause_s: float, range_db: float = 0.0) -> None:
        self._rate = rate
        self._pause = PauseDetector(rate, pause_s, range_db=range_db)
        self.shown: Shown | None = None

    def due(self, samples) -> bool:
        """Feed audio in stream order; True once when a pause follows speech and still holds at
        the end of ``samples`` (voice that resumed within them belongs to the next caption)."""
        return self._pause.update(samples)

    def show(self, text: str, start: float, end: float, tagged: bool, tag: Tagger, sinks: list,
             heard_s: float, finals: int) -> None:
        """The words at once, untagged; then, when Vosk has placed the first word (``tagged``),
        the same words with the emotion of ``start``-``end``, so reading never waits for ONNX."""
        t0 = time.perf_counter()
        first = tag.caption(text, start, end, None, None, 0.0, final=False, t_closed=heard_s)
        for sink in sinks:
            sink.caption(first)
        pred, model = tag.classify(start, end) if tagged else (None, None)
        if pred is not None:
            ms = (time.perf_counter() - t0) * 1000
            again = tag.caption(text, start, end, pred, model, ms, final=False, t_closed=heard_s)
            for sink in sinks:
                sink.caption(again)
        self.shown = Shown(first, pred, model, heard_s, finals, tagged)

    def pause_began_s(self, heard_samples: int) -> float:
        """Where the pause began, seconds of the stream, for audio heard up to ``heard_samples``."""
        return heard_samples / self._rate - self._pause.quiet_s

    def closed(self, finals: int) -> Shown | None:
        """Vosk closed an utterance, the ``finals``-th: the early caption shown for it, if any
        (one shown before a final without words, noise, is not its); a pause counts again only
        after new speech."""
        shown, self.shown = self.shown, None
        self._pause.reset()
        return shown if shown is not None and finals == shown.finals + 1 else None

    def new_stream(self) -> None:
        """Another source, another room: the noise floor is learnt afresh."""
        self._pause.relearn()
        self.shown = None
