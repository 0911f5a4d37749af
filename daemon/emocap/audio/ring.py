"""Fixed-capacity ring buffer of int16 mono samples between one producer and one consumer.

The producer is a microphone callback or a file thread; the consumer is the pipeline loop.

Overflow policy: **drop-newest**. When the buffer is full, the samples of a write that do
not fit are discarded and added to ``dropped``. The producer therefore never touches the
consumer's position, so neither side takes a lock: each side owns one monotonic counter
(``_w`` written, ``_r`` read) and publishes it only after its copy is complete. Under the
GIL an int assignment is atomic, which makes this a correct single-producer,
single-consumer queue. ``dropped`` is exact: every sample offered to ``write`` is either
read by the consumer or counted there, never both.

``write`` does only a numpy slice copy (plus a zero-copy view of a bytes object): no
allocation of sample storage, no logging, no waiting, so it is safe in an audio callback.

The totals are kept here alone: the meter reads ``written``, ``dropped`` and ``fill()`` at each
snapshot (from the monitor's thread; each is an int read, so no lock is needed).

Audio clock: each write also stamps the monotonic time it arrived (one clock read and a
tuple), taken as the capture time of the end of the block (a callback runs when its
buffer is full; a paced file writes a block when it would have been fully captured).
``capture_ns`` maps a sample index back to wall time from the latest stamp.
"""
from __future__ import annotations

import time

import numpy as np


class RingBuffer:
    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError("ring capacity must be positive")
        self.capacity = capacity
        self._buf = np.zeros(capacity, dtype=np.int16)
        self._w = 0  # samples ever stored (producer-owned)
        self._r = 0  # samples ever read (consumer-owned)
        self.dropped = 0  # samples offered but not stored (producer-owned)
        self._closed = False  # producer: no more samples in this stream
        self._stamp = (0, time.monotonic_ns())  # (samples stored, arrival ns) of the latest write

    # -- producer side -------------------------------------------------------------
    def write(self, data: bytes | np.ndarray) -> int:
        """Copy int16 samples in; returns how many were stored (the rest count as dropped)."""
        x = np.frombuffer(data, dtype=np.int16) if isinstance(data, (bytes, bytearray, memoryview)) else data
        n = min(len(x), self.capacity - (self._w - self._r))
        if n < len(x):
            self.dropped += len(x) - n
        start = self._w % self.capacity
        first = min(n, self.capacity - start)
        self._buf[start : start + first] = x[:first]
        self._buf[: n - first] = x[first:n]
        self._w += n  # publish only after the copy
        self._stamp = (self._w, time.monotonic_ns())  # one object: the consumer reads a consistent pair
        return n

    def close(self) -> None:
        """End of the stream: the consumer gets what is left without waiting, then nothing."""
        self._closed = True

    # -- consumer side -------------------------------------------------------------
    def read(self, n: int, timeout: float, poll_s: float = 0.005) -> np.ndarray:
        """Up to ``n`` samples (a copy): waits until ``n`` are there, the stream is closed, or
        ``timeout`` seconds pass, then returns what is available (possibly nothing)."""
        deadline = time.monotonic() + timeout
        while self.available() < n and not self._closed:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(poll_s, left))  # polling: the producer must not signal (no locks)
        return self._take(min(n, self.available()))

    def _take(self, n: int) -> np.ndarray:
        start = self._r % self.capacity
        first = min(n, self.capacity - start)
        out = np.concatenate((self._buf[start : start + first], self._buf[: n - first]))
        self._r += n  # release the space only after the copy
        return out

    def reopen(self) -> None:
        """Start the next stream (consumer, once a closed stream is fully read)."""
        self._closed = False

    def capture_ns(self, index: int, rate: int) -> int:
        """Monotonic time (ns) at which stored sample ``index`` (counted since creation, as
        ``read_count``) was captured, from the latest write. Samples dropped since then
        shift it (by their duration): an overflowing ring has worse problems."""
        w, t = self._stamp
        return t - (w - index) * 1_000_000_000 // rate

    @property
    def read_count(self) -> int:
        """Samples read since creation: the index of the next sample ``read`` returns."""
        return self._r

    # -- either side (read-only) -----------------------------------------------------
    def available(self) -> int:
        return self._w - self._r

    def free(self) -> int:
        return self.capacity - self.available()

    def fill(self) -> float:
        """Share of the capacity in use, 0..1."""
        return self.available() / self.capacity

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def written(self) -> int:
        """Samples stored since creation (captured minus dropped)."""
        return self._w
