"""Text sinks: a live terminal view, and JSON lines (``replay --json``).

Both write a line and return; a terminal or pipe that blocks is the user's choice.
"""
from __future__ import annotations

import json
import shutil
import sys
import time
import unicodedata
from typing import TextIO

from emocap.captions import Caption, Partial

_CLEAR = "\r\x1b[2K"


def _width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def tail_fitting(text: str, columns: int) -> str:
    """The end of ``text`` that fits in ``columns`` terminal cells (Hangul takes two)."""
    used, start = 0, len(text)
    while start > 0 and used + _width(text[start - 1]) <= columns:
        start -= 1
        used += _width(text[start])
    return text[start:]


def format_caption(c: Caption) -> str:
    tail = f"  ({c.confidence:.2f} {c.model})" if c.emotion is not None else ""
    return f"{c.t_start:7.2f}-{c.t_end:7.2f} s  {c.render()}{tail}"


class TerminalSink:
    """Finals one per line with their tag; on a terminal the partial text of the current
    utterance updates in place on the last line (elsewhere partials are left out)."""

    def __init__(self, out: TextIO | None = None, live: bool | None = None) -> None:
        self.out = out or sys.stdout
        self.live = self.out.isatty() if live is None else live
        self._shown = False

    def partial(self, event: Partial) -> None:
        if not self.live:
            return
        columns = shutil.get_terminal_size().columns - 3
        self.out.write(f"{_CLEAR}.. {tail_fitting(event.text, columns)}")
        self.out.flush()
        self._shown = True

    def caption(self, event: Caption) -> None:
        if not event.final:  # an early caption: in place, like a partial, until its final
            self.partial(Partial(event.render()))
            return
        self._clear()
        self.out.write(format_caption(event) + "\n")
        self.out.flush()

    def close(self) -> None:
        self._clear()
        self.out.flush()

    def _clear(self) -> None:
        if self._shown:
            self.out.write(_CLEAR)
            self._shown = False


class JsonSink:
    """One JSON object per final caption (the fields of DESIGN.md), flushed at once."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def partial(self, event: Partial) -> None:
        pass

    def caption(self, event: Caption) -> None:
        if not event.final:  # its final follows, carrying when it was shown (early_ns)
            return
        # the wearer's wait, measured as the caption reaches this sink (tools/bench.py reads it)
        obj = {**event.to_json(), **event.delays_ms(time.monotonic_ns()), "early_text": event.early_text}
        self.out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self.out.flush()

    def close(self) -> None:
        self.out.flush()
