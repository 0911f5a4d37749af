"""``emocap transcript [--config PATH] [--since 10m] [--format txt|srt|json]``: read back
what was said (the ``[transcript]`` files that ``emocap run`` writes)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from emocap import config
from emocap.transcript import export, store

NAME = "transcript"
HELP = "print or export the transcript of past captions (txt, SRT or JSON lines)"


def _since(value: str) -> float:
    try:
        return export.parse_since(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="config file (default: the repository's config.toml)")
    p.add_argument("--since", type=_since, metavar="DURATION", help="only the last DURATION, e.g. 10m, 2h, 7d")
    p.add_argument("--format", choices=export.FORMATS, default="txt", help="txt (default), srt or json (lines)")


def main(args: argparse.Namespace) -> int:
    cfg = config.load(args.config, check_files=False)  # the models are not needed here
    path = Path(cfg.transcript.path)
    since = None if args.since is None else time.time() - args.since
    try:
        entries, bad = store.read(path, since)
    except OSError as e:
        print(f"emocap: transcript {path}: cannot read ({e.strerror or e})", file=sys.stderr)
        return 2
    if bad:
        print(f"emocap: transcript {path}: skipped {bad} unreadable lines", file=sys.stderr)
    if not store.all_files(path):
        print(f"emocap: no transcript at {path} yet", file=sys.stderr)
    sys.stdout.write(export.render(entries, args.format))
    return 0
