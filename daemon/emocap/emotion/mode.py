"""Dynamic Inference Mode: which emotion model to run, as a pure function of measured facts.

Modes are ordered by CPU cost: ``small`` (small model only) < ``cascade`` (small, re-run on
the large model when unsure) < ``large`` (large model always). The budget is ``deadline_ms``,
the emotion's share of the caption deadline (end of speech -> caption = Vosk's endpoint
silence + decoding + the emotion; the emotion is the part the mode controls). Per decision:

- down one step when the CPU is busy (idle share below ``idle_down``) or the current mode's
  measured emotion p95 breaks ``deadline_ms``;
- up one step when the CPU has room (above ``idle_up``) and the mode above fits with margin:
  its p95 as last measured there is at most ``fit_share`` x ``deadline_ms``. A mode above never
  measured (or forgotten) is tried only if the current one fits with that margin itself; the
  down rule ends the trial if it breaks the deadline;
- at most one step per ``dwell_s``.

Hysteresis on both axes (``idle_down`` < ``idle_up``; entering needs ``fit_share`` of the
deadline, leaving needs the whole deadline broken), so a load near a threshold cannot flap.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:  # config imports MODES from here
    from emocap.config import ModeConfig

MODES = ("small", "cascade", "large")


def decide(current: str, idle_share: float, p95_ms: Mapping[str, float], seconds_in_mode: float,
           cfg: ModeConfig) -> tuple[str, str]:
    """The next mode and why, as ``(mode, reason)``; ``reason`` is "" when the mode stays.

    ``idle_share``: idle share of all CPUs over the last window, 0..1.
    ``p95_ms``: the emotion latency p95 measured per mode, for the modes where it is known:
    the current mode's from its recent utterances (once there are enough of them), the
    others' as last measured there (while still remembered).
    """
    if current not in MODES:
        raise ValueError(f"unknown mode {current!r}; expected one of {MODES}")
    if not cfg.dynamic or seconds_in_mode < cfg.dwell_s:
        return current, ""
    i = MODES.index(current)
    if i > 0:
        why = _down_reason(current, idle_share, p95_ms.get(current), cfg)
        if why:
            return MODES[i - 1], why
    if i + 1 < len(MODES) and idle_share > cfg.idle_up:
        why = _fit_reason(current, MODES[i + 1], p95_ms, cfg)
        if why is not None:
            return MODES[i + 1], f"cpu idle {idle_share:.2f} > {cfg.idle_up:g}{why}"
    return current, ""


def _down_reason(current: str, idle_share: float, own: float | None, cfg: ModeConfig) -> str:
    if idle_share < cfg.idle_down:
        return f"cpu idle {idle_share:.2f} < {cfg.idle_down:g}"
    if own is not None and own > cfg.deadline_ms:
        return f"emotion p95 {own:.1f} ms > deadline {cfg.deadline_ms:g} ms"
    return ""


def _fit_reason(current: str, upper: str, p95_ms: Mapping[str, float], cfg: ModeConfig) -> str | None:
    """Why ``upper`` may be entered on latency ("" when nothing is measured yet), None if not."""
    budget = cfg.fit_share * cfg.deadline_ms
    if upper in p95_ms:
        return f", {upper} p95 {p95_ms[upper]:.1f} ms <= {budget:g} ms" if p95_ms[upper] <= budget else None
    own = p95_ms.get(current)
    if own is None:
        return ""  # nothing measured yet: the CPU alone decides
    return f", {current} p95 {own:.1f} ms <= {budget:g} ms, {upper} untried" if own <= budget else None
