"""Fuzzing the config loader with hypothesis: random text as config.toml, and random TOML
values (and values around each key's range) for every key of every section. The loader
either returns a config whose values are what the key allows, or raises ConfigError with one
line naming the file and the key; never another exception. A few cases go through the CLI's
``check-config`` as well, which must answer 0 or 2 with one line."""
import dataclasses
import datetime
import math
from pathlib import Path
from typing import get_type_hints

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emocap import cli, config
from emocap.errors import ConfigError

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SECTIONS = [f.name for f in dataclasses.fields(config.Config) if f.name != "source"]
KEYS = [(s, f) for s in SECTIONS for f in dataclasses.fields(get_type_hints(config.Config)[s])]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz_config")


def toml(v) -> str:
    """A TOML literal for a value tomllib can hold."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, (int, datetime.date, datetime.time)):
        return v.isoformat() if not isinstance(v, int) else str(v)
    if isinstance(v, str):
        return '"' + "".join(f"\\u{ord(c):04x}" if c < " " or c in '"\\\x7f' else c for c in v) + '"'
    if isinstance(v, list):
        return "[" + ", ".join(toml(x) for x in v) + "]"
    return "{" + ", ".join(f"{toml(k)} = {toml(x)}" for k, x in v.items()) + "}"


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
SCALARS = st.one_of(st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                    TEXT, st.dates(), st.datetimes(), st.times())
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(TEXT, inner, max_size=3)), max_leaves=6)


def near_range(f: dataclasses.Field) -> st.SearchStrategy:
    """Values a key nearly allows: around its bounds, its choices, its default's type."""
    default = f.default_factory() if f.default is dataclasses.MISSING else f.default
    m, out = f.metadata, [st.just(default)]
    if isinstance(default, dict):  # its own keys, with random values, some of them left out
        out.append(st.dictionaries(st.sampled_from(sorted(default)), st.one_of(TEXT, VALUES)))
    if m.get("lo") is not None or m.get("hi") is not None:
        lo, hi = m.get("lo") or 0, m.get("hi") or 1e9
        out += [st.floats(lo - 1, hi + 1), st.integers(int(lo) - 2, int(hi) + 2), st.sampled_from([lo, hi])]
    if m.get("choices"):
        out.append(st.sampled_from(list(m["choices"])))
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        out.append(st.sampled_from([math.nan, math.inf, -math.inf, 2**63 - 1]))
    if isinstance(default, str):
        out.append(st.builds(lambda a, b: f"{a}\0{b}", TEXT, TEXT))
    return st.one_of(out)


def load(folder: Path, text: str):
    """config.load of this text: the config, or None after a proper ConfigError (checked)."""
    path = folder / "emocap.toml"
    path.write_text(text, encoding="utf-8")
    try:
        return config.load(path)
    except ConfigError as e:
        msg = str(e)
        assert "\n" not in msg and msg.startswith(f"{path.resolve()}: "), msg
        return msg


def allowed(f: dataclasses.Field, value) -> bool:
    """Whether a loaded value is one its key allows."""
    m = f.metadata
    if isinstance(value, float) and not math.isfinite(value):
        return False
    if m.get("choices") and value not in m["choices"]:
        return False
    if m.get("lo") is not None and value < m["lo"] or m.get("hi") is not None and value > m["hi"]:
        return False
    return not isinstance(value, str) or "\x00" not in value


CLASSIC = [math.nan, math.inf, -math.inf, 2**63 - 1, -2**63, "", "x\0y", [], {}, True, 0.5, datetime.date(2024, 1, 1)]


@pytest.mark.parametrize("key", KEYS, ids=[f"{s}.{f.name}" for s, f in KEYS])
def test_every_key_with_the_usual_bad_values(folder, key):
    section, f = key
    for value in CLASSIC:
        out = load(folder, f"[{section}]\n{f.name} = {toml(value)}\n")
        if isinstance(out, str):
            assert f.name in out, out
        else:
            assert allowed(f, getattr(getattr(out, section), f.name)), f"[{section}] {f.name} = {value!r} accepted"


@FUZZ
@given(text=st.text(max_size=300))
def test_random_text(folder, text):
    load(folder, text)


@FUZZ
@given(key=st.sampled_from(KEYS), data=st.data())
def test_random_values_for_every_key(folder, key, data):
    section, f = key
    value = data.draw(st.one_of(VALUES, near_range(f)), label=f"[{section}] {f.name}")
    out = load(folder, f"[{section}]\n{f.name} = {toml(value)}\n")
    if isinstance(out, str):
        assert f.name in out, f"the error does not name [{section}] {f.name}: {out}"
    else:
        assert allowed(f, getattr(getattr(out, section), f.name)), f"[{section}] {f.name} = {value!r} accepted"


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(KEYS), data=st.data())
def test_check_config_answers_in_one_line(folder, capsys, key, data):
    section, f = key
    value = data.draw(st.one_of(VALUES, near_range(f)))
    path = folder / "cli.toml"
    path.write_text(f"[{section}]\n{f.name} = {toml(value)}\n", encoding="utf-8")
    rc = cli.main(["check-config", str(path)])
    out, err = capsys.readouterr()
    assert (rc, err) == (0, "") or (rc == 2 and out == "" and err.count("\n") == 1 and f.name in err), (rc, err)
