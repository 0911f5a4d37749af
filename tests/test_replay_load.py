"""The whole service under a CPU hog: `emocap replay --realtime` with the dynamic mode on.

A stress process on every core during a real-time replay steps the mode down to small within
the dwell, and the mode climbs back once the hog ends; the performance log shows it.
"""
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import idle_share_now, poll_until as wait_for

from emocap_train import bench, replaying
from emocap import config

pytestmark = pytest.mark.faults  # CPU saturated: part of the fault suite (pytest -m faults)

ROOT = Path(__file__).resolve().parents[1]


def mode_records(log: Path) -> list[dict]:
    if not log.exists():
        return []
    recs = [json.loads(l) for l in log.read_text().splitlines() if l.strip()]
    return [r for r in recs if r["event"] == "mode"]


def _hog_round_trip(log: Path) -> float:
    """Once the service runs steadily, a hog on every core until the log shows small, then none
    until it shows large again; returns when the hog started (epoch seconds)."""
    hog = None
    try:
        assert wait_for(log.exists, 30.0), "the service wrote no performance log"
        time.sleep(2.5)  # past the start-up work
        if mode_records(log):
            pytest.skip(f"the mode moved before the hog started (machine busy): {mode_records(log)[0]['reason']}")
        hog_ts = time.time()
        hog = replaying.hog()
        assert wait_for(lambda: any(r["mode_to"] == "small" for r in mode_records(log)), 12.0)
        replaying.end_hog(hog)
        hog = None
        down = len(mode_records(log))
        assert wait_for(lambda: any(r["mode_to"] == "large" for r in mode_records(log)[down:]), 15.0)
        return hog_ts
    finally:
        if hog:
            replaying.end_hog(hog)


def test_hog_during_realtime_replay_steps_down_to_small_and_back(tmp_path, shared_data):
    before = idle_share_now()
    if before < 0.3:  # shared machine: "back up" needs headroom to come back to
        pytest.skip(f"the machine is already busy (idle share {before:.2f})")
    # A hog on every core leaves next to no idle time, so idle_down can sit near zero; idle_up
    # sits well under what stays idle with the service itself running (~0.25 of a core here).
    cfg = config.load()
    # A 1 s window: Vosk's first decode (~0.5 s of one core, once) must not look like a hog.
    # The deadline is set out of the way: the CPU alone must drive the mode here.
    cfg = replace(cfg, mode=replace(cfg.mode, initial="large", cpu_window_s=1.0, dwell_s=1.0, deadline_ms=10000.0,
                                    idle_down=0.05, idle_up=round(max(0.1, (before - 0.2) / 2), 3)))
    log = tmp_path / "perf.jsonl"
    cfg_path = replaying.write_config(cfg, tmp_path / "c.toml", log_path=str(log), interval_s=0.5, journald=False)
    files = [str(shared_data / f) for f in bench.CONTINUOUS[:6]]  # about 30 s, ended early by SIGTERM
    cmd = [sys.executable, "-m", "emocap.cli", "replay", "--realtime", "--json", "--config", str(cfg_path), *files]
    svc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT / "daemon")})
    try:
        hog_ts = _hog_round_trip(log)
    finally:
        svc.send_signal(signal.SIGTERM)  # the service's one stop path
        out, err = svc.communicate(timeout=60)
    assert svc.returncode == 0, err
    switches = mode_records(log)
    for r in switches:
        print(json.dumps(r))
    pairs = [(r["mode_from"], r["mode_to"]) for r in switches]
    assert pairs[:2] == [("large", "cascade"), ("cascade", "small")]
    # back up: the round trip ends at the first return to large (a switch logged after it, before
    # SIGTERM lands, answers whatever else loads the machine then, not the hog)
    up = next((i for i, p in enumerate(pairs) if i >= 2 and p[1] == "large"), None)
    assert up is not None and pairs[up - 1 : up + 1] == [("small", "cascade"), ("cascade", "large")], pairs
    # the hog caused it, and small came within the dwell: one step per dwell_s, each decided
    # on the next CPU window (margin for a thread scheduled late on a saturated machine)
    assert switches[0]["ts"] >= hog_ts
    assert switches[1]["ts"] - hog_ts <= cfg.mode.dwell_s + 4 * cfg.mode.cpu_window_s
    perf = [json.loads(l) for l in log.read_text().splitlines() if '"perf"' in l]
    assert {r["mode"] for r in perf} == {"small", "cascade", "large"}
