"""Reading a config file into the frozen sections emocap/config.py declares.

TOML errors, unknown sections and keys, and every value (emocap/config_values.py) end in one
ConfigError line naming file, key and expectation; a path key left out names the file installed
with emocap. The loader knows no section by name: the root dataclass lists them.
"""
from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any, get_type_hints

from emocap import paths
from emocap.config_values import check
from emocap.errors import ConfigError


def _section(cls: type, name: str, raw: dict, file: Path) -> Any:
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in raw.items():
        where = f"{file}: [{name}] {key}"
        if key not in fields:
            raise ConfigError(f"{where}: unknown key; expected one of {sorted(fields)}")
        values[key] = check(where, fields[key], hints[key], value, file.parent)
    for key, f in fields.items():  # a path left out means the file installed with emocap
        if key not in values and f.metadata.get("path") and f.default:
            values[key] = check(f"{file}: [{name}] {key}", f, hints[key], f.default, paths.SHARE)
    return cls(**values)


def _toml(file: Path, origin: str) -> dict:
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such config file (named by {origin})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{file}: not valid TOML ({e})") from None


def read(root: type, path: str | Path | None = None) -> Any:
    """``root`` (a dataclass of sections plus ``source``) from ``path``, else paths.config_file()."""
    file, origin = paths.config_file(path)
    file = file.expanduser().resolve()
    raw = _toml(file, origin)
    hints = get_type_hints(root)
    sections = {f.name for f in dataclasses.fields(root) if f.name != "source"}
    values = {}
    for name, table in raw.items():
        if name not in sections:
            raise ConfigError(f"{file}: unknown section [{name}]; expected one of {sorted(sections)}")
        if not isinstance(table, dict):
            raise ConfigError(f"{file}: {name} must be a [{name}] table")
        values[name] = _section(hints[name], name, table, file)
    for name in sections:
        values.setdefault(name, _section(hints[name], name, {}, file))
    return root(**values, source=file)
