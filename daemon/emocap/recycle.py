"""Bounding the recogniser's memory: recycle the KaldiRecognizer when RSS passes a limit.

What grows in a long run is Vosk's: each KaldiRecognizer composes the lookahead graph
(HCLr.fst with Gr.fst) on the fly and caches the composed states it has visited, so the
cache grows with the variety of speech heard (see the README's soak section for the
figures). A fresh KaldiRecognizer on the same, already loaded, model starts with an empty
cache; what the old one held goes back to the allocator.

The captioner asks at utterance boundaries only, where nothing of an utterance is inside
the recogniser. At a stream's end the next stream starts a fresh decoder and feature pipeline
(asr.Recognizer.finish), so a fresh recogniser there changes nothing but memory: that is the preferred boundary.
Right after a mid-stream final (a microphone's stream never ends) the audio fed since the
final's last word is fed again to the new recogniser, so the next utterance loses nothing;
but its speaker adaptation (i-vector) starts afresh, as it does when Vosk itself resets its
pipeline every ~10 minutes of a stream, so the next utterance's words or end point may
differ slightly from a run without the recycle. Hence mid-stream recycles only in streams
already longer than ``mid_stream_after_s``. ``[asr] max_rss_mb`` = 0 turns it off.
"""
from __future__ import annotations

import ctypes
import logging
import os

from emocap.meter import Meter

log = logging.getLogger(__name__)

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_mb() -> float:
    """This process's resident set, MiB (0 where /proc is not there: then nothing recycles)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def trim_heap() -> None:
    """Hand freed heap back to the kernel (glibc keeps it otherwise, and RSS would not fall)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class Recycler:
    """Decides when to recycle: RSS above ``max_rss_mb``, at least ``min_gap_s`` of audio
    since the last recycle (so a limit set below what the models alone need costs one
    recycle per ``min_gap_s``, not one per utterance), and mid-stream only in a stream
    longer than ``mid_stream_after_s``."""

    def __init__(self, max_rss_mb: float, meter: Meter, sample_rate: int, *, min_gap_s: float,
                 mid_stream_after_s: float = 30.0, rss=rss_mb) -> None:
        self.max_rss_mb, self.meter, self._rss = max_rss_mb, meter, rss
        self._gap, self._mid = int(min_gap_s * sample_rate), int(mid_stream_after_s * sample_rate)
        self._last = -self._gap
        self.count = 0

    def due(self, samples: int, stream_samples: int | None = None) -> bool:
        """Whether to recycle now, ``samples`` being the recogniser's clock; ``stream_samples``:
        how far into its stream a mid-stream final is (None at a stream's end)."""
        if self.max_rss_mb <= 0 or samples - self._last < self._gap:
            return False
        if stream_samples is not None and stream_samples < self._mid:
            return False
        return self._rss() > self.max_rss_mb

    def recycled(self, samples: int, before_mb: float) -> None:
        """Record a recycle done at ``samples``: count it, trim the heap, log the effect."""
        trim_heap()
        self._last, self.count = samples, self.count + 1
        self.meter.count("asr_recycles")
        log.info("recogniser recycled at %.0f MB RSS (limit %.0f MB): now %.0f MB",
                 before_mb, self.max_rss_mb, self._rss())
