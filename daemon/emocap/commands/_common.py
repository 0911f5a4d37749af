"""What the commands that run the pipeline share: config overrides, models, sinks, workers,
and ``build_service``, the one place a service is built."""
from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import numpy as np

from emocap import asr, labels, sentence_end, spacing
from emocap.config import Config, DisplayConfig
from emocap.display.sink import Sink
from emocap.display.terminal import JsonSink, TerminalSink
from emocap.emotion.engine import EmotionEngine
from emocap.meter import Meter
from emocap.monitor import Monitor
from emocap.perf import PerfLog
from emocap.service import Service, Worker
from emocap.transcript.sink import TranscriptSink

log = logging.getLogger(__name__)


def display_choices() -> tuple[str, ...]:
    return next(f for f in dataclasses.fields(DisplayConfig) if f.name == "device").metadata["choices"]


def with_display(cfg: Config, device: str | None, frames: Path | None) -> Config:
    """``--display`` overrides ``[display] device``; ``--frames`` alone implies ``dummy``."""
    if device is None and frames is not None and cfg.display.device == "terminal":
        device = "dummy"
    if device is None:
        return cfg
    return dataclasses.replace(cfg, display=dataclasses.replace(cfg.display, device=device))


def chunk_samples(cfg: Config) -> int:
    return cfg.audio.sample_rate * cfg.audio.chunk_ms // 1000


def open_sinks(cfg: Config, as_json: bool, frames: Path | None) -> list[Sink]:
    """The text sink, plus the OLED (or luma's in-memory dummy) unless ``[display] device``
    is "terminal", which means no OLED."""
    sinks: list[Sink] = [JsonSink() if as_json else TerminalSink()]
    if cfg.display.device != "terminal":
        from emocap.display import open_display  # luma and Pillow load only when a display is used

        sinks.append(open_display(cfg.display, frames))
    return sinks


def build_service(cfg: Config, sources: list, as_json: bool = False, frames: Path | None = None,
                  daemon: bool = False, sinks: list[Sink] | None = None) -> Service:
    """Load and warm the models (seconds), then open the sinks, then assemble the service, so
    a model that fails to load leaves no display half-open, and READY (sent when the service
    starts) means the first utterance is captioned at full speed."""
    meter = Meter()
    engine = EmotionEngine(cfg.emotion, meter, cfg.mode.initial, cfg.audio.sample_rate)
    labels.check_emoji(cfg, labels.of_models(engine.models.values()))
    spacer = spacing.make_spacer(cfg.captions.spacing)
    gate = sentence_end.make_gate(cfg.asr.pause_close, spacer) if cfg.asr.endpoint_silence_s > 0 else None
    # With the gate a taken-back pause falls back on Vosk's own rules, so they stay the model's.
    rules_s = cfg.asr.endpoint_silence_s if gate is None else 0.0
    recognizer = asr.Recognizer(asr.model_dir(cfg.asr.model), cfg.audio.sample_rate, space=spacer.space,
                                endpoint_silence_s=rules_s, dither=cfg.asr.dither,
                                best_path=cfg.asr.final == "best-path")
    warm(engine, recognizer, cfg.audio.sample_rate)
    sinks = open_sinks(cfg, as_json, frames) if sinks is None else sinks  # given: tools/soak.py's tally
    if daemon and cfg.transcript.enabled:  # the record of what was heard live; not of replays
        sinks.append(TranscriptSink(cfg.transcript))
    service = Service(cfg, sources, sinks, recognizer=recognizer, engine=engine, meter=meter, pause_gate=gate)
    for worker in background_workers(cfg, service, daemon):
        service.add_worker(worker)
    return service


def warm(engine: EmotionEngine, recognizer: asr.Recognizer, sample_rate: int, seconds: float = 1.0) -> None:
    """One feature extraction and inference per emotion model and a short decode in Vosk on
    quiet noise, outside the meter: their first run sets up lazily (imports, ONNX kernels,
    Kaldi's compiled computations) and would otherwise delay the first caption."""
    t = time.perf_counter()
    noise = np.random.default_rng(0).normal(0, 100, int(seconds * sample_rate)).astype(np.int16)
    for model in engine.models.values():
        model.predict(noise)
    recognizer.warm(noise.tobytes())
    log.debug("models warmed in %.0f ms", (time.perf_counter() - t) * 1000)


def background_workers(cfg: Config, service: Service, daemon: bool = False) -> list[Worker]:
    """Workers that live as long as the service: the performance monitor, which also runs the
    dynamic mode. As the daemon (``run``) its records also go to journald, or to stderr
    without it; for ``replay`` to the local log only, as stderr belongs to the user there."""
    log = PerfLog(cfg.perf) if daemon else PerfLog(cfg.perf, journal=None, stream=None)
    return [Monitor.for_service(cfg.mode, cfg.perf, service.meter, service.engine, log)]


def run_service(service: Service) -> int:
    service.install_signal_handlers()
    service.run()
    return 0
