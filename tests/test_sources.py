"""Audio sources. Files are real; the microphone is replaced by a fake PortAudio only
because this machine has no sound card (tests/fakemic.py: the calls MicSource makes)."""
import dataclasses
import logging
import time

import numpy as np
import pytest

from emocap.audio import mic, sources
from emocap.audio.files import load_audio
from emocap.audio.ring import RingBuffer
from emocap.config import AudioConfig
from emocap.errors import AudioError
from conftest import wait_for
from fakemic import room  # noqa: F401 (fixture)

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


def test_device_is_found_by_name_or_index_and_missing_one_is_named(room):
    cfg = AudioConfig()
    assert mic.MicSource(cfg, 1600).name == "USB PnP Sound Device"
    assert mic.MicSource(dataclasses.replace(cfg, device="usb pnp"), 1600).index == 1
    with pytest.raises(AudioError, match="matching \\[audio\\] device = 'Blue Yeti'"):
        mic.MicSource(dataclasses.replace(cfg, device="Blue Yeti"), 1600)
    with pytest.raises(AudioError, match="HDMI"):  # output-only devices do not count
        mic.MicSource(dataclasses.replace(cfg, device="HDMI"), 1600)


def test_lost_microphone_is_reopened_and_never_raises(room, caplog):
    caplog.set_level(logging.WARNING)
    source = mic.MicSource(AudioConfig(reopen_s=0.1), 160)
    ring = RingBuffer(16000 * 60)
    source.start(ring)
    wait_for(lambda: ring.available() > 1600, "audio from the microphone")
    room.plugged = False  # the stream dies, the device disappears
    wait_for(lambda: source.waiting, "the lost microphone to be noticed")
    time.sleep(0.5)  # several reopen attempts fail while it is gone
    before = ring.written
    room.plugged = True
    wait_for(lambda: not source.waiting and ring.written > before + 1600, "audio from the reopened microphone")
    source.stop()
    assert room.opened == [1, 1]
    text = caplog.text
    assert "stopped delivering audio" in text and "reopening failed" in text and "reopened" in text
    assert ring.closed


def test_auto_falls_back_to_the_demo_file_without_a_microphone(room, shared_data):
    room.plugged = False
    cfg = AudioConfig(source="auto", demo_file=str(shared_data / CLIP))
    src = sources.open_source(cfg, 1600)
    assert isinstance(src, sources.FileSource) and src.realtime
    room.plugged = True
    assert isinstance(sources.open_source(cfg, 1600), mic.MicSource)
    room.plugged = False
    with pytest.raises(AudioError, match="no audio input device"):
        sources.open_source(dataclasses.replace(cfg, source="mic"), 1600)
