"""``emocap replay AUDIO... [--config PATH] [--json] [--realtime] [--display NAME] [--frames DIR]``"""
from __future__ import annotations

import argparse
from pathlib import Path

from emocap import config
from emocap.audio.sources import FileSource
from emocap.commands._common import build_service, chunk_samples, display_choices, run_service, with_display

NAME = "replay"
HELP = ("caption recordings through the same pipeline as the service; several files play back "
        "to back on one clock (times run on from file to file)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("audio", nargs="+", type=Path, metavar="AUDIO", help="WAV/FLAC/OGG files, any rate or channels")
    p.add_argument("--config", type=Path, help="config file (default: $EMOCAP_CONFIG, else /etc/emocap/config.toml, else the packaged one)")
    p.add_argument("--json", action="store_true", help="one JSON object per caption instead of the live view")
    p.add_argument("--realtime", action="store_true", help="pace the audio like a microphone (default: as fast as it goes)")
    p.add_argument("--display", choices=display_choices(), help="override [display] device")
    p.add_argument("--frames", type=Path, metavar="DIR", help="write the display's frames here (implies --display dummy)")


def main(args: argparse.Namespace) -> int:
    cfg = with_display(config.load(args.config), args.display, args.frames)
    chunk = chunk_samples(cfg)
    # Decode every file before loading models: a bad file fails in a second, not after them.
    sources = [FileSource(path, cfg.audio.sample_rate, chunk, args.realtime) for path in args.audio]
    return run_service(build_service(cfg, sources, as_json=args.json, frames=args.frames))
