"""A broken or very slow display never holds up the caller, and no caption is lost.

The fake displays are luma's own dummy device (real rendering, real preprocess) with its
display() replaced by what a failing or slow I2C panel does. No assertion is about speed:
the slow display is held by a gate, so "the caller was not held up" is shown by counting how
many calls returned while the display had taken only one frame.
"""
import errno
import logging
import threading
from pathlib import Path

import luma.core.error
import pytest
from luma.core.device import dummy

from emocap.captions import Caption, Partial
from emocap.config import DisplayConfig
from emocap.display.oled import QUEUE_SIZE, OledSink
from emocap.display.render import make_style, render
from conftest import wait_for

NANUM = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"
WAIT_S = 20.0  # generous bound for conditions that should hold within milliseconds


def cfg(**kw) -> DisplayConfig:
    return DisplayConfig(device="dummy", font=NANUM, **kw)


@pytest.fixture(scope="module")
def style():
    if not Path(NANUM).is_file():
        pytest.skip("fonts-nanum is not installed")
    return make_style(cfg())


def caption(i: int) -> Caption:
    return Caption(text=f"문장 {i} 입니다", emotion="neutral", confidence=0.8, model="small",
                   t_start=float(i), t_end=i + 0.5, latency_ms=3.0)


class Panel(dummy):
    """luma's dummy 128x64 1-bit device; counts the frames it was asked to show."""

    def __init__(self):
        super().__init__(width=128, height=64, mode="1")
        self.calls = 0

    def display(self, image):
        self.calls += 1
        self.before_frame()
        super().display(image)

    def before_frame(self):
        pass


class UnpluggedPanel(Panel):
    """Every frame fails the way luma's i2c reports a panel that stopped answering."""

    def __init__(self, error: Exception):
        super().__init__()
        self.error = error

    def before_frame(self):
        raise self.error


class GatedPanel(Panel):
    """A panel so slow that each frame waits until the test opens the gate."""

    def __init__(self):
        super().__init__()
        self.gate = threading.Event()
        self.entered = threading.Event()

    def before_frame(self):
        # A sink that drew on the caller's thread would hang here; fail at once instead.
        assert threading.current_thread() is not threading.main_thread(), "drawn on the caller's thread"
        self.entered.set()
        self.gate.wait(WAIT_S)


def texts_in(caplog) -> str:
    return "\n".join(r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("error", [
    luma.core.error.DeviceNotFoundError("I2C device not found on address: 0x3C"),
    OSError(errno.EIO, "Input/output error"),
], ids=["no-ack", "eio"])
def test_display_failing_every_frame_sends_captions_to_the_log(style, caplog, error):
    caplog.set_level(logging.INFO, logger="emocap")
    opened: list[UnpluggedPanel] = []

    def open_panel():
        opened.append(UnpluggedPanel(error))
        return opened[-1]

    sink = OledSink(cfg(retry_s=0.01), style, open_panel)
    n = 60
    for i in range(n):
        sink.partial(Partial(f"문장 {i}"))
        sink.caption(caption(i))
        if i % 10 == 0:  # let some arrive while the device is down, some while it is retried
            wait_for(lambda: len(opened) >= 2 + i // 10, "a retry of the device")
    sink.close()
    log = texts_in(caplog)
    for i in range(n):
        assert f"문장 {i} 입니다" in log, f"caption {i} reached neither display nor log"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, "the failure is reported once, not on every retry"
    assert "0x3C" in warnings[0].getMessage() or "display dummy" in warnings[0].getMessage()
    assert len(opened) >= 7 and all(p.calls >= 1 for p in opened)
    assert sink.frames == 0


def test_slow_display_never_blocks_the_caller(style, caplog):
    caplog.set_level(logging.INFO, logger="emocap")
    panel = GatedPanel()
    sink = OledSink(cfg(hold_s=30.0), style, lambda: panel)
    sink.caption(caption(0))
    assert panel.entered.wait(WAIT_S)  # the display thread is now stuck inside display()
    n = 500
    for i in range(1, n + 1):
        sink.caption(caption(i))
        sink.partial(Partial(f"다음 {i}"))
    # all 1000 calls returned while the panel has still taken just the first frame
    assert panel.calls == 1 and panel.image is None
    panel.gate.set()
    wait_for(lambda: panel.image is not None
             and panel.image.tobytes() == render(caption(n), 0.0, style).tobytes(),
             "the newest caption on the panel")
    sink.close()
    log = texts_in(caplog)
    skipped = [i for i in range(1, n) if f"문장 {i} 입니다" in log]
    assert skipped == list(range(1, n)), "every overtaken caption is logged as skipped"
    assert sink.skipped == n - 1
    assert panel.calls == 3  # the first caption, the newest caption, the clear at close


def test_display_that_comes_back_shows_the_current_caption(style, caplog):
    caplog.set_level(logging.INFO, logger="emocap")
    panels: list[Panel] = []

    def open_panel():
        if len(panels) < 3:  # the first three opens fail like a missing /dev/i2c-1
            panels.append(UnpluggedPanel(OSError(errno.ENOENT, "No such file")))
        else:
            panels.append(Panel())
        return panels[-1]

    sink = OledSink(cfg(retry_s=0.01), style, open_panel)
    sink.caption(caption(7))
    wait_for(lambda: type(panels[-1]) is Panel and panels[-1].image is not None,
             "the panel to come back")
    good = panels[-1]
    assert good.image.tobytes() == render(caption(7), 0.0, style).tobytes()
    sink.close()
    assert good.image.getbbox() is None, "close() clears the screen"
    messages = [r.getMessage() for r in caplog.records]
    assert sum("retrying every" in m for m in messages) == 1
    assert any("working again" in m for m in messages)


def test_queue_keeps_only_the_newest_events(style):
    panel = GatedPanel()
    sink = OledSink(cfg(), style, lambda: panel)
    sink.partial(Partial("첫"))
    assert panel.entered.wait(WAIT_S)
    for i in range(100):
        sink.partial(Partial(f"부분 {i}"))
    assert len(sink._queue) == QUEUE_SIZE
    assert [e.text for e in sink._queue] == [f"부분 {i}" for i in range(100 - QUEUE_SIZE, 100)]
    panel.gate.set()
    sink.close()
