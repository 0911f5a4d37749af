"""The Monitor, stepped by hand with an injected clock and CPU samplers."""
import json
import time
from collections import namedtuple
from dataclasses import replace

import psutil

from emocap.config import ModeConfig, PerfConfig
from emocap.meter import Meter
from emocap.monitor import ModeSwitch, Monitor, PerfRecorder, ProcessUsage, idle_share
from emocap.perf import PerfLog

CpuTimes = namedtuple("CpuTimes", "user idle")


class ModeHolder:
    """The engine's mode switch alone (the engine's models play no part in these cases)."""

    def __init__(self, mode: str):
        self.mode = mode
        self.calls: list[str] = []

    def set_mode(self, mode: str) -> None:
        self.calls.append(mode)
        self.mode = mode


class Clock:
    """Monotonic time, and the machine's cumulative CPU times: each second passed at the idle
    share next in ``idles`` (one CPU-second per second)."""

    def __init__(self, idles):
        self.t, self.cpu, self.idles = 100.0, CpuTimes(0.0, 0.0), iter(idles)

    def __call__(self) -> float:
        return self.t

    def times(self) -> CpuTimes:
        return self.cpu

    def advance(self) -> None:
        idle = next(self.idles)
        self.t += 1.0
        self.cpu = CpuTimes(self.cpu.user + 1 - idle, self.cpu.idle + idle)


def make(tmp_path, idles, mode="large", **mode_kw):
    clock = Clock(idles)
    mcfg = replace(ModeConfig(), cpu_window_s=1.0, dwell_s=3.0, **mode_kw)
    pcfg = replace(PerfConfig(), interval_s=2.0, log_path=str(tmp_path / "perf.jsonl"), journald=False)
    meter, engine = Meter(), ModeHolder(mode)
    perf = PerfRecorder(pcfg, meter, PerfLog(pcfg, journal=None, stream=open("/dev/null", "w")), engine,
                        wall=lambda: 1_700_000_000.0 + clock.t, process=lambda: (25.0, 100 * 2**20, 120 * 2**20))
    mon = Monitor(ModeSwitch(mcfg, engine, meter), perf, clock=clock, cpu_times=clock.times)
    return mon, clock, meter, engine


def run(mon, clock, seconds: int, emotion_ms: float | None = None) -> None:
    """``seconds`` ticks, one a second; with ``emotion_ms``, one utterance of that latency before each."""
    for _ in range(seconds):
        if emotion_ms is not None:
            mon.modes.meter.latency("emotion", emotion_ms)
        clock.advance()
        mon.tick()


def lines(tmp_path) -> list[dict]:
    return [json.loads(l) for l in (tmp_path / "perf.jsonl").read_text().splitlines()]


def test_hog_steps_down_once_per_dwell_then_recovers(tmp_path):
    mon, clock, meter, engine = make(tmp_path, [0.05] * 8 + [0.9] * 8)
    run(mon, clock, 16)
    assert engine.calls == ["cascade", "small", "cascade", "large"]
    switches = [(r["uptime_s"], r["mode_from"], r["mode_to"], r["reason"]) for r in lines(tmp_path)
                if r["event"] == "mode"]
    assert switches == [(3.0, "large", "cascade", "cpu idle 0.05 < 0.2"),
                        (6.0, "cascade", "small", "cpu idle 0.05 < 0.2"),
                        (9.0, "small", "cascade", "cpu idle 0.90 > 0.5"),
                        (12.0, "cascade", "large", "cpu idle 0.90 > 0.5")]


def test_every_record_covers_one_mode_and_the_whole_time(tmp_path):
    mon, clock, meter, engine = make(tmp_path, [0.05] * 8 + [0.9] * 8)
    run(mon, clock, 16)
    mon.stop()
    recs = [r for r in lines(tmp_path) if r["event"] == "perf"]
    # every 2 s, plus one closing each mode at its switch (3, 6, 9, 12 s), plus the one at stop
    assert [r["uptime_s"] for r in recs] == [2, 3, 5, 6, 8, 9, 11, 12, 14, 16, 16]
    assert [r["mode"] for r in recs] == ["large", "large", "cascade", "cascade", "small", "small",
                                         "cascade", "cascade", "large", "large", "large"]
    assert sum(r["interval_s"] for r in recs) == 16.0
    assert sum(r["mode_switches"] for r in recs) == 4
    assert recs[0]["cpu_percent"] == 25.0 and recs[0]["rss_mb"] == 100.0
    # each record's idle share is over its own interval, from the one CPU sample per tick
    assert [r["cpu_idle"] for r in recs[:10]] == [0.05] * 5 + [0.9] * 5
    assert recs[0]["rss_peak_mb"] == 120.0
    assert recs[0]["ts"] == 1_700_000_102.0


def test_emotion_over_the_deadline_steps_down_with_idle_cpu(tmp_path):
    mon, clock, meter, engine = make(tmp_path, [0.9] * 4, mode="large")
    for _ in range(20):
        meter.latency("emotion", 400.0)
    run(mon, clock, 3)
    assert engine.mode == "cascade"
    (switch,) = [r for r in lines(tmp_path) if r["event"] == "mode"]
    assert switch["reason"] == "emotion p95 400.0 ms > deadline 150 ms" and switch["latency_emotion_p95_ms"] == 400.0
    # the old mode's latencies closed with its record: the new mode starts with a clean window
    assert meter.snapshot()["latency"] == {}


def test_slow_cpu_keeps_cascade_while_the_deadline_holds(tmp_path):
    """80 ms an utterance (a slow CPU) is far over the old fixed 30 ms guard but within the
    150 ms deadline: cascade stays, with the CPU between the idle thresholds."""
    mon, clock, meter, engine = make(tmp_path, [0.35] * 60, mode="cascade")
    run(mon, clock, 60, emotion_ms=80.0)
    assert engine.calls == []
    perf = [r for r in lines(tmp_path) if r["event"] == "perf"]
    assert all(r["latency_ms"]["emotion"]["p95"] == 80.0 for r in perf)


def test_guard_waits_for_min_samples(tmp_path):
    """Fewer than min_samples (5) utterances in a mode never step it down, however slow."""
    mon, clock, meter, engine = make(tmp_path, [0.35] * 20, mode="cascade")
    run(mon, clock, 4, emotion_ms=900.0)  # 4 utterances, 4 decisions past the dwell: no action
    assert engine.calls == []
    run(mon, clock, 1, emotion_ms=900.0)  # the fifth
    assert engine.calls == ["small"]
    (switch,) = [r for r in lines(tmp_path) if r["event"] == "mode"]
    assert switch["uptime_s"] == 5.0 and switch["latency_emotion_p95_ms"] == 900.0


def test_one_slow_first_utterance_never_steps_down(tmp_path):
    """Lazy initialisation: the first utterance after start takes 900 ms, the rest 20 ms."""
    mon, clock, meter, engine = make(tmp_path, [0.35] * 40, mode="large")
    run(mon, clock, 1, emotion_ms=900.0)
    run(mon, clock, 39, emotion_ms=20.0)
    assert engine.calls == []


def test_a_mode_over_the_deadline_is_not_reentered_until_forgotten(tmp_path):
    mon, clock, meter, engine = make(tmp_path, [0.9] * 40, mode="large", latency_memory_s=20.0)
    for _ in range(5):
        meter.latency("emotion", 200.0)  # large: over the 150 ms deadline
    run(mon, clock, 3)
    assert engine.calls == ["cascade"]
    run(mon, clock, 16, emotion_ms=8.0)  # cascade is quick and the CPU idle, but large is remembered as slow
    assert engine.calls == ["cascade"]
    run(mon, clock, 6, emotion_ms=8.0)  # more than 20 s after leaving large the memory has lapsed: try it again
    assert engine.calls == ["cascade", "large"]
    (_, back) = [r for r in lines(tmp_path) if r["event"] == "mode"]
    assert back["uptime_s"] == 24.0
    assert back["reason"] == "cpu idle 0.90 > 0.5, cascade p95 8.0 ms <= 120 ms, large untried"


def test_a_mode_remembered_within_the_margin_is_reentered(tmp_path):
    """Left for CPU load, not latency: large measured 40 ms fits 0.8 x 150 ms, so once the CPU
    is idle again the way back up names that measurement."""
    mon, clock, meter, engine = make(tmp_path, [0.35] * 4 + [0.05] + [0.9] * 10, mode="large")
    run(mon, clock, 5, emotion_ms=40.0)  # down at the 5th second, with its 5 utterances measured
    run(mon, clock, 3, emotion_ms=10.0)
    assert engine.calls == ["cascade", "large"]
    (_, up) = [r for r in lines(tmp_path) if r["event"] == "mode"]
    assert up["reason"] == "cpu idle 0.90 > 0.5, large p95 40.0 ms <= 120 ms"


def test_static_mode_only_records(tmp_path):
    mon, clock, meter, engine = make(tmp_path, [0.0] * 10, mode="cascade", dynamic=False)
    meter.count("captions", 2)
    run(mon, clock, 10)
    assert engine.calls == []
    recs = lines(tmp_path)
    assert [r["event"] for r in recs] == ["perf"] * 5
    assert [r["captions"] for r in recs] == [2, 0, 0, 0, 0]


def test_thread_starts_and_stops_with_a_final_record(tmp_path):
    pcfg = replace(PerfConfig(), interval_s=0.5, log_path=str(tmp_path / "perf.jsonl"))
    meter, engine = Meter(), ModeHolder("cascade")
    mon = Monitor.for_service(replace(ModeConfig(), cpu_window_s=0.5), pcfg, meter, engine,
                              PerfLog(pcfg, journal=None, stream=open("/dev/null", "w")))
    mon.start()
    meter.latency("emotion", 1.0)
    mon.stop()
    mon.stop()  # a second stop (SIGTERM during shutdown) writes nothing more
    recs = lines(tmp_path)
    assert recs[-1]["event"] == "perf" and recs[-1]["mode"] == "cascade"
    assert recs[-1]["rss_peak_mb"] >= recs[-1]["rss_mb"]
    assert recs[-1]["rss_mb"] > 10  # the real process sampler: this interpreter holds numpy at least
    assert sum(r["latency_ms"].get("emotion", {}).get("n", 0) for r in recs) == 1


def test_real_samplers_measure_this_machine():
    before, t = psutil.cpu_times(), time.monotonic()
    while time.monotonic() - t < 0.2:  # some work so that time passes on the CPU clock
        sum(i * i for i in range(10_000))
    assert 0.0 <= idle_share(before, psutil.cpu_times()) < 1.0
    proc = ProcessUsage()
    sum(i * i for i in range(300_000))
    cpu, rss, peak = proc()
    assert cpu > 0 and rss > 10 * 2**20 and peak >= rss
