"""Under CI=true a missing data folder fails the whole run with one line, before any test runs."""
import os
import subprocess
import sys

from conftest import ROOT


def test_missing_data_under_ci_fails_the_run_with_one_line(tmp_path):
    env = {**os.environ, "CI": "true", "EMOCAP_DATA": str(tmp_path / "moved-away")}
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(ROOT / "tests" / "test_ring.py")],
                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    lines = (r.stdout + r.stderr).strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, r.stdout + r.stderr
    assert f"{tmp_path / 'moved-away'} not found" in lines[0] and "EMOCAP_DATA" in lines[0]
