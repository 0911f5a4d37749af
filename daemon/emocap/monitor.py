"""Monitor: a background worker that picks the emotion mode and writes performance records.

Every ``cpu_window_s`` it measures the idle share of all CPUs (psutil), reads the recent
emotion latency p95 from the Meter (and remembers each mode's, so that a mode found too
slow is not re-entered for ``latency_memory_s``), asks :func:`emocap.emotion.mode.decide`
for the next mode and switches the engine (a pointer swap between sessions loaded at start). Every
``perf.interval_s``, and at each switch so that a record covers one mode only, it writes a
record to the PerfLog. Clock and samplers are injectable for tests.
"""
from __future__ import annotations

import resource
import threading
import time
from typing import Callable, Protocol

import psutil

from emocap.config import ModeConfig, PerfConfig
from emocap.emotion.mode import MODES, decide
from emocap.meter import Meter
from emocap.perf import PerfLog, counters, perf_record

_EPS_S = 1e-3  # a wait returns a hair early or late; don't miss a tick by that


class Switchable(Protocol):
    """What the monitor needs of the emotion engine."""

    @property
    def mode(self) -> str: ...

    def set_mode(self, mode: str) -> None: ...


class CpuIdle:
    """Idle share of all CPUs (idle + iowait) since the previous call, from psutil.cpu_times."""

    def __init__(self) -> None:
        self._last = psutil.cpu_times()

    def __call__(self) -> float:
        now, last = psutil.cpu_times(), self._last
        self._last = now
        # guest time is already inside user time on Linux; don't count it twice
        busy_fields = [f for f in now._fields if f not in ("idle", "iowait", "guest", "guest_nice")]
        idle = (now.idle - last.idle) + (getattr(now, "iowait", 0) - getattr(last, "iowait", 0))
        busy = sum(getattr(now, f) - getattr(last, f) for f in busy_fields)
        return idle / (idle + busy) if idle + busy > 0 else 1.0


class ProcessUsage:
    """This process: CPU % of one core since the previous call, resident memory and its peak (bytes)."""

    def __init__(self) -> None:
        self._proc = psutil.Process()
        self._proc.cpu_percent(None)

    def __call__(self) -> tuple[float, int, int]:
        rss = self._proc.memory_info().rss
        # ru_maxrss is in KiB on Linux, and the kernel updates its high-water mark lazily
        peak = max(rss, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
        return self._proc.cpu_percent(None), rss, peak


class Monitor:
    """Background worker with start()/stop(); ``tick()`` is one step, callable directly in tests."""

    def __init__(self, mode_cfg: ModeConfig, perf_cfg: PerfConfig, meter: Meter, engine: Switchable,
                 log: PerfLog, *, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time, idle: Callable[[], float] | None = None,
                 record_idle: Callable[[], float] | None = None,
                 process: Callable[[], tuple[float, int, int]] | None = None):
        self.mode_cfg, self.perf_cfg = mode_cfg, perf_cfg
        self.meter, self.engine, self.log = meter, engine, log
        self.clock, self.wall = clock, wall
        self.idle = idle or CpuIdle()
        self.record_idle = record_idle or CpuIdle()
        self.process = process or ProcessUsage()
        self.period = min(mode_cfg.cpu_window_s, perf_cfg.interval_s)
        self._start = self._decided = self._recorded = self._switched = clock()
        self._prev = counters(meter.snapshot(reset_latency=False))
        self._recorded_p95: float | None = None  # emotion p95 of the last record in this mode
        self._mode_p95: dict[str, tuple[float, float]] = {}  # mode -> (last emotion p95 in it, when)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="emocap-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and write the last (partial) interval's record."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.record(self.clock())

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            self.tick()

    def tick(self) -> None:
        now = self.clock()
        if now - self._decided >= self.mode_cfg.cpu_window_s - _EPS_S:
            self._decide(now)
        if now - self._recorded >= self.perf_cfg.interval_s - _EPS_S:
            self.record(now)

    def _decide(self, now: float) -> None:
        idle = self.idle()
        self._decided = now
        # Samples since the last record; if none yet, that record's (records reset the meter).
        latency = self.meter.snapshot(reset_latency=False)["latency"].get("emotion")
        p95 = latency["p95"] if latency else self._recorded_p95
        current = self.engine.mode
        new, reason = decide(current, idle, p95, now - self._switched, self.mode_cfg, self._upper_p95(current, now))
        if new == current:
            return
        self.record(now)  # close the old mode's interval so that each record covers one mode
        if p95 is not None:
            self._mode_p95[current] = (p95, now)  # what this decision saw, remembered for coming back
        self._recorded_p95 = None  # the old mode's latency says nothing about the new one
        self.engine.set_mode(new)
        self._switched = now
        self.meter.count("mode_switches")
        self.log.write({"event": "mode", "ts": round(self.wall(), 3), "uptime_s": round(now - self._start, 3),
                        "mode_from": current, "mode_to": new, "reason": reason,
                        "cpu_idle": round(idle, 4),
                        "latency_emotion_p95_ms": None if p95 is None else round(p95, 3)})

    def _upper_p95(self, current: str, now: float) -> float | None:
        """The emotion p95 last seen in the mode above, if still remembered."""
        i = MODES.index(current)
        seen = self._mode_p95.get(MODES[i + 1]) if i + 1 < len(MODES) else None
        return seen[0] if seen and now - seen[1] <= self.mode_cfg.latency_memory_s else None

    def record(self, now: float) -> None:
        """Write the record of the interval since the previous one."""
        snap = self.meter.snapshot(reset_latency=True)
        cpu, rss, peak = self.process()
        rec = perf_record(snap, self._prev, ts=round(self.wall(), 3), uptime_s=round(now - self._start, 3),
                          interval_s=round(now - self._recorded, 3), mode=self.engine.mode,
                          cpu_percent=round(cpu, 1), cpu_idle=round(self.record_idle(), 4),
                          rss_mb=round(rss / 2**20, 1), rss_peak_mb=round(peak / 2**20, 1))
        self._prev = counters(snap)
        self._recorded = now
        if "emotion" in snap["latency"]:
            self._recorded_p95 = snap["latency"]["emotion"]["p95"]
            self._mode_p95[rec["mode"]] = (self._recorded_p95, now)
        self.log.write(rec)
