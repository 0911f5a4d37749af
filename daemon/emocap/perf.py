"""Performance log: one record per interval to a rotated JSON-lines file and to journald.

Records are built from a Meter snapshot; ``emocap/metrics.py`` names every metric with its
kind and unit. A record holds each latency stage's summary over the interval, the interval's
increase of each recorded count (counts only grow, so records can be summed across restarts
and rotations), ``frames_dropped_total`` (since start) and each recorded gauge.

The JSON-lines file is always written; journald gets the same facts as upper-case fields
(``journalctl -u emocap -o json``); where journald is absent a one-line summary goes to
stderr instead. A failing log never stops the service: the failure (an unwritable folder
at start, a full disk later) is reported once, every record tries again, and the return is
reported too. A write cut short by a full disk is undone, so the file holds whole lines only.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, TextIO

from emocap.config import PerfConfig
from emocap.errors import ConfigError
from emocap.metrics import COUNT, GAUGE, named

COUNTERS = named(COUNT, recorded_only=True)
GAUGES = named(GAUGE, recorded_only=True)
JOURNAL_SOCKET = Path("/run/systemd/journal/socket")
IDENTIFIER = "emocap"
MESSAGE_STAGES = ("emotion", "caption")  # the MESSAGE line names these; the fields hold every stage


def perf_record(snap: dict, prev: dict[str, int], **facts: Any) -> dict:
    """The record of one interval: ``facts`` (mode, cpu, rss, times) plus the meter's view.

    ``prev`` holds the counts at the previous record (``counters``).
    """
    rec: dict[str, Any] = {"event": "perf", **facts}
    rec["latency_ms"] = {k: {"n": v["n"], **{q: round(v[q], 3) for q in ("p50", "p95", "max")}}
                         for k, v in sorted(snap["latency"].items())}
    now = counters(snap)
    rec.update({name: now[name] - prev.get(name, 0) for name in COUNTERS})
    rec["frames_dropped_total"] = now["frames_dropped"]
    rec.update({name: round(float(snap["gauges"].get(name, 0.0)), 4) for name in GAUGES})
    return rec


def counters(snap: dict) -> dict[str, int]:
    """The recorded counts of a Meter snapshot, 0 for one not counted yet."""
    return {name: int(snap["counts"].get(name, 0)) for name in COUNTERS}


def journal_fields(rec: dict) -> dict[str, str]:
    """Upper-case journald fields: ``LATENCY_EMOTION_P95_MS``, ``MODE``, ``RSS_MB``, ..."""
    out = {}
    for key, value in rec.items():
        if key == "latency_ms":
            for stage, s in value.items():
                name = re.sub(r"[^A-Z0-9]+", "_", stage.upper())
                out[f"LATENCY_{name}_N"] = str(s["n"])
                out.update({f"LATENCY_{name}_{q.upper()}_MS": str(s[q]) for q in ("p50", "p95", "max")})
        elif isinstance(value, (str, int, float)):
            out[re.sub(r"[^A-Z0-9]+", "_", key.upper())] = str(value)
    return out


def message(rec: dict) -> str:
    """The human line of a record (journald MESSAGE, stderr fallback)."""
    if rec["event"] == "mode":
        return f"mode {rec['mode_from']} -> {rec['mode_to']}: {rec['reason']}"
    lat = rec["latency_ms"]
    parts = [f"perf mode={rec.get('mode')}"]
    parts += [f"{stage} p95={lat[stage]['p95']:.1f}ms" for stage in MESSAGE_STAGES if stage in lat]
    parts += [f"cpu={rec.get('cpu_percent', 0):.0f}% idle={rec.get('cpu_idle', 0):.2f}",
              f"rss={rec.get('rss_mb', 0):.0f}MB", f"dropped={rec['frames_dropped']}",
              f"captions={rec['captions']}"]
    return " ".join(parts)


class RotatingJsonLines:
    """Appends JSON lines; beyond ``max_bytes`` the file becomes ``.1`` (``.1`` -> ``.2``, ...)."""

    def __init__(self, path: str | Path, max_bytes: int, backups: int):
        self.path = Path(path).expanduser()
        self.max_bytes, self.backups = max_bytes, backups
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8"):
                pass
        except OSError as e:
            raise ConfigError(f"[perf] log_path: cannot write {self.path} ({e.strerror})") from None

    def write(self, obj: dict) -> None:
        data = (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8")
        size = self.path.stat().st_size if self.path.exists() else 0
        if size and size + len(data) > self.max_bytes:
            self._rotate()
            size = self.path.stat().st_size if self.path.exists() else 0
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            if os.write(fd, data) != len(data):
                raise OSError(errno.ENOSPC, "No space left on device (short write)")
        except OSError:
            with contextlib.suppress(OSError):  # a full disk leaves no half line for the next record
                os.ftruncate(fd, size)
            raise
        finally:
            os.close(fd)

    def _rotate(self) -> None:
        if self.backups == 0:
            self.path.unlink(missing_ok=True)
            return
        for i in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{i}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{i + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))


def open_journal(enabled: bool):
    """systemd.journal when it is wanted, importable and its socket exists; else None."""
    if not enabled or not JOURNAL_SOCKET.exists():
        return None
    try:
        from systemd import journal
    except ImportError:
        return None
    return journal


class PerfLog:
    """Writes records and mode switches to the local log, and journald or else ``stream``.

    ``journal``: "auto" (systemd.journal where present and enabled), a journal, or None.
    ``stream``: the fallback for journald, stderr by default; None for the local log alone
    (``emocap replay``, whose stderr belongs to the user).
    """

    def __init__(self, cfg: PerfConfig, journal: Any = "auto", stream: TextIO | None = sys.stderr):
        self.cfg = cfg
        self.journal = open_journal(cfg.journald) if journal == "auto" else journal
        self.stream = stream
        self._failed: set[str] = set()
        self.file: RotatingJsonLines | None = None
        self._guard("local log", lambda _: self._open(), {})  # an unwritable folder is retried, not fatal

    def _open(self) -> RotatingJsonLines:
        if self.file is None:
            self.file = RotatingJsonLines(self.cfg.log_path, self.cfg.log_max_bytes, self.cfg.log_backups)
        return self.file

    def write(self, rec: dict) -> None:
        self._guard("local log", lambda r: self._open().write(r), rec)
        if self.journal is None or not self._guard("journald", self._send, rec):
            if self.stream is not None:
                self._guard("stderr", lambda r: print(f"emocap: {message(r)}", file=self.stream, flush=True), rec)

    def _send(self, rec: dict) -> None:
        priority = "5" if rec["event"] == "mode" else "6"  # notice for switches, info for records
        self.journal.send(MESSAGE=message(rec), SYSLOG_IDENTIFIER=IDENTIFIER, PRIORITY=priority,
                          **journal_fields(rec))

    def _guard(self, where: str, fn, rec: dict) -> bool:
        """Run one output; report its failure once (and its recovery) and keep the others going."""
        try:
            fn(rec)
        except (OSError, ValueError, ConfigError) as e:
            if where not in self._failed:
                self._failed.add(where)
                print(f"emocap: performance log to {where} failed ({e}); continuing without it, "
                      "retrying with each record", file=sys.stderr, flush=True)
            return False
        if where in self._failed:
            self._failed.discard(where)
            print(f"emocap: performance log to {where} works again", file=sys.stderr, flush=True)
        return True
