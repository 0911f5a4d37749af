"""A fake PortAudio behind emocap.audio.mic's own seam (``_pyaudio``), for the tests that need a
microphone on a machine without a sound card: MicSource, the ring and the rest stay real.

``room`` (a fixture) is what the microphone hears and whether its cable is in; the fake
implements just the calls MicSource makes."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from emocap.audio import mic

RATE = 16000


class Room:
    """What the microphone hears (``audio``, then silence), and whether its cable is in.
    ``index``: the device index the microphone gets from PortAudio (a replugged USB device may
    get another one); ``cut_at``: the sample at which the cable comes out by itself."""

    def __init__(self) -> None:
        self.plugged, self.index = True, 1
        self.audio = np.zeros(0, dtype=np.int16)
        self.pos = 0
        self.cut_at: int | None = None
        self.opened: list[int] = []  # device index of each stream opened

    def next_block(self, frames: int) -> bytes | None:
        if self.cut_at is not None and self.pos >= self.cut_at:
            self.plugged, self.cut_at = False, None
        if not self.plugged:
            return None
        block = self.audio[self.pos : self.pos + frames]
        self.pos += len(block)
        return np.concatenate((block, np.zeros(frames - len(block), np.int16))).tobytes()


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
    """Output-only devices first (they must never be chosen), the USB microphone at ``index``."""

    OUTPUTS = ("HDMI out", "bcm2835 Headphones", "USB Audio out")

    def __init__(self, room: Room) -> None:
        self.room = room

    def _devices(self) -> list[dict]:
        outputs = self.OUTPUTS[: self.room.index]
        devices = [{"index": i, "name": name, "maxInputChannels": 0} for i, name in enumerate(outputs)]
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
def room(monkeypatch) -> Room:
    r = Room()
    monkeypatch.setattr(mic, "_pyaudio", lambda: (FakePyAudio, FakePortAudio(r)))
    return r
