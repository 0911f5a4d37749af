"""Dynamic Inference Mode as a table: each row is measured facts in, next mode out."""
import tomllib
from dataclasses import fields, replace

import pytest

from conftest import ROOT
from emocap import config
from emocap.emotion.mode import MODES, decide

# The shipped thresholds, made explicit so the table reads on its own: the step-up margin is
# 0.8 x 150 = 120 ms.
CFG = config.ModeConfig(idle_up=0.50, idle_down=0.20, deadline_ms=150.0, fit_share=0.8, dwell_s=10.0)


def next_mode(current, idle, p95, dwelt, cfg=CFG):
    return decide(current, idle, p95, dwelt, cfg)[0]


CASES = [
    # (why, current, idle share, emotion p95 ms measured per mode, seconds in mode, expected)
    ("plenty idle: small steps up", "small", 0.90, {"small": 5.0}, 60, "cascade"),
    ("plenty idle: cascade steps up", "cascade", 0.90, {"cascade": 5.0}, 60, "large"),
    ("plenty idle: large is the top", "large", 0.90, {"large": 5.0}, 60, "large"),
    ("busy: large steps down", "large", 0.10, {"large": 5.0}, 60, "cascade"),
    ("busy: cascade steps down", "cascade", 0.10, {"cascade": 5.0}, 60, "small"),
    ("busy: small is the floor", "small", 0.00, {"small": 5.0}, 60, "small"),
    ("saturated: one step at a time", "large", 0.00, {"large": 500.0}, 60, "cascade"),
    ("between thresholds: small holds", "small", 0.35, {"small": 5.0}, 60, "small"),
    ("between thresholds: cascade holds", "cascade", 0.35, {"cascade": 5.0}, 60, "cascade"),
    ("between thresholds: large holds", "large", 0.35, {"large": 5.0}, 60, "large"),
    ("exactly idle_up is not above it", "cascade", 0.50, {"cascade": 5.0}, 60, "cascade"),
    ("exactly idle_down is not below it", "cascade", 0.20, {"cascade": 5.0}, 60, "cascade"),
    ("dwell: busy but switched 9.9 s ago", "large", 0.00, {"large": 5.0}, 9.9, "large"),
    ("dwell: idle but switched 9.9 s ago", "small", 1.00, {"small": 5.0}, 9.9, "small"),
    ("dwell: over the deadline but switched 9.9 s ago", "large", 0.35, {"large": 400.0}, 9.9, "large"),
    ("dwell: exactly dwell_s allows a switch", "large", 0.00, {"large": 5.0}, 10.0, "cascade"),
    # the deadline, on CPUs of different speeds
    ("this machine: every mode ~10-30 ms, idle CPU: up to large", "cascade", 0.90,
     {"small": 10.0, "cascade": 25.0}, 60, "large"),
    ("slow CPU, cascade 80 ms within the 150 ms deadline: cascade kept", "cascade", 0.35, {"cascade": 80.0}, 60,
     "cascade"),
    ("slow CPU, cascade 80 ms kept, large measured 140 ms (over the 120 ms margin)", "cascade", 0.90,
     {"cascade": 80.0, "large": 140.0}, 60, "cascade"),
    ("slow CPU, cascade 80 ms, large untried: tried, as 80 fits the margin", "cascade", 0.90, {"cascade": 80.0}, 60,
     "large"),
    ("slower CPU, cascade 180 ms breaks the deadline even with idle CPU: small", "cascade", 0.90,
     {"cascade": 180.0}, 60, "small"),
    ("slower CPU, large 200 ms breaks the deadline: cascade", "large", 0.90, {"large": 200.0}, 60, "cascade"),
    ("slow CPU, small 80 ms, cascade untried: tried", "small", 0.90, {"small": 80.0}, 60, "cascade"),
    ("slow CPU, small 80 ms, cascade measured 100 ms: back up", "small", 0.90, {"small": 80.0, "cascade": 100.0},
     60, "cascade"),
    ("slower CPU, small 80 ms, cascade measured 180 ms: small kept", "small", 0.90,
     {"small": 80.0, "cascade": 180.0}, 60, "small"),
    ("small 130 ms: no margin to try cascade", "small", 0.90, {"small": 130.0}, 60, "small"),
    ("small 200 ms breaks the deadline: small is the floor", "small", 0.90, {"small": 200.0}, 60, "small"),
    ("exactly the deadline holds", "large", 0.35, {"large": 150.0}, 60, "large"),
    ("just over the deadline: step down", "large", 0.35, {"large": 150.1}, 60, "cascade"),
    ("mode above at exactly the margin: step up", "cascade", 0.90, {"cascade": 10.0, "large": 120.0}, 60, "large"),
    ("mode above just over the margin: stay", "cascade", 0.90, {"cascade": 10.0, "large": 120.1}, 60, "cascade"),
    ("current between margin and deadline, above untried: hold (hysteresis)", "cascade", 0.90,
     {"cascade": 130.0}, 60, "cascade"),
    ("busy CPU wins over a deadline that holds", "cascade", 0.10, {"cascade": 20.0}, 60, "small"),
    ("a slow mode above never blocks a step down", "cascade", 0.05, {"cascade": 5.0, "large": 400.0}, 60, "small"),
    ("the mode below has no say", "cascade", 0.35, {"cascade": 80.0, "small": 500.0}, 60, "cascade"),
    ("nothing measured yet: CPU decides up", "small", 0.90, {}, 60, "cascade"),
    ("nothing measured yet: CPU decides down", "large", 0.05, {}, 60, "cascade"),
    ("too few samples here, the mode above measured slow: stay", "cascade", 0.90, {"large": 400.0}, 60, "cascade"),
]


@pytest.mark.parametrize("why,current,idle,p95,dwelt,expected", CASES, ids=[c[0] for c in CASES])
def test_decision_table(why, current, idle, p95, dwelt, expected):
    assert next_mode(current, idle, p95, dwelt) == expected


def settle(latency: dict[str, float], start: str, idle: float = 0.9, seconds: int = 1200,
           memory_s: float = 300.0, cfg=CFG) -> list[tuple[int, str]]:
    """One decision a second on a CPU whose modes take ``latency`` ms (p95), with the monitor's
    memory of each mode's p95 when left; the (second, mode) of every switch."""
    mode, since, memory, visited = start, 0.0, {}, [(0, start)]
    for t in range(1, seconds + 1):
        since += 1
        known = {m: p for m, (p, when) in memory.items() if m != mode and t - when <= memory_s}
        new = next_mode(mode, idle, {**known, mode: latency[mode]}, since, cfg)
        if new != mode:
            memory[mode] = (latency[mode], t)
            mode, since = new, 0.0
            visited.append((t, mode))
    return visited


def test_slow_cpu_settles_in_cascade():
    """A Pi-like CPU: small 80 ms, cascade 140 ms, large 200 ms against a 150 ms deadline:
    large is left after one dwell and cascade holds for good (140 ms leaves no margin to retry)."""
    assert settle({"small": 80.0, "cascade": 140.0, "large": 200.0}, "large") == [(0, "large"), (10, "cascade")]


def test_large_is_retried_once_per_memory_when_cascade_has_margin():
    """cascade 100 ms is within the 120 ms margin, so large (200 ms) is tried again, for one
    dwell, each time its measurement is forgotten (300 s): it never flaps faster than that."""
    visited = settle({"small": 80.0, "cascade": 100.0, "large": 200.0}, "large", seconds=1000)
    assert visited == [(0, "large"), (10, "cascade"), (311, "large"), (321, "cascade"), (622, "large"),
                       (632, "cascade"), (933, "large"), (943, "cascade")]


def test_slower_cpu_settles_in_small():
    visited = settle({"small": 80.0, "cascade": 180.0, "large": 250.0}, "large")
    assert [m for _, m in visited[:3]] == ["large", "cascade", "small"]
    assert visited[3][1] == "cascade" and visited[3][0] >= visited[2][0] + 300  # retried only after the memory


def test_fast_cpu_climbs_to_large_and_stays():
    assert settle({"small": 10.0, "cascade": 25.0, "large": 26.0}, "small") == [(0, "small"), (10, "cascade"),
                                                                                  (20, "large")]


@pytest.mark.parametrize("current", MODES)
def test_static_mode_never_switches(current):
    static = replace(CFG, dynamic=False)
    assert next_mode(current, 0.0, {current: 999.0}, 1e6, static) == current
    assert next_mode(current, 1.0, {}, 1e6, static) == current


def test_reason_names_the_measurement_and_threshold():
    assert decide("large", 0.12, {"large": 5.0}, 60, CFG) == ("cascade", "cpu idle 0.12 < 0.2")
    assert decide("large", 0.9, {"large": 200.0}, 60, CFG) == ("cascade", "emotion p95 200.0 ms > deadline 150 ms")
    assert decide("small", 0.9, {}, 60, CFG) == ("cascade", "cpu idle 0.90 > 0.5")
    assert decide("small", 0.9, {"small": 80.0}, 60, CFG) == (
        "cascade", "cpu idle 0.90 > 0.5, small p95 80.0 ms <= 120 ms, cascade untried")
    assert decide("small", 0.9, {"small": 80.0, "cascade": 100.0}, 60, CFG) == (
        "cascade", "cpu idle 0.90 > 0.5, cascade p95 100.0 ms <= 120 ms")
    assert decide("small", 0.35, {"small": 5.0}, 60, CFG) == ("small", "")


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="medium"):
        next_mode("medium", 0.5, {}, 60)


def simulate(start: str, idles: list[float], step_s: float = 1.0, cfg=CFG) -> list[str]:
    """Feed one idle share per step, as the monitor would; the modes after each step."""
    mode, since, out = start, 0.0, []
    for idle in idles:
        since += step_s
        new = next_mode(mode, idle, {mode: 5.0}, since, cfg)
        if new != mode:
            mode, since = new, 0.0
        out.append(mode)
    return out


def switches(modes: list[str], start: str) -> int:
    return sum(a != b for a, b in zip([start] + modes, modes))


SEQUENCES = [
    # (why, start, idle shares one per second, expected modes visited in order)
    ("jitter around idle_up climbs once per dwell and never falls back", "small",
     [0.49, 0.51] * 30, ["small", "cascade", "large"]),
    ("jitter around idle_down falls once per dwell and never climbs back", "large",
     [0.19, 0.21] * 30, ["large", "cascade", "small"]),
    ("load between thresholds holds the mode", "cascade", [0.25, 0.45, 0.3, 0.49, 0.21] * 12, ["cascade"]),
    ("a 5 s spike shorter than the dwell after a switch is ignored", "small",
     [0.9] * 10 + [0.0] * 5 + [0.9] * 20, ["small", "cascade", "large"]),
    ("hog then recovery: down two steps, then up two steps", "large",
     [0.0] * 25 + [0.9] * 25, ["large", "cascade", "small", "cascade", "large"]),
]


@pytest.mark.parametrize("why,start,idles,visited", SEQUENCES, ids=[s[0] for s in SEQUENCES])
def test_no_flapping(why, start, idles, visited):
    modes = simulate(start, idles)
    seen = [start] + [b for a, b in zip([start] + modes, modes) if a != b]
    assert seen == visited
    # Never more than one switch per dwell: the gaps between switches are all >= dwell_s.
    at = [i for i, (a, b) in enumerate(zip([start] + modes, modes)) if a != b]
    assert all(b - a >= CFG.dwell_s for a, b in zip(at, at[1:]))


def test_hog_steps_down_within_two_dwells():
    modes = simulate("large", [0.0] * 21)
    assert modes[9] == "cascade" and modes[19] == "small"
    assert modes[8] == "large" and modes[18] == "cascade"


@pytest.mark.parametrize("key,value", [("fit_share", 1.5), ("min_samples", 0), ("deadline_ms", 0.0)])
def test_config_names_a_bad_mode_key(tmp_path, key, value):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f"[mode]\n{key} = {value}\n")
    with pytest.raises(config.ConfigError, match=rf"\[mode\] {key}"):
        config.load(cfg, check_files=False)


@pytest.mark.parametrize("section,cls", [("mode", config.ModeConfig), ("perf", config.PerfConfig)])
def test_shipped_config_mirrors_every_field(section, cls):
    """config.toml documents every key of these sections, with the dataclass defaults."""
    raw = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))[section]
    assert set(raw) == {f.name for f in fields(cls)}
    assert cls(**raw) == cls()
