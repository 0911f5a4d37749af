"""A short soak: tools/soak.py over about 40 s of the shared speech, with the recogniser
recycled (a limit below what the models need: at the first stream end, then once a minute of
audio), must caption exactly the utterances each file gives decoded alone, drop nothing, and
report its RSS curve in the documented JSON."""
import json
import subprocess
import sys

import pytest

from conftest import ROOT

KEYS = {"audio_hours": float, "audio_s": float, "wall_s": float, "files_played": int, "distinct_files": int, "span_errors": int,
        "frames_dropped": int, "frames_captured": int, "mode_switches": int, "asr_recycles": int,
        "rss_mb": dict, "counts": dict, "config": dict, "samples": list, "recycle_at": list,
        "hours_requested": float, "seed": int, "dither": bool, "cpu": str}
SAMPLE = {"wall_s", "audio_h", "rss_mb", "captions", "frames_dropped", "mode", "mode_switches", "asr_recycles"}


@pytest.fixture(scope="module")
def soak(shared_data, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("soak")
    cmd = [sys.executable, str(ROOT / "tools/soak.py"), "--hours", "0.01", "--json", "--no-dither",
           "--max-rss-mb", "1", "--sample-s", "0.5", "--cache", str(tmp / "cache/expected.json"),
           "--data", str(shared_data), "--plot", str(tmp / "soak.png")]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1500)  # generous: a busy CI machine
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout), tmp


def test_short_soak_captions_every_expected_utterance(soak):
    r, _ = soak
    c = r["counts"]
    assert r["audio_hours"] >= 0.01 and r["files_played"] == c["files_checked"] >= 5
    assert c["expected"] >= r["files_played"] // 2  # most clips hold a recognisable utterance
    assert c["captions"] == c["captions_checked"] == c["expected"] and c["mismatched_files"] == 0
    assert r["span_errors"] == 0 and r["frames_dropped"] == 0
    assert r["frames_captured"] == pytest.approx(r["audio_s"] * 16000, abs=16)  # audio_s is rounded to 1 ms
    assert r["asr_recycles"] >= 1 and len(r["recycle_at"]) >= 1  # recycling ran and lost nothing


def test_short_soak_report_schema_and_rss_curve(soak):
    r, tmp = soak
    for key, kind in KEYS.items():
        assert isinstance(r[key], kind), key
    assert set(r["rss_mb"]) == {"start", "peak", "end", "growth_mb_per_h_after_1h", "growth_mb_per_h_after_10min"}
    assert r["rss_mb"]["growth_mb_per_h_after_1h"] is None  # too short for a slope
    s = r["samples"]
    assert len(s) >= 5 and all(SAMPLE <= set(x) for x in s)
    assert all(100 < x["rss_mb"] < 4096 for x in s) and r["rss_mb"]["peak"] == max(x["rss_mb"] for x in s)
    hours = [x["audio_h"] for x in s]
    assert hours == sorted(hours) and hours[-1] == pytest.approx(r["audio_hours"], abs=1e-4)
    assert r["config"]["max_rss_mb"] == 1
    assert (tmp / "soak.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
