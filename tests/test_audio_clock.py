"""The audio clock: ring-buffer arrival stamps and chunk anchors map sample indices to the
monotonic time at which they were captured."""
import time

import numpy as np

from emocap.audio.clock import AudioClock
from emocap.audio.ring import RingBuffer


def test_clock_maps_indices_from_the_anchor_before_them():
    clock = AudioClock(16000)
    assert clock.at(0) is None
    clock.mark(0, 1_000_000_000)
    clock.mark(1600, 1_100_000_000)
    clock.mark(3200, 1_250_000_000)  # a late chunk: the clock follows the stamps, not the count
    assert clock.at(800) == 1_050_000_000
    assert clock.at(1600) == 1_100_000_000
    assert clock.at(4000) == 1_300_000_000
    assert clock.at(-160) == 990_000_000  # before the first anchor: extrapolated from it


def test_ring_stamps_each_write_as_the_capture_time_of_its_end():
    ring = RingBuffer(16000)
    t0 = time.monotonic_ns()
    ring.write(np.zeros(1600, dtype=np.int16))
    t1 = time.monotonic_ns()
    # sample 0 was captured 100 ms before the write arrived
    assert t0 - 100_000_000 <= ring.capture_ns(0, 16000) <= t1 - 100_000_000
    assert ring.read_count == 0
    ring.read(800, timeout=0)
    assert ring.read_count == 800
    assert ring.capture_ns(1600, 16000) - ring.capture_ns(800, 16000) == 50_000_000
