"""The soak's expected count decodes a file as the service feeds it. pfb00002 pauses inside
its speech: the early caption there sends the pending audio to Vosk as a short block, which
moves Vosk's endpointer, so the service captions it as two utterances; fed in full blocks only
(as the count once was) it is one, and an 8 h soak reported it as a mismatch."""
import json
import os
import subprocess
import sys

from conftest import ROOT, run_tool

SPLIT = "asr/ko/emotiontts/Personality/pfb/pfb00002.flac"


def expected_count(path, tmp_path, *options) -> int:
    cache = tmp_path / f"cache{len(options)}.json"
    p = run_tool("tools/soak_expected.py", "--cache", cache, *options, path)
    assert p.returncode == 0, p.stderr[-2000:]
    return sum(json.loads(cache.read_text())["counts"].values())


def test_expected_count_is_what_the_service_captions(shared_data, tmp_path):
    path = str(shared_data / SPLIT)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "daemon"))
    replay = subprocess.run([sys.executable, "-m", "emocap.cli", "replay", "--json", path], capture_output=True,
                            text=True, env=env, cwd=ROOT, timeout=300)
    assert replay.returncode == 0, replay.stderr[-2000:]
    captions = [json.loads(line) for line in replay.stdout.splitlines()]
    assert len(captions) == expected_count(path, tmp_path) == 2
    assert expected_count(path, tmp_path, "--early-pause-s", "0") == 1  # the short block is what splits it
