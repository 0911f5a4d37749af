"""The Monitor under real load: a CPU hog on every core steps the mode down to small, and the
mode climbs back once the hog ends. Real psutil sampling, the real EmotionEngine (both ONNX
sessions, a pointer swap per switch) classifying real speech at a real-time pace.
tests/test_replay_load.py does the same through the whole service."""
import json
import sys
import threading
import time
from dataclasses import replace

import pytest

from conftest import idle_share_now, poll_until as wait_for

from emocap_train import replaying
from emocap import config
from emocap.audio.files import load_audio
from emocap.emotion.engine import EmotionEngine
from emocap.meter import Meter
from emocap.monitor import Monitor
from emocap.perf import PerfLog

pytestmark = pytest.mark.faults  # CPU saturated: part of the fault suite (pytest -m faults)


def _feed(engine: EmotionEngine, speech, stop: threading.Event) -> None:
    """One 1.3 s stretch of speech classified every 0.5 s, paced in real time."""
    i = 0
    while not stop.wait(0.5):
        engine.classify(speech[i : i + 20720])
        i = (i + 8000) % max(len(speech) - 20720, 1)


def _hog_round_trip(engine: EmotionEngine) -> None:
    """A hog on every core until the mode is small, then none until it is large again."""
    proc = None
    try:
        time.sleep(1.0)
        proc = replaying.hog()
        assert wait_for(lambda: engine.mode == "small", 12.0), "no step down to small under the hog"
        time.sleep(1.0)
        replaying.end_hog(proc)
        proc = None
        assert wait_for(lambda: engine.mode == "large", 15.0), "mode did not climb back after the hog"
    finally:
        if proc:
            replaying.end_hog(proc)


def test_hog_steps_mode_down_to_small_and_back_up(tmp_path, shared_data):
    # This machine is shared: set the thresholds from the idle share measured just before the
    # hog, so that "back up" means "back to what it was", whatever else is running.
    before = idle_share_now()
    if before < 0.3:
        pytest.skip(f"the machine is already busy (idle share {before:.2f}); no headroom to recover to")
    cfg = config.load()
    # CPU drives this one: the deadline is set out of the way (tests/test_mode.py covers it).
    mode_cfg = replace(cfg.mode, initial="large", cpu_window_s=0.5, dwell_s=1.0, deadline_ms=10000.0,
                       idle_down=round(before / 4, 3), idle_up=round(before / 2, 3))
    perf_cfg = replace(cfg.perf, interval_s=0.5, log_path=str(tmp_path / "perf.jsonl"), journald=False)
    meter = Meter()
    engine = EmotionEngine(cfg.emotion, meter, "large")
    speech = load_audio(shared_data / "asr/ko/emotiontts/Emotional/emotional-to-emotional/nea/nea00101.flac")
    log_path = tmp_path / "perf.jsonl"
    stop = threading.Event()
    feeder = threading.Thread(target=_feed, args=(engine, speech, stop))
    mon = Monitor.for_service(mode_cfg, perf_cfg, meter, engine, PerfLog(perf_cfg, journal=None, stream=sys.stderr))
    mon.start()
    feeder.start()
    try:
        _hog_round_trip(engine)
    finally:
        stop.set()
        feeder.join()
        mon.stop()
    recs = [json.loads(l) for l in log_path.read_text().splitlines()]
    switches = [(r["mode_from"], r["mode_to"]) for r in recs if r["event"] == "mode"]
    for r in recs:
        if r["event"] == "mode":
            print(json.dumps(r))
    # the whole path, in order: down one step at a time to small, then up one step at a time
    down = switches.index(("cascade", "small"))
    assert ("large", "cascade") in switches[:down]
    assert switches[down + 1 :][-2:] == [("small", "cascade"), ("cascade", "large")]
    assert all(r["reason"].startswith("cpu idle") for r in recs if r["event"] == "mode")
    perf = [r for r in recs if r["event"] == "perf"]
    assert {r["mode"] for r in perf} == {"small", "cascade", "large"}
    assert sum(r["model_small"] for r in perf) > 0 and sum(r["model_large"] for r in perf) > 0
