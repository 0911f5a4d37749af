"""What the wearer should see now, decided from the events so far and the clock (passed in).

Rules: a final caption replaces whatever is shown at once. Partial text of the next utterance
replaces a caption only after the caption has been up `hold_s` (so it can be read); until then
the newest partial waits. Empty partial text (the recogniser's idle output) changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

from emocap.captions import Caption, Partial

Event = Caption | Partial


@dataclass(frozen=True)
class Shown:
    event: Event
    since: float
    """Monotonic seconds when it appeared: the scroll clock starts here."""


class Screen:
    def __init__(self, hold_s: float) -> None:
        self.hold_s = hold_s
        self.shown: Shown | None = None
        self._waiting: Partial | None = None

    def offer(self, event: Event, now: float) -> None:
        if isinstance(event, Caption):
            self.shown, self._waiting = Shown(event, now), None
        elif event.text.strip():
            self._waiting = event
            self.tick(now)

    def tick(self, now: float) -> None:
        """Let a waiting partial in once the caption's hold is over."""
        if self._waiting is None or self._holding(now):
            return
        if not (self.shown and isinstance(self.shown.event, Partial)
                and self.shown.event.text == self._waiting.text):
            self.shown = Shown(self._waiting, now)
        self._waiting = None

    def wake_at(self) -> float | None:
        """When a waiting partial is due (None when nothing waits)."""
        if self._waiting is None or self.shown is None:
            return None
        return self.shown.since + self.hold_s

    def _holding(self, now: float) -> bool:
        return (self.shown is not None and isinstance(self.shown.event, Caption)
                and now - self.shown.since < self.hold_s)
