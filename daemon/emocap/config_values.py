"""One config value checked against its field: type, choices, range; paths made absolute.
(emocap/config_load.py calls it for each key of each section; the errors name file, key and expectation.)"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

from emocap.errors import ConfigError

_TYPES = {int: (int,), float: (int, float), bool: (bool,), str: (str,), dict: (dict,)}


def check(where: str, f: dataclasses.Field, typ: type, value: Any, base: Path) -> Any:
    if typ is not bool and isinstance(value, bool) or not isinstance(value, _TYPES[typ]):
        raise ConfigError(f"{where}: expected {typ.__name__}, got {type(value).__name__} {value!r}")
    if isinstance(value, float) and not math.isfinite(value) or isinstance(value, str) and "\0" in value:  # nan passes ranges
        raise ConfigError(f"{where}: expected {'a finite number' if typ is float else 'text without NUL'}, got {value!r}")
    m = f.metadata
    if m.get("choices") and value not in m["choices"]:
        raise ConfigError(f"{where}: expected one of {list(m['choices'])}, got {value!r}")
    if m.get("lo") is not None and value < m["lo"] or m.get("hi") is not None and value > m["hi"]:
        raise ConfigError(f"{where}: expected {m['lo']}..{m['hi']}, got {value!r}")
    if typ is float:
        value = float(value)
    if m.get("path") and value:
        p = Path(value).expanduser()
        value = str(p if p.is_absolute() else (base / p).resolve())
    return value
