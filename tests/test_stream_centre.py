"""Stream centring: the running mean logit, its metadata, and that tools/evaluate.py,
tools/calibrate.py and the runtime's engine apply it alike to one sequence of utterances."""
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest

from conftest import ROOT
from emocap.config import EmotionConfig
from emocap.emotion.engine import EmotionEngine
from emocap.emotion.model import META_CENTRE, EmotionModel, utterance_probs
from emocap.errors import ModelError
from emocap.meter import Meter
from emocap.stream_centre import StreamCentre
from emocap_train import calibrate, centre, evaluate, loco, serdata, streams

PRIOR = [0.5, -0.2, 0.1, 0.0, -0.3, 0.2, -0.3]


def test_first_utterance_moves_part_of_the_way():
    logits = np.array([[2.0, 0, 0, 0, 0, 0, 1.0], [1.0, 0, 0, 0, 0, 0, 2.0]])
    out = StreamCentre(PRIOR, weight=3.0, max_utterances=20).apply(logits)
    shift = (logits.mean(axis=0) - np.array(PRIOR)) / (1 + 3.0)  # one utterance against 3 of prior
    np.testing.assert_allclose(out, logits - shift, atol=1e-6)


def test_a_stream_at_the_prior_is_left_alone_and_a_biased_one_is_pulled_back():
    rng = np.random.default_rng(0)
    at_prior, biased = StreamCentre(PRIOR, 2.0, 20), StreamCentre(PRIOR, 2.0, 20)
    for _ in range(30):
        x = np.array(PRIOR) + rng.normal(0, 0.01, (3, 7))
        np.testing.assert_allclose(at_prior.apply(x), x, atol=0.02)
        bias = np.zeros(7)
        bias[6] = 3.0  # a voice read as sad whatever it says
        y = biased.apply(x + bias)
    assert abs(y.mean(axis=0)[6] - PRIOR[6]) < 0.35  # 2 of 22 pseudo-utterances keep the prior: 3 x 2/22


def test_old_utterances_fade_and_reset_forgets():
    stream = StreamCentre(PRIOR, 0.0, max_utterances=5)
    for _ in range(20):
        stream.apply(np.full((2, 7), -4.0))
    assert stream.count == 5
    for _ in range(40):  # a new voice takes over: the old one's share falls by 5/6 an utterance
        last = stream.apply(np.full((2, 7), 4.0))
    np.testing.assert_allclose(last, np.tile(PRIOR, (2, 1)), atol=0.01)
    stream.reset()
    assert stream.count == 0


def test_calm_guard_caps_calm_at_the_labels_the_stream_leans_to():
    rng = np.random.default_rng(1)
    stream = StreamCentre(PRIOR, 0.0, 20, calm=2)
    for _ in range(50):
        shift, centre = rng.normal(0, 2, 7), rng.normal(0, 2, 7)
        got = stream.guarded(shift, centre)
        lean = np.exp(np.delete(centre, 2))
        cap = lean @ np.delete(shift, 2) / lean.sum()
        # calm's shift is capped exactly there: subtracting it never lowers calm below the others'
        # shift weighted by the stream's lean, and never moves calm less than that
        np.testing.assert_allclose(got[2], min(shift[2], cap), atol=1e-12)
        np.testing.assert_array_equal(np.delete(got, 2), np.delete(shift, 2))  # the others as they were
        if shift[2] <= cap:
            np.testing.assert_array_equal(got, shift)  # pulled away from calm: moved exactly as unguarded


def test_labels_a_stream_never_leans_to_do_not_make_it_look_calm():
    """A Korean stream has no fear, disgust or surprise: those logits fall, calm's does not, and an
    unweighted comparison would read that as a calm stream and hold calm up."""
    shift = np.array([0.76, -0.25, 0.76, -0.81, -0.81, 0.59, 0.25])  # measured on a Korean fold
    centre = np.array(PRIOR) + shift
    centre[[1, 3, 4]] -= 4.0  # the stream never leans to surprise, fear or disgust
    got = StreamCentre(PRIOR, 0.0, 20, calm=2).guarded(shift, centre)
    assert got[2] > 0.5  # calm is still moved down with happiness and anger (0.76, 0.59)
    assert got[2] < shift[2]  # but not below the labels the stream leans to


def test_a_calm_stream_keeps_its_calm_tag_and_an_aroused_voice_is_still_pulled_back():
    calm_voice = np.array(PRIOR) + np.array([0, 0, 2.0, 0, 0, 0, 1.5])  # calm (a little sad) all day
    plain, guarded = StreamCentre(PRIOR, 4.0, 20), StreamCentre(PRIOR, 4.0, 20, calm=2)
    for _ in range(30):
        x = np.tile(calm_voice, (2, 1))
        a, b = plain.apply(x), guarded.apply(x)
    assert np.argmax(a.mean(axis=0)) != 2  # unguarded, a long calm stretch loses its calm tag
    assert np.argmax(b.mean(axis=0)) == 2  # guarded, it stays calm
    aroused = np.array(PRIOR) + np.array([0, 0, 0, 0, 0, 3.0, 0])  # a voice read as angry whatever it says
    plain, guarded = StreamCentre(PRIOR, 4.0, 20), StreamCentre(PRIOR, 4.0, 20, calm=2)
    for _ in range(30):
        x = np.tile(aroused, (2, 1))
        np.testing.assert_allclose(guarded.apply(x), plain.apply(x), atol=1e-6)


@pytest.fixture(scope="module", params=[None, "neutral"], ids=["unguarded", "calm-guard"])
def centred_model(tmp_path_factory, request):
    """The shipped small model with centring settings written by tools/centre.py's writer
    (without and with the calm guard)."""
    path = tmp_path_factory.mktemp("centre") / "small_centred.onnx"
    path.write_bytes((ROOT / "models/small.onnx").read_bytes())
    spec = {"prior": PRIOR, "weight": 1.0, "max_utterances": 20}
    if request.param:
        spec["calm_label"] = request.param
    centre.write_meta(path, spec)
    return path


@pytest.fixture(scope="module")
def speaker_clips(shared_data):
    clips = [c for c in serdata.read_manifest(shared_data / "asr/ko/emotion.csv") if c.speaker == "emotiontts:nem"]
    return clips[:5]


def test_evaluate_calibrate_and_runtime_agree_on_a_stream(centred_model, speaker_clips):
    probs = evaluate.predict_clips(centred_model, speaker_clips, workers=1)
    model = EmotionModel(centred_model)
    wins = [model.windows_of(serdata.load_audio(c.path)) for c in speaker_clips]
    logits = streams.play_streams(speaker_clips, model.new_stream,
                                  lambda i, s: model.stream_logits(wins[i], s))  # what calibrate.py fits on
    engine = EmotionEngine(EmotionConfig(), Meter(), "small", models={"small": model, "large": model})
    plain = EmotionModel(ROOT / "models/small.onnx")
    (order,) = streams.by_speaker(speaker_clips)
    for k, i in enumerate(order):  # utterances 3 s apart, as one stream
        pred, _ = engine.classify(serdata.load_audio(speaker_clips[i].path), start_s=3.0 * k, end_s=3.0 * k + 2.0)
        np.testing.assert_allclose([pred.probs[l] for l in model.labels], probs[i], atol=1e-5)
        np.testing.assert_allclose(utterance_probs(logits[i], model.temperature), probs[i], atol=1e-5)
        # the centring matters: the uncentred file scores the same clip otherwise
        assert np.abs(plain.predict_windows(wins[i]).confidence - probs[i].max()) > 1e-3 or \
            plain.predict_windows(wins[i]).label != model.labels[int(np.argmax(probs[i]))]
    engine.new_stream()  # another source: the next utterance is a stream alone again
    first = engine.classify(serdata.load_audio(speaker_clips[order[0]].path), 100.0, 102.0)[0]
    np.testing.assert_allclose([first.probs[l] for l in model.labels], probs[order[0]], atol=1e-5)


def test_the_metadata_turns_the_guard_on(centred_model):
    model = EmotionModel(centred_model)
    calm = model.new_stream().centre.calm
    assert calm == (model.labels.index("neutral") if model.centre.get("calm_label") else None)


def test_loco_refuses_a_calm_guard_without_centring(capsys):
    with pytest.raises(SystemExit):
        loco.parse_args(["--name", "x", "--calm"])
    assert "--calm needs --centre" in capsys.readouterr().err


def test_calibrate_fits_on_centred_logits(centred_model, speaker_clips):
    model = EmotionModel(centred_model)
    wins = [model.windows_of(serdata.load_audio(c.path)) for c in speaker_clips]
    y = np.array([model.labels.index(c.label) for c in speaker_clips])
    r = calibrate.calibrate(model, speaker_clips, wins, y, [c.corpus for c in speaker_clips], 0.75)
    assert r["temperature"] == calibrate.fit_temperature(
        streams.play_streams(speaker_clips, model.new_stream, lambda i, s: model.stream_logits(wins[i], s)), y)


@pytest.mark.parametrize("spec", [{"prior": [0.0] * 3, "weight": 1, "max_utterances": 5},
                                  {"prior": PRIOR, "weight": -1, "max_utterances": 5},
                                  {"prior": PRIOR, "weight": 1, "max_utterances": 0},
                                  {"prior": PRIOR, "weight": 1, "max_utterances": 5, "calm_label": "calm"}, [1, 2]])
def test_bad_centring_metadata_is_named(tmp_path, spec):
    path = tmp_path / "bad.onnx"
    m = onnx.load(str(ROOT / "models/small.onnx"))
    m.metadata_props.add(key=META_CENTRE, value=json.dumps(spec))
    onnx.save(m, str(path))
    with pytest.raises(ModelError, match=f"{path}: metadata '{META_CENTRE}'"):
        EmotionModel(path)


def test_centre_tool_writes_and_removes(centred_model, tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(Path(centred_model).read_bytes())
    assert EmotionModel(path).centre["weight"] == 1.0
    assert centre.main(["--model", str(path), "--off"]) == 0
    assert EmotionModel(path).centre is None


def test_centre_tool_names_a_calm_label_the_model_lacks(centred_model, tmp_path, shared_data, capsys):
    path = tmp_path / "m.onnx"
    path.write_bytes(Path(centred_model).read_bytes())
    before = path.read_bytes()
    assert centre.main(["--model", str(path), "--manifest", str(shared_data / "asr/ko/emotion.csv"),
                        "--calm-label", "calm"]) == 2
    assert f"{path}: --calm-label 'calm'" in capsys.readouterr().err
    assert path.read_bytes() == before  # nothing written


def test_neutral_heavy_streams_keep_every_neutral_clip(shared_data):
    clips = [c for c in serdata.read_manifest(shared_data / "ser/manifest.csv")
             if c.speaker in ("ravdess:01", "crema-d:1006")]
    half = serdata.neutral_heavy(clips, 0.5, seed=0)
    for speaker in ("ravdess:01", "crema-d:1006"):
        mine = [c for c in half if c.speaker == speaker]
        neutral = sum(c.label == "neutral" for c in mine)
        assert neutral == sum(c.label == "neutral" for c in clips if c.speaker == speaker) > 0
        assert len(mine) - neutral == neutral  # the others drawn to make neutral half the stream
    assert serdata.neutral_heavy(clips, 0.5, seed=0) == half != serdata.neutral_heavy(clips, 0.5, seed=1)
    assert all(c.label == "neutral" for c in serdata.neutral_heavy(clips, 1.0))


def test_cascade_choice_feeds_the_large_stream_as_the_engine_does(centred_model, speaker_clips):
    """calibrate.cascade_large: the large model's stream takes in only the re-run utterances."""
    model = EmotionModel(centred_model)
    raw = [model.window_logits(model.windows_of(serdata.load_audio(c.path))) for c in speaker_clips]
    (order,) = streams.by_speaker(speaker_clips)
    rerun = np.zeros(len(raw), bool)
    rerun[[order[1], order[3]]] = True
    got = calibrate.cascade_large(model, raw, speaker_clips, rerun, 0.7)
    stream = model.new_stream()
    for i in (order[1], order[3]):  # the engine's large stream: these two and nothing else
        np.testing.assert_allclose(got[i], utterance_probs(model.centred(raw[i], stream), 0.7), atol=1e-6)
    assert not got[~rerun].any()
    fed_all = streams.play_streams(speaker_clips, model.new_stream, lambda i, s: model.centred(raw[i], s))
    assert np.abs(got[order[3]] - utterance_probs(fed_all[order[3]], 0.7)).max() > 1e-4
