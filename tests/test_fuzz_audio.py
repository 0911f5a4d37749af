"""Fuzzing the audio file reader (emocap.audio.files.load_audio) with hypothesis: random bytes,
real recordings cut short or with their header overwritten, headers claiming huge lengths,
rates and channel counts. Each read gives audio or an AudioError of one line naming the file;
never another exception, and never an allocation sized by the header's claims (numpy's
allocations are traced by tracemalloc)."""
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emocap.audio.files import load_audio
from emocap.errors import AudioError

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PEAK_BYTES = 64 * 2**20  # what reading a file of a few kB may allocate, at most
CLIP = "asr/ko/emotiontts/Emotional/emotional-to-emotional/nem/nem00001.flac"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz_audio")


@pytest.fixture(scope="module")
def clips(shared_data, folder) -> dict[str, bytes]:
    """Half a second of real speech as WAV (mono 16 kHz, stereo 44.1 kHz), FLAC and OGG."""
    speech = load_audio(shared_data / CLIP)[8000:16000]
    out = {}
    for name, data, rate, fmt in [("mono.wav", speech, 16000, "PCM_16"),
                                  ("stereo.wav", np.stack([speech, speech], 1), 44100, "PCM_16"),
                                  ("clip.flac", speech, 16000, "PCM_16"), ("clip.ogg", speech, 16000, "VORBIS")]:
        sf.write(folder / name, data, rate, subtype=fmt)
        out[name] = (folder / name).read_bytes()
    return out


def read(folder: Path, name: str, data: bytes) -> np.ndarray | None:
    """load_audio of these bytes: the samples, or None after a proper AudioError."""
    path = folder / f"fuzzed_{name}"
    path.write_bytes(data)
    tracemalloc.start()
    try:
        out = load_audio(path)
    except AudioError as e:
        msg = str(e)
        assert msg.startswith(f"{path}: ") and "\n" not in msg, msg
        out = None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"{peak / 2**20:.0f} MB allocated reading {len(data)} bytes"
    if out is not None:
        assert out.dtype == np.int16 and out.ndim == 1 and len(out) > 0
    return out


@FUZZ
@given(data=st.binary(max_size=4096), name=st.sampled_from(["x.wav", "x.flac", "x.ogg", "x.aiff", "x"]))
def test_random_bytes(folder, data, name):
    read(folder, name, data)


@FUZZ
@given(name=st.sampled_from(["mono.wav", "stereo.wav", "clip.flac", "clip.ogg"]), cut=st.floats(0.0, 0.999))
def test_truncated_recordings(folder, clips, name, cut):
    data = clips[name]
    out = read(folder, name, data[: int(len(data) * cut)])
    if name.endswith(".wav"):
        assert out is None, "a cut-off WAV is refused, not half-played"


@FUZZ
@given(name=st.sampled_from(["mono.wav", "stereo.wav", "clip.flac", "clip.ogg"]),
       patch=st.lists(st.tuples(st.integers(0, 63), st.integers(0, 255)), min_size=1, max_size=8))
def test_overwritten_headers(folder, clips, name, patch):
    data = bytearray(clips[name])
    for offset, value in patch:
        data[offset] = value
    read(folder, name, bytes(data))


def wav_with(clip: bytes, *, data_size=None, rate=None, channels=None, riff_size=None) -> bytes:
    """A WAV whose fmt/data fields claim what is given (the samples stay as they are)."""
    b = bytearray(clip)
    fmt, data = b.find(b"fmt "), b.find(b"data")
    for offset, fmt_code, value in [(4, "<I", riff_size), (fmt + 10, "<H", channels), (fmt + 12, "<I", rate),
                                    (data + 4, "<I", data_size)]:
        if value is not None:
            b[offset : offset + struct.calcsize(fmt_code)] = struct.pack(fmt_code, value)
    return bytes(b)


@FUZZ
@given(data_size=st.one_of(st.none(), st.integers(0, 2**32 - 1)), rate=st.one_of(st.none(), st.integers(0, 2**32 - 1)),
       channels=st.one_of(st.none(), st.integers(0, 2**16 - 1)), riff_size=st.one_of(st.none(), st.integers(0, 2**32 - 1)))
def test_wav_headers_claiming_huge_lengths_rates_and_channels(folder, clips, data_size, rate, channels, riff_size):
    read(folder, "mono.wav", wav_with(clips["mono.wav"], data_size=data_size, rate=rate, channels=channels,
                                      riff_size=riff_size))


def flac_with(clip: bytes, *, total=None, rate=None) -> bytes:
    """A FLAC whose STREAMINFO claims ``total`` samples (36 bits) at ``rate`` Hz (20 bits)."""
    b = bytearray(clip)
    (packed,) = struct.unpack(">Q", b[18:26])  # rate 20 | channels-1 3 | bits-1 5 | total samples 36
    if total is not None:
        packed = packed & ~(2**36 - 1) | total
    if rate is not None:
        packed = packed & (2**44 - 1) | rate << 44
    b[18:26] = struct.pack(">Q", packed)
    return bytes(b)


@FUZZ
@given(total=st.one_of(st.none(), st.integers(0, 2**36 - 1)), rate=st.one_of(st.none(), st.integers(0, 2**20 - 1)))
def test_flac_streaminfo_claiming_huge_lengths_and_rates(folder, clips, total, rate):
    assert clips["clip.flac"][:4] == b"fLaC"
    read(folder, "clip.flac", flac_with(clips["clip.flac"], total=total, rate=rate))


@pytest.mark.parametrize("fields", [dict(data_size=2**32 - 1, riff_size=2**32 - 1), dict(rate=1), dict(rate=2**32 - 1),
                                    dict(channels=65535)], ids=["4GiB", "1Hz", "4GHz", "65535ch"])
def test_the_worst_claims_are_refused_in_one_line(folder, clips, fields):
    assert read(folder, "mono.wav", wav_with(clips["mono.wav"], **fields)) is None
