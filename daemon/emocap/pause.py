"""Ends an utterance on a pause in the audio itself, before Vosk's endpointer would.

Vosk decides the end of an utterance on its best path's trailing silence, and it decodes
behind the audio (its network's right context), so even with short rules its final comes
0.6-1.3 s after the last word here (README, "Caption latency"). This detector watches the
audio's energy instead: 10 ms frames more than ``margin_db`` above the noise floor (a low
percentile of the recent frames, so it follows the room) are voiced; once some voice was
heard, ``silence_s`` of unvoiced frames is a pause, and the captioner closes the utterance
at once (Vosk's FinalResult decodes what is left). Vosk's own rules still close utterances
this misses (noise louder than the margin). One thread (the captioner) uses it.

With ``range_db`` (> 0), a frame is also unvoiced when it is more than that far below the
window's loud frames (their 95th percentile): a clip's own room tone or a breath after the last
word, louder than the floor learnt from quieter gaps, then ends the voice where the words end.
A pause is reported only when it still holds at the end of the audio fed: voice that resumed
within the same call belongs to what follows, not to the text closed or shown at the pause.
"""
from __future__ import annotations

from collections import deque

import numpy as np

FRAME_S = 0.01
FLOOR_PERCENTILE = 5
LOUD_PERCENTILE = 95
FLOOR_WINDOW_S = 10.0
MIN_VOICED_S = 0.1  # a click or a breath is not an utterance


class PauseDetector:
    def __init__(self, rate: int, silence_s: float, margin_db: float = 15.0, range_db: float = 0.0) -> None:
        self.silence_s = silence_s
        self.range_db = range_db  # 0: the floor alone decides
        self.frame = int(rate * FRAME_S)
        self.need_quiet = max(1, round(silence_s / FRAME_S))
        self.margin_db = margin_db
        self._db: deque[float] = deque(maxlen=int(FLOOR_WINDOW_S / FRAME_S))
        self.relearn()

    def relearn(self) -> None:
        """Another source, another room: the noise floor and the voice so far are learnt afresh."""
        self._db.clear()
        self._rest = np.zeros(0, dtype=np.int16)
        self._voiced = 0  # voiced frames since the last pause
        self._quiet = 0  # unvoiced frames in a row

    def update(self, samples: np.ndarray) -> bool:
        """Feed audio in stream order; True once when a pause follows enough voice and still
        holds at the end of ``samples``."""
        x = np.concatenate((self._rest, samples))
        n = len(x) // self.frame
        self._rest = x[n * self.frame :]
        if not n:
            return False
        frames = x[: n * self.frame].astype(np.float32).reshape(n, self.frame)
        db = 10 * np.log10((frames * frames).mean(axis=1) + 1.0)
        self._db.extend(db.tolist())
        floor, loud = np.percentile(np.fromiter(self._db, float), (FLOOR_PERCENTILE, LOUD_PERCENTILE))
        threshold = floor + self.margin_db
        if self.range_db > 0:
            threshold = max(threshold, loud - self.range_db)
        paused = False
        for voiced in db >= threshold:
            if voiced:
                self._voiced, self._quiet = self._voiced + 1, 0
                continue
            self._quiet += 1
            if self._quiet >= self.need_quiet and self._voiced * FRAME_S >= MIN_VOICED_S:
                self._voiced, paused = 0, True
        return paused and self._quiet >= self.need_quiet

    @property
    def quiet_s(self) -> float:
        """Seconds of quiet at the end of the audio fed so far (whole frames; the unframed rest
        counts as quiet): where a pause began, counted back from the end."""
        return self._quiet * FRAME_S + len(self._rest) / (self.frame / FRAME_S)

    def reset(self) -> None:
        """The utterance was closed by other means (Vosk's endpointer): wait for new voice."""
        self._voiced = 0
