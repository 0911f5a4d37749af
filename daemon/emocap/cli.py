"""``emocap <command>``: the one entry point. Errors are caught here, once.

Each command is a module in ``emocap/commands/`` with ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``main(args) -> int``. To add one, write its module and
append its module name to COMMANDS.

Exit codes: 0 done; 2 bad input (EmocapError: config, audio file, device, model), with
one line ``emocap: <message>`` on stderr; 1 a failure while running; 130 interrupted
before the service started (once running, SIGINT/SIGTERM stop it cleanly with 0).
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import NoReturn

from emocap import __version__
from emocap.errors import EmocapError

COMMANDS = ["run", "replay", "check_config", "stats", "transcript"]  # module names in emocap/commands/

log = logging.getLogger("emocap")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="emocap", description="Offline speech captions with emotion tags.")
    parser.add_argument("--version", action="version", version=f"emocap {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        mod = importlib.import_module(f"emocap.commands.{name}")
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(func=mod.main, default_level=getattr(mod, "LOG_LEVEL", logging.WARNING))
    return parser


def setup_logging(verbose: int, default: int) -> None:
    level = [default, min(default, logging.INFO), logging.DEBUG][min(verbose, 2)]
    # Under systemd, stderr goes to the journal, which stamps the time itself.
    fmt = "%(levelname)s %(name)s: %(message)s" if os.environ.get("JOURNAL_STREAM") else \
        "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=level, format=fmt, stream=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose, args.default_level)
    try:
        return args.func(args)
    except EmocapError as e:
        print(f"emocap: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`emocap replay --json ... | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as e:  # the boundary: a failure at run time, one line unless asked for more
        log.debug("failure", exc_info=True)
        print(f"emocap: failed: {type(e).__name__}: {e} (run with -vv for the traceback)", file=sys.stderr)
        return 1


def entry() -> NoReturn:
    """The process entry (console script, ``python -m``): ``main``, then exit at once.

    Everything of ours is closed when ``main`` returns; what is left is the interpreter
    freeing the Vosk model's graph, a second or more on a Pi, which would count against
    systemd's TimeoutStopSec. Calling ``main`` in-process (tests) exits nothing."""
    rc = main()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # the reader went away, or the stream was closed
            pass
    os._exit(rc)


if __name__ == "__main__":
    entry()
