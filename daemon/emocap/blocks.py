"""The fixed-size blocks Vosk is fed, cut from a stream's audio.

Vosk's output depends on where the blocks fall, not on when they arrive, so the captioner
and tools/soak_expected.py (which counts the captions a file must give) cut them here alike:
full blocks of ``size`` samples from a stream's start, and the rest as one short block
when the caller flushes (an early caption's pause, a stream's end).
"""
from __future__ import annotations

import numpy as np


class Blocks:
    def __init__(self, size: int) -> None:
        self.size = size
        self._pending = np.zeros(0, dtype=np.int16)

    def add(self, samples: np.ndarray) -> list[np.ndarray]:
        """The full blocks ``samples`` completes, in order; the remainder stays pending."""
        x = np.concatenate((self._pending, samples))
        n = len(x) // self.size * self.size
        self._pending = x[n:]
        return [x[i : i + self.size] for i in range(0, n, self.size)]

    def rest(self) -> np.ndarray | None:
        """What is pending, as one short block (None when nothing is); pending is then empty."""
        if not len(self._pending):
            return None
        block, self._pending = self._pending, self._pending[:0]
        return block
