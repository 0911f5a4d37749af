"""Timing one call repeatedly: the benchmarks' single stopwatch (bench.py and peers.py)."""
from __future__ import annotations

import time

import numpy as np


def timed(fn, runs: int, warmup: int = 20) -> dict:
    """p50/p95/max of ``fn()`` in milliseconds over ``runs`` calls after ``warmup``."""
    for _ in range(warmup):
        fn()
    ms = np.empty(runs)
    for i in range(runs):
        t0 = time.perf_counter_ns()
        fn()
        ms[i] = (time.perf_counter_ns() - t0) / 1e6
    return {"p50": round(float(np.percentile(ms, 50)), 4), "p95": round(float(np.percentile(ms, 95)), 4),
            "max": round(float(ms.max()), 4)}
