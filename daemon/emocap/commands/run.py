"""``emocap run [--config PATH]``: the service (what systemd runs)."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from emocap import config
from emocap.audio.sources import open_source
from emocap.commands._common import build_service, chunk_samples, run_service

NAME = "run"
HELP = "caption the microphone until stopped (SIGTERM/SIGINT); without one, replay [audio] demo_file"
LOG_LEVEL = logging.INFO


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="config file (default: $EMOCAP_CONFIG, else /etc/emocap/config.toml, else the packaged one)")


def main(args: argparse.Namespace) -> int:
    cfg = config.load(args.config)
    source = open_source(cfg.audio, chunk_samples(cfg))
    return run_service(build_service(cfg, [source], daemon=True))
