"""What the service loop hands the captioner: audio in stream order, and the end of a stream."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class AudioChunk:
    """Samples read from the ring buffer, in stream order."""

    samples: np.ndarray
    t_mono_ns: int = field(default_factory=time.monotonic_ns)
    """Monotonic time (ns) at which the first sample was captured (or paced, for a file)."""


@dataclass(frozen=True)
class StreamEnd:
    """The stream ended (a replayed file, or the service stopping): flush the recogniser."""

    name: str
