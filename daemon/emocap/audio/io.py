"""Reading audio files as 16 kHz mono int16, whatever their rate and channel count."""
from __future__ import annotations

from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from emocap.errors import AudioError


def to_int16(x: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] to int16, clipping what overflows."""
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)


def resample(x: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Polyphase resampling of float samples (no-op when the rates match)."""
    if src_rate == dst_rate:
        return x
    g = gcd(src_rate, dst_rate)
    return resample_poly(x, dst_rate // g, src_rate // g)


def _check_complete(path: Path) -> None:
    """libsndfile reads a cut-off WAV/AIFF silently, noting the shortfall only in its log
    (``data : 32000 (should be 19956)``); a truncated recording is refused, not half-played."""
    for line in sf.info(str(path)).extra_info.splitlines():
        line = line.strip()
        if line.startswith(("data", "SSND")) and "(should be" in line:
            declared, actual = line.split(":", 1)[1].replace(")", "").split("(should be")
            raise AudioError(f"{path}: truncated audio file: its header declares {declared.strip()} "
                             f"bytes of samples, the file holds {actual.strip()}")


def load_audio(path: str | Path, rate: int = 16000) -> np.ndarray:
    """The whole file as mono int16 at ``rate``; AudioError names the file on any problem."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such audio file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: the file is empty (0 bytes); expected WAV, FLAC or OGG audio")
    try:
        _check_complete(path)
        data, src_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as e:
        raise AudioError(f"{path}: cannot read audio ({e}); expected WAV, FLAC or OGG") from None
    if data.shape[0] == 0:
        raise AudioError(f"{path}: the file holds no audio samples")
    mono = data.mean(axis=1)
    return to_int16(resample(mono, src_rate, rate))
