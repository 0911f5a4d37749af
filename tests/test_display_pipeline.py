"""The whole pipeline with a broken or very slow OLED: captions still reach the log and the
microphone-paced source loses no audio (the display never back-pressures the pipeline)."""
import errno
import logging
import time

import pytest

from emocap.audio.sources import FileSource
from emocap.display.oled import OledSink
from emocap.display.render import make_style
from test_display_faults import Panel, UnpluggedPanel, cfg as display_cfg, texts_in


class SlowPanel(Panel):
    """A panel taking 0.4 s per frame (a congested I2C bus): most frames are stale by then."""

    def before_frame(self):
        time.sleep(0.4)
from emocap.emotion.engine import EmotionEngine
from emocap.meter import Meter
from emocap.service import Service
from faultkit import SPEECH, Collect, Recognizer as CountingRecognizer, cfg, vosk  # noqa: F401 (fixtures)


def replay_through(cfg, recognizer, source, oled):
    meter, collected = Meter(), Collect()
    svc = Service(cfg, [source], [collected, oled], recognizer=CountingRecognizer(recognizer),
                  engine=EmotionEngine(cfg.emotion, meter, "cascade"), meter=meter)
    svc.run()
    return svc, collected


@pytest.mark.parametrize("kind", ["failing", "slow"])
def test_bad_display_loses_no_audio_and_no_caption(kind, cfg, vosk, shared_data, caplog):
    caplog.set_level(logging.INFO, logger="emocap")
    style = make_style(display_cfg())
    if kind == "failing":
        oled = OledSink(display_cfg(retry_s=0.05), style, lambda: UnpluggedPanel(OSError(errno.EIO, "I/O error")))
    else:
        panel = SlowPanel()
        oled = OledSink(display_cfg(), style, lambda: panel)
    source = FileSource(shared_data / SPEECH[0], 16000, 1600, realtime=True)  # paced like a microphone
    svc, collected = replay_through(cfg, vosk, source, oled)
    assert collected.captions, "no caption came out"
    assert svc.ring.dropped == 0
    if kind == "failing":
        log = texts_in(caplog)
        for c in collected.captions:
            assert c.text in log, f"caption {c.text!r} reached neither the display nor the log"
    else:  # the slow panel kept drawing while the pipeline ran at full pace
        assert panel.calls >= 2 and oled.frames >= 1
