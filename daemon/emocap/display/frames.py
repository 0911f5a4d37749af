"""Every frame pushed to the display, saved so a person can see what the wearer saw.

frame_000001.png ... are the exact 1-bit frames at the screen's size; on close, frames.gif
plays them back with their real timing, enlarged GIF_SCALE times (nearest neighbour, so each
OLED pixel is a GIF_SCALE x GIF_SCALE block and nothing is smoothed).
"""
from __future__ import annotations

import logging
from pathlib import Path

from PIL import Image

from emocap.errors import DisplayError

log = logging.getLogger(__name__)

GIF_SCALE = 4
GIF_MAX_FRAMES = 3000
"""Frames kept for the GIF (5 minutes of scrolling at 10 fps); PNGs go on beyond it."""
LAST_FRAME_MS = 2000
"""How long the GIF holds its last frame, milliseconds."""


class FrameRecorder:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise DisplayError(f"--frames {folder}: cannot create the folder ({e.strerror})") from None
        self.count = 0
        self._gif: list[tuple[Image.Image, float]] = []
        self._broken = False

    def add(self, image: Image.Image, t: float) -> None:
        """Save one pushed frame; `t` is its monotonic time in seconds."""
        if self._broken:
            return
        self.count += 1
        try:
            image.save(self.folder / f"frame_{self.count:06d}.png")
        except OSError as e:
            self._stop(e)
            return
        if len(self._gif) < GIF_MAX_FRAMES:
            self._gif.append((image.copy(), t))

    def close(self) -> Path | None:
        """Write frames.gif of the frames so far; its path, or None when there were none."""
        if not self._gif or self._broken:
            return None
        times = [t for _, t in self._gif]
        durations = [max(20, round((b - a) * 1000)) for a, b in zip(times, times[1:])] + [LAST_FRAME_MS]
        size = (self._gif[0][0].width * GIF_SCALE, self._gif[0][0].height * GIF_SCALE)
        images = [img.convert("L").resize(size, Image.NEAREST) for img, _ in self._gif]
        path = self.folder / "frames.gif"
        try:
            images[0].save(path, save_all=True, append_images=images[1:], duration=durations, loop=0)
        except OSError as e:
            self._stop(e)
            return None
        return path

    def _stop(self, e: OSError) -> None:
        # Recording is a debugging aid: a full disk stops it, never the captions.
        log.warning("frames: cannot write to %s (%s); no more frames are saved", self.folder, e)
        self._broken = True
