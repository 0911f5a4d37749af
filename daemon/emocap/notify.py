"""systemd notifications: READY once started, WATCHDOG while audio is processed, STOPPING.

A no-op unless systemd started the process with a notify socket and systemd-python is
installed. The watchdog is pinged from the pipeline loop only when it has just processed
audio (or is waiting for a lost microphone to come back), never from a timer, so a stalled
pipeline is restarted by systemd.
"""
from __future__ import annotations

import os
import time


class Notifier:
    def __init__(self) -> None:
        self._send = None
        if os.environ.get("NOTIFY_SOCKET"):
            try:
                from systemd import daemon
            except ImportError:
                pass
            else:
                self._send = daemon.notify
        usec = int(os.environ.get("WATCHDOG_USEC", "0") or 0)
        self._interval = usec / 2e6  # ping twice per watchdog period
        self._last = 0.0

    def ready(self) -> None:
        if self._send:
            self._send("READY=1")

    def stopping(self) -> None:
        if self._send:
            self._send("STOPPING=1")

    def alive(self) -> None:
        now = time.monotonic()
        if self._send and self._interval and now - self._last >= self._interval:
            self._last = now
            self._send("WATCHDOG=1")
