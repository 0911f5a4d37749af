"""Caption sinks: the wearable OLED (luma.oled), and the terminal."""
from __future__ import annotations

from functools import partial
from pathlib import Path

from emocap.config import DisplayConfig
from emocap.display.controller import check_setup, open_device
from emocap.display.frames import FrameRecorder
from emocap.display.oled import OledSink
from emocap.display.render import make_style
from emocap.display.sink import Sink


def open_display(cfg: DisplayConfig, frames_dir: Path | None = None) -> Sink:
    """The OLED sink for [display]. The service opens none for device = "terminal" (no
    OLED); called with it anyway, the sink draws on luma's in-memory dummy, as for "dummy".

    With `frames_dir` every pushed frame is also saved there. Raises ConfigError for a missing
    or Hangul-less font or a size the controller lacks, DisplayError for a missing bus package
    or frames folder.
    A display that is absent or fails later is not an error here: the sink logs it, shows
    captions in the log and retries.
    """
    style = make_style(cfg)
    check_setup(cfg)
    recorder = FrameRecorder(frames_dir) if frames_dir is not None else None
    return OledSink(cfg, style, partial(open_device, cfg), recorder)
