"""Ring buffer: exact drop counting under a slow consumer, a producer that never waits,
wrap-around correctness; and the history the captioner cuts utterances from."""
import threading
import time

import numpy as np

from emocap.audio.history import History
from emocap.audio.ring import RingBuffer

# A ramp of unique int16 values: every sample names its own position in the stream.
RAMP = (np.arange(60000) - 30000).astype(np.int16)


def _produce(ring: RingBuffer, chunk: int, pause_s: float) -> list[int]:
    stored = []
    for i in range(0, len(RAMP), chunk):
        stored.append(ring.write(RAMP[i : i + chunk]))
        time.sleep(pause_s)  # a source paced faster than the consumer below drains
    ring.close()
    return stored


def test_dropped_count_equals_samples_lost_with_slow_consumer():
    ring = RingBuffer(1600)
    producer = threading.Thread(target=_produce, args=(ring, 160, 0.0005))
    received = []
    producer.start()
    while True:
        block = ring.read(100, timeout=0.5)
        if len(block) == 0 and ring.closed and ring.available() == 0:
            break
        received.append(block)
        time.sleep(0.003)  # deliberately slow consumer
    producer.join()
    got = np.concatenate(received).astype(np.int64) + 30000
    assert ring.dropped > 0, "the consumer was not slow enough to make the buffer overflow"
    assert np.all(np.diff(got) > 0), "samples arrived out of order or twice"
    lost = len(RAMP) - len(got)
    assert ring.dropped == lost
    assert ring.written == len(got)
    missing = np.setdiff1d(np.arange(len(RAMP)), got)
    assert len(missing) == ring.dropped


def test_producer_never_waits_for_a_stalled_consumer():
    ring = RingBuffer(1000)
    done = threading.Event()
    result = {}

    def producer():
        result["stored"] = _produce(ring, 160, 0.0)
        done.set()

    threading.Thread(target=producer).start()
    # Nothing reads: a producer that waited for space would never finish.
    assert done.wait(10), "producer blocked on a full buffer"
    assert sum(result["stored"]) == 1000
    assert ring.dropped == len(RAMP) - 1000
    # drop-newest: what is kept is the oldest audio, intact
    assert np.array_equal(ring.read(5000, timeout=0), RAMP[:1000])


def test_wraparound_matches_reference_stream():
    rng = np.random.default_rng(0)
    ring = RingBuffer(257)
    out, pos, refused = [], 0, 0
    while pos < len(RAMP):
        n = min(int(rng.integers(1, 200)), len(RAMP) - pos)
        stored = ring.write(RAMP[pos : pos + n])
        pos, refused = pos + stored, refused + n - stored  # re-offer what did not fit
        out.append(ring.read(int(rng.integers(1, 200)), timeout=0))
    out.append(ring.read(len(RAMP), timeout=0))
    assert np.array_equal(np.concatenate(out), RAMP)
    assert ring.dropped == refused


def test_bytes_from_a_callback_are_accepted():
    ring = RingBuffer(100)
    assert ring.write(RAMP[:50].tobytes()) == 50
    assert np.array_equal(ring.read(50, timeout=0), RAMP[:50])


def test_read_returns_early_when_closed():
    ring = RingBuffer(100)
    ring.write(RAMP[:30])
    ring.close()
    t = time.monotonic()
    assert len(ring.read(100, timeout=30)) == 30
    assert time.monotonic() - t < 5  # generous: only proves it did not wait for the timeout


def test_history_slices_by_absolute_index():
    h = History(1000)
    for i in range(0, 5000, 250):
        h.append(RAMP[i : i + 250])
    assert h.total == 5000
    assert np.array_equal(h.slice(4200, 4800), RAMP[4200:4800])
    assert np.array_equal(h.slice(100, 4100), RAMP[4000:4100])  # older audio is gone
    assert len(h.slice(6000, 7000)) == 0
    h.append(RAMP[:2500])  # a block larger than the capacity keeps its tail
    assert h.total == 7500
    assert np.array_equal(h.slice(6500, 7500), RAMP[1500:2500])
