"""The transcript sink: every final caption appended to the transcript, off the audio path.

caption() only puts the entry on a bounded queue and returns; a thread of its own writes
it. A disk error (full, read-only, permissions) is logged once, until a write succeeds
again, and never reaches the captioner; a full queue drops the entry and counts it.
"""
from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from pathlib import Path
from typing import Callable

from emocap.captions import Caption, Partial
from emocap.config import TranscriptConfig
from emocap.transcript.store import Store, wall_iso

log = logging.getLogger(__name__)

QUEUE_SIZE = 256
"""Captions waiting for the disk (minutes of speech)."""
JOIN_S = 5.0
"""How long close() waits for a stuck disk, seconds."""


def entry(caption: Caption, wall: float, run: str) -> dict:
    """One transcript line. ``run`` names the service run: spans count from its start."""
    return {"wall": wall_iso(wall), "run": run, "t_start": round(caption.t_start, 3),
            "t_end": round(caption.t_end, 3), "text": caption.text, "emotion": caption.emotion,
            "confidence": round(caption.confidence, 4),
            "shown": caption.tagged}


class TranscriptSink:
    def __init__(self, cfg: TranscriptConfig, clock: Callable[[], float] = time.time) -> None:
        self.path, self._clock = Path(cfg.path), clock
        self._limits = (int(cfg.max_mb * 1_000_000), cfg.keep_days * 86400.0)
        # start time plus a random tag: two runs can start within the same millisecond
        self._run = f"{wall_iso(clock())}/{secrets.token_hex(3)}"
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_SIZE)
        self.written = self.dropped = self.failed = 0
        self._failing = False
        self._thread = threading.Thread(target=self._loop, name="emocap-transcript", daemon=True)
        self._thread.start()

    def partial(self, event: Partial) -> None:
        pass  # only finals are kept

    def caption(self, event: Caption) -> None:
        if not event.final:
            return  # an early caption: its final follows
        try:
            self._queue.put_nowait(entry(event, self._clock(), self._run))
        except queue.Full:
            self.dropped += 1

    def close(self) -> None:
        """Write what is queued, then end the thread."""
        try:
            self._queue.put(None, timeout=JOIN_S)
        except queue.Full:
            pass
        self._thread.join(JOIN_S)
        if self._thread.is_alive():
            log.warning("transcript %s: still writing after %.0f s; leaving it", self.path, JOIN_S)
        if self.dropped:
            log.warning("transcript %s: %d captions not written (the disk fell behind)", self.path, self.dropped)

    def _loop(self) -> None:
        store = None
        while (item := self._queue.get()) is not None:
            try:
                store = store or Store(self.path, *self._limits, clock=self._clock)
                store.append(item)
                self.written += 1
                self._failing = False
            except OSError as e:
                self.failed += 1
                if not self._failing:
                    log.warning("transcript %s: cannot write (%s); captions go on without it", self.path, e)
                self._failing = True
