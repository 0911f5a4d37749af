"""`emocap replay --json` end to end: the real CLI in a subprocess, the real Vosk and ONNX
models, real Korean recordings and acted emotional clips.

Text: six Korean clips that Vosk's small Korean model reads well (fed to Vosk whole: at
most 6.3 % CER each, 2.6 % together, as measured); their captions must stay
within 10 % CER together (spaces and punctuation removed) and 25 % for any one file.
Dropped or reordered audio, a wrong span or a lost flush breaks these at once.

Emotion: the models are being retrained, so labels are asserted only on three strongly
acted, high-confidence clips (both current models give them > 0.78), and otherwise only
that every label is one of the model's.
"""
import json
import os
import subprocess
import sys

import pytest

from emocap_train import cer
from emocap.audio.files import load_audio
from conftest import ROOT
from emocap.emotion.model import EmotionModel

SHOW = __import__("emocap.config").config.load().emotion.show_confidence

KO = "asr/ko/emotiontts/"
TEXT_CLIPS = [KO + "Main/main/kih/kih00001.flac", KO + "Main/main/kih/kih00003.flac",
              KO + "Emotional/emotional-to-emotional/nee/nee00003.flac",
              KO + "Emotional/emotional-to-emotional/nem/nem00001.flac",
              KO + "Emotional/emotional-to-emotional/nem/nem00004.flac",
              KO + "Emotional/emotional-to-emotional/nee/nee00205.flac"]
PAUSED_CLIP = KO + "Personality/pfb/pfb00001.flac"  # a pause in it makes two final results
EMOTION_CLIPS = {
    KO + "Emotional/emotional-to-emotional/nem/nem00103.flac": "happiness",
    "ser/ravdess/Actor_03/03-01-05-02-01-01-03.flac": "anger",  # strong intensity, test-split actor
    "ser/ravdess/Actor_08/03-01-08-02-02-01-08.flac": "surprise",
}
FILES = TEXT_CLIPS + [PAUSED_CLIP] + list(EMOTION_CLIPS)
FIELDS = {"t_start": float, "t_end": float, "text": str, "emotion": str, "confidence": float, "model": str,
          "latency_ms": float, "shown": bool}


@pytest.fixture(scope="module")
def replay(shared_data):
    paths = [shared_data / f for f in FILES]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "daemon"))
    p = subprocess.run([sys.executable, "-m", "emocap.cli", "replay", "--json", *map(str, paths)],
                       capture_output=True, text=True, env=env, timeout=300)
    durations = [len(load_audio(path)) / 16000 for path in paths]
    lines = p.stdout.splitlines()
    by_file = cer.captions_by_file([json.loads(l) for l in lines], durations)
    return p, lines, dict(zip(FILES, by_file))


@pytest.fixture(scope="module")
def references(shared_data):
    import csv

    with open(shared_data / "asr/ko/manifest.csv", encoding="utf-8") as f:
        return {"asr/ko/" + r["path"]: r["text"] for r in csv.DictReader(f)}


def test_exits_cleanly_with_one_caption_line_per_utterance(replay):
    p, lines, by_file = replay
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    assert all(by_file[f] for f in FILES), "a file produced no caption"
    assert len(by_file[PAUSED_CLIP]) == 2


def test_every_line_is_the_json_contract(replay):
    _, lines, _ = replay
    labels = set(EmotionModel(ROOT / "models/small.onnx").labels) | set(EmotionModel(ROOT / "models/large.onnx").labels)
    previous_end = 0.0
    for line in lines:
        obj = json.loads(line)
        assert list(obj)[: len(FIELDS)] == list(FIELDS)  # these first, in the documented order
        assert isinstance(obj["end_to_caption_ms"], float)  # then the wearer's waits (DESIGN: more may follow)
        assert obj["onset_to_partial_ms"] is None or isinstance(obj["onset_to_partial_ms"], float)
        tagged = obj["emotion"] is not None
        for key, typ in FIELDS.items():
            if tagged or key not in ("emotion", "model"):
                assert isinstance(obj[key], typ), (key, obj)
        assert previous_end <= obj["t_start"] < obj["t_end"]
        previous_end = obj["t_end"]
        assert obj["text"].strip()
        assert 0.0 <= obj["confidence"] <= 1.0 and obj["latency_ms"] >= 0.0
        if tagged:
            assert obj["emotion"] in labels and obj["model"] in ("small", "large")
        # shown: the calibrated confidence reaches [emotion] show_confidence (config.toml's)
        if abs(obj["confidence"] - SHOW) > 1e-4:  # the JSON confidence is rounded to 4 places
            assert obj["shown"] is (tagged and obj["confidence"] >= SHOW), obj
    assert any(json.loads(l)["shown"] for l in lines)


def test_caption_text_matches_references_within_cer(replay, references):
    _, _, by_file = replay
    total_err = total_ref = 0
    for f in TEXT_CLIPS:
        hyp = " ".join(c["text"] for c in by_file[f])
        err, n = cer.errors(references[f], hyp)
        assert err / n <= 0.25, (f, references[f], hyp)
        total_err, total_ref = total_err + err, total_ref + n
    assert total_err / total_ref <= 0.10


def test_clearly_acted_clips_get_their_emotion(replay):
    _, _, by_file = replay
    for f, label in EMOTION_CLIPS.items():
        # the whole clip is one utterance: its longest caption carries the clip's emotion
        caption = max(by_file[f], key=lambda c: c["t_end"] - c["t_start"])
        assert caption["emotion"] == label and caption["shown"], (f, caption)

