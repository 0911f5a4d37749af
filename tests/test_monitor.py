"""The Monitor, stepped by hand with an injected clock and CPU samplers."""
import json
from dataclasses import replace

from emocap.config import ModeConfig, PerfConfig
from emocap.meter import Meter
from emocap.monitor import CpuIdle, Monitor, ProcessUsage
from emocap.perf import PerfLog


class ModeHolder:
    """The engine's mode switch alone (the engine's models play no part in these cases)."""

    def __init__(self, mode: str):
        self.mode = mode
        self.calls: list[str] = []

    def set_mode(self, mode: str) -> None:
        self.calls.append(mode)
        self.mode = mode


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def make(tmp_path, idles, mode="large", **mode_kw):
    clock, idle_iter = Clock(), iter(idles)
    mcfg = replace(ModeConfig(), cpu_window_s=1.0, dwell_s=3.0, **mode_kw)
    pcfg = replace(PerfConfig(), interval_s=2.0, log_path=str(tmp_path / "perf.jsonl"), journald=False)
    meter, engine = Meter(), ModeHolder(mode)
    mon = Monitor(mcfg, pcfg, meter, engine, PerfLog(pcfg, journal=None, stream=open("/dev/null", "w")),
                  clock=clock, wall=lambda: 1_700_000_000.0 + clock.t, idle=lambda: next(idle_iter),
                  record_idle=lambda: 0.5, process=lambda: (25.0, 100 * 2**20, 120 * 2**20))
    return mon, clock, meter, engine


def run(mon, clock, seconds: int) -> None:
    for _ in range(seconds):
        clock.t += 1.0
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
    assert recs[0]["cpu_percent"] == 25.0 and recs[0]["rss_mb"] == 100.0 and recs[0]["cpu_idle"] == 0.5
    assert recs[0]["rss_peak_mb"] == 120.0
    assert recs[0]["ts"] == 1_700_000_102.0


def test_slow_emotion_steps_down_with_idle_cpu(tmp_path):
    mon, clock, meter, engine = make(tmp_path, [0.9] * 4, mode="large")
    for _ in range(20):
        meter.latency("emotion", 400.0)
    run(mon, clock, 3)
    assert engine.mode == "cascade"
    (switch,) = [r for r in lines(tmp_path) if r["event"] == "mode"]
    assert switch["reason"] == "latency p95 400.0 ms > 30 ms" and switch["latency_emotion_p95_ms"] == 400.0
    # the old mode's latencies closed with its record: the new mode starts with a clean window
    assert meter.snapshot()["latency"] == {}


def test_a_mode_left_for_latency_is_not_reentered_until_forgotten(tmp_path):
    mon, clock, meter, engine = make(tmp_path, [0.9] * 40, mode="large", latency_memory_s=20.0)
    meter.latency("emotion", 45.0)  # large: over the 30 ms budget
    run(mon, clock, 3)
    assert engine.calls == ["cascade"]
    for _ in range(16):  # cascade is quick and the CPU idle, but large is remembered as slow
        meter.latency("emotion", 8.0)
        run(mon, clock, 1)
    assert engine.calls == ["cascade"]
    for _ in range(6):  # more than 20 s after leaving large the memory has lapsed: try it again
        meter.latency("emotion", 8.0)
        run(mon, clock, 1)
    assert engine.calls == ["cascade", "large"]
    (_, back) = [r for r in lines(tmp_path) if r["event"] == "mode"]
    assert back["uptime_s"] == 24.0 and back["reason"] == "cpu idle 0.90 > 0.5"


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
    mon = Monitor(replace(ModeConfig(), cpu_window_s=0.5), pcfg, meter, engine,
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
    idle = CpuIdle()
    sum(i * i for i in range(300_000))  # some work so that time passes on the clock
    assert 0.0 <= idle() <= 1.0
    proc = ProcessUsage()
    sum(i * i for i in range(300_000))
    cpu, rss, peak = proc()
    assert cpu > 0 and rss > 10 * 2**20 and peak >= rss
