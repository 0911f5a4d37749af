"""Thread-safe measurements shared by the pipeline stages and read by the performance log.

Stages push latencies (ms), counts and gauges under the names of ``emocap/metrics.py``; a
total kept elsewhere is read from there at each snapshot, through a function registered
once (``read``). The performance log takes a snapshot every interval (and resets the latency
windows). Kept tiny so calling it from a hot loop costs a lock and an append.
"""
from __future__ import annotations

import threading
from collections import defaultdict
from typing import Callable

import numpy as np

from emocap.metrics import COUNT, GAUGE, kind_of


class Meter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lat: dict[str, list[float]] = defaultdict(list)
        self._counts: dict[str, int] = defaultdict(int)
        self._gauges: dict[str, float] = {}
        self._taps: dict[str, list[Callable[[float], None]]] = defaultdict(list)
        self._reads: dict[str, Callable[[], float]] = {}

    def latency(self, stage: str, ms: float) -> None:
        with self._lock:
            self._lat[stage].append(ms)
            for tap in self._taps.get(stage, ()):
                tap(ms)

    def tap(self, stage: str, fn: Callable[[float], None]) -> None:
        """Also hand each later latency of ``stage`` to ``fn``, whatever the snapshots reset
        (the mode decision keeps its own window); ``fn`` runs under the meter's lock: keep it tiny."""
        with self._lock:
            self._taps[stage].append(fn)

    def count(self, name: str, n: int = 1) -> None:
        if n < 0:
            raise ValueError(f"count {name!r}: counts only grow, got {n}")
        with self._lock:
            self._counts[name] += n

    def gauge(self, name: str, value: float) -> None:
        with self._lock:
            self._gauges[name] = value

    def read(self, name: str, fn: Callable[[], float]) -> None:
        """Take count or gauge ``name`` from ``fn()`` at each snapshot, where the value is kept
        (a count's ``fn`` must never go down). Called from the snapshot's thread: ``fn`` only reads."""
        if kind_of(name) not in (COUNT, GAUGE):
            raise ValueError(f"metric {name!r} is a {kind_of(name)}: only counts and gauges are read")
        with self._lock:
            if name in self._reads or name in self._counts or name in self._gauges:
                raise ValueError(f"metric {name!r} already has a source")
            self._reads[name] = fn

    def snapshot(self, reset_latency: bool = True) -> dict:
        """``{"latency": {stage: {n, p50, p95, max}}, "counts": {...}, "gauges": {...}}``.

        Counts are cumulative since start; latency covers the samples since the last reset.
        """
        with self._lock:
            lat = {k: list(v) for k, v in self._lat.items()}
            if reset_latency:
                self._lat.clear()
            counts, gauges = dict(self._counts), dict(self._gauges)
            reads = dict(self._reads)
        for name, fn in reads.items():
            (counts if kind_of(name) == COUNT else gauges)[name] = fn()
        return {"latency": {k: summarise(v) for k, v in lat.items() if v}, "counts": counts, "gauges": gauges}


def summarise(values: list[float]) -> dict:
    a = np.asarray(values, dtype=float)
    return {"n": int(a.size), "p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)),
            "max": float(a.max())}
