"""Shared test setup: import the package from daemon/ and find the data beside the repo."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "daemon"))
sys.path.insert(0, str(ROOT / "tools"))
# $EMOCAP_DATA, else ../shared/data beside the repository; from a worktree nested deeper, the
# nearest ancestor's.
SHARED = Path(os.environ["EMOCAP_DATA"]) if os.environ.get("EMOCAP_DATA") else next(
    (p / "shared" / "data" for p in ROOT.parents if (p / "shared" / "data").is_dir()), ROOT.parent / "shared" / "data")


MISSING = f"test data folder {SHARED} not found; set EMOCAP_DATA to the data folder (../shared/data)"


def pytest_configure(config) -> None:
    """Under CI a run without the data would go green having tested little: fail it at once."""
    if os.environ.get("CI") == "true" and not SHARED.is_dir():
        pytest.exit(f"emocap tests: {MISSING}", returncode=2)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED.is_dir():
        pytest.skip(MISSING)
    return SHARED


def poll_until(pred, timeout: float, every: float = 0.1) -> bool:
    """True as soon as ``pred()`` holds, False if it has not within ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(every)
    return False


WAIT_S = 60.0  # generous bound for what should take a second or two (the machine is shared)


def wait_for(condition, what: str, timeout: float = WAIT_S) -> None:
    """Fail the test, naming ``what``, unless ``condition()`` holds within ``timeout`` seconds."""
    assert poll_until(condition, timeout, every=0.005), f"timed out waiting for {what}"


def idle_share_now(seconds: float = 1.0) -> float:
    """The CPU idle share over the next ``seconds``: the load tests skip on a machine already busy."""
    import psutil

    from emocap.monitor import idle_share

    before = psutil.cpu_times()
    time.sleep(seconds)
    return idle_share(before, psutil.cpu_times())


def run_tool(*args, timeout=600) -> subprocess.CompletedProcess:
    """A script of the repository (``tools/x.py``, args) run by this Python from the repo root."""
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
