"""The transcript on disk: JSON lines, one final caption a line, bounded in size and age.

Files: the active one, ``PATH`` (e.g. ``transcript.jsonl``), and rotated ones beside it,
``transcript.<UTC time of rotation>.jsonl``, whose names sort in time order. The active file
is rotated when it would pass a quarter of ``max_mb`` or when its first entry is more than a
day old (so a rotated file spans at most a day and age pruning is per day). After each
rotation, and when a store opens, rotated files last written more than ``keep_days`` ago are
deleted, then the oldest while all files together could exceed ``max_mb``. Nothing is ever
truncated: a restart appends to the same active file.
"""
from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

SEGMENTS = 4
"""The active file rotates at max_bytes / SEGMENTS, so the bound holds to about one segment."""
ROTATE_AGE_S = 86400.0


def rotated_files(path: Path) -> list[Path]:
    """Rotated files of the transcript at ``path``, oldest first."""
    return sorted(p for p in path.parent.glob(f"{path.stem}.*{path.suffix}") if p != path)


def all_files(path: Path) -> list[Path]:
    """Every transcript file, oldest first (the active one last)."""
    return rotated_files(path) + ([path] if path.is_file() else [])


def wall_iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds")


def wall_s(entry: dict) -> float:
    return datetime.fromisoformat(entry["wall"]).timestamp()


class Store:
    """Appends entries to the active file; rotates and prunes. Raises OSError on disk errors
    (the writer thread turns them into one log line)."""

    def __init__(self, path: Path, max_bytes: int, keep_s: float, clock: Callable[[], float] = time.time) -> None:
        self.path, self.max_bytes, self.keep_s, self._clock = Path(path), max_bytes, keep_s, clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._first = self._first_wall()
        self.prune()

    def append(self, entry: dict) -> None:
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        if self._due(len(line)):
            self._rotate()
            self.prune()
        with open(self.path, "ab") as f:  # opened per entry: a file removed by hand is recreated
            f.write(line)
        if self._first is None:
            self._first = wall_s(entry)

    def prune(self) -> None:
        now = self._clock()
        old = rotated_files(self.path)
        for p in [p for p in old if now - p.stat().st_mtime > self.keep_s]:
            p.unlink(missing_ok=True)
            old.remove(p)
        # Rotated files get all but one segment: the active file grows into that one.
        total = sum(p.stat().st_size for p in old)
        while old and total > self.max_bytes - self.max_bytes // SEGMENTS:
            victim = old.pop(0)
            total -= victim.stat().st_size
            victim.unlink(missing_ok=True)

    def _due(self, adding: int) -> bool:
        size = self.path.stat().st_size if self.path.is_file() else 0
        if size == 0:
            return False
        too_big = size + adding > self.max_bytes // SEGMENTS
        too_old = self._first is not None and self._clock() - self._first > ROTATE_AGE_S
        return too_big or too_old

    def _rotate(self) -> None:
        stamp = datetime.fromtimestamp(self._clock(), timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        target = self.path.with_name(f"{self.path.stem}.{stamp}{self.path.suffix}")
        n = 1
        while target.exists():  # two rotations within a microsecond of the (test) clock
            target = self.path.with_name(f"{self.path.stem}.{stamp}-{n}{self.path.suffix}")
            n += 1
        os.replace(self.path, target)
        self._first = None

    def _first_wall(self) -> float | None:
        try:
            with open(self.path, encoding="utf-8") as f:
                return wall_s(json.loads(f.readline()))
        except (OSError, ValueError, KeyError, TypeError):
            return None


def read(path: Path, since: float | None = None) -> tuple[list[dict], int]:
    """Entries of every file in order, those from wall time ``since`` on; and the count of
    unreadable lines skipped (a line cut short by a power loss)."""
    entries, bad = [], 0
    for p in all_files(Path(path)):
        with open(p, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    e = json.loads(line)
                    t = wall_s(e)
                except (ValueError, KeyError, TypeError):
                    bad += line.strip() != ""
                    continue
                if since is None or t >= since:
                    entries.append(e)
    return entries, bad
