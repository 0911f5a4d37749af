"""What the commands that run the pipeline share: config overrides, models, sinks, workers."""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from emocap import asr
from emocap.config import Config, DisplayConfig
from emocap.display.sink import Sink
from emocap.display.terminal import JsonSink, TerminalSink
from emocap.emotion.engine import EmotionEngine
from emocap.meter import Meter
from emocap.monitor import Monitor
from emocap.perf import PerfLog
from emocap.service import Service, Worker

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
    """The text sink, plus the OLED (or its emulator) when ``[display] device`` names one."""
    sinks: list[Sink] = [JsonSink() if as_json else TerminalSink()]
    if cfg.display.device != "terminal":
        from emocap import display

        opener = getattr(display, "open_display", None)
        if opener is None:
            log.warning("display %r is not available in this build; captions go to the terminal only",
                        cfg.display.device)
        else:
            sinks.append(opener(cfg.display, frames))
    return sinks


def build_service(cfg: Config, sources: list, as_json: bool = False, frames: Path | None = None,
                  daemon: bool = False) -> Service:
    """Load the models (seconds), then open the sinks, then assemble the service, so a model
    that fails to load leaves no display half-open."""
    meter = Meter()
    engine = EmotionEngine(cfg.emotion, meter, cfg.mode.initial, cfg.audio.sample_rate)
    recognizer = asr.Recognizer(asr.model_dir(cfg.asr.model), cfg.audio.sample_rate)
    service = Service(cfg, sources, open_sinks(cfg, as_json, frames), recognizer=recognizer, engine=engine,
                      meter=meter)
    for worker in background_workers(cfg, service, daemon):
        service.add_worker(worker)
    return service


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
