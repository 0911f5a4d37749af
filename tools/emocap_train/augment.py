"""Training-time augmentation: feature copies of each clip (speed, room, band, tilt, noise) computed once, and
random SpecAugment-masked windows drawn from them every epoch."""
from __future__ import annotations

from multiprocessing import Pool

import numpy as np
import torch
from scipy.signal import butter, fftconvolve, sosfilt
from torch.utils.data import Dataset

from emocap_train import serdata
from emocap import features
from emocap.audio.files import resample, to_int16

# Read by the pool workers that build the feature copies (set before the pool forks).
_AUG: dict = {}


def _clip_variants(job) -> list[np.ndarray]:
    """Features of one clip: the clean copy, then copies with random speed, room, band, tilt and noise."""
    i, seed = job
    x, noise, args, s = _AUG["audio"][i], _AUG["noise"], _AUG["args"], _AUG["settings"]
    rng = np.random.default_rng(seed)
    out = [features.utterance_features(x, s)]
    for _ in range(args.variants - 1):
        y = x
        if rng.random() < args.speed_prob:
            y = speed_perturb(y, float(rng.choice(args.speeds)), s.sample_rate)
        if rng.random() < args.room_prob:
            y = reverberate(y, rng, s.sample_rate)
        if rng.random() < args.band_prob:
            y = band_limit(y, rng, s.sample_rate)
        if rng.random() < args.tilt_prob:
            y = tilt(y, rng, s.sample_rate)
        if noise and rng.random() < args.noise_prob:
            y = serdata.mix_at_snr(y, noise[rng.integers(len(noise))], rng.uniform(*args.snr), rng)
        out.append(features.utterance_features(y, s))
    return out


def feature_variants(audio, noise, args, settings) -> list[list[np.ndarray]]:
    """``args.variants`` feature copies of every clip, computed once (the costly part of augmentation)."""
    _AUG.update(audio=audio, noise=noise, args=args, settings=settings)
    jobs = [(i, args.seed * 1_000_003 + i) for i in range(len(audio))]
    if args.workers <= 1:
        return [_clip_variants(j) for j in jobs]
    with Pool(args.workers) as pool:
        return pool.map(_clip_variants, jobs, chunksize=8)


def speed_perturb(x, factor, rate):
    """Play ``factor`` times faster: read the samples as if taken at rate*factor, resample back."""
    return to_int16(resample(x.astype(np.float32) / 32768.0, int(round(rate * factor)), rate))


def reverberate(x, rng, rate):
    """``x`` in a synthetic room: convolved with exponentially decaying noise (RT60 drawn from
    0.2-0.9 s) after a direct path, mixed 0-10 dB direct-to-reverberant, level kept."""
    rt60 = rng.uniform(0.2, 0.9)
    t = np.arange(int(rt60 * rate)) / rate
    tail = rng.normal(size=t.size) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    rir = tail / np.sqrt((tail**2).sum()) * 10 ** (-rng.uniform(0, 10) / 20)
    rir[0] += 1.0
    return _at_level_of(x, fftconvolve(x.astype(np.float64), rir)[: len(x)])


def _at_level_of(x, y):
    """``y`` (float) scaled to ``x``'s RMS, as int16: a copy changes the voice, not its loudness."""
    y = y * np.sqrt((x.astype(np.float64) ** 2).mean() / max((y**2).mean(), 1e-9))
    return np.clip(y, -32768, 32767).astype(np.int16)


def band_limit(x, rng, rate):
    """``x`` through a band-pass of a random low edge (80-400 Hz) and high edge (2.8-6 kHz)."""
    lo, hi = rng.uniform(80, 400), rng.uniform(2800, 6000)
    sos = butter(4, [lo, hi], btype="bandpass", fs=rate, output="sos")
    return np.clip(sosfilt(sos, x.astype(np.float64)), -32768, 32767).astype(np.int16)


TILT_DB_PER_OCTAVE = 4.0
"""Largest spectral slope drawn by ``tilt``, either sign: about what separates a dull lapel
microphone in a soft room from a bright studio condenser."""


def tilt(x, rng, rate, max_db=12.0):
    """``x`` brighter or duller: a gain sloping ``TILT_DB_PER_OCTAVE`` at most per octave around
    1 kHz, either way, clamped to +-``max_db``, level kept. Room and band copies only ever dull the
    voice, so without the other direction brightness itself would look like arousal."""
    slope = rng.uniform(-TILT_DB_PER_OCTAVE, TILT_DB_PER_OCTAVE)
    spec = np.fft.rfft(x.astype(np.float64))
    f = np.fft.rfftfreq(len(x), 1.0 / rate)
    gain_db = np.clip(slope * np.log2(np.maximum(f, 50.0) / 1000.0), -max_db, max_db)
    return _at_level_of(x, np.fft.irfft(spec * 10 ** (gain_db / 20), n=len(x)))


def spec_augment(win, rng, time_masks=2, max_t=16, coef_masks=1, max_c=6):
    """SpecAugment-style masking on a normalised window (masked cells set to the mean, 0)."""
    win = win.copy()
    _, n_c, n_t = win.shape
    for _ in range(time_masks):
        w = rng.integers(0, max_t + 1)
        t0 = rng.integers(0, n_t - w + 1)
        win[:, :, t0 : t0 + w] = 0.0
    for _ in range(coef_masks):
        w = rng.integers(0, max_c + 1)
        c0 = rng.integers(1, n_c - w + 1)  # keep c0, the level contour
        win[:, c0 : c0 + w, :] = 0.0
    return win


class TrainWindows(Dataset):
    """A random 128-frame window of a random copy of each clip, z-scored and masked, with its target."""

    def __init__(self, variants, targets, args, settings, mean, std):
        self.variants, self.targets = variants, targets
        self.args, self.s, self.mean, self.std = args, settings, mean, std

    def __len__(self):
        return len(self.variants)

    def __getitem__(self, i):
        rng = np.random.default_rng()
        v = int(rng.integers(len(self.variants[i])))
        f = self.variants[i][v]
        if f.shape[1] > self.s.frames:
            start = rng.integers(0, f.shape[1] - self.s.frames + 1)
            f = f[:, start : start + self.s.frames]
        win = features.normalise(features.windows(f, self.s), self.mean, self.std)[0]
        if self.args.spec_augment:
            win = spec_augment(win, rng)
        return torch.from_numpy(win), torch.tensor(self.targets[i][v])
