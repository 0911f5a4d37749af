"""The service's memory cuts stay in: a replay of a 16 kHz file never imports scipy.signal
(48 MiB: imported only to resample), and the emotion sessions run without onnxruntime's arena
(README, "What was cut"; tools/memory_cuts.py measures both)."""
import os
import subprocess
import sys

from conftest import ROOT

CHECK = """
import sys
from emocap import cli
rc = cli.main(["replay", "--json", sys.argv[1]])
loaded = sorted(m for m in sys.modules if m.startswith("scipy.signal"))
assert rc == 0 and not loaded, (rc, loaded)
"""


def test_replay_of_a_16khz_file_never_imports_scipy_signal():
    p = subprocess.run([sys.executable, "-c", CHECK, str(ROOT / "demo" / "demo_ko.flac")], capture_output=True,
                       text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT / "daemon")),
                       timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.count('"text"') >= 3  # the demo's captions came out


def test_emotion_sessions_run_without_the_arena():
    from emocap.emotion.model import EmotionModel

    for name in ("small", "large"):
        opts = EmotionModel(ROOT / "models" / f"{name}.onnx").session.get_session_options()
        assert opts.enable_cpu_mem_arena is False, name
