"""Audio time -> wall time: where a sample of the stream was captured, in monotonic ns.

Each chunk from the ring buffer carries the capture time of its first sample; the clock
keeps the latest anchors (stream sample index, ns) and maps any recent index to the time
from the anchor at or before it, at the sample rate. Used by one thread (the captioner).
"""
from __future__ import annotations

import bisect
from collections import deque


class AudioClock:
    def __init__(self, rate: int, anchors: int = 1024) -> None:
        self.rate = rate
        self._index: deque[int] = deque(maxlen=anchors)
        self._ns: deque[int] = deque(maxlen=anchors)

    def mark(self, index: int, t_ns: int) -> None:
        """Sample ``index`` (counted from the stream's start) was captured at ``t_ns``."""
        self._index.append(index)
        self._ns.append(t_ns)

    def at(self, index: int) -> int | None:
        """Capture time of sample ``index``; None before the first anchor."""
        if not self._index:
            return None
        i = max(bisect.bisect_right(self._index, index) - 1, 0)
        return self._ns[i] + (index - self._index[i]) * 1_000_000_000 // self.rate
