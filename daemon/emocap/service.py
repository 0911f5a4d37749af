"""The pipeline loop and its lifecycle.

    source --(copy)--> RingBuffer --(this loop, chunk_ms blocks)--> Captioner thread --> sinks
                                                                    (Vosk, emotion)

The loop only moves audio from the ring buffer to the captioner's bounded queue and pings
the systemd watchdog; it never decodes or classifies. The meter reads the ring buffer's
totals and fill, and the captioner's backlog, where they are kept (names and units in
``emocap/metrics.py``). Sources play one after another (``replay`` with several files); the recogniser is flushed at the
end of each, so no utterance straddles two files, while its clock runs on.

Built (models loaded and warmed, sinks opened) by ``commands/_common.build_service``.

Lifecycle: CREATED -> STARTING -> RUNNING -> STOPPING -> STOPPED. ``stop()`` only asks
(it is what SIGTERM and SIGINT call); the one teardown path runs in ``run()``: stop
capture, flush and drain the captioner, stop background workers, close the sinks.

Stopping is bounded: audio captured before the stop is still captioned for at most
``[audio] stop_drain_s`` after it (a slow CPU may hold a full queue of it); what remains is
dropped, counted and logged once, and the utterance in progress is finished from what was
recognised. A microphone lost mid-utterance flushes the recogniser, so that utterance is
captioned at once rather than merged with the first one after the device returns.
"""
from __future__ import annotations

import enum
import logging
import signal
import threading
import time
from typing import Iterable, Protocol

from emocap import asr
from emocap.audio.ring import RingBuffer
from emocap.audio.sources import Source
from emocap.captioner import AudioChunk, Captioner, StreamEnd
from emocap.config import Config
from emocap.display.sink import Sink
from emocap.emotion.engine import EmotionEngine
from emocap.meter import Meter
from emocap.notify import Notifier

log = logging.getLogger(__name__)


class State(enum.Enum):
    CREATED = "created"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"


class Worker(Protocol):
    """A background task living as long as the service (e.g. the performance monitor)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


class Service:
    def __init__(self, cfg: Config, sources: Iterable[Source], sinks: list[Sink], *, recognizer: asr.Recognizer,
                 engine: EmotionEngine, meter: Meter, pause_gate=None) -> None:
        a = cfg.audio
        self.cfg, self.engine, self.meter = cfg, engine, meter
        self.ring = RingBuffer(int(a.ring_seconds * a.sample_rate))
        self.chunk = a.sample_rate * a.chunk_ms // 1000
        self.captioner = Captioner(recognizer, engine, sinks, emoji=cfg.captions.emoji, sample_rate=a.sample_rate,
                                   history_s=cfg.emotion.max_utterance_s, partials=cfg.asr.partials,
                                   feed_ms=cfg.asr.feed_ms, meter=meter,
                                   queue_size=max(1, round(a.queue_s * 1000 / a.chunk_ms)),
                                   pause_s=cfg.asr.endpoint_silence_s, pause_gate=pause_gate,
                                   max_rss_mb=cfg.asr.max_rss_mb, recycle_gap_s=cfg.asr.recycle_gap_s,
                                   early_s=cfg.captions.early_pause_s,
                                   early_range_db=cfg.captions.early_range_db)
        self._measure(meter)
        self.state = State.CREATED
        self._sources, self._sinks = list(sources), sinks
        self._workers: list[Worker] = []
        self._stop = threading.Event()
        self._stop_at: float | None = None
        self._notify = Notifier()

    def _measure(self, meter: Meter) -> None:
        """Register once what the meter reads at each snapshot; the loop never copies it."""
        ring, chunk_s = self.ring, self.cfg.audio.chunk_ms / 1000
        meter.read("frames_captured", lambda: ring.written + ring.dropped)
        meter.read("frames_dropped", lambda: ring.dropped)
        meter.read("ring_fill", ring.fill)
        meter.read("asr_backlog_s", lambda: self.captioner.backlog() * chunk_s)

    def add_worker(self, worker: Worker) -> None:
        """Register a background worker; it gets start() with the service and stop() at the end."""
        self._workers.append(worker)

    def stop(self) -> None:
        """Ask the service to stop; safe from signal handlers and any thread."""
        if self._stop_at is None:
            self._stop_at = time.monotonic()
        self._stop.set()

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop())

    def run(self) -> None:
        """Start, play every source until it ends or stop() is called, then tear down.
        Re-raises the captioner's error, if it failed."""
        self._start()
        try:
            for source in self._sources:
                if self._stop.is_set() or not self._pump(source):
                    break
        finally:
            self._shutdown()
        if self.captioner.error is not None:
            raise self.captioner.error

    def _start(self) -> None:
        self.state = State.STARTING
        self.captioner.start()
        for w in self._workers:
            w.start()
        self.state = State.RUNNING
        self._notify.ready()

    def _pump(self, source: Source) -> bool:
        """Move one source's audio to the captioner; False when the pipeline must stop."""
        source.start(self.ring)
        try:
            if not self._move(source):
                return False
        finally:
            source.stop()
            if self._stop.is_set():
                self.captioner.drain_until(self._stop_at + self.cfg.audio.stop_drain_s)
                self._queue_rest()
            self.ring.reopen()
        return self.captioner.put(StreamEnd(source.name))

    def _move(self, source: Source) -> bool:
        """Ring -> captioner until the source ends or stop(); False when the captioner died."""
        flushed = False  # the recogniser was flushed for a device that went away
        while not self._stop.is_set():
            ended = self.ring.closed  # read before the ring: a close after this sees the last block
            first = self.ring.read_count
            block = self.ring.read(self.chunk, timeout=0.25)
            if len(block):
                # the chunk carries the capture time of its first sample: audio time -> wall time
                t_ns = self.ring.capture_ns(first, self.cfg.audio.sample_rate)
                if not self.captioner.put(AudioChunk(block, t_ns)):
                    return False
                self._notify.alive()
                flushed = False
            elif ended:
                break
            elif source.waiting:
                self._notify.alive()  # the loop is healthy; the device is being reopened
                if not flushed and not self.captioner.put(StreamEnd(source.name)):
                    return False
                flushed = True
        return True

    def _queue_rest(self) -> None:
        """Stopping: what the source captured but the loop had not read yet joins the queue."""
        first, rate = self.ring.read_count, self.cfg.audio.sample_rate
        rest = self.ring.read(self.ring.available(), timeout=0)
        for i in range(0, len(rest), self.chunk):  # in chunks: the drain deadline is checked per chunk
            if not self.captioner.put(AudioChunk(rest[i : i + self.chunk], self.ring.capture_ns(first + i, rate))):
                return

    def _shutdown(self) -> None:
        self.state = State.STOPPING
        self._notify.stopping()
        self.captioner.close()  # drains what is queued: the last utterance still gets its caption
        if self.captioner.dropped_at_stop:
            log.warning("stopping: %.1f s of queued audio dropped uncaptioned (beyond [audio] stop_drain_s = %g s)",
                        self.captioner.dropped_at_stop / self.cfg.audio.sample_rate, self.cfg.audio.stop_drain_s)
        for w in reversed(self._workers):
            w.stop()
        for sink in self._sinks:
            sink.close()
        self.state = State.STOPPED
        if self.ring.dropped:
            log.warning("%d audio frames were dropped (the pipeline fell behind)", self.ring.dropped)
