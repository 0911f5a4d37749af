"""Damaged models at start, through the real CLI: a truncated or corrupted ONNX file, a
truncated Vosk acoustic model or graph. Each gives one line naming the file and exit 2,
never a traceback, a crash in native code or a service that runs on wrong weights."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emocap import asr
from conftest import ROOT

pytestmark = pytest.mark.faults


def emocap(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "daemon"))
    return subprocess.run([sys.executable, "-m", "emocap.cli", *args], capture_output=True, text=True, env=env,
                          timeout=180)


def one_line(p: subprocess.CompletedProcess, *words: str) -> None:
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr and p.stdout == ""
    assert p.stderr.startswith("emocap: ") and p.stderr.count("\n") == 1, p.stderr
    for w in words:
        assert w in p.stderr, p.stderr


def damaged_onnx(folder: Path, how: str, with_card: bool = True) -> Path:
    """A copy of the shipped small model (and its card), cut in half or with weights zeroed."""
    folder.mkdir(exist_ok=True)
    data = bytearray((ROOT / "models/small.onnx").read_bytes())
    if how == "truncated":
        data = data[: len(data) // 2]
    else:  # 4 KiB of weights zeroed: still valid protobuf, still loads in onnxruntime
        mid = len(data) // 2
        data[mid : mid + 4096] = bytes(4096)
    out = folder / "small.onnx"
    out.write_bytes(bytes(data))
    if with_card:
        (folder / "small.json").write_bytes((ROOT / "models/small.json").read_bytes())
    return out


def damaged_vosk(folder: Path, part: str) -> Path:
    """The packaged Vosk model (linked, not copied: 250 MB) with one file cut short."""
    src = asr.model_dir("")
    for f in src.rglob("*"):
        if f.is_file():
            dst = folder / f.relative_to(src)
            dst.parent.mkdir(parents=True, exist_ok=True)
            if f.relative_to(src).as_posix() == part:
                with open(f, "rb") as r:
                    dst.write_bytes(r.read(f.stat().st_size // 3))
            else:
                dst.symlink_to(f)
    return folder


def run_config(tmp_path: Path, small: Path | None = None, vosk: Path | None = None) -> Path:
    cfg = tmp_path / "emocap.toml"
    cfg.write_text(f'[audio]\nsource = "file"\ndemo_file = "{ROOT}/demo/demo_ko.flac"\n'
                   f'[emotion]\nsmall_model = "{small or ROOT / "models/small.onnx"}"\n'
                   f'large_model = "{ROOT}/models/large.onnx"\n'
                   f'[asr]\nmodel = "{vosk or ""}"\n[perf]\nlog_path = "{tmp_path}/perf.jsonl"\n')
    return cfg


@pytest.mark.parametrize("how,card,words", [
    ("truncated", True, ["damaged or replaced", "small.json"]),
    ("truncated", False, ["not a loadable ONNX model"]),
    ("zeroed", True, ["damaged or replaced", "sha256"]),
])
def test_damaged_onnx_model_at_start(tmp_path, how, card, words):
    small = damaged_onnx(tmp_path / "models", how, card)
    one_line(emocap("run", "--config", str(run_config(tmp_path, small=small))), str(small), *words)


def test_damaged_onnx_model_in_replay_and_check_config(tmp_path):
    small = damaged_onnx(tmp_path / "models", "zeroed")
    cfg = run_config(tmp_path, small=small)
    one_line(emocap("replay", "--config", str(cfg), str(ROOT / "demo/demo_ko.flac")), str(small), "damaged")
    one_line(emocap("check-config", str(cfg)), "[emotion] small_model", str(small), "damaged")


@pytest.mark.parametrize("part,words", [
    ("am/final.mdl", ["Vosk could not load the model"]),
    ("graph/HCLr.fst", ["Vosk could not load the model's graph"]),
])
def test_truncated_vosk_model_at_start(tmp_path, part, words):
    if not (asr.model_dir("") / part).is_file():
        pytest.skip(f"the packaged Vosk model has no {part}")
    vosk = damaged_vosk(tmp_path / "vosk", part)
    one_line(emocap("run", "--config", str(run_config(tmp_path, vosk=vosk))), str(vosk), *words)
