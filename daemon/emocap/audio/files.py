"""Reading audio files as 16 kHz mono int16, whatever their rate and channel count.

Whatever a file's header claims, memory follows what is really decoded: the file is read in
blocks (a header claiming terabytes of samples allocates nothing for them), a recording
longer than MAX_SECONDS is refused as it is read (a tiny FLAC can expand to gigabytes), and so
is a sample rate outside RATES (resampling from an absurd rate needs an absurd filter).
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile as sf

from emocap.errors import AudioError

MAX_SECONDS = 3600
"""Longest recording read whole, seconds: an hour of 48 kHz audio is ~700 MB as float32."""
RATES = (4000, 384000)
"""Sample rates accepted, Hz."""


def to_int16(x: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] to int16, clipping what overflows."""
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)


def resample(x: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Polyphase resampling of float samples (no-op when the rates match).

    The ratio is exact for every usual rate (44.1 kHz: 160/441); an odd one (89317 Hz) is
    approximated within 1/1000 of its denominator, as an exact ratio would need a filter of
    millions of taps. The speed error of that is under 0.01 %."""
    if src_rate == dst_rate:
        return x
    # Imported here: scipy.signal costs ~49 MB of RSS, and a 16 kHz microphone or file never needs it.
    from scipy.signal import resample_poly

    ratio = Fraction(dst_rate, src_rate).limit_denominator(1000)
    return resample_poly(x, ratio.numerator, ratio.denominator)


def _check_complete(path: Path) -> None:
    """libsndfile reads a cut-off WAV/AIFF silently, noting the shortfall only in its log
    (``data : 32000 (should be 19956)``); a truncated recording is refused, not half-played."""
    for line in sf.info(str(path)).extra_info.splitlines():
        line = line.strip()
        if line.startswith(("data", "SSND")) and "(should be" in line and ":" in line:
            declared, _, actual = line.split(":", 1)[1].replace(")", "").partition("(should be")
            raise AudioError(f"{path}: truncated audio file: its header declares {declared.strip()} "
                             f"bytes of samples, the file holds {actual.strip()}")


def _read_mono(f: sf.SoundFile, path: Path) -> np.ndarray:
    """All of ``f`` as float32 mono at its own rate, block by block."""
    if not RATES[0] <= f.samplerate <= RATES[1]:
        raise AudioError(f"{path}: sample rate {f.samplerate} Hz; expected {RATES[0]}..{RATES[1]} Hz")
    block = max(1024, 2**20 // max(f.channels, 1))  # at most ~4 MB of samples per read
    limit, parts, n = MAX_SECONDS * f.samplerate, [], 0
    while len(x := f.read(block, dtype="float32", always_2d=True)):
        parts.append(x.mean(axis=1))
        n += len(x)
        if n > limit:
            raise AudioError(f"{path}: longer than {MAX_SECONDS} s; split it into shorter recordings")
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def load_audio(path: str | Path, rate: int = 16000) -> np.ndarray:
    """The whole file as mono int16 at ``rate``; AudioError names the file on any problem."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such audio file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: the file is empty (0 bytes); expected WAV, FLAC or OGG audio")
    try:
        _check_complete(path)
        with sf.SoundFile(str(path)) as f:
            mono, src_rate = _read_mono(f, path), f.samplerate
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError, OverflowError) as e:
        reason = " ".join(str(e).split())  # libsndfile's messages may span lines
        raise AudioError(f"{path}: cannot read audio ({reason}); expected WAV, FLAC or OGG") from None
    if len(mono) == 0:
        raise AudioError(f"{path}: the file holds no audio samples")
    return to_int16(resample(mono, src_rate, rate))
