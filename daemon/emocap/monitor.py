"""Monitor: one background tick drives Dynamic Inference Mode and the performance records.

Each tick reads the clock and the CPU times once and hands both to its two parts, which
share nothing else:

- :class:`ModeSwitch`, every ``cpu_window_s``: the idle CPU share since its last decision,
  the emotion latency p95 of the current mode's recent utterances (its own window, fed by a
  meter tap) and each other mode's p95 as last measured there, into
  :func:`emocap.emotion.mode.decide`; a switch is a pointer swap in the engine (both
  sessions are loaded at start).
- :class:`PerfRecorder`, every ``perf.interval_s`` and just before each switch (so that a
  record covers one mode): the meter's interval and this process's CPU and memory, to the
  PerfLog, which also gets the switch events.

Clock, CPU times and the process sampler are injectable for tests.
"""
from __future__ import annotations

import resource
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np
import psutil

from emocap.config import ModeConfig, PerfConfig
from emocap.emotion.mode import decide
from emocap.meter import Meter
from emocap.perf import PerfLog, counters, perf_record

_EPS_S = 1e-3  # a wait returns a hair early or late; don't miss a tick by that
RECENT = 20  # utterances of the current mode whose emotion latency the deadline guard reads


class Switchable(Protocol):
    """What the monitor needs of the emotion engine."""

    @property
    def mode(self) -> str: ...

    def set_mode(self, mode: str) -> None: ...


def idle_share(before: Any, after: Any) -> float:
    """Idle share of all CPUs (idle + iowait) between two ``psutil.cpu_times()`` samples."""
    # guest time is already inside user time on Linux; don't count it twice
    busy_fields = [f for f in after._fields if f not in ("idle", "iowait", "guest", "guest_nice")]
    idle = (after.idle - before.idle) + (getattr(after, "iowait", 0) - getattr(before, "iowait", 0))
    busy = sum(getattr(after, f) - getattr(before, f) for f in busy_fields)
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


class Recent:
    """The last RECENT emotion latencies, added from the captioner thread, read by the tick."""

    def __init__(self) -> None:
        self._values: deque[float] = deque(maxlen=RECENT)
        self._lock = threading.Lock()

    def add(self, ms: float) -> None:
        with self._lock:
            self._values.append(ms)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def p95(self, min_samples: int) -> float | None:
        """None below ``min_samples``. "lower" picks a measured value: of up to 20, the
        second largest, so one slow run (a lazily initialised first one) never sets it alone."""
        with self._lock:
            values = list(self._values)
        return float(np.percentile(values, 95, method="lower")) if len(values) >= min_samples else None


@dataclass(frozen=True)
class Switch:
    """A decided step, and the facts it was decided on."""

    mode_from: str
    mode_to: str
    reason: str
    cpu_idle: float
    p95_ms: float | None  # the emotion p95 of mode_from, None with too few samples

    def fields(self) -> dict:
        return {"mode_from": self.mode_from, "mode_to": self.mode_to, "reason": self.reason,
                "cpu_idle": round(self.cpu_idle, 4),
                "latency_emotion_p95_ms": None if self.p95_ms is None else round(self.p95_ms, 3)}


class ModeSwitch:
    """Every ``cpu_window_s``: gathers the measured facts, asks ``decide``, switches the engine."""

    def __init__(self, cfg: ModeConfig, engine: Switchable, meter: Meter) -> None:
        self.cfg, self.engine, self.meter = cfg, engine, meter
        self.period = cfg.cpu_window_s
        self._recent = Recent()
        meter.tap("emotion", self._recent.add)
        self._memory: dict[str, tuple[float, float]] = {}  # mode -> (its p95 when left, when)

    def begin(self, now: float, cpu: Any) -> None:
        self._decided = self._switched = now
        self._cpu = cpu

    def due(self, now: float) -> bool:
        return now - self._decided >= self.period - _EPS_S

    def decide(self, now: float, cpu: Any) -> Switch | None:
        idle = idle_share(self._cpu, cpu)
        self._cpu, self._decided = cpu, now
        current = self.engine.mode
        own = self._recent.p95(self.cfg.min_samples)
        known = {m: p95 for m, (p95, when) in self._memory.items()
                 if m != current and now - when <= self.cfg.latency_memory_s}
        if own is not None:
            known[current] = own
        new, reason = decide(current, idle, known, now - self._switched, self.cfg)
        return None if new == current else Switch(current, new, reason, idle, own)

    def apply(self, switch: Switch, now: float) -> None:
        if switch.p95_ms is not None:  # remembered for coming back (see mode.decide)
            self._memory[switch.mode_from] = (switch.p95_ms, now)
        self.engine.set_mode(switch.mode_to)
        # The old mode's latency says nothing about the new one. An utterance in flight now
        # lands in the new window; the "lower" p95 lets one such sample pass.
        self._recent.clear()
        self._switched = now
        self.meter.count("mode_switches")


class PerfRecorder:
    """Writes one record per interval (and the switch events) to the PerfLog."""

    def __init__(self, cfg: PerfConfig, meter: Meter, log: PerfLog, engine: Switchable, *,
                 wall: Callable[[], float] = time.time,
                 process: Callable[[], tuple[float, int, int]] | None = None) -> None:
        self.meter, self.log, self.engine, self.wall = meter, log, engine, wall
        self.period = cfg.interval_s
        self.process = process or ProcessUsage()

    def begin(self, now: float, cpu: Any) -> None:
        self._start = self._recorded = now
        self._cpu = cpu
        self._prev = counters(self.meter.snapshot(reset_latency=False))

    def due(self, now: float) -> bool:
        return now - self._recorded >= self.period - _EPS_S

    def record(self, now: float, cpu: Any) -> None:
        """Write the record of the interval since the previous one."""
        snap = self.meter.snapshot(reset_latency=True)
        proc_cpu, rss, peak = self.process()
        rec = perf_record(snap, self._prev, ts=round(self.wall(), 3), uptime_s=round(now - self._start, 3),
                          interval_s=round(now - self._recorded, 3), mode=self.engine.mode,
                          cpu_percent=round(proc_cpu, 1), cpu_idle=round(idle_share(self._cpu, cpu), 4),
                          rss_mb=round(rss / 2**20, 1), rss_peak_mb=round(peak / 2**20, 1))
        self._prev, self._recorded, self._cpu = counters(snap), now, cpu
        self.log.write(rec)

    def event(self, now: float, fields: dict) -> None:
        self.log.write({"event": "mode", "ts": round(self.wall(), 3), "uptime_s": round(now - self._start, 3),
                        **fields})


class Monitor:
    """Background worker with start()/stop(); ``tick()`` is one step, callable directly in tests."""

    def __init__(self, modes: ModeSwitch, perf: PerfRecorder, *, clock: Callable[[], float] = time.monotonic,
                 cpu_times: Callable[[], Any] = psutil.cpu_times) -> None:
        self.modes, self.perf, self.clock, self.cpu_times = modes, perf, clock, cpu_times
        self.period = min(modes.period, perf.period)
        now, cpu = clock(), cpu_times()
        modes.begin(now, cpu)
        perf.begin(now, cpu)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_service(cls, mode_cfg: ModeConfig, perf_cfg: PerfConfig, meter: Meter, engine: Switchable,
                    log: PerfLog) -> Monitor:
        return cls(ModeSwitch(mode_cfg, engine, meter), PerfRecorder(perf_cfg, meter, log, engine))

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
        self.perf.record(self.clock(), self.cpu_times())

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            self.tick()

    def tick(self) -> None:
        now, cpu = self.clock(), self.cpu_times()
        switch = self.modes.decide(now, cpu) if self.modes.due(now) else None
        if switch is not None:
            self.perf.record(now, cpu)  # close the old mode's interval so that each record covers one mode
            self.modes.apply(switch, now)
            self.perf.event(now, switch.fields())
        elif self.perf.due(now):
            self.perf.record(now, cpu)
