"""Dynamic Inference Mode as a table: each row is measured facts in, next mode out."""
import tomllib
from dataclasses import fields, replace

import pytest

from emocap import config
from emocap.emotion.mode import MODES, decide, next_mode

# The shipped thresholds, made explicit so the table reads on its own.
CFG = config.ModeConfig(idle_up=0.50, idle_down=0.20, latency_down_ms=150.0, latency_up_ms=75.0, dwell_s=10.0)

CASES = [
    # (why, current, idle share, latency p95 ms, seconds in mode, expected)
    ("plenty idle: small steps up", "small", 0.90, 5.0, 60, "cascade"),
    ("plenty idle: cascade steps up", "cascade", 0.90, 5.0, 60, "large"),
    ("plenty idle: large is the top", "large", 0.90, 5.0, 60, "large"),
    ("busy: large steps down", "large", 0.10, 5.0, 60, "cascade"),
    ("busy: cascade steps down", "cascade", 0.10, 5.0, 60, "small"),
    ("busy: small is the floor", "small", 0.00, 5.0, 60, "small"),
    ("saturated: one step at a time", "large", 0.00, 500.0, 60, "cascade"),
    ("between thresholds: small holds", "small", 0.35, 5.0, 60, "small"),
    ("between thresholds: cascade holds", "cascade", 0.35, 5.0, 60, "cascade"),
    ("between thresholds: large holds", "large", 0.35, 5.0, 60, "large"),
    ("exactly idle_up is not above it", "cascade", 0.50, 5.0, 60, "cascade"),
    ("exactly idle_down is not below it", "cascade", 0.20, 5.0, 60, "cascade"),
    ("dwell: busy but switched 9.9 s ago", "large", 0.00, 5.0, 9.9, "large"),
    ("dwell: idle but switched 9.9 s ago", "small", 1.00, 5.0, 9.9, "small"),
    ("dwell: exactly dwell_s allows a switch", "large", 0.00, 5.0, 10.0, "cascade"),
    ("slow despite idle CPU: step down", "large", 0.90, 151.0, 60, "cascade"),
    ("slow despite idle CPU: cascade down", "cascade", 0.90, 151.0, 60, "small"),
    ("exactly latency_down_ms is not slow", "large", 0.35, 150.0, 60, "large"),
    ("latency between up and down guards: no step up", "cascade", 0.90, 100.0, 60, "cascade"),
    ("latency just under latency_up_ms: step up", "cascade", 0.90, 74.9, 60, "large"),
    ("nothing classified yet: CPU decides up", "small", 0.90, None, 60, "cascade"),
    ("nothing classified yet: CPU decides down", "large", 0.05, None, 60, "cascade"),
]


@pytest.mark.parametrize("why,current,idle,lat,dwelt,expected", CASES, ids=[c[0] for c in CASES])
def test_next_mode(why, current, idle, lat, dwelt, expected):
    assert next_mode(current, idle, lat, dwelt, CFG) == expected


MEMORY_CASES = [
    # (why, current, idle, latency p95 ms, p95 remembered from the mode above, expected)
    ("the mode above was too slow: stay, however idle", "cascade", 0.95, 5.0, 151.0, "cascade"),
    ("the mode above was slow from small too", "small", 0.95, 5.0, 400.0, "small"),
    ("the mode above was exactly at latency_down_ms: step up", "cascade", 0.95, 5.0, 150.0, "large"),
    ("the mode above was fine: step up", "small", 0.95, 5.0, 20.0, "cascade"),
    ("a slow memory never blocks a step down", "cascade", 0.05, 5.0, 400.0, "small"),
]


@pytest.mark.parametrize("why,current,idle,lat,upper,expected", MEMORY_CASES, ids=[c[0] for c in MEMORY_CASES])
def test_remembered_latency_of_the_mode_above(why, current, idle, lat, upper, expected):
    assert next_mode(current, idle, lat, 60, CFG, upper) == expected


def test_latency_guard_with_memory_does_not_flap():
    """large is too slow (40 ms > 30) while cascade is quick (10 ms): without the memory the
    mode would go back up every other dwell; with it, it settles in cascade."""
    cfg = replace(CFG, latency_down_ms=30.0, latency_up_ms=20.0)
    latency = {"small": 5.0, "cascade": 10.0, "large": 40.0}
    mode, since, memory, visited = "cascade", 0.0, {}, ["cascade"]
    for _ in range(120):  # one decision a second, the CPU idle throughout
        since += 1
        upper = memory.get(MODES[MODES.index(mode) + 1]) if mode != "large" else None
        new = next_mode(mode, 0.9, latency[mode], since, cfg, upper)
        if new != mode:
            memory[mode] = latency[mode]
            mode, since = new, 0.0
            visited.append(mode)
    assert visited == ["cascade", "large", "cascade"]


@pytest.mark.parametrize("current", MODES)
def test_static_mode_never_switches(current):
    static = replace(CFG, dynamic=False)
    assert next_mode(current, 0.0, 999.0, 1e6, static) == current
    assert next_mode(current, 1.0, None, 1e6, static) == current


def test_reason_names_the_measurement_and_threshold():
    assert decide("large", 0.12, 5.0, 60, CFG) == ("cascade", "cpu idle 0.12 < 0.2")
    assert decide("large", 0.9, 200.0, 60, CFG) == ("cascade", "latency p95 200.0 ms > 150 ms")
    assert decide("small", 0.9, 5.0, 60, CFG) == ("cascade", "cpu idle 0.90 > 0.5")
    assert decide("small", 0.35, 5.0, 60, CFG) == ("small", "")


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="medium"):
        next_mode("medium", 0.5, None, 60, CFG)


def simulate(start: str, idles: list[float], step_s: float = 1.0, cfg=CFG) -> list[str]:
    """Feed one idle share per step, as the monitor would; the modes after each step."""
    mode, since, out = start, 0.0, []
    for idle in idles:
        since += step_s
        new = next_mode(mode, idle, 5.0, since, cfg)
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


def test_config_refuses_inverted_latency_thresholds(tmp_path):
    root = config.ROOT
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[emotion]\nsmall_model = "{root}/models/small.onnx"\nlarge_model = "{root}/models/large.onnx"\n'
                   "[mode]\nlatency_up_ms = 200.0\nlatency_down_ms = 150.0\n")
    with pytest.raises(config.ConfigError, match=r"\[mode\] latency_up_ms: expected at most latency_down_ms"):
        config.load(cfg)


@pytest.mark.parametrize("section,cls", [("mode", config.ModeConfig), ("perf", config.PerfConfig)])
def test_shipped_config_mirrors_every_field(section, cls):
    """config.toml documents every key of these sections, with the dataclass defaults."""
    raw = tomllib.loads(config.DEFAULT_CONFIG.read_text(encoding="utf-8"))[section]
    assert set(raw) == {f.name for f in fields(cls)}
    assert cls(**raw) == cls()
