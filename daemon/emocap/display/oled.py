"""The OLED sink: the pipeline drops events in, a thread of its own draws them.

partial() and caption() only append to a small bounded queue and return: a slow or broken
display never holds up the caller. The thread draws at most `fps` frames a second, pushes a
frame only when it differs from the last, and animates long captions. When the device fails
it says so once, writes captions to the log instead, and tries the device again every
`retry_s`. Every caption is either drawn or logged: one that is overtaken by a newer caption
before it reached the screen is logged as skipped.
"""
from __future__ import annotations

import collections
import logging
import threading
import time
from typing import Callable

from luma.core.device import device as LumaDevice
from PIL import Image

from emocap.captions import Caption, Partial
from emocap.config import DisplayConfig
from emocap.display import controller
from emocap.display.frames import FrameRecorder
from emocap.display.render import Page, Style, draw, make_page, moving, offset_at
from emocap.display.screen import Screen
from emocap.errors import DisplayError

log = logging.getLogger(__name__)

QUEUE_SIZE = 8
"""Events waiting for the display thread; only the newest matters, older ones are dropped."""
JOIN_S = 5.0
"""How long close() waits for a display stuck in a slow transfer, seconds."""


class OledSink:
    def __init__(self, cfg: DisplayConfig, style: Style, open_device: Callable[[], LumaDevice],
                 recorder: FrameRecorder | None = None) -> None:
        self.cfg, self.style, self._open, self.recorder = cfg, style, open_device, recorder
        self.frames = 0
        """Frames pushed to the device."""
        self.skipped = 0
        """Captions overtaken before they were drawn (each one logged)."""
        self._queue: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self._wake, self._stop = threading.Event(), threading.Event()
        self._screen = Screen(cfg.hold_s)
        self._device: LumaDevice | None = None
        self._down = False  # the failure has been reported; cleared by the next good frame
        self._retry_at = 0.0
        self._page: tuple[object, Page] | None = None  # (event, its layout)
        self._last: bytes | None = None
        self._delivered: Caption | None = None  # the newest caption drawn or logged
        self._thread = threading.Thread(target=self._run, name="emocap-display", daemon=True)
        self._thread.start()

    # -- caller side: never blocks on the device --------------------------------------------
    def partial(self, event: Partial) -> None:
        self._put(event)

    def caption(self, event: Caption) -> None:
        self._put(event)

    def close(self) -> None:
        """Stop drawing, clear the screen, release the bus, write the GIF."""
        self._stop.set()
        self._wake.set()
        self._thread.join(JOIN_S)
        if self._thread.is_alive():
            log.warning("%s: still busy after %.0f s; leaving it", controller.describe(self.cfg), JOIN_S)

    def _put(self, event: Caption | Partial) -> None:
        dropped = None
        with self._lock:
            if len(self._queue) >= QUEUE_SIZE:
                dropped = self._queue.popleft()
            self._queue.append(event)
        self._wake.set()
        if isinstance(dropped, Caption):
            self._skip(dropped)

    # -- display thread ---------------------------------------------------------------------
    def _run(self) -> None:
        self._connect(time.monotonic())
        period = 1.0 / self.cfg.fps
        while not self._stop.is_set():
            self._wake.wait(self._sleep_s(time.monotonic()))
            self._wake.clear()
            started = time.monotonic()
            self._absorb(started)
            if self._stop.is_set():
                break
            self._frame(started)
            self._stop.wait(max(0.0, period - (time.monotonic() - started)))  # frame-rate cap
        self._absorb(time.monotonic())
        self._log_undrawn()
        self._shutdown()

    def _log_undrawn(self) -> None:
        """Closing: a caption that came too late to be drawn (the screen is cleared now) is logged."""
        shown = self._screen.shown
        if shown and isinstance(shown.event, Caption) and shown.event.final and shown.event is not self._delivered:
            self._to_log(shown.event)

    def _sleep_s(self, now: float) -> float | None:
        """Until something can change: the next scroll step, a waiting partial, a retry."""
        if self._device is None:
            return max(0.0, self._retry_at - now)
        if self._page and moving(self._page[1]):
            return 0.0
        due = self._screen.wake_at()
        return None if due is None else max(0.0, due - now)

    def _absorb(self, now: float) -> None:
        with self._lock:
            batch = list(self._queue)
            self._queue.clear()
        captions = [e for e in batch if isinstance(e, Caption) and e.final]  # an early one has its final
        if self._device is None:
            for c in captions:
                self._to_log(c)
        else:
            for c in captions[:-1]:
                self._skip(c)
        for event in batch:
            self._screen.offer(event, now)

    def _frame(self, now: float) -> None:
        self._screen.tick(now)
        if self._device is None and now >= self._retry_at:
            self._connect(now)
        if self._device is None:
            return
        image = self._image(now)
        if image.tobytes() == self._last:
            return
        try:
            controller.push(self._device, image, self.cfg)
        except DisplayError as e:
            self._lost(e, now)
            return
        self._pushed(image, now)

    def _image(self, now: float) -> Image.Image:
        shown = self._screen.shown
        if shown is None:
            return draw(None, 0, self.style)
        if self._page is None or self._page[0] is not shown.event:
            self._page = (shown.event, make_page(shown.event, self.style))
        page = self._page[1]
        return draw(page, offset_at(page, now - shown.since, self.style), self.style)

    def _pushed(self, image: Image.Image, now: float) -> None:
        self.frames += 1
        self._last = image.tobytes()
        shown = self._screen.shown
        if shown and isinstance(shown.event, Caption):
            self._delivered = shown.event
        if self._down:
            log.info("%s: working again", controller.describe(self.cfg))
            self._down = False
        if self.recorder:
            self.recorder.add(image, now)

    def _connect(self, now: float) -> None:
        try:
            self._device = self._open()
        except DisplayError as e:
            self._lost(e, now)
            return
        self._last = None  # a fresh device gets a full frame even if nothing changed

    def _lost(self, error: DisplayError, now: float) -> None:
        if not self._down:
            log.warning("%s; showing captions in the log, retrying every %g s", error, self.cfg.retry_s)
            self._down = True
        else:
            log.debug("%s", error)
        shown = self._screen.shown
        if shown and isinstance(shown.event, Caption) and shown.event.final and shown.event is not self._delivered:
            self._to_log(shown.event)  # it never reached the screen
        self._release(clear=False)
        self._retry_at = now + self.cfg.retry_s

    def _to_log(self, caption: Caption) -> None:
        """The fallback while the display is down."""
        log.info("caption: %s", caption.render())
        self._delivered = caption

    def _skip(self, caption: Caption) -> None:
        with self._lock:
            self.skipped += 1
        log.info("display skipped (a newer caption came first): %s", caption.render())

    def _release(self, clear: bool) -> None:
        if self._device is None:
            return
        try:
            controller.release(self._device, self.cfg, clear)
        except DisplayError as e:
            log.debug("%s", e)
        self._device = None

    def _shutdown(self) -> None:
        self._release(clear=True)
        if self.recorder and (gif := self.recorder.close()):
            log.info("frames: %d PNGs and %s", self.recorder.count, gif)
