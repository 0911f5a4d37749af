"""The most recent audio fed to the recogniser, addressable by absolute sample index, so an
utterance's span (from the recogniser's word times) can be cut out for the emotion models.
Used by one thread only (the captioner), so it needs no lock."""
from __future__ import annotations

import numpy as np


class History:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._buf = np.zeros(capacity, dtype=np.int16)
        self.total = 0
        """Samples appended since creation: the absolute index of the next sample."""

    def append(self, x: np.ndarray) -> None:
        n = len(x)
        x = x[-self.capacity :]  # only the tail of an oversized block can be held
        start = (self.total + n - len(x)) % self.capacity
        first = min(len(x), self.capacity - start)
        self._buf[start : start + first] = x[:first]
        self._buf[: len(x) - first] = x[first:]
        self.total += n

    def slice(self, start: int, end: int) -> np.ndarray:
        """Samples ``[start, end)`` (absolute indices), clipped to what is still held."""
        start = max(start, self.total - self.capacity, 0)
        end = min(end, self.total)
        if end <= start:
            return np.zeros(0, dtype=np.int16)
        idx = np.arange(start, end) % self.capacity
        return self._buf[idx]
