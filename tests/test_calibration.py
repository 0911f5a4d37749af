"""Calibrated confidence: one function at evaluation and at run time, fitted on validation."""
import numpy as np
import pytest

from emocap_train import calibrate
from emocap_train import evaluate
from emocap_train import serdata
from conftest import ROOT
from emocap.config import EmotionConfig
from emocap.emotion.engine import EmotionEngine
from emocap.emotion.model import EmotionModel, utterance_probs
from emocap.meter import Meter

CLIPS = ["ser/ravdess/Actor_17/03-01-04-01-01-02-17.flac", "ser/crema-d/AudioWAV/1050_IWW_FEA_XX.flac",
         "asr/ko/emotiontts/Emotional/emotional-to-emotional/nel/nel00104.flac"]


@pytest.mark.parametrize("mode", ["small", "large"])
def test_evaluate_and_engine_give_the_same_calibrated_probabilities(shared_data, mode):
    # each clip its own speaker, so each is a stream alone in both (stream centring: tests/test_stream_centre.py)
    clips = [serdata.Clip(shared_data / c, "neutral", f"x{i}", "x") for i, c in enumerate(CLIPS)]
    path = ROOT / f"models/{mode}.onnx"
    from_tool = evaluate.predict_clips(path, clips, workers=1)
    cfg = EmotionConfig(small_model=str(ROOT / "models/small.onnx"), large_model=str(ROOT / "models/large.onnx"))
    engine = EmotionEngine(cfg, Meter(), mode)
    for clip, probs in zip(clips, from_tool):
        engine.new_stream()
        pred, name = engine.classify(serdata.load_audio(clip.path))
        assert name == mode
        np.testing.assert_allclose([pred.probs[l] for l in engine.models[mode].labels], probs, atol=1e-6)
    # ... and both are the calibrated ones, not the plain softmax mean.
    model = EmotionModel(path)
    assert model.temperature != 1.0 and 0 < model.show_confidence < 1
    logits = model.stream_logits(model.windows_of(serdata.load_audio(clips[0].path)))  # centred, if the model is
    np.testing.assert_allclose(from_tool[0], utterance_probs(logits, model.temperature), atol=1e-6)
    assert np.abs(utterance_probs(logits, 1.0) - from_tool[0]).max() > 1e-3


def test_temperature_fit_recovers_a_known_overconfidence():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 1.5, size=(600, 7))  # calibrated logits: labels are drawn from softmax(z)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    y = np.array([rng.choice(7, p=row) for row in p])
    logits = [2.0 * row[None, :] for row in z]  # a model twice as sure as it should be
    t = calibrate.fit_temperature(logits, y)
    assert 1.7 < t < 2.3
    after = np.stack([utterance_probs(l, t) for l in logits])
    before = np.stack([utterance_probs(l, 1.0) for l in logits])
    assert calibrate.ece(after, y) < calibrate.ece(before, y)


def test_show_threshold_is_the_lowest_reaching_the_target():
    conf = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    right = np.array([1, 1, 1, 0, 1, 0], bool)
    probs = np.stack([conf, (1 - conf) / 2, (1 - conf) / 2], 1)  # label 0 always wins
    y = np.where(right, 0, 1)
    curve = calibrate.shown_curve(probs, y, ["a"] * 6)
    t = calibrate.choose_show(curve, 0.75)
    assert t == 0.41  # 0.41..0.5 show 0.9..0.5 (4 of 5 right); 0.40 adds a wrong one (4 of 6)
    got = calibrate.at_threshold(curve, t)["per_corpus"]["a"]
    assert got == {"precision": 0.8, "coverage": round(5 / 6, 4)}


def test_evaluate_reports_coverage_and_shown_precision():
    probs = np.array([[0.9, 0.1], [0.55, 0.45], [0.3, 0.7]])
    assert evaluate.shown_figures(probs, [0, 1, 1], 0.6) == {"coverage": 2 / 3, "shown_precision": 1.0}
    assert evaluate.shown_figures(probs, [0, 1, 1], 0.0) == {"coverage": 1.0, "shown_precision": 2 / 3}
    curve = evaluate.precision_curve(probs, [0, 1, 1])
    assert curve["0.6"] == {"coverage": 2 / 3, "shown_precision": 1.0}
    assert curve["0.9"] == {"coverage": 1 / 3, "shown_precision": 1.0} and curve["0.3"]["coverage"] == 1.0
