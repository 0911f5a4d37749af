"""The captioner: the worker thread that turns audio into captions.

It owns the recogniser, the recent-audio history and the calls into the emotion engine.
Each audio chunk goes to Vosk; on each final result the utterance's span is cut from the
history, classified once, and one Caption goes to every sink (first, with ``early_s``, an
early caption of the words so far at a pause: emocap/early.py). It runs off the loop that
drains the ring buffer, so a slow decode or ONNX run never stalls reading. Its queue is
bounded; when it is full the loop waits and the ring buffer absorbs (and counts) overflow.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable

import numpy as np

from emocap.asr import Recognizer, Utterance
from emocap.audio.chunks import AudioChunk, StreamEnd
from emocap.audio.clock import AudioClock
from emocap.audio.history import History
from emocap.blocks import Blocks
from emocap.captions import Partial
from emocap.display.sink import Sink
from emocap.early import EarlyCaptions
from emocap.emotion.engine import EmotionEngine
from emocap.meter import Meter
from emocap.pause import PauseDetector
from emocap.recycle import Recycler, rss_mb
from emocap.tagging import Tagger

log = logging.getLogger(__name__)


class Captioner:
    def __init__(self, recognizer: Recognizer, engine: EmotionEngine, sinks: list[Sink], *, emoji: dict[str, str],
                 sample_rate: int, history_s: float, partials: bool, feed_ms: int, meter: Meter,
                 queue_size: int, pause_s: float = 0.0, pause_gate: Callable[[str], bool] | None = None,
                 max_rss_mb: float = 0.0, recycle_gap_s: float = 0.0, early_s: float = 0.0,
                 early_range_db: float = 0.0) -> None:
        self._rec, self._engine, self._sinks = recognizer, engine, sinks
        # pause_s > 0: a pause in the audio closes the utterance at once (emocap/pause.py),
        # unless pause_gate(text) is False: the text cannot end a sentence (emocap/sentence_end.py)
        self._pause = PauseDetector(sample_rate, pause_s) if pause_s > 0 else None
        self._gate = pause_gate
        self._early = EarlyCaptions(sample_rate, early_s, early_range_db) if early_s > 0 else None
        self._redo_from = 0  # history index where the recogniser's current decoding began
        self._emoji, self._rate, self._partials, self._meter = emoji, sample_rate, partials, meter
        self._history = History(int(history_s * sample_rate))
        self._clock = AudioClock(sample_rate)  # history index -> capture time
        self._tag = Tagger(engine, self._history, self._clock, emoji, sample_rate)
        self._first_partial_ns: int | None = None
        self._finals_seen = 0
        # Vosk gets fixed-size blocks from each stream's start (and from the end of each chunk
        # where an early caption's pause completed), so its output does not depend on timing,
        # only slightly on feed_ms and chunk_ms, which are fixed for a run.
        self._blocks = Blocks(sample_rate * feed_ms // 1000)
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._thread = threading.Thread(target=self._run, name="captioner", daemon=True)
        self._origin_s = 0.0
        self._stream_start = 0  # recogniser clock at the current stream's start
        # Off unless max_rss_mb is given ([asr]'s); a recogniser without recycle() never recycles.
        self._recycler = Recycler(max_rss_mb if hasattr(recognizer, "recycle") else 0.0, meter, sample_rate,
                                  min_gap_s=recycle_gap_s)
        self.error: Exception | None = None
        self.finished = threading.Event()
        self._deadline: float | None = None
        self.dropped_at_stop = 0
        """Samples queued but dropped uncaptioned because the stop's drain deadline had passed."""

    def start(self) -> None:
        # A recogniser may have been used before: times here count from this start.
        self._origin_s = self._rec.samples / self._rate
        self._finals_seen = self._rec.finals  # a warm-up decode may have closed some
        self._stream_start = self._rec.samples
        self._thread.start()

    def put(self, item: AudioChunk | StreamEnd | None) -> bool:
        """Queue an item (None: the end), waiting while the queue is full; False when the
        worker has died."""
        while not self.finished.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def backlog(self) -> int:
        """Items waiting for the worker (about chunk_ms of audio each)."""
        return self._queue.qsize()

    def drain_until(self, deadline: float) -> None:
        """Stopping: audio still queued at ``deadline`` (time.monotonic()) is dropped and
        counted, not recognised; stream ends still flush, so the utterance in progress is
        finished from what was recognised."""
        self._deadline = deadline

    def close(self) -> None:
        """Process everything queued (within the drain deadline, if set), then end the thread."""
        self.put(None)
        self._thread.join()

    def _run(self) -> None:
        try:
            while (item := self._queue.get()) is not None:
                if isinstance(item, AudioChunk):
                    if self._deadline is not None and time.monotonic() > self._deadline:
                        self.dropped_at_stop += len(item.samples)
                        continue
                    self._clock.mark(self._history.total, item.t_mono_ns)
                    self._feed(item.samples)
                else:
                    self._finish()
        except Exception as e:  # reported by the service, which stops and exits non-zero
            self.error = e
        finally:
            self.finished.set()

    def _feed(self, samples: np.ndarray) -> None:
        self._history.append(samples)
        for block in self._blocks.add(samples):
            self._recognise(block)
        # Per chunk, not per block: the pause's pending audio goes to Vosk as a short block, so the
        # partial has heard all of the pause without waiting for the block to fill.
        if self._early is not None and self._early.due(samples):
            self._flush()
            self._show_early()
        if self._pause is not None and self._pause.update(samples):
            self._close_at_pause()

    def _fed(self) -> int:
        """History index of the next sample the recogniser has not been fed."""
        return self._rec.samples - round(self._origin_s * self._rate)

    def _recognise(self, block: np.ndarray) -> None:
        utt = self._rec.accept(block.tobytes())
        if utt is not None:
            if self._pause is not None:
                self._pause.reset()  # Vosk's endpointer came first
            self._emit(utt)
            self._redo_from = round((utt.end_s - self._origin_s) * self._rate)
            self._maybe_recycle(utt)
        elif self._partials:
            text = self._rec.partial()
            if text is not None:
                self._note_partial(text)
                for sink in self._sinks:
                    sink.partial(Partial(text))

    def _note_partial(self, text: str) -> None:
        """Remember when the current utterance's first partial text went out (for its caption)."""
        if self._rec.finals != self._finals_seen:  # a final (perhaps empty: noise) closed the last one
            self._finals_seen, self._first_partial_ns = self._rec.finals, None
        if text and self._first_partial_ns is None:
            self._first_partial_ns = time.monotonic_ns()

    def _flush(self) -> None:
        if (block := self._blocks.rest()) is not None:
            self._recognise(block)

    def _finish(self) -> None:
        """A stream's end: what is pending goes to Vosk, then its final result."""
        self._flush()
        self._closed(self._rec.finish())
        self._engine.new_stream()  # the next source may be another voice
        if self._pause is not None:  # and another room: its noise floor is learnt afresh
            self._pause.relearn()
        if self._early is not None:
            self._early.new_stream()

    def _close_at_pause(self) -> None:
        """Vosk's final result now, unless the gate finds that its text cannot end a sentence:
        then the close is taken back, and the audio since the decoding began is decoded again
        by the fresh pipeline in the same blocks, so the words are those of a run without the
        pause. With the gate, what is pending (pause audio) waits for its full block for that."""
        if self._gate is None:
            self._flush()
        fed = self._fed()
        utt = self._rec.finish()
        held = self._redo_from >= self._history.total - self._history.capacity
        if utt is not None and self._gate is not None and held and not self._gate(utt.text):
            self._meter.count("pauses_taken_back")
            pcm = self._history.slice(self._redo_from, fed).tobytes()
            for again in self._rec.redo(pcm, 2 * self._blocks.size):
                self._emit(again)
                self._redo_from = round((again.end_s - self._origin_s) * self._rate)
            return
        self._closed(utt)

    def _closed(self, utt: Utterance | None) -> None:
        """The recogniser's pipeline was closed (stream end or pause): the next decoding starts here."""
        if utt is not None:
            self._emit(utt)
        self._maybe_recycle(None)
        self._stream_start = self._rec.samples
        self._redo_from = self._fed()

    def _maybe_recycle(self, final: Utterance | None) -> None:
        """At an utterance boundary (after ``final``; None: a stream's end): a fresh recogniser if due."""
        into = None if final is None else self._rec.samples - self._stream_start
        if not self._recycler.due(self._rec.samples, into):
            return
        before, tail = rss_mb(), b""
        if final is not None:  # mid-stream: what followed the final's last word is fed again
            fed = self._rec.samples - round(self._origin_s * self._rate)
            tail = self._history.slice(round((final.end_s - self._origin_s) * self._rate), fed).tobytes()
        again = self._rec.recycle(tail)
        self._recycler.recycled(self._rec.samples, before)
        if again is not None:
            self._emit(again)

    def _show_early(self) -> None:
        """A pause: the words so far as an early caption (untagged until Vosk places the first word)."""
        if (so_far := self._rec.so_far()) is None:
            return
        text, first_s = so_far
        start = first_s - self._origin_s if first_s is not None else self._redo_from / self._rate
        end = self._early.pause_began_s(self._fed())
        if end > start:
            self._early.show(text, start, end, first_s is not None, self._tag, self._sinks,
                             self._fed() / self._rate, self._rec.finals)
            self._meter.count("early_captions")

    def _emit(self, utt: Utterance) -> None:
        t0 = time.perf_counter()  # the final result is in hand
        start, end = utt.start_s - self._origin_s, utt.end_s - self._origin_s
        early = self._early.closed(self._rec.finals) if self._early is not None else None
        covered = early is not None and early.covers(start, end, utt.text)  # it showed this speech whole
        if covered and early.tagged:  # and its tag: the tag already shown stays
            pred, model = early.pred, early.model
        else:
            pred, model = self._tag.classify(start, end)
        more = {"early_ns": early.caption.t_mono_ns, "early_text": early.caption.text} if covered else {}
        latency_ms = (time.perf_counter() - t0) * 1000
        first_partial = self._first_partial_ns if self._rec.finals == self._finals_seen + 1 else None
        self._finals_seen, self._first_partial_ns = self._rec.finals, None
        caption = self._tag.caption(utt.text, start, end, pred, model, latency_ms, first_partial_ns=first_partial,
                                t_closed=self._history.total / self._rate, **more)  # t_closed: audio heard
        self._meter.latency("caption", latency_ms)
        if caption.speech_end_ns is not None:
            self._meter.latency("speech_end", (caption.t_mono_ns - caption.speech_end_ns) / 1e6)
        self._meter.count("captions")
        for sink in self._sinks:
            sink.caption(caption)
