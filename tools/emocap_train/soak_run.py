"""The in-process part of the soak: a playlist through the real Service, with an RSS sampler.

Built as ``emocap replay`` builds it (build_service: warmed models, spacing, the Monitor), with a
sink that keeps only each caption's span (a few bytes, so the soak's own bookkeeping does
not show up as growth) and sources that decode their file only when it starts.
"""
from __future__ import annotations

import bisect
import json
import os
import threading
import time
from array import array

import psutil

from emocap.audio.ring import RingBuffer
from emocap.audio.sources import FileSource, Source
from emocap.captions import Caption, Partial
from emocap.commands._common import build_service
from emocap.config import Config
from emocap.service import Service


class LazyFile(Source):
    """A FileSource decoded at start() and released at stop(); past the deadline it plays
    nothing and stops the service, so the soak only ever ends between files."""

    def __init__(self, path: str, cfg: Config, clock: "Clock") -> None:
        self.name, self.cfg, self.clock = path, cfg, clock
        self._inner: FileSource | None = None
        self.played = False

    def start(self, ring: RingBuffer) -> None:
        if self.clock.expired():
            self.clock.service.stop()
            ring.close()
            return
        a = self.cfg.audio
        self._inner = FileSource(self.name, a.sample_rate, a.sample_rate * a.chunk_ms // 1000, realtime=False)
        self.clock.boundaries.append(self.clock.boundaries[-1] + len(self._inner.samples) / a.sample_rate)
        self.played = True
        self._inner.start(ring)

    def stop(self) -> None:
        if self._inner is not None:
            self._inner.stop()
            self._inner = None  # drop the decoded samples now, not when the playlist ends


class Clock:
    """Shared by the sources: the wall-time deadline and where each file starts (s of audio)."""

    def __init__(self, max_wall_s: float | None) -> None:
        self.deadline = None if max_wall_s is None else time.monotonic() + max_wall_s
        self.boundaries = [0.0]
        self.service: Service | None = None

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline


class Tally:
    """A sink keeping each caption's span (seconds from the first file's start)."""

    def __init__(self) -> None:
        self.starts, self.ends = array("d"), array("d")

    def partial(self, event: Partial) -> None:
        pass

    def caption(self, event: Caption) -> None:
        if not event.final:
            return  # an early caption: its final follows
        self.starts.append(event.t_start)
        self.ends.append(event.t_end)

    def close(self) -> None:
        pass

    def per_file(self, boundaries: list[float], eps: float = 0.02) -> tuple[list[int], int]:
        """Captions per file, and how many spans are not inside their file or overlap the previous.
        ``eps``: Vosk's float times put a file's first word at 3.7699999 for a file starting at
        3.77, so a start within ``eps`` before a boundary belongs to the file after it."""
        counts = [0] * (len(boundaries) - 1)
        bad, prev_end = 0, 0.0
        for s, e in zip(self.starts, self.ends):
            i = bisect.bisect_right(boundaries, s + eps) - 1
            if 0 <= i < len(counts):
                counts[i] += 1
            inside = 0 <= i < len(counts) and e <= boundaries[i + 1] + eps
            bad += (not inside) or s < prev_end - eps or e < s
            prev_end = e
        return counts, bad


class Sampler:
    """Samples RSS, audio played and the counters every ``period`` s of wall time, on a thread."""

    def __init__(self, service: Service, period: float, progress=None) -> None:
        self.service, self.period = service, period
        self._progress = open(progress, "a") if progress else None  # a crash still leaves the curve
        self.samples: list[dict] = []
        self.recycle_at: list[dict] = []
        self._proc, self._t0, self._stop = psutil.Process(), time.monotonic(), threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def _run(self) -> None:
        self.sample()
        while not self._stop.wait(self.period):
            self.sample()

    def sample(self) -> None:
        snap = self.service.meter.snapshot(reset_latency=False)
        c = {**snap["gauges"], **snap["counts"]}  # the frame counters are counts (older builds: gauges)
        s = {"wall_s": round(time.monotonic() - self._t0, 2),
             "audio_h": round(c.get("frames_captured", 0) / self.service.cfg.audio.sample_rate / 3600, 5),
             "rss_mb": round(self._proc.memory_info().rss / 2**20, 1), "captions": c.get("captions", 0),
             "frames_dropped": int(c.get("frames_dropped", 0)), "mode": self.service.engine.mode,
             "mode_switches": c.get("mode_switches", 0), "asr_recycles": c.get("asr_recycles", 0)}
        if self.samples and s["asr_recycles"] > self.samples[-1]["asr_recycles"]:
            self.recycle_at.append({"audio_h": s["audio_h"], "rss_mb_before": self.samples[-1]["rss_mb"]})
        self.samples.append(s)
        if self._progress:
            self._progress.write(json.dumps(s) + "\n")
            self._progress.flush()


def growth(samples: list[dict], after_h: float = 1.0) -> float | None:
    """Least-squares slope of RSS (MB) against audio hours over the samples after ``after_h``
    hours of audio; None with under half an hour of audio after that."""
    pts = [(s["audio_h"], s["rss_mb"]) for s in samples if s["audio_h"] >= after_h]
    if len(pts) < 3 or pts[-1][0] - pts[0][0] < 0.5:
        return None
    n, sx, sy = len(pts), sum(p[0] for p in pts), sum(p[1] for p in pts)
    sxx, sxy = sum(p[0] ** 2 for p in pts), sum(p[0] * p[1] for p in pts)
    return (n * sxy - sx * sy) / (n * sxx - sx * sx)


def run_soak(cfg: Config, entries: list[tuple[str, float]], *, sample_s: float, max_wall_s: float | None,
             progress=None) -> dict:
    clock, tally = Clock(max_wall_s), Tally()
    sources = [LazyFile(path, cfg, clock) for path, _ in entries]
    service = build_service(cfg, sources, sinks=[tally])  # as `emocap replay` builds it, models warmed
    clock.service = service
    sampler = Sampler(service, sample_s, progress)
    t0 = time.monotonic()
    sampler.start()
    service.run()
    sampler.stop()
    played = sum(s.played for s in sources)
    per_file, span_errors = tally.per_file(clock.boundaries)
    rss = [s["rss_mb"] for s in sampler.samples]
    last = sampler.samples[-1]
    return {"audio_hours": round(clock.boundaries[-1] / 3600, 4), "audio_s": round(clock.boundaries[-1], 3), "wall_s": round(time.monotonic() - t0, 1),
            "files_played": played, "per_file": per_file, "span_errors": span_errors,
            "frames_dropped": last["frames_dropped"], "frames_captured": service.ring.written + service.ring.dropped,
            "mode_switches": last["mode_switches"], "asr_recycles": last["asr_recycles"],
            "rss_mb": {"start": rss[0], "peak": max(rss), "end": rss[-1],
                       "growth_mb_per_h_after_1h": growth(sampler.samples),
                       "growth_mb_per_h_after_10min": growth(sampler.samples, 1 / 6)},
            "config": {"max_rss_mb": cfg.asr.max_rss_mb, "feed_ms": cfg.asr.feed_ms, "mode": cfg.mode.initial,
                       "dynamic": cfg.mode.dynamic},
            "env": {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")},
            "samples": sampler.samples, "recycle_at": sampler.recycle_at}
