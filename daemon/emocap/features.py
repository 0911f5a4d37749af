"""MFCC features and windowing: the one extractor for training, evaluation and runtime.

Pure functions with explicit parameters. The maths matches python_speech_features'
``mfcc`` (the golden test pins it) but caches the filterbank and DCT matrices, which that
library rebuilds on every call.

Pipeline for one utterance (int16 samples at ``sample_rate``):
  mfcc -> keep the active span (drop leading/trailing silence) -> cepstral mean
  normalisation over active frames (or, with ``stream_norm``, the stream's running
  statistics: emocap/stream_norm.py) -> 128-frame windows -> global z-score -> model.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from python_speech_features.base import get_filterbanks
from scipy.fft import dct

_EPS = np.finfo(float).eps


@dataclass(frozen=True)
class FeatureSettings:
    """Every knob of the extractor; stored in each model's metadata and read back from it."""

    sample_rate: int = 16000
    """Input sample rate, Hz."""
    win_s: float = 0.025
    """Analysis frame length, seconds."""
    step_s: float = 0.010
    """Frame step, seconds."""
    nfft: int = 512
    """FFT size, samples (>= frame length)."""
    nfilt: int = 40
    """Mel filters."""
    numcep: int = 40
    """Cepstral coefficients kept (model input height)."""
    lowfreq: float = 0.0
    """Lowest filter edge, Hz."""
    highfreq: float = 8000.0
    """Highest filter edge, Hz (<= sample_rate / 2)."""
    preemph: float = 0.97
    """Pre-emphasis coefficient (0 disables)."""
    ceplifter: int = 0
    """Cepstral lifter (0 disables)."""
    window: str = "hamming"
    """Analysis window: hamming or rect."""
    frames: int = 128
    """Frames per model window (model input width)."""
    hop: int = 64
    """Frames between window starts within an utterance."""
    active_db: float = 40.0
    """Frames quieter than the loudest frame by more than this (dB) count as silence."""
    cmn: bool = True
    """Subtract the utterance's mean cepstrum (removes microphone/channel colouring)."""
    stream_norm: bool = False
    """Z-score by the running statistics of the stream's speech (emocap/stream_norm.py)
    instead; the utterance's own mean is then kept (``cmn`` is ignored)."""
    stream_var: bool = True
    """With ``stream_norm``: divide by the stream's standard deviation too (False: its mean only)."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "FeatureSettings":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown feature settings: {sorted(unknown)}")
        return cls(**d)

    @property
    def frame_len(self) -> int:
        return int(round(self.win_s * self.sample_rate))

    @property
    def frame_step(self) -> int:
        return int(round(self.step_s * self.sample_rate))


@lru_cache(maxsize=8)
def _matrices(s: FeatureSettings) -> tuple[np.ndarray, np.ndarray]:
    fb = get_filterbanks(s.nfilt, s.nfft, s.sample_rate, s.lowfreq, s.highfreq).T  # (bins, nfilt)
    win = np.hamming(s.frame_len) if s.window == "hamming" else np.ones(s.frame_len)
    return fb, win


def _frames(signal: np.ndarray, s: FeatureSettings) -> np.ndarray:
    """Split into overlapping frames, zero-padding the end as python_speech_features does."""
    n, step = s.frame_len, s.frame_step
    count = 1 if len(signal) <= n else 1 + int(math.ceil((len(signal) - n) / step))
    padded = np.zeros((count - 1) * step + n)
    padded[: len(signal)] = signal
    idx = np.arange(n)[None, :] + step * np.arange(count)[:, None]
    return padded[idx]


def mfcc(signal: np.ndarray, s: FeatureSettings) -> np.ndarray:
    """MFCCs of int16-scaled samples: float32 ``(frames, numcep)``; c0 kept, no energy swap."""
    x = np.asarray(signal, dtype=np.float64)
    if s.preemph:
        x = np.append(x[:1], x[1:] - s.preemph * x[:-1])
    fb, win = _matrices(s)
    spec = np.fft.rfft(_frames(x, s) * win, s.nfft)
    power = (spec.real**2 + spec.imag**2) / s.nfft
    energies = power @ fb
    logmel = np.log(np.where(energies == 0, _EPS, energies))
    cep = dct(logmel, type=2, axis=1, norm="ortho")[:, : s.numcep]
    if s.ceplifter > 0:
        k = np.arange(s.numcep)
        cep *= 1 + (s.ceplifter / 2.0) * np.sin(np.pi * k / s.ceplifter)
    return cep.astype(np.float32)


def active_span(c0: np.ndarray, active_db: float, nfilt: int = 40) -> slice:
    """Frames from the first to the last one within ``active_db`` of the loudest.

    c0 of an orthonormal DCT is sum(log E_i) / sqrt(nfilt), and 1 dB more in every band adds
    ln(10)/10 to each log E_i: so c0 moves by sqrt(nfilt) * ln(10)/10 per dB.
    """
    if len(c0) == 0:
        return slice(0, 0)
    per_db = math.sqrt(nfilt) * math.log(10) / 10
    loud = np.flatnonzero(c0 - c0.max() >= -active_db * per_db)
    return slice(int(loud[0]), int(loud[-1]) + 1)


def utterance_features(samples: np.ndarray, s: FeatureSettings) -> np.ndarray:
    """MFCCs of an utterance, silence trimmed and mean normalised: float32 ``(numcep, T)``."""
    cep = mfcc(samples, s)
    cep = cep[active_span(cep[:, 0], s.active_db, s.nfilt)]
    if s.cmn and not s.stream_norm and len(cep):
        cep = cep - cep.mean(axis=0, keepdims=True)
    return np.ascontiguousarray(cep.T)


def window_starts(n_frames: int, s: FeatureSettings) -> list[int]:
    """Window starts covering ``n_frames``: every ``hop``, the last one flush with the end."""
    if n_frames <= s.frames:
        return [0]
    starts = list(range(0, n_frames - s.frames + 1, s.hop))
    if starts[-1] != n_frames - s.frames:
        starts.append(n_frames - s.frames)
    return starts


def windows(feats: np.ndarray, s: FeatureSettings) -> np.ndarray:
    """Cut ``(numcep, T)`` features into ``(n, numcep, frames)`` windows.

    A short utterance is centred and zero padded: after mean normalisation zero is the
    utterance's own mean, the least surprising filler.
    """
    numcep, t = feats.shape
    if t < s.frames:
        out = np.zeros((1, numcep, s.frames), dtype=np.float32)
        left = (s.frames - t) // 2
        out[0, :, left : left + t] = feats
        return out
    return np.stack([feats[:, i : i + s.frames] for i in window_starts(t, s)]).astype(np.float32)


def normalise(wins: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Global z-score per coefficient, shaped for the model: ``(n, 1, numcep, frames)``."""
    z = (wins - mean[None, :, None]) / std[None, :, None]
    return z[:, None].astype(np.float32)


def aggregate(probs: np.ndarray) -> np.ndarray:
    """One utterance distribution from per-window probabilities ``(n, labels)``: their mean."""
    return probs.mean(axis=0)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
