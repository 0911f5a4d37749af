"""Stream normalisation: the running statistics, and that tools/evaluate.py and the runtime's
engine (what `emocap replay` calls per caption) give one result for one sequence of utterances."""
import json
from dataclasses import replace

import numpy as np
import onnx
import pytest

from conftest import ROOT
from emocap.config import EmotionConfig
from emocap.emotion.engine import EmotionEngine
from emocap.emotion.model import META_FEATURES, EmotionModel
from emocap.meter import Meter
from emocap.stream_norm import StreamNorm, speaker_order
from emocap_train import evaluate, serdata, streams


def test_first_utterance_is_its_own_z_score():
    x = np.random.default_rng(0).normal(3.0, 2.0, (40, 300))
    z = StreamNorm(40, 6000).apply(x)
    np.testing.assert_allclose(z.mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=1), 1, atol=1e-4)


def test_later_utterances_keep_their_offset_from_the_stream():
    rng = np.random.default_rng(1)
    stream = StreamNorm(40, 6000)
    for _ in range(5):
        stream.apply(rng.normal(0.0, 1.0, (40, 200)))
    louder = stream.apply(rng.normal(2.0, 1.0, (40, 200)))  # e.g. c0 of a shouted sentence
    assert louder.mean() > 1.0  # utterance mean normalisation would have made it 0


def test_old_speech_fades_and_reset_forgets():
    rng = np.random.default_rng(2)
    stream = StreamNorm(40, max_frames=1000)
    for _ in range(20):
        stream.apply(rng.normal(-5.0, 1.0, (40, 200)))
    assert stream.frames == 1000  # bounded
    first = stream.apply(rng.normal(5.0, 1.0, (40, 200)))  # a new voice: far off the old one's
    for _ in range(20):  # old speech fades with a time constant of max_frames: 4x that here
        last = stream.apply(rng.normal(5.0, 1.0, (40, 200)))
    assert first.mean() > 1.0 and abs(last.mean()) < 0.25
    stream.reset()
    assert stream.frames == 0


def test_speaker_order_is_a_fixed_permutation():
    keys = [f"clip{i:02d}" for i in range(20)]
    order = speaker_order(keys, "ravdess:01")
    assert sorted(order) == list(range(20)) and order != list(range(20))
    assert speaker_order(list(reversed(keys)), "ravdess:01") == [19 - i for i in order]  # order of the paths, not the list
    assert speaker_order(keys, "ravdess:02") != order


@pytest.fixture(scope="module")
def stream_model(tmp_path_factory):
    """The shipped small model declared stream-normalised: not what it was trained on, but
    the same code path as a model trained so."""
    m = onnx.load(str(ROOT / "models/small.onnx"))
    for p in m.metadata_props:
        if p.key == META_FEATURES:
            p.value = json.dumps({**json.loads(p.value), "stream_norm": True, "cmn": False})
    path = tmp_path_factory.mktemp("sn") / "small_sn.onnx"
    onnx.save(m, str(path))
    return path


@pytest.fixture(scope="module")
def speaker_clips(shared_data):
    clips = [c for c in serdata.read_manifest(shared_data / "asr/ko/emotion.csv") if c.speaker == "emotiontts:nem"]
    return clips[:5]


def _engine(path, **cfg):
    m = EmotionModel(path)
    return EmotionEngine(replace(EmotionConfig(), **cfg), Meter(), "small", models={"small": m, "large": m})


def test_evaluate_and_runtime_agree_on_a_stream(stream_model, speaker_clips):
    probs = evaluate.predict_clips(stream_model, speaker_clips, workers=1)
    (order,) = streams.by_speaker(speaker_clips)
    engine, alone = _engine(stream_model), EmotionModel(stream_model)
    for k, i in enumerate(order):  # utterances 3 s apart, as one stream
        x = serdata.load_audio(speaker_clips[i].path)
        pred, _ = engine.classify(x, start_s=3.0 * k, end_s=3.0 * k + 2.0)
        np.testing.assert_allclose([pred.probs[l] for l in engine.models["small"].labels], probs[i], atol=1e-5)
        if k:  # the stream matters: alone, the same clip scores otherwise
            assert np.abs(np.array(list(alone.predict(x).probs.values())) - probs[i]).max() > 1e-3


def test_a_long_silence_starts_a_new_stream(stream_model, speaker_clips):
    engine, alone = _engine(stream_model, adapt_reset_s=10.0), EmotionModel(stream_model)
    a, b = (serdata.load_audio(c.path) for c in speaker_clips[:2])
    engine.classify(a, start_s=0.0, end_s=2.0)
    after_gap, _ = engine.classify(b, start_s=13.0, end_s=15.0)
    assert after_gap.probs == pytest.approx(alone.predict(b).probs, abs=1e-6)
    engine.classify(a, start_s=16.0, end_s=18.0)
    engine.new_stream()  # a stream's end (another source) resets it too
    again, _ = engine.classify(b, start_s=19.0, end_s=21.0)
    assert again.probs == pytest.approx(alone.predict(b).probs, abs=1e-6)


def test_one_window_everywhere(stream_model):
    """Training, evaluation (EmotionModel.new_stream) and the engine hold the same seconds of speech by default."""
    from emocap import stream_norm
    model = EmotionModel(stream_model)
    assert EmotionConfig().adapt_window_s == stream_norm.WINDOW_S
    assert model.new_stream().norm.max_frames == StreamNorm.of(model.settings).max_frames == 6000
    engine = _engine(stream_model, adapt_window_s=30.0)
    assert [s.max_frames for s in engine._streams.values()] == [3000]  # the config's window, not the default


def test_mean_only_keeps_the_spread():
    """``stream_var`` False (train.py --stream-mean-only): the stream's mean comes out, its scale stays."""
    from emocap.features import FeatureSettings
    x = np.random.default_rng(3).normal(3.0, 2.0, (40, 300))
    stream = StreamNorm.of(FeatureSettings(stream_norm=True, stream_var=False))
    z = stream.apply(x)
    np.testing.assert_allclose(z.mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=1), x.std(axis=1), rtol=1e-5)
    assert not stream.variance and StreamNorm.of(FeatureSettings(stream_norm=True)).variance
