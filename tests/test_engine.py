"""EmotionEngine with the real ONNX models: the cascade re-runs on the large model exactly
when the small model's confidence is under the threshold; modes pick the sessions."""
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from emocap.audio.files import load_audio
from conftest import ROOT
from emocap.config import EmotionConfig
from emocap.emotion.engine import EmotionEngine
from emocap.emotion.model import EmotionModel
from emocap.meter import Meter

CLIPS = [f"emotiontts/Emotional/emotional-to-emotional/{c}.flac" for c in
         ("nem/nem00001", "nem/nem00103", "nee/nee00203", "nee/nee00302", "nec/nec00104", "nem/nem00205",
          "nee/nee00004", "nec/nec00303")]


class Counting:
    """The real model, counting how often its session runs."""

    def __init__(self, model: EmotionModel) -> None:
        self.model, self.runs = model, 0
        self.path, self.settings, self.labels, self.centre = model.path, model.settings, model.labels, model.centre

    def windows_of(self, samples):
        return self.model.windows_of(samples)

    def new_stream(self):
        return self.model.new_stream()

    def predict_windows(self, wins, stream=None):
        self.runs += 1
        return self.model.predict_windows(wins, stream)


@pytest.fixture(scope="module")
def real_models():
    return {"small": EmotionModel(ROOT / "models/small.onnx"), "large": EmotionModel(ROOT / "models/large.onnx")}


@pytest.fixture(scope="module")
def clips(shared_data):
    return [load_audio(shared_data / "asr/ko" / c) for c in CLIPS]


def engine(real_models, mode: str, threshold: float = 0.6, **kw) -> EmotionEngine:
    cfg = replace(EmotionConfig(), cascade_confidence=threshold, **kw)
    models = {k: Counting(m) for k, m in real_models.items()}
    return EmotionEngine(cfg, Meter(), mode, models=models)


def test_cascade_runs_large_exactly_when_small_is_unsure(real_models, clips):
    small_conf = [real_models["small"].predict(c).confidence for c in clips]
    # A threshold inside the measured spread, so both branches are taken.
    threshold = float(np.median(small_conf))
    assert min(small_conf) < threshold < max(small_conf)
    eng = engine(real_models, "cascade", threshold)
    for samples, conf in zip(clips, small_conf):
        before = eng.models["large"].runs
        eng.new_stream()  # each utterance a stream alone, as predict() scores it (centring carries over otherwise)
        pred, model = eng.classify(samples)
        reran = eng.models["large"].runs - before
        assert reran == (1 if conf < threshold else 0), f"confidence {conf:.3f} vs threshold {threshold:.3f}"
        assert model == ("large" if conf < threshold else "small")
        assert pred == real_models[model].predict(samples)
    assert eng.models["small"].runs == len(clips)
    counts = eng.meter.snapshot()["counts"]
    assert counts["model_large"] == sum(c < threshold for c in small_conf)
    assert counts["model_small"] + counts["model_large"] == len(clips)


@pytest.mark.parametrize("mode,runs_small,runs_large", [("small", 3, 0), ("large", 0, 3)])
def test_small_and_large_modes_run_one_model(real_models, clips, mode, runs_small, runs_large):
    eng = engine(real_models, mode, threshold=1.0)  # a cascade would re-run every clip
    for samples in clips[:3]:
        assert eng.classify(samples)[1] == mode
    assert (eng.models["small"].runs, eng.models["large"].runs) == (runs_small, runs_large)


def test_set_mode_switches_between_utterances(real_models, clips):
    eng = engine(real_models, "small")
    assert eng.classify(clips[0])[1] == "small"
    eng.set_mode("large")
    assert eng.classify(clips[0])[1] == "large"
    with pytest.raises(ValueError):
        eng.set_mode("medium")


def test_short_utterance_gets_no_emotion(real_models, clips):
    eng = engine(real_models, "cascade", min_utterance_s=0.3)
    assert eng.classify(clips[0][:4000]) == (None, None)  # 0.25 s
    assert eng.classify(np.zeros(0, np.int16)) == (None, None)
    assert eng.models["small"].runs == eng.models["large"].runs == 0
    assert eng.classify(clips[0][:8000])[0] is not None  # 0.5 s


def test_engine_loads_both_models_from_config():
    eng = EmotionEngine(EmotionConfig(small_model=str(ROOT / "models/small.onnx"),
                                      large_model=str(ROOT / "models/large.onnx")), Meter(), "cascade")
    assert set(eng.models) == {"small", "large"}
    assert all(Path(m.path).is_file() for m in eng.models.values())
