"""Training data path: precomputed feature copies, soft targets and teacher distributions."""
import argparse

import numpy as np
import pytest

pytest.importorskip("torch")
from emocap_train import augment, distil, serdata, streams  # noqa: E402
from emocap import features  # noqa: E402

ROOT = serdata.ROOT


def _args(**kw):
    base = dict(variants=4, speed_prob=1.0, speeds=[0.9, 1.1], noise_prob=0.0, room_prob=0.0, band_prob=0.0,
                tilt_prob=0.0, snr=(0.0, 30.0), seed=0, workers=0, spec_augment=False)
    return argparse.Namespace(**{**base, **kw})


@pytest.fixture(scope="module")
def clips(shared_data):
    rows = serdata.read_manifest(shared_data / "ser" / "manifest.csv")
    return [serdata.load_audio(c.path) for c in rows[:3]]


def test_feature_copies_clean_first_then_augmented(clips):
    s = features.FeatureSettings()
    copies = augment.feature_variants(clips, [], _args(), s)
    assert len(copies) == 3 and all(len(c) == 4 for c in copies)
    for x, c in zip(clips, copies):
        np.testing.assert_array_equal(c[0], features.utterance_features(x, s))
        # Every later copy is speed-perturbed (speed_prob 1): a different number of frames.
        assert all(v.shape[0] == 40 and v.shape[1] != c[0].shape[1] for v in c[1:])
    again = augment.feature_variants(clips, [], _args(), s)
    assert all(np.array_equal(a, b) for ca, cb in zip(copies, again) for a, b in zip(ca, cb))


def test_noise_copies_differ_from_clean(clips, shared_data):
    s = features.FeatureSettings()
    noise = [serdata.load_audio(p) for p in serdata.noise_files([shared_data / "noise"])[:2]]
    copies = augment.feature_variants(clips[:1], noise, _args(speed_prob=0.0, noise_prob=1.0, snr=(0.0, 0.0)), s)
    clean, noisy = copies[0][0], copies[0][1]
    assert noisy.shape[0] == 40 and not np.allclose(clean[:, :50], noisy[:, :50], atol=0.5)


def test_soft_targets():
    t = distil.soft_targets(2, 7, 0.1)
    assert t.shape == (1, 7) and np.isclose(t.sum(), 1) and t.argmax() == 2 and np.isclose(t[0, 2], 0.9 + 0.1 / 7)
    teacher = np.full((3, 7), 0.0, dtype=np.float32)
    teacher[:, 5] = 1.0
    mixed = distil.soft_targets(2, 7, 0.0, teacher, 0.25)
    assert mixed.shape == (3, 7) and np.allclose(mixed.sum(axis=1), 1)
    assert np.allclose(mixed[:, 2], 0.75) and np.allclose(mixed[:, 5], 0.25)


def test_teacher_probs_follow_our_label_order(clips):
    s = features.FeatureSettings()
    copies = augment.feature_variants(clips[:2], [], _args(variants=2), s)
    model = ROOT / "models" / "small.onnx"
    probs = distil.teacher_probs(model, copies, s, serdata.LABELS)
    assert [p.shape for p in probs] == [(2, 7), (2, 7)]
    assert np.allclose([p.sum(axis=1) for p in probs], 1, atol=1e-5)
    # Asking for the labels in reverse order gives the same distributions, columns reversed.
    rev = distil.teacher_probs(model, copies, s, serdata.LABELS[::-1])
    assert all(np.allclose(a[:, ::-1], b) for a, b in zip(probs, rev))
    # The clean copy's distribution is the runtime's for the clip, before calibration (T = 1):
    # a teacher target is the model's own distribution.
    from emocap.emotion.model import EmotionModel, utterance_probs

    m = EmotionModel(model)
    raw = dict(zip(m.labels, utterance_probs(m.window_logits(m.windows_of(clips[0])))))
    assert np.allclose(probs[0][0], [raw[l] for l in serdata.LABELS], atol=1e-5)


def test_room_and_band_change_the_voice_not_its_length_or_level(clips):
    rng = np.random.default_rng(0)
    x = clips[0]
    for y in (augment.reverberate(x, rng, 16000), augment.band_limit(x, rng, 16000)):
        assert y.dtype == np.int16 and len(y) == len(x)
        rms = np.sqrt((y.astype(float) ** 2).mean() / (x.astype(float) ** 2).mean())
        assert 0.7 < rms < 1.3 and np.corrcoef(x, y)[0, 1] < 0.99
    spec = np.abs(np.fft.rfft(augment.band_limit(x, np.random.default_rng(1), 16000).astype(float)))
    freqs = np.fft.rfftfreq(len(x), 1 / 16000)
    assert spec[freqs > 7000].mean() < 0.1 * np.abs(np.fft.rfft(x.astype(float)))[freqs > 7000].mean()


def test_tilt_brightens_or_dulls_in_both_directions_at_the_same_level(clips):
    x = clips[0].astype(float)
    freqs = np.fft.rfftfreq(len(x), 1 / 16000)
    hi, lo = freqs > 3000, (freqs > 100) & (freqs < 500)
    ratios = []
    for seed in range(12):
        y = augment.tilt(clips[0], np.random.default_rng(seed), 16000)
        assert y.dtype == np.int16 and len(y) == len(x)
        assert 0.95 < np.sqrt((y.astype(float) ** 2).mean() / (x**2).mean()) < 1.05
        sx, sy = np.abs(np.fft.rfft(x)) ** 2, np.abs(np.fft.rfft(y.astype(float))) ** 2
        ratios.append((sy[hi].sum() / sy[lo].sum()) / (sx[hi].sum() / sx[lo].sum()))
    assert min(ratios) < 0.7 and max(ratios) > 1.4  # duller and brighter copies both occur


def test_stream_copies_are_normalised_by_their_speaker(clips):
    s = features.FeatureSettings(stream_norm=True)
    copies = augment.feature_variants(clips, [], _args(variants=2), s)
    same = [serdata.Clip(serdata.ROOT, "neutral", "a", "x")] * 3
    normed = streams.train_variants(copies, same, s, max_context=2, seed=0)
    alone = streams.train_variants(copies, same, s, max_context=0, seed=0)
    for c in alone:  # no context: each copy is z-scored by itself
        np.testing.assert_allclose(c[0].mean(axis=1), 0, atol=1e-4)
    assert any(np.abs(n[0] - a[0]).max() > 1e-3 for n, a in zip(normed, alone))


def test_a_stream_student_gets_the_teachers_own_normalisation(clips):
    plain, stream = features.FeatureSettings(), features.FeatureSettings(stream_norm=True)
    model = ROOT / "models" / "small.onnx"
    want = distil.teacher_probs(model, augment.feature_variants(clips[:2], [], _args(variants=2), plain), plain,
                                serdata.LABELS)
    raw = augment.feature_variants(clips[:2], [], _args(variants=2), stream)  # raw: no mean taken out
    assert np.abs(raw[0][0].mean(axis=1)).max() > 1.0
    got = distil.teacher_probs(model, raw, stream, serdata.LABELS)
    # Float rounding of the two mean subtractions (1e-5) moves an INT8 model's output a little.
    assert all(np.allclose(a, b, atol=5e-3) for a, b in zip(want, got))
