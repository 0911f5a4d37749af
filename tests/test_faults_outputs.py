"""Output faults through the whole service (real Vosk, real ONNX models, real speech, luma's
dummy device for real pixels): the display dies and comes back; the performance log's folder
cannot be written or its disk fills up, and later recovers. Captions never stop reaching the
display and the text output; perf summaries keep going to stderr; the local log resumes and
holds whole records only."""
import errno
import io
import json
import logging
import os
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from luma.core.device import dummy

from emocap import perf
from emocap.audio.sources import FileSource
from emocap.config import DisplayConfig
from emocap.display.oled import OledSink
from emocap.display.render import make_style, render
from emocap.errors import DisplayError
from emocap.monitor import Monitor
from emocap.perf import PerfLog
from faultkit import SPEECH, Collect, build, cfg, models, vosk, wait_for  # noqa: F401 (fixtures)

pytestmark = pytest.mark.faults
NANUM = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"


@pytest.fixture(scope="module")
def speech(shared_data) -> list[Path]:
    """Two sentences (about 8 s), played as two recordings: each file's end closes its
    utterance, so the test does not hang on Vosk's endpointing."""
    return [shared_data / f for f in SPEECH[:2]]


def sources(paths: list[Path]) -> list[FileSource]:
    return [FileSource(p, 16000, 1600, realtime=True) for p in paths]


@pytest.fixture(scope="module")
def display_cfg() -> DisplayConfig:
    if not Path(NANUM).is_file():
        pytest.skip("fonts-nanum is not installed")
    return DisplayConfig(device="dummy", font=NANUM, retry_s=0.2, hold_s=0.5)


class Panel(dummy):
    """luma's in-memory 128x64 panel, keeping every frame; ``broken`` makes each frame fail
    the way an I2C panel whose cable came loose does."""

    broken = False

    def __init__(self):
        super().__init__(width=128, height=64, mode="1")
        self.frames: list[bytes] = []

    def display(self, image):
        if Panel.broken:
            raise OSError(errno.EREMOTEIO, "Remote I/O error")
        super().display(image)
        self.frames.append(image.tobytes())


def drawn(panels: list[Panel | None]) -> set[bytes]:
    return {f for p in panels if p is not None for f in p.frames}


def test_display_lost_mid_run_and_back(cfg, vosk, models, speech, display_cfg, caplog):
    caplog.set_level(logging.INFO, logger="emocap")
    style = make_style(display_cfg)
    panels: list[Panel] = []

    def open_panel():
        if Panel.broken and panels:  # unplugged: the bus itself is gone now
            panels.append(None)
            raise DisplayError("display dummy: /dev/i2c-1 not found")
        panels.append(Panel())
        return panels[-1]

    Panel.broken = False
    oled = OledSink(display_cfg, style, open_panel)
    text = Collect()
    svc, rec, _ = build(cfg, vosk, models, sources(speech), [text, oled])

    def unplug_after_first_caption():
        wait_for(lambda: text.captions, "the first caption")
        Panel.broken = True  # the next frame fails: the cable came loose
        wait_for(lambda: len(panels) >= 3, "two reopen attempts while the panel is gone")
        Panel.broken = False

    fault = threading.Thread(target=unplug_after_first_caption, daemon=True)
    fault.start()
    svc.run()
    fault.join()
    assert rec.finals == len(text.captions) == 2
    log = caplog.text
    frames = drawn(panels)
    # Every caption is on the panel or, while the panel was down, in the log: none is lost.
    for c in text.captions:
        assert render(c, 0.0, style).tobytes() in frames or f"caption: {c.render()}" in log, c.text
    # Once back, the panel draws captions again (the one on screen, or the next one; the last may
    # arrive as the service closes, and is then logged, which the loop above accepts).
    back = drawn(panels[2:])
    assert any(render(c, 0.0, style).tobytes() in back for c in text.captions), "nothing drawn once back"
    assert sum("retrying every" in r.getMessage() for r in caplog.records) == 1
    assert "working again" in log


class HalfWrites:
    """``os`` for emocap.perf whose writes store half the bytes, then fail: a disk filling up
    mid-record. Everything else is the real os module."""

    full = True

    def __getattr__(self, name):
        return getattr(os, name)

    def write(self, fd, data):
        if not self.full:
            return os.write(fd, data)
        os.write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")


def dev_full(log: Path, monkeypatch):
    """The log file is /dev/full: the kernel answers each write with ENOSPC."""
    log.parent.mkdir(parents=True, exist_ok=True)
    log.symlink_to("/dev/full")

    def space_returns():
        log.with_name("fresh").write_bytes(b"")
        os.replace(log.with_name("fresh"), log)
    return space_returns


def half_writes(log: Path, monkeypatch):
    fake = HalfWrites()
    monkeypatch.setattr(perf, "os", fake)
    return lambda: setattr(fake, "full", False)


class ReadOnly:
    """``os`` for emocap.perf on a card the kernel remounted read-only: opening for writing
    fails with EROFS. (chmod would not do: the tests run as root, which it does not stop.)"""

    ro = True

    def __getattr__(self, name):
        return getattr(os, name)

    def open(self, path, flags, *args):
        if self.ro and flags & (os.O_WRONLY | os.O_RDWR):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return os.open(path, flags, *args)


def remounted_read_only(log: Path, monkeypatch):
    log.parent.mkdir(parents=True, exist_ok=True)
    fake = ReadOnly()
    monkeypatch.setattr(perf, "os", fake)
    return lambda: setattr(fake, "ro", False)


def file_in_the_way(log: Path, monkeypatch):
    """A plain file where the log's folder should be: unwritable even for root (chmod is not)."""
    log.parent.write_text("not a folder\n")
    return log.parent.unlink


@pytest.mark.parametrize("fault", [dev_full, half_writes, remounted_read_only, file_in_the_way])
def test_perf_log_unwritable_then_back(cfg, vosk, models, speech, display_cfg, tmp_path, monkeypatch, caplog,
                                      fault):
    caplog.set_level(logging.INFO, logger="emocap")
    log = tmp_path / "state" / "perf.jsonl"
    recover = fault(log, monkeypatch)
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)  # PerfLog reports its own failures there
    pcfg = replace(cfg.perf, log_path=str(log), interval_s=0.5, journald=False)
    panels: list[Panel] = []
    Panel.broken = False
    oled = OledSink(display_cfg, make_style(display_cfg), lambda: panels.append(Panel()) or panels[-1])
    text = Collect()
    svc, rec, _ = build(cfg, vosk, models, sources(speech), [text, oled])
    svc.add_worker(Monitor.for_service(cfg.mode, pcfg, svc.meter, svc.engine, PerfLog(pcfg, journal=None, stream=stderr)))
    timer = threading.Timer(3.0, recover)  # the disk gets space back, the folder comes back
    timer.start()
    t0 = time.time()
    svc.run()
    timer.join()
    err = stderr.getvalue()
    # Captions flowed to the text output and the panel throughout.
    assert rec.finals == len(text.captions) == 2
    frames, logged = drawn(panels), caplog.text
    for c in text.captions:  # drawn, or logged when it came as the service closed
        assert render(c, 0.0, make_style(display_cfg)).tobytes() in frames or f"caption: {c.render()}" in logged
    # Perf summaries went on reaching stderr during the fault; the failure and the return said once each.
    assert err.count("emocap: perf mode=") >= 10
    assert err.count("performance log to local log failed") == 1, err
    assert err.count("performance log to local log works again") == 1, err
    # The local log resumed after the fault, with whole records only.
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(records) >= 5 and all(r["ts"] >= t0 + 3.0 for r in records)
