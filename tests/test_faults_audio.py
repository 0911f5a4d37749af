"""Audio faults through the whole service (real Vosk, real ONNX models, real speech):

- the USB microphone is pulled out mid-sentence and plugged back in, where it comes back under
  another device index. This machine has no sound card, so PortAudio is replaced by a fake
  behind emocap.audio.mic's own seam (``_pyaudio``); MicSource, the ring and the rest are real.
- the captioner hangs for seconds: the ring overflows and counts exactly what it lost, audio
  flows again afterwards, and the systemd watchdog is not pinged while the pipeline hangs.
"""
import logging
import threading
import time

import numpy as np
import pytest

from emocap.audio import mic
from emocap.audio.files import load_audio
from emocap.audio.sources import FileSource
from emocap.config import AudioConfig
from faultkit import SPEECH, NotifySocket, build, cfg, models, reference_text, vosk, wait_for  # noqa: F401

pytestmark = pytest.mark.faults
RATE = 16000


class Room:
    """What the microphone hears, and whether its cable is in. ``index``: the device index
    the microphone gets from PortAudio (a replugged USB device may get another one)."""

    def __init__(self) -> None:
        self.plugged, self.index = True, 1
        self.audio = np.zeros(0, dtype=np.int16)
        self.pos = 0
        self.cut_at: int | None = None  # sample at which the cable is pulled
        self.opened: list[int] = []  # device index of each stream opened

    def next_block(self, frames: int) -> bytes | None:
        if self.cut_at is not None and self.pos >= self.cut_at:
            self.plugged, self.cut_at = False, None
        if not self.plugged:
            return None
        block = self.audio[self.pos : self.pos + frames]
        self.pos += len(block)
        return np.concatenate((block, np.zeros(frames - len(block), np.int16))).tobytes()  # then silence


class FakeStream:
    """A PortAudio callback stream: the callback gets a block every block's duration."""

    def __init__(self, room: Room, callback, frames: int) -> None:
        self.active = True
        self._thread = threading.Thread(target=self._run, args=(room, callback, frames), daemon=True)
        self._thread.start()

    def _run(self, room, callback, frames) -> None:
        t0, n = time.monotonic(), 0
        while self.active and (block := room.next_block(frames)) is not None:
            callback(block, frames, {}, 0)
            n += frames
            time.sleep(max(0.0, t0 + n / RATE - time.monotonic()))
        self.active = False  # what PortAudio reports once the device is gone

    def is_active(self) -> bool:
        return self.active

    def stop_stream(self) -> None:
        self.active = False

    def close(self) -> None:
        self._thread.join()


class FakePyAudio:
    paInt16, paContinue = 8, 0


class FakePortAudio:
    def __init__(self, room: Room) -> None:
        self.room = room

    def _devices(self) -> list[dict]:
        devices = [{"index": 0, "name": "bcm2835 Headphones", "maxInputChannels": 0}]
        if self.room.index == 2:
            devices.append({"index": 1, "name": "HDMI", "maxInputChannels": 0})
        if self.room.plugged:
            devices.append({"index": self.room.index, "name": "USB PnP Sound Device", "maxInputChannels": 1})
        return devices

    def get_device_count(self) -> int:
        return len(self._devices())

    def get_device_info_by_index(self, i: int) -> dict:
        return self._devices()[i]

    def get_default_input_device_info(self) -> dict:
        inputs = [d for d in self._devices() if d["maxInputChannels"]]
        if not inputs:
            raise OSError("No Default Input Device Available")
        return inputs[0]

    def open(self, *, rate, channels, input_device_index, frames_per_buffer, stream_callback, **kw):
        if not self.room.plugged or input_device_index != self.room.index:
            raise OSError(-9996, "Invalid input device (no default output device)")
        assert (rate, channels) == (RATE, 1)
        self.room.opened.append(input_device_index)
        return FakeStream(self.room, stream_callback, frames_per_buffer)

    def terminate(self) -> None:
        pass


@pytest.fixture
def room(monkeypatch):
    r = Room()
    monkeypatch.setattr(mic, "_pyaudio", lambda: (FakePyAudio, FakePortAudio(r)))
    return r


def test_microphone_pulled_mid_sentence_and_replugged_under_another_index(cfg, vosk, models, room, shared_data,
                                                                          caplog):
    caplog.set_level(logging.WARNING, logger="emocap")
    first, second = (load_audio(shared_data / f) for f in SPEECH[:2])
    cut = 2 * RATE  # the cable comes out 2 s into the first sentence, mid-word
    # What Vosk makes of each part alone (the captioner feeds it 250 ms blocks from each stream's start).
    expected = [reference_text(vosk, first[:cut]), reference_text(vosk, np.concatenate((second, np.zeros(RATE, np.int16))))]
    room.audio, room.cut_at = first, cut
    source = mic.MicSource(AudioConfig(reopen_s=0.2), 1600)
    svc, rec, (sink,) = build(cfg, vosk, models, [source])
    runner = threading.Thread(target=svc.run)
    runner.start()
    try:
        wait_for(lambda: source.waiting, "the lost microphone to be noticed")
        # The interrupted sentence is captioned while the microphone is still out, not held
        # back to merge with whatever is said after it returns.
        wait_for(lambda: len(sink.captions) == 1, "the caption of the interrupted sentence")
        assert source.waiting and not room.plugged
        time.sleep(1.0)  # several reopen attempts fail meanwhile
        room.audio, room.pos, room.index = np.concatenate((second, np.zeros(2 * RATE, np.int16))), 0, 2
        room.plugged = True
        wait_for(lambda: len(sink.captions) == 2, "the caption of the sentence after the replug")
    finally:
        svc.stop()
        runner.join(60)
    assert not runner.is_alive() and svc.captioner.error is None
    assert room.opened == [1, 2], "the replugged microphone was reopened under its new index"
    assert sink.texts == expected and all(expected)
    assert rec.finals == 2 and all(c.emotion for c in sink.captions)
    assert svc.ring.dropped == 0
    log = caplog.text
    assert "stopped delivering audio" in log and "reopening failed" in log and "reopened" in log


def test_captioner_hang_overflows_the_ring_exactly_and_starves_the_watchdog(cfg, vosk, models, shared_data,
                                                                            tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.WARNING, logger="emocap")
    notify = NotifySocket(tmp_path / "notify.sock")
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify.sock"))
    monkeypatch.setenv("WATCHDOG_USEC", "100000")  # pinged at most every 50 ms while healthy
    # Real time through a 1 s ring and a 0.5 s queue; the recogniser hangs for 3 s at 2 s.
    # Three recordings back to back: each file's end closes its utterance.
    srcs = [FileSource(shared_data / f, RATE, 1600, realtime=True) for f in SPEECH]
    total = sum(len(s.samples) for s in srcs)
    svc, rec, (sink,) = build(cfg, vosk, models, srcs, ring_seconds=1.0, queue_s=0.5)
    hang_s, span = 3.0, {}

    def hang():
        wait_for(lambda: rec.fed >= 2 * RATE, "2 s of audio recognised")
        rec.gate = threading.Event()
        wait_for(rec.held.is_set, "the recogniser to hang")
        span["from"] = time.monotonic()
        time.sleep(hang_s)
        span["to"] = time.monotonic()
        rec.gate.set()

    threading.Thread(target=hang, daemon=True).start()
    try:
        svc.run()
    finally:
        notify.close()
    lost = svc.ring.dropped
    # Exact: every sample the source offered was either recognised or counted as dropped.
    assert svc.ring.written + lost == total
    assert rec.fed == svc.ring.written
    assert lost > RATE  # ~1.5 s: the hang minus what the queue and the ring hold
    assert svc.meter.snapshot()["counts"]["frames_dropped"] == lost
    assert f"{lost} audio frames were dropped" in caplog.text
    # Audio flowed again: the sentences after the hang were captioned.
    hang_at = 2.0 + 0.25  # s of stream time where the recogniser stopped (one block late at most)
    assert len(sink.captions) == rec.finals >= 2
    assert any(c.t_start > hang_at for c in sink.captions), [(c.t_start, c.text) for c in sink.captions]
    pings = notify.pings()
    # Once the queue is full (0.5 s) the loop waits on it and stops pinging: systemd would
    # restart a real hang after WatchdogSec. Pings resume when audio flows again.
    assert [t for t in pings if span["from"] + 1.0 < t < span["to"]] == []
    assert any(t < span["from"] for t in pings) and any(t > span["to"] for t in pings)
    assert [m for _, m in notify.messages][0] == "READY=1"
