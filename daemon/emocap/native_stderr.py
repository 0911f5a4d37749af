"""Capture what native libraries (Kaldi, PortAudio, ALSA, JACK) print on file descriptor 2.

They write there directly, bypassing Python's logging: dozens of lines while probing audio
devices, and Kaldi's reason when a model fails to load. Used around start-up calls only:
output of other threads in that window would be captured too.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Iterator


class Captured:
    text: str = ""

    def first_error(self) -> str:
        """Kaldi's ``ERROR (...) reason`` line, shortened to the reason, or ''."""
        for line in self.text.splitlines():
            if line.startswith("ERROR") or "error" in line.lower():
                return line.split(") ", 1)[-1].strip()
        return ""


@contextlib.contextmanager
def captured_stderr() -> Iterator[Captured]:
    result = Captured()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield result
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            result.text = tmp.read().decode("utf-8", "replace")
