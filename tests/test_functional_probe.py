"""tools/functional_probe.py: its speaker centring follows the stream rule, and its features and
fit behave on data whose answer is known."""
from pathlib import Path

import numpy as np

from emocap_train import functional_probe, serdata, streams


def _clips(n_per_speaker=6):
    return [serdata.Clip(Path(f"/x/{s}_{i:02d}.flac"), "neutral", s, "c") for s in ("a", "b")
            for i in range(n_per_speaker)]


def test_each_row_loses_its_speaker_streams_shrunk_running_mean():
    clips = _clips()
    rng = np.random.default_rng(0)
    f = rng.normal(0, 1, (len(clips), 3)) + np.array([[5.0, 0, 0]] * 6 + [[-5.0, 0, 0]] * 6)  # two voices
    prior = np.zeros(3)
    out = functional_probe.centred(f, clips, prior, weight=2.0)
    for group in streams.by_speaker(clips):
        seen = []
        for i in group:
            seen.append(f[i])
            np.testing.assert_allclose(out[i], f[i] - np.sum(seen, axis=0) / (len(seen) + 2.0))
    assert abs(out[:, 0].mean()) < abs(f[:, 0]).mean() / 2  # the voices' offsets mostly gone


def test_functionals_of_a_tone_and_a_fit_that_separates():
    t = np.arange(16000) / 16000
    x = (8000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)
    f = functional_probe.functionals(x)
    assert f.shape == (120,) and np.isfinite(f).all()
    rng = np.random.default_rng(1)
    xs = np.concatenate([rng.normal(-2, 1, (50, 4)), rng.normal(2, 1, (50, 4))])
    ys = np.array([0] * 50 + [3] * 50)  # labels 1, 2 absent: balanced weights skip them
    p = functional_probe.probs(functional_probe.fit(xs, ys, 1.0, 7), xs)
    assert (p.argmax(axis=1) == ys).mean() > 0.95 and p[:, [1, 2]].max() < 0.05
