"""`emocap stats` over a small generated log spread across rotated files."""
import json
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from emocap import stats
from emocap.errors import EmocapError

DAEMON = Path(__file__).resolve().parents[1] / "daemon"


def perf(ts, interval, mode, lat, captured, dropped, small, large, captions, cpu, idle, rss):
    return {"event": "perf", "ts": ts, "uptime_s": ts - 995, "interval_s": interval, "mode": mode,
            "latency_ms": lat, "frames_captured": captured, "frames_dropped": dropped,
            "model_small": small, "model_large": large, "captions": captions, "mode_switches": 0,
            "cpu_percent": cpu, "cpu_idle": idle, "rss_mb": rss}


def lat(n, p50, p95, mx):
    return {"n": n, "p50": p50, "p95": p95, "max": mx}


def switch(ts, a, b, reason):
    return {"event": "mode", "ts": ts, "mode_from": a, "mode_to": b, "reason": reason}


@pytest.fixture
def log(tmp_path) -> Path:
    files = {
        "perf.jsonl.2": [perf(1000, 5.0, "large", {"emotion": lat(10, 2.0, 4.0, 5.0), "mfcc": lat(10, 0.5, 0.6, 0.9)},
                              80000, 0, 0, 10, 2, 30.0, 0.6, 150.0),
                         switch(1005, "large", "cascade", "cpu idle 0.10 < 0.2")],
        "perf.jsonl.1": [perf(1010, 5.0, "cascade", {"emotion": lat(30, 1.0, 3.0, 9.0)},
                              80000, 160, 30, 5, 3, 20.0, 0.3, 155.5),
                         '{"event": "perf", "ts": 10'],  # a line cut short by a power cut
        "perf.jsonl": [perf(1015, 2.5, "cascade", {"caption": lat(2, 10.0, 20.0, 21.0)},
                            40000, 0, 0, 0, 1, 10.0, 0.1, 152.0),
                       switch(1015, "cascade", "small", "cpu idle 0.05 < 0.2"),
                       perf(1020, 5.0, "small", {"emotion": lat(60, 0.8, 1.5, 2.0)},
                            80000, 40, 60, 0, 2, 10.0, 0.15, 151.0)],
    }
    for name, lines in files.items():
        (tmp_path / name).write_text("".join((l if isinstance(l, str) else json.dumps(l)) + "\n" for l in lines))
    (tmp_path / "perf.jsonl.bak").write_text("not a rotated file\n")
    return tmp_path / "perf.jsonl"


def args(**kw) -> Namespace:
    return Namespace(**{"log": None, "config": None, "json": False, "plot": None, **kw})


def test_rotated_files_are_read_oldest_first(log):
    assert [p.name for p in stats.log_files(log)] == ["perf.jsonl.2", "perf.jsonl.1", "perf.jsonl"]


def test_summary_numbers(log, capsys):
    assert stats.run(args(log=str(log), json=True)) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["records"] == 4 and s["malformed_lines"] == 1
    assert (s["from"], s["to"], s["seconds"]) == (1000, 1020, 17.5)
    # weighted by samples: p50 of (0.8 x60, 1.0 x30, 2.0 x10) and p95 of (1.5 x60, 3.0 x30, 4.0 x10)
    assert s["latency_ms"]["emotion"] == {"n": 100, "p50": 0.8, "p95": 4.0, "max": 9.0}
    assert s["latency_ms"]["mfcc"] == {"n": 10, "p50": 0.5, "p95": 0.6, "max": 0.9}
    assert s["latency_ms"]["caption"] == {"n": 2, "p50": 10.0, "p95": 20.0, "max": 21.0}
    assert s["frames"] == {"captured": 280000, "dropped": 200, "dropped_share": 0.0007}
    assert s["models"] == {"small": 90, "large": 15, "large_share": 0.1429}
    assert s["mode_seconds"] == {"cascade": 7.5, "large": 5.0, "small": 5.0}
    assert s["mode_switches"] == 2
    assert [(w["mode_from"], w["mode_to"]) for w in s["switches"]] == [("large", "cascade"), ("cascade", "small")]
    assert s["captions"] == 8
    assert s["cpu_percent"] == {"mean": 18.6, "max": 30.0}  # (30*5 + 20*5 + 10*2.5 + 10*5) / 17.5
    assert s["rss_mb_max"] == 155.5


def test_text_report(log, capsys):
    assert stats.run(args(log=str(log))) == 0
    out = capsys.readouterr().out
    assert "  emotion                    100     0.80     4.00     9.00" in out
    assert "frames: 280000 captured, 200 dropped (0.1 %)" in out
    assert "models: small 90, large 15 (large share 14.3 %)" in out
    assert "modes: cascade 8 s, large 5 s, small 5 s; 2 switch(es)" in out
    assert "cascade -> small (cpu idle 0.05 < 0.2)" in out
    assert "skipped 1 unreadable line(s)" in out


def test_weighted_percentile_edges():
    assert stats.weighted_percentile([5.0], [1], 95) == 5.0
    assert stats.weighted_percentile([3.0, 1.0, 2.0], [1, 1, 1], 50) == 2.0
    assert stats.weighted_percentile([1.0, 9.0], [95, 5], 95) == 1.0
    assert stats.weighted_percentile([1.0, 9.0], [94, 6], 95) == 9.0


def test_plot_draws_a_png(log, tmp_path, capsys):
    png = tmp_path / "perf.png"
    assert stats.run(args(log=str(log), plot=str(png))) == 0
    img = np.asarray(Image.open(png).convert("L"))
    assert img.shape == (600, 900)
    assert (img < 128).mean() > 0.01  # axes, lines and labels, not a blank canvas


def test_missing_log_is_one_line_error(tmp_path):
    with pytest.raises(EmocapError, match=r"nope.jsonl: no such performance log"):
        stats.run(args(log=str(tmp_path / "nope.jsonl")))
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(EmocapError, match=r"empty.jsonl: no performance records"):
        stats.run(args(log=str(tmp_path / "empty.jsonl")))


def run_module(*argv, pre=""):
    code = pre + "import sys; from emocap.cli import main; sys.exit(main(['stats', *sys.argv[1:]]))"
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          env={"PYTHONPATH": str(DAEMON)}, timeout=60)


def test_command_line_error_has_no_traceback(tmp_path):
    r = run_module("--log", str(tmp_path / "x.jsonl"))
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().count("\n") == 0 and "no such performance log" in r.stderr


def test_plot_without_matplotlib_is_a_clear_line(log, tmp_path):
    r = run_module("--log", str(log), "--plot", str(tmp_path / "p.png"), pre="import sys; sys.modules['matplotlib'] = None; ")
    assert r.returncode == 2
    assert r.stderr.strip() == "emocap: --plot needs matplotlib; install it (pip install matplotlib) or leave out --plot"


def test_stats_is_a_cli_command(log):
    r = subprocess.run([sys.executable, "-m", "emocap.cli", "stats", "--log", str(log), "--json"], capture_output=True,
                       text=True, env={"PYTHONPATH": str(DAEMON)}, timeout=60)
    assert r.returncode == 0 and json.loads(r.stdout)["captions"] == 8


def test_default_log_path_comes_from_the_config(log, tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[perf]\nlog_path = "{log}"\n')
    assert stats.run(args(config=str(cfg), json=True)) == 0
    assert json.loads(capsys.readouterr().out)["records"] == 4
