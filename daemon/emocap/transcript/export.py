"""The transcript read back: as text, SRT subtitles or JSON lines.

SRT timing. Within one service run, entries keep their exact audio spans (``t_start``,
``t_end``, seconds from the run's start). Spans restart with each run, so each run is placed
on the wall clock: its audio clock started at (wall time of its first entry - that entry's
``t_end``), the caption being written just after its utterance ended. Times are then counted
from the start of the first exported entry, so an export begins at 00:00:00,000. A run that
would overlap the one before (a fast replay, a wrong clock) starts where that one ended.
"""
from __future__ import annotations

import json
import re
from datetime import datetime

from emocap.transcript.store import wall_s

FORMATS = ("txt", "srt", "json")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(value: str) -> float:
    """``90s``, ``10m``, ``2h``, ``7d`` (a bare number is seconds) -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*([smhd]?)\s*", value)
    if not m:
        raise ValueError(f"--since {value!r}: expected a duration such as 90s, 10m, 2h or 7d")
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


def label(e: dict) -> str:
    return f" [{e['emotion']}]" if e.get("emotion") and e.get("shown", True) else ""


def as_txt(entries: list[dict]) -> str:
    """``2026-12-01 21:28:03  text [label]``, local time."""
    return "".join(f"{datetime.fromtimestamp(wall_s(e)):%Y-%m-%d %H:%M:%S}  {e['text']}{label(e)}\n"
                   for e in entries)


def as_json(entries: list[dict]) -> str:
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)


def srt_time(t: float) -> str:
    ms = max(0, round(t * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def runs(entries: list[dict]) -> list[list[dict]]:
    """Consecutive entries of one service run (by ``run``; without it, spans going back)."""
    groups: list[list[dict]] = []
    for e in entries:
        prev = groups[-1][-1] if groups else None
        same = prev is not None and (prev.get("run") == e.get("run") if "run" in e or "run" in prev
                                     else e["t_start"] >= prev["t_start"])
        if same:
            groups[-1].append(e)
        else:
            groups.append([e])
    return groups


def timeline(entries: list[dict]) -> list[tuple[float, float, dict]]:
    """(start, end, entry) in seconds from the start of the first entry (see the module doc)."""
    out: list[tuple[float, float, dict]] = []
    origin = None
    for group in runs(entries):
        clock0 = wall_s(group[0]) - group[0]["t_end"]  # wall time at this run's audio time 0
        if origin is None:
            origin = clock0 + group[0]["t_start"]
        shift = clock0 - origin
        if out and shift + group[0]["t_start"] < out[-1][1]:
            shift = out[-1][1] - group[0]["t_start"]
        out += [(shift + e["t_start"], shift + e["t_end"], e) for e in group]
    return out


def as_srt(entries: list[dict]) -> str:
    blocks = [f"{i}\n{srt_time(a)} --> {srt_time(b)}\n{e['text']}{label(e)}\n"
              for i, (a, b, e) in enumerate(timeline(entries), 1)]
    return "\n".join(blocks)


def render(entries: list[dict], fmt: str) -> str:
    return {"txt": as_txt, "srt": as_srt, "json": as_json}[fmt](entries)
