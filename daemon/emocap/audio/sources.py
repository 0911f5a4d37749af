"""Audio sources: each writes int16 mono 16 kHz samples into the ring buffer from its own
thread (a file) or PyAudio's callback (the microphone, in audio/mic.py). A live source
never waits on the pipeline: the ring buffer counts what does not fit."""
from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from pathlib import Path

from emocap.audio.files import load_audio
from emocap.audio.ring import RingBuffer
from emocap.config import AudioConfig
from emocap.errors import AudioError

log = logging.getLogger(__name__)


class Source(ABC):
    """Something that fills a ring buffer; ``start`` returns at once, ``stop`` is idempotent."""

    name: str = ""
    waiting: bool = False
    """True while a lost device is being reopened: no audio flows, but nothing is wrong here."""

    @abstractmethod
    def start(self, ring: RingBuffer) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...


class FileSource(Source):
    """A recording, decoded up front (so a bad file fails before anything starts).

    ``realtime``: each chunk is written when it would have been fully captured, like a
    microphone, and a slow consumer makes the ring drop. Otherwise as fast as the consumer
    takes it: the thread waits for free space, so nothing is dropped. The ring is closed
    at the end of the file.
    """

    def __init__(self, path: str | Path, rate: int, chunk: int, realtime: bool) -> None:
        self.name = str(path)
        self.samples = load_audio(path, rate)
        self.rate, self.chunk, self.realtime = rate, chunk, realtime
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate

    def start(self, ring: RingBuffer) -> None:
        self._thread = threading.Thread(target=self._feed, args=(ring,), name="file-source", daemon=True)
        self._thread.start()

    def _feed(self, ring: RingBuffer) -> None:
        t0 = time.monotonic()
        for start in range(0, len(self.samples), self.chunk):
            block = self.samples[start : start + self.chunk]
            if self.realtime:
                self._stop.wait(t0 + (start + len(block)) / self.rate - time.monotonic())
            else:
                while ring.free() < len(block) and not self._stop.is_set():
                    self._stop.wait(0.002)
            if self._stop.is_set():
                break
            ring.write(block)
        ring.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def open_source(cfg: AudioConfig, chunk: int) -> Source:
    from emocap.audio.mic import MicSource  # PyAudio is optional (the [device] extra)

    """The source named by ``[audio] source``; ``auto`` takes the microphone when PyAudio
    finds an input device, else the demo recording (paced in real time)."""
    if cfg.source == "file":
        return FileSource(cfg.demo_file, cfg.sample_rate, chunk, realtime=True)
    if cfg.source == "mic":
        return MicSource(cfg, chunk)
    try:
        return MicSource(cfg, chunk)
    except AudioError as e:
        log.warning("no microphone (%s); replaying %s", e, cfg.demo_file)
        return FileSource(cfg.demo_file, cfg.sample_rate, chunk, realtime=True)
