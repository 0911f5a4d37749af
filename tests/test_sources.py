"""Audio sources. Files are real; the microphone is replaced by a fake PortAudio only
because this machine has no sound card (the fake implements the calls MicSource uses)."""
import dataclasses
import logging
import threading
import time

import numpy as np
import pytest

from emocap.audio import mic, sources
from emocap.audio.files import load_audio
from emocap.audio.ring import RingBuffer
from emocap.config import AudioConfig
from emocap.errors import AudioError

CLIP = "asr/ko/emotiontts/Emotional/emotional-to-emotional/nem/nem00001.flac"


def test_file_source_fast_mode_is_lossless_through_a_small_ring(shared_data):
    src = sources.FileSource(shared_data / CLIP, 16000, 1600, realtime=False)
    ring = RingBuffer(4000)  # much smaller than the file: the source must wait for space
    src.start(ring)
    got = []
    while not (ring.closed and ring.available() == 0):
        got.append(ring.read(1600, timeout=1))
    src.stop()
    assert ring.dropped == 0
    assert np.array_equal(np.concatenate(got), load_audio(shared_data / CLIP))


class World:
    """A USB microphone that can be unplugged."""

    def __init__(self):
        self.plugged = True
        self.opened = 0


class FakeStream:
    def __init__(self, world, callback, frames):
        self.world, self.active = world, True
        self._thread = threading.Thread(target=self._run, args=(callback, frames), daemon=True)
        self._thread.start()

    def _run(self, callback, frames):
        n = 0
        while self.active and self.world.plugged:
            block = (np.arange(n, n + frames) % 30000).astype(np.int16).tobytes()
            callback(block, frames, {}, 0)
            n += frames
            time.sleep(0.01)
        self.active = False

    def is_active(self):
        return self.active

    def stop_stream(self):
        self.active = False

    def close(self):
        self._thread.join()


class FakePyAudioModule:
    paInt16, paContinue = 8, 0


class FakePortAudio:
    def __init__(self, world):
        self.world = world

    def _devices(self):
        return [{"index": 0, "name": "HDMI out", "maxInputChannels": 0}] + (
            [{"index": 1, "name": "USB PnP Sound Device", "maxInputChannels": 1}] if self.world.plugged else [])

    def get_device_count(self):
        return len(self._devices())

    def get_device_info_by_index(self, i):
        return self._devices()[i]

    def get_default_input_device_info(self):
        inputs = [d for d in self._devices() if d["maxInputChannels"]]
        if not inputs:
            raise OSError("No Default Input Device Available")
        return inputs[0]

    def open(self, *, rate, channels, input_device_index, frames_per_buffer, stream_callback, **kw):
        if not self.world.plugged:
            raise OSError("Invalid input device")
        assert (rate, channels, input_device_index) == (16000, 1, 1)
        self.world.opened += 1
        return FakeStream(self.world, stream_callback, frames_per_buffer)

    def terminate(self):
        pass


@pytest.fixture
def world(monkeypatch):
    w = World()
    monkeypatch.setattr(mic, "_pyaudio", lambda: (FakePyAudioModule, FakePortAudio(w)))
    return w


def wait_for(condition, timeout=15.0):
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def test_device_is_found_by_name_or_index_and_missing_one_is_named(world):
    cfg = AudioConfig()
    assert mic.MicSource(cfg, 1600).name == "USB PnP Sound Device"
    assert mic.MicSource(dataclasses.replace(cfg, device="usb pnp"), 1600).index == 1
    with pytest.raises(AudioError, match="matching \\[audio\\] device = 'Blue Yeti'"):
        mic.MicSource(dataclasses.replace(cfg, device="Blue Yeti"), 1600)
    with pytest.raises(AudioError, match="HDMI"):  # output-only devices do not count
        mic.MicSource(dataclasses.replace(cfg, device="HDMI"), 1600)


def test_lost_microphone_is_reopened_and_never_raises(world, caplog):
    caplog.set_level(logging.WARNING)
    source = mic.MicSource(AudioConfig(reopen_s=0.1), 160)
    ring = RingBuffer(16000 * 60)
    source.start(ring)
    wait_for(lambda: ring.available() > 1600)
    world.plugged = False  # the stream dies, the device disappears
    wait_for(lambda: source.waiting)
    time.sleep(0.5)  # several reopen attempts fail while it is gone
    before = ring.written
    world.plugged = True
    wait_for(lambda: not source.waiting and ring.written > before + 1600)
    source.stop()
    assert world.opened == 2
    text = caplog.text
    assert "stopped delivering audio" in text and "reopening failed" in text and "reopened" in text
    assert ring.closed


def test_auto_falls_back_to_the_demo_file_without_a_microphone(world, shared_data):
    world.plugged = False
    cfg = AudioConfig(source="auto", demo_file=str(shared_data / CLIP))
    src = sources.open_source(cfg, 1600)
    assert isinstance(src, sources.FileSource) and src.realtime
    world.plugged = True
    assert isinstance(sources.open_source(cfg, 1600), mic.MicSource)
    world.plugged = False
    with pytest.raises(AudioError, match="no audio input device"):
        sources.open_source(dataclasses.replace(cfg, source="mic"), 1600)
