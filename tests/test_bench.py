"""tools/bench.py runs end to end and reports every figure with its unit (no timing asserted)."""
import json
import subprocess
import sys
from pathlib import Path

import bench

ROOT = Path(__file__).resolve().parents[1]


def test_bench_json_has_every_section_with_units(shared_data):
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "bench.py"), "--json", "--runs", "5"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    sections = ("mfcc", "inference", "emotion_window", "cascade", "caption_latency", "replay", "peak_rss",
                "drops_under_load")
    assert set(sections) <= set(out)
    for name in sections:
        assert out[name]["unit"], name
        if "reason" in out[name]:  # not measurable yet: says why, claims no number
            assert all(v is None for k, v in out[name].items() if k not in ("unit", "reason"))
    assert out["mfcc"]["same_output"] is True
    assert out["mfcc"]["emocap"]["p50"] > 0 and out["inference"]["large"]["p95"] > 0
    assert out["machine"]["blas_threads"] == "1"
    c = out["cascade"]
    assert c["clips"] == 592 and 0 <= c["rate"] <= 1 and c["threshold"] == 0.6


def test_one_window_is_exactly_128_frames(shared_data):
    from emocap import features
    s = features.FeatureSettings()
    x = bench.one_window(bench.serdata.load_audio(shared_data / bench.SPEECH), s)
    assert features.mfcc(x, s).shape == (128, 40)
