"""`emocap check-config`: 0 for a valid file; 2 and one line naming file, key and expectation."""
import dataclasses
import re
import subprocess
import sys

import pytest

from emocap import cli, config
from conftest import ROOT

MODELS = f'small_model = "{ROOT}/models/small.onnx"\nlarge_model = "{ROOT}/models/large.onnx"\n'


def check(capsys, path) -> tuple[int, str, str]:
    rc = cli.main(["check-config", str(path)])
    out, err = capsys.readouterr()
    return rc, out, err


def write(tmp_path, text: str):
    path = tmp_path / "emocap.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_repository_config_is_valid(capsys):
    rc, out, err = check(capsys, ROOT / "config.toml")
    assert (rc, err) == (0, "")
    assert out.strip().endswith(": ok")


def test_empty_file_means_all_defaults(capsys, tmp_path):
    # Default model paths are relative to the config's folder: point them at the repo's models.
    rc, _, err = check(capsys, write(tmp_path, f"[emotion]\n{MODELS}"))
    assert (rc, err) == (0, "")


@pytest.mark.parametrize("text,key,expected", [
    ("[audio]\nbogus = 1\n", "[audio] bogus", "unknown key"),
    ("[audio]\nchunk_ms = \"100\"\n", "[audio] chunk_ms", "expected int"),
    ("[asr]\npartials = 1\n", "[asr] partials", "expected bool"),
    (f"[emotion]\n{MODELS}cascade_confidence = 1.5\n", "[emotion] cascade_confidence", "expected 0.0..1.0"),
    ("[audio]\nring_seconds = 0.1\n", "[audio] ring_seconds", "expected 0.5..600.0"),
    ("[display]\ndevice = \"crt\"\n", "[display] device", "expected one of"),
    ("[emotion]\nsmall_model = \"nowhere/small.onnx\"\n", "[emotion] small_model", "not found"),
    ("[nonsense]\nx = 1\n", "unknown section [nonsense]", "expected one of"),
    ("[audio\n", "not valid TOML", ""),
])
def test_bad_values_give_one_line_naming_file_and_key(capsys, tmp_path, text, key, expected):
    path = write(tmp_path, text)
    rc, out, err = check(capsys, path)
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("emocap: ")
    assert str(path) in err and key in err and expected in err


def test_broken_models_are_named_by_key(capsys, tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model" * 10)
    empty_vosk = tmp_path / "vosk"
    empty_vosk.mkdir()
    for text, key in [(f'[emotion]\nsmall_model = "{junk}"\nlarge_model = "{junk}"\n', "[emotion] small_model"),
                      (f'[emotion]\n{MODELS}[asr]\nmodel = "{empty_vosk}"\n', "[asr] model")]:
        rc, _, err = check(capsys, write(tmp_path, text))
        assert rc == 2 and err.count("\n") == 1 and key in err, err
    assert "am/final.mdl" in err  # says what the Vosk folder lacks


def test_missing_config_file(capsys, tmp_path):
    rc, _, err = check(capsys, tmp_path / "absent.toml")
    assert rc == 2 and "absent.toml" in err and "no such config file" in err


def test_every_setting_is_in_config_toml_with_a_comment():
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    for section in dataclasses.fields(config.Config):
        if section.name == "source":
            continue
        assert f"[{section.name}]" in text
        for f in dataclasses.fields(section.type if isinstance(section.type, type) else
                                    getattr(config, section.type)):
            line = re.search(rf"^{f.name} = .*$", text, re.M)
            assert line and "#" in line.group(0) or f.name == "emoji", f"{section.name}.{f.name} undocumented"


def test_check_config_runs_as_a_module_without_traceback(tmp_path):
    bad = write(tmp_path, "[audio]\nchunk_ms = 5000\n")
    p = subprocess.run([sys.executable, "-m", "emocap.cli", "check-config", str(bad)], capture_output=True,
                       text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT / "daemon"), "PATH": "/usr/bin:/bin"})
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and "[audio] chunk_ms" in p.stderr and "Traceback" not in p.stderr
