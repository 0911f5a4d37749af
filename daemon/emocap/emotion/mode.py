"""Dynamic Inference Mode: which emotion model to run, as a pure function of measured facts.

Modes are ordered by cost: ``small`` (small model only) < ``cascade`` (small, re-run on the
large model when unsure) < ``large`` (large model always). The decision moves one step at a
time and only after ``dwell_s`` in the current mode; stepping up needs clearly more idle CPU
(``idle_up``) than stepping down tolerates (``idle_down``), so a load hovering near either
threshold cannot make it flap.
"""
from __future__ import annotations

from emocap.config import ModeConfig

MODES = ("small", "cascade", "large")


def decide(current: str, idle_share: float, latency_p95_ms: float | None, seconds_in_mode: float,
           cfg: ModeConfig, upper_latency_p95_ms: float | None = None) -> tuple[str, str]:
    """The next mode and why, as ``(mode, reason)``; ``reason`` is "" when the mode stays.

    ``idle_share``: idle share of all CPUs over the last window, 0..1.
    ``latency_p95_ms``: recent emotion latency p95, or None when nothing was classified.
    ``upper_latency_p95_ms``: the p95 last measured in the mode above, while still remembered
    (``latency_memory_s``), else None. The current mode's latency says little about the
    next one's, so without this a mode too slow for ``latency_down_ms`` would be re-entered
    every other dwell.
    """
    if current not in MODES:
        raise ValueError(f"unknown mode {current!r}; expected one of {MODES}")
    i = MODES.index(current)
    if not cfg.dynamic or seconds_in_mode < cfg.dwell_s:
        return current, ""
    slow = latency_p95_ms is not None and latency_p95_ms > cfg.latency_down_ms
    if i > 0 and (idle_share < cfg.idle_down or slow):
        why = (f"latency p95 {latency_p95_ms:.1f} ms > {cfg.latency_down_ms:g} ms" if slow
               else f"cpu idle {idle_share:.2f} < {cfg.idle_down:g}")
        return MODES[i - 1], why
    quick = latency_p95_ms is None or latency_p95_ms < cfg.latency_up_ms
    upper_ok = upper_latency_p95_ms is None or upper_latency_p95_ms <= cfg.latency_down_ms
    if i < len(MODES) - 1 and idle_share > cfg.idle_up and quick and upper_ok:
        return MODES[i + 1], f"cpu idle {idle_share:.2f} > {cfg.idle_up:g}"
    return current, ""


def next_mode(current: str, idle_share: float, latency_p95_ms: float | None, seconds_in_mode: float,
              cfg: ModeConfig, upper_latency_p95_ms: float | None = None) -> str:
    """The mode to run next (see :func:`decide`)."""
    return decide(current, idle_share, latency_p95_ms, seconds_in_mode, cfg, upper_latency_p95_ms)[0]
