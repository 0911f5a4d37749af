"""emocap installed from its wheel, not run from the checkout.

The wheel is built from a copy of the checkout (so no build leftovers of this one travel) and
installed into a fresh virtual environment in a temporary folder. The dependencies come from
the running environment through a ``.pth`` line naming its site-packages: a plain path line,
so that folder's own ``.pth`` files (the editable install of the checkout) are not run and the
checkout's emocap cannot be imported there. Every command runs from a folder outside the
checkout, with no PYTHONPATH: config, models and demo must come from the installed package.
"""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import ROOT

LEFTOVERS = shutil.ignore_patterns(".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", "runs",
                                   ".cache", ".pytest_cache")


def run(cmd: list, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "EMOCAP_CONFIG", "VIRTUAL_ENV")}
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    shutil.copytree(ROOT, src, symlinks=True, ignore=LEFTOVERS)
    r = run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", tmp / "dist",
             src], cwd=tmp)
    assert r.returncode == 0, r.stderr
    (wheel,) = (tmp / "dist").glob("emocap-*.whl")
    env = tmp / "venv"
    assert run([sys.executable, "-m", "venv", "--without-pip", env], cwd=tmp).returncode == 0
    py = env / "bin" / "python"
    purelib = Path(run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp).stdout.strip())
    (purelib / "_emocap_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    r = run([sys.executable, "-m", "pip", "--python", py, "install", "--quiet", "--no-deps", "--no-index", wheel], cwd=tmp)
    assert r.returncode == 0, r.stderr
    return env


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("elsewhere")


def installed_share(venv: Path, cwd: Path) -> Path:
    r = run([venv / "bin" / "python", "-c", "import emocap.paths as p; print(p.SHARE)"], cwd)
    assert r.returncode == 0, r.stderr
    return Path(r.stdout.strip())


def test_the_installed_package_is_the_one_imported(venv, elsewhere):
    share = installed_share(venv, elsewhere)
    assert share.is_relative_to(venv) and not share.resolve().is_relative_to(ROOT)
    assert {p.name for p in (share / "models").iterdir()} == {"small.onnx", "large.onnx", "small.json", "large.json"}
    assert (share / "demo" / "demo_ko.flac").read_bytes() == (ROOT / "demo" / "demo_ko.flac").read_bytes()


def test_check_config_finds_the_packaged_default(venv, elsewhere):
    r = run([venv / "bin" / "emocap", "check-config"], elsewhere)
    system = Path("/etc/emocap/config.toml")
    expected = system if system.is_file() else installed_share(venv, elsewhere) / "config.toml"
    assert r.returncode == 0 and r.stdout.strip() == f"{expected}: ok", r.stderr


def test_replay_of_the_installed_demo_gives_the_checkouts_captions(venv, elsewhere):
    demo = installed_share(venv, elsewhere) / "demo" / "demo_ko.flac"
    r = run([venv / "bin" / "emocap", "replay", "--json", demo], elsewhere, timeout=300)
    assert r.returncode == 0, r.stderr
    env = {**os.environ, "PYTHONPATH": str(ROOT / "daemon")}
    ref = subprocess.run([sys.executable, "-m", "emocap.cli", "replay", "--json", str(ROOT / "demo" / "demo_ko.flac")],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert ref.returncode == 0, ref.stderr

    def captions(out: str) -> list[dict]:
        return [{k: v for k, v in json.loads(line).items() if not k.endswith("_ms")} for line in out.splitlines()]  # times vary

    got = captions(r.stdout)
    assert len(got) == 4 and all(c["text"] and c["emotion"] for c in got)
    assert got == captions(ref.stdout)


def test_the_wheel_holds_the_runtime_only(venv, elsewhere):
    """tools/emocap_train (training, export, benchmarks) stays out: torch never reaches the device."""
    purelib = Path(run([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                       elsewhere).stdout.strip())
    (record,) = purelib.glob("emocap-*.dist-info/RECORD")
    files = [line.split(",")[0] for line in record.read_text().splitlines()]
    assert {f.split("/")[0] for f in files if not f.startswith("..")} == {"emocap", record.parent.name}
    code = [purelib / f for f in files if f.endswith(".py")]
    assert code and not [f for f in code if "torch" in f.read_text() or "emocap_train" in f.read_text()]
    r = run([venv / "bin" / "python", "-c", "import emocap_train"], elsewhere)
    assert r.returncode != 0 and "No module named 'emocap_train'" in r.stderr
