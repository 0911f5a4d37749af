"""The interface every caption consumer implements. Calls must return at once: a sink
that does slow work (an OLED over I2C) queues the event and does it on its own thread."""
from __future__ import annotations

from typing import Protocol

from emocap.captions import Caption, Partial


class Sink(Protocol):
    def partial(self, event: Partial) -> None:
        """Show in-progress text (may be ignored)."""

    def caption(self, event: Caption) -> None:
        """Show a final caption."""

    def close(self) -> None:
        """Flush and release the device; clear the screen."""
