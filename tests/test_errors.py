"""Bad input through the real CLI (a subprocess): one line on stderr naming the problem,
a non-zero exit, never a traceback."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT

CLIP = "asr/ko/emotiontts/Emotional/emotional-to-emotional/nem/nem00001.flac"


def emocap(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "daemon"))
    return subprocess.run([sys.executable, "-m", "emocap.cli", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


def assert_one_line(p: subprocess.CompletedProcess, *words: str, rc: int = 2) -> None:
    assert p.returncode == rc, p.stderr
    assert p.stdout == ""
    assert "Traceback" not in p.stderr
    assert p.stderr.startswith("emocap: ") and p.stderr.count("\n") == 1, p.stderr
    for w in words:
        assert w in p.stderr, p.stderr


@pytest.fixture(scope="module")
def wav_bytes(shared_data, tmp_path_factory):
    import soundfile as sf

    from emocap.audio.files import load_audio

    path = tmp_path_factory.mktemp("wav") / "clip.wav"
    sf.write(path, load_audio(shared_data / CLIP)[:16000], 16000, subtype="PCM_16")
    return path.read_bytes()


def test_missing_audio_file(tmp_path):
    assert_one_line(emocap("replay", str(tmp_path / "nothing.flac")), "nothing.flac", "no such audio file")


def test_empty_audio_file(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    assert_one_line(emocap("replay", str(empty)), "empty.wav", "empty")


def test_unreadable_audio_file(tmp_path):
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not audio\n" * 100)
    assert_one_line(emocap("replay", str(junk)), "junk.wav", "cannot read audio")


def test_truncated_wav(tmp_path, wav_bytes):
    cut = tmp_path / "cut.wav"
    cut.write_bytes(wav_bytes[: len(wav_bytes) // 2])
    assert_one_line(emocap("replay", str(cut)), "cut.wav", "truncated")


def test_truncated_flac(tmp_path, shared_data):
    data = (shared_data / CLIP).read_bytes()
    cut = tmp_path / "cut.flac"
    cut.write_bytes(data[: len(data) // 2])
    assert_one_line(emocap("replay", str(cut)), "cut.flac", "cannot read audio")


def test_one_bad_file_among_good_ones_stops_before_anything_runs(tmp_path, shared_data):
    p = emocap("replay", "--json", str(shared_data / CLIP), str(tmp_path / "gone.wav"))
    assert_one_line(p, "gone.wav")


def test_wrong_config_value(tmp_path, shared_data):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[emotion]\ncascade_confidence = \"high\"\n")
    assert_one_line(emocap("replay", "--config", str(cfg), str(shared_data / CLIP)), "bad.toml",
                    "[emotion] cascade_confidence", "expected float")


def test_missing_emotion_model(tmp_path, shared_data):
    cfg = tmp_path / "nomodel.toml"
    cfg.write_text(f'[emotion]\nsmall_model = "{tmp_path}/small.onnx"\n')
    assert_one_line(emocap("replay", "--config", str(cfg), str(shared_data / CLIP)), "[emotion] small_model",
                    "not found")


def test_broken_vosk_model(tmp_path, shared_data):
    # Every file the check looks for is there, but holds garbage: Vosk itself refuses it.
    vosk = tmp_path / "vosk"
    for f in ("am/final.mdl", "conf/model.conf", "conf/mfcc.conf", "graph/HCLG.fst"):
        (vosk / f).parent.mkdir(parents=True, exist_ok=True)
        (vosk / f).write_text("garbage\n")
    cfg = tmp_path / "badvosk.toml"
    cfg.write_text(f'[emotion]\nsmall_model = "{ROOT}/models/small.onnx"\nlarge_model = "{ROOT}/models/large.onnx"\n'
                   f'[asr]\nmodel = "{vosk}"\n')
    assert_one_line(emocap("replay", "--config", str(cfg), str(shared_data / CLIP)), str(vosk), "Vosk")


def test_no_microphone_for_run(tmp_path):
    import pyaudio  # noqa: F401  (the test needs the real PortAudio to look for devices)

    from emocap.audio.mic import _pyaudio, find_input
    from emocap.errors import AudioError

    _, pa = _pyaudio()
    try:
        find_input(pa, "")
        pytest.skip("this machine has a microphone")
    except AudioError:
        pass
    finally:
        pa.terminate()
    cfg = tmp_path / "mic.toml"
    cfg.write_text(f'[audio]\nsource = "mic"\n[emotion]\nsmall_model = "{ROOT}/models/small.onnx"\n'
                   f'large_model = "{ROOT}/models/large.onnx"\n')
    assert_one_line(emocap("run", "--config", str(cfg)), "no audio input device")
