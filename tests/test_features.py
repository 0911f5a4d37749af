"""The one feature extractor: pinned to python_speech_features on a real clip, plus windowing."""
import numpy as np
import pytest
from python_speech_features import mfcc as psf_mfcc

from emocap import features
from emocap.audio.files import load_audio
from emocap.features import FeatureSettings

CLIP = "ser/ravdess/Actor_01/03-01-05-02-01-01-01.flac"  # angry, strong: speech with silence around it


@pytest.fixture(scope="module")
def clip(shared_data):
    return load_audio(shared_data / CLIP)


def test_mfcc_matches_python_speech_features(clip):
    s = FeatureSettings()
    ours = features.mfcc(clip, s)
    ref = psf_mfcc(clip.astype(np.float64), samplerate=s.sample_rate, winlen=s.win_s, winstep=s.step_s,
                   numcep=s.numcep, nfilt=s.nfilt, nfft=s.nfft, lowfreq=s.lowfreq, highfreq=s.highfreq,
                   preemph=s.preemph, ceplifter=s.ceplifter, appendEnergy=False, winfunc=np.hamming)
    assert ours.shape == ref.shape == (1 + int(np.ceil((len(clip) - 400) / 160)), 40)
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-3)


def test_mfcc_with_lifter_matches_too(clip):
    s = FeatureSettings(ceplifter=22, nfilt=26, numcep=13)
    ref = psf_mfcc(clip[:16000].astype(np.float64), samplerate=16000, winlen=0.025, winstep=0.01, numcep=13,
                   nfilt=26, nfft=512, lowfreq=0, highfreq=8000, preemph=0.97, ceplifter=22,
                   appendEnergy=False, winfunc=np.hamming)
    np.testing.assert_allclose(features.mfcc(clip[:16000], s), ref, rtol=1e-4, atol=1e-3)


def test_active_span_drops_silence(clip):
    s = FeatureSettings()
    silence = np.zeros(16000, dtype=np.int16) + np.int16(1)
    padded = np.concatenate([silence, clip, silence])
    cep = features.mfcc(padded, s)
    span = features.active_span(cep[:, 0], s.active_db, s.nfilt)
    assert span.start >= 100 and span.stop <= len(cep) - 100  # one second of near-silence each side


def test_utterance_features_are_mean_normalised(clip):
    f = features.utterance_features(clip, FeatureSettings())
    assert f.shape[0] == 40 and f.dtype == np.float32
    np.testing.assert_allclose(f.mean(axis=1), 0, atol=1e-3)


@pytest.mark.parametrize("frames,expected", [(50, [0]), (128, [0]), (200, [0, 64, 72]), (256, [0, 64, 128])])
def test_window_starts_cover_the_end(frames, expected):
    assert features.window_starts(frames, FeatureSettings()) == expected


def test_short_utterance_is_centred_and_padded():
    feats = np.ones((40, 28), dtype=np.float32)
    w = features.windows(feats, FeatureSettings())
    assert w.shape == (1, 40, 128)
    assert w[0, :, 50:78].min() == 1 and w[0, :, :50].max() == 0 and w[0, :, 78:].max() == 0


def test_normalise_and_aggregate():
    wins = np.full((3, 40, 128), 5.0, dtype=np.float32)
    z = features.normalise(wins, np.full(40, 3.0, np.float32), np.full(40, 2.0, np.float32))
    assert z.shape == (3, 1, 40, 128) and np.allclose(z, 1.0)
    probs = np.array([[0.8, 0.2], [0.4, 0.6]])
    np.testing.assert_allclose(features.aggregate(probs), [0.6, 0.4])


def test_settings_round_trip_and_reject_unknown():
    s = FeatureSettings(hop=32)
    assert FeatureSettings.from_dict(s.to_dict()) == s
    with pytest.raises(ValueError, match="unknown"):
        FeatureSettings.from_dict({**s.to_dict(), "bogus": 1})
