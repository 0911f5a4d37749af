"""Display timings: render cost, luma's SSD1306 encode, caller cost with a stuck display,
and the frame rate actually pushed while a caption scrolls.

    python tools/display_bench.py [--json]
"""
from __future__ import annotations

import argparse
import json
import logging
import threading
import time

from luma.core.device import dummy
from luma.core.interface.serial import noop
from luma.oled.device import ssd1306

import emocap_train  # noqa: F401  (puts this checkout's daemon/ first on sys.path)
from emocap.captions import Caption
from emocap.config import DisplayConfig
from emocap.display.oled import OledSink
from emocap.display.render import draw, make_page, make_style, render

LONG = "지금 몇 시인지 알려 주실 수 있나요 회의가 곧 시작하는데 늦을 것 같아서 걱정이에요 " * 2


def _caption(text: str) -> Caption:
    return Caption(text, "happiness", 0.9, "small", 0.0, 1.0, 1.0)


def _us_per_call(fn, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return round((time.perf_counter() - start) / n * 1e6, 1)


class _Stuck(dummy):
    """A display whose frames take until `gate` opens."""

    gate = threading.Event()

    def display(self, image):
        self.gate.wait(30)


def _caller_us(style) -> float:
    sink = OledSink(DisplayConfig(device="dummy"), style, lambda: _Stuck(width=128, height=64, mode="1"))
    sink.caption(_caption("첫 문장"))
    time.sleep(0.2)  # the display thread is now inside display()
    us = _us_per_call(lambda i: sink.caption(_caption(f"문장 {i}")), 2000)
    _Stuck.gate.set()
    sink.close()
    return us


def _scroll_fps(seconds: float) -> float:
    cfg = DisplayConfig(device="dummy", fps=10.0, scroll_px_s=200.0, scroll_pause_s=0.0)
    sink = OledSink(cfg, make_style(cfg), lambda: dummy(width=128, height=64, mode="1"))
    sink.caption(_caption(LONG))
    time.sleep(0.5)
    before = sink.frames
    time.sleep(seconds)
    fps = (sink.frames - before) / seconds
    sink.close()
    return round(fps, 2)


def measure(seconds: float = 3.0) -> dict:
    style = make_style(DisplayConfig())
    page = make_page(_caption(LONG), style)
    frame = render(_caption(LONG), 2.0, style)
    panel = ssd1306(noop())
    logging.disable(logging.INFO)  # the stuck display logs every skipped caption
    try:
        return {
            "display_render_caption_us": _us_per_call(lambda i: render(_caption("오늘 기분이 좋아보이네요"), 0, style), 300),
            "display_draw_scroll_frame_us": _us_per_call(lambda i: draw(page, i % page.overflow, style), 300),
            "display_ssd1306_encode_us": _us_per_call(lambda i: panel.display(frame), 100),
            "display_caption_call_stuck_us": _caller_us(style),
            "display_scroll_fps_cap10": _scroll_fps(seconds),
        }
    finally:
        logging.disable(logging.NOTSET)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    result = measure()
    if ap.parse_args().json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:34s} {value}")


if __name__ == "__main__":
    main()
