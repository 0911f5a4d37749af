"""The systemd unit passes `systemd-analyze verify`, and the install script stages it correctly."""
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from emocap import config, paths

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "systemd" / "emocap.service"
INSTALL = ROOT / "tools" / "install_service.sh"
needs_analyze = pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")


def directives(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def verify(unit_text: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """verify a copy whose ExecStart is an executable that exists here (verify checks it)."""
    exe = tmp_path / "venv" / "bin" / "emocap"
    exe.parent.mkdir(parents=True, exist_ok=True)
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    unit = tmp_path / "emocap.service"
    unit.write_text(unit_text.replace("ExecStart=/opt/emocap/venv/bin/emocap ", f"ExecStart={exe} "))
    return subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)


@needs_analyze
def test_unit_verifies_without_a_warning(tmp_path):
    r = verify(UNIT.read_text(), tmp_path)
    assert r.returncode == 0 and r.stderr == "" and r.stdout == ""


@needs_analyze
@pytest.mark.parametrize("broken", ["Type=notifyy", "WatchdogSec=thirty", "ProtectSystem=very"])
def test_verify_catches_a_bad_line(tmp_path, broken):
    """verify exits 0 on unknown values but warns: the check above must look at its output."""
    key, value = broken.split("=")
    text = "\n".join(broken if l.startswith(key + "=") else l for l in UNIT.read_text().splitlines())
    r = verify(text, tmp_path)
    assert f"ignoring: {value}" in r.stderr


def test_unit_runs_the_service_as_designed():
    d = directives(UNIT.read_text())
    assert d["Type"] == ["notify"] and d["Restart"] == ["on-failure"] and d["WatchdogSec"] == ["30"]
    assert d["ExecStart"] == ["/opt/emocap/venv/bin/emocap run --config /etc/emocap/config.toml"]
    assert d["User"] == ["emocap"] and d["SyslogIdentifier"] == ["emocap"] and d["StateDirectory"] == ["emocap"]
    assert set(d["SupplementaryGroups"][0].split()) == {"audio", "i2c", "gpio", "spi"}
    assert d["ProtectSystem"] == ["strict"] and d["PrivateNetwork"] == ["true"]
    assert "PrivateDevices" not in d  # it would hide the microphone and the OLED bus


def test_install_script_stages_unit_and_a_config_using_the_installed_models(tmp_path):
    stage = tmp_path / "root"
    r = subprocess.run(["bash", str(INSTALL), "--root", str(stage), "--venv", "/srv/emocap-venv"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    d = directives((stage / "etc/systemd/system/emocap.service").read_text())
    assert d["ExecStart"] == ["/srv/emocap-venv/bin/emocap run --config /etc/emocap/config.toml"]
    assert not (stage / "opt").exists()  # models and demo travel in the wheel, nothing is copied beside it
    cfg_file = stage / "etc/emocap/config.toml"
    raw = tomllib.loads(cfg_file.read_text())
    assert "small_model" not in raw["emotion"] and "large_model" not in raw["emotion"]
    assert "demo_file" not in raw["audio"]
    assert raw["perf"]["log_path"] == "/var/lib/emocap/perf.jsonl"  # the unit's StateDirectory
    assert raw["transcript"]["path"] == "/var/lib/emocap/transcript.jsonl"  # there too
    cfg = config.load(cfg_file)  # valid, its models are the package's, otherwise the shipped defaults
    assert cfg.emotion.small_model == str((paths.SHARE / "models" / "small.onnx").resolve())
    assert cfg.audio.demo_file == str(paths.DEMO.resolve())
    assert cfg.mode == config.load(paths.PACKAGED_CONFIG).mode


def test_install_script_keeps_an_existing_config(tmp_path):
    stage = tmp_path / "root"
    (stage / "etc/emocap").mkdir(parents=True)
    (stage / "etc/emocap/config.toml").write_text("[mode]\ndwell_s = 30.0\n")
    r = subprocess.run(["bash", str(INSTALL), "--root", str(stage)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "keeping existing" in r.stdout
    assert (stage / "etc/emocap/config.toml").read_text() == "[mode]\ndwell_s = 30.0\n"


def test_install_script_refuses_unknown_option():
    r = subprocess.run(["bash", str(INSTALL), "--frobnicate"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.strip() == "install_service: unknown option --frobnicate (see --help)"
