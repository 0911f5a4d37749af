"""Utterances expected per file in a soak: the finals Vosk gives for the file decoded alone.

"Alone" means a fresh decoder and feature pipeline on the configured Vosk model at
``[asr] dither`` and ``[asr] final`` (loaded as the service loads it: emocap/vosk_conf.py;
digital silence filled as the service fills it when dither is off), fed the file as the
captioner feeds a stream from its start (``Feeding``): ``[audio] chunk_ms`` chunks gathered
into ``[asr] feed_ms`` blocks, and, with early captions on, the pending audio sent as a short
block at each pause their detector reports (emocap/early.py, emocap/pause.py). Those short
blocks move Vosk's endpointer by a block now and then, and with it where an utterance is
split, so they are part of what decides the count. Then ``FinalResult()``; a final counts when
it has text and word times (what the captioner turns into a caption). ``[asr]
endpoint_silence_s`` (a pause closing an utterance) is not modelled: soak with it at 0.

One ``KaldiRecognizer`` serves all files, finalised after each (an empty ``AcceptWaveform``
first, so that a file whose last block closed an utterance is finalised too and the next
starts clean): it keeps only its cache of the composed graph, which changes no result, and a
fresh ``KaldiRecognizer`` per file was 2.8x slower (the playlist's first 30 files: 71 s
against 26 s on a 2-vCPU AMD EPYC, one-off, the same finals and texts). The service must give
exactly this many captions per file, whatever ran before it (other files, recogniser recycling).

Counts are cached in a JSON file keyed by path, size and mtime, under a header naming the
feeding (another model, block, chunk, dither, final or pause setting starts a fresh cache).
Decoding runs in its own process (this file run as a script), so the soak's RSS never includes it.

    python tools/soak_expected.py --cache PATH [--config CFG] [--dither 0] [--early-pause-s 0] FILE...
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

DAEMON = Path(__file__).resolve().parents[2] / "daemon"
RATE = 16000


@dataclasses.dataclass(frozen=True)
class Feeding:
    """What of the config decides where Vosk closes utterances in a file."""

    model: str = ""
    feed_ms: int = 250
    chunk_ms: int = 100
    dither: float = 0.0
    final: str = "best-path"
    early_pause_s: float = 0.0
    early_range_db: float = 0.0

    @classmethod
    def of(cls, cfg) -> "Feeding":
        return cls(str(cfg.asr.model), cfg.asr.feed_ms, cfg.audio.chunk_ms, cfg.asr.dither, cfg.asr.final,
                   cfg.captions.early_pause_s, cfg.captions.early_range_db)

    def args(self) -> list[str]:
        """This feeding as command-line options of ``main``."""
        return [x for f in dataclasses.fields(self) for x in (_flag(f.name), str(getattr(self, f.name)))]


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _key(path: str) -> str:
    st = os.stat(path)
    return f"{path}|{st.st_size}|{st.st_mtime_ns}"


def load_cache(cache: Path, feeding: Feeding) -> dict[str, int]:
    try:
        data = json.loads(cache.read_text())
    except (OSError, ValueError):
        return {}
    return data.get("counts", {}) if data.get("header") == dataclasses.asdict(feeding) else {}


def save_cache(cache: Path, feeding: Feeding, counts: dict[str, int]) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps({"header": dataclasses.asdict(feeding), "counts": counts}))
    tmp.replace(cache)  # atomic: a soak reading the cache meanwhile sees old or new, never half


def expected(paths: list[str], cache: Path, feeding: Feeding, compute: bool = True) -> dict[str, int]:
    """Expected finals for each distinct path (missing ones decoded in a child process first,
    unless ``compute`` is False: then only the cached ones are returned)."""
    counts = load_cache(cache, feeding)
    todo = sorted({p for p in paths if _key(p) not in counts})
    if todo and compute:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(DAEMON), os.environ.get("PYTHONPATH", "")]))
        subprocess.run([sys.executable, str(Path(__file__).resolve().parents[1] / "soak_expected.py"),
                        "--cache", str(cache), *feeding.args(), "--stdin"], input="\n".join(todo), text=True,
                       env=env, check=True)
        counts = load_cache(cache, feeding)
    return {p: counts[_key(p)] for p in set(paths) if _key(p) in counts}


def count_finals(rec, path: str, feeding: Feeding) -> int:
    """Finals of one file through ``rec`` (emocap.asr.open_recognizer), fed as the captioner
    feeds it (emocap/captioner.py, ``_feed``: the same Blocks and EarlyCaptions), left finalised."""
    from emocap.asr import final_words
    from emocap.audio.files import load_audio
    from emocap.blocks import Blocks
    from emocap.digital_silence import SilenceFill
    from emocap.early import EarlyCaptions

    pcm = load_audio(path, RATE)
    fill = SilenceFill() if not feeding.dither else (lambda block: block)
    early = EarlyCaptions(RATE, feeding.early_pause_s, feeding.early_range_db) if feeding.early_pause_s > 0 else None
    blocks, chunk, finals = Blocks(RATE * feeding.feed_ms // 1000), RATE * feeding.chunk_ms // 1000, 0

    def accept(block) -> None:
        nonlocal finals
        if rec.AcceptWaveform(fill(block.tobytes())) and all(final_words(rec.Result())):
            finals += 1
            if early is not None:
                early.closed(finals)  # a caption: the pause detector waits for new speech

    for i in range(0, len(pcm), chunk):
        for block in blocks.add(pcm[i : i + chunk]):
            accept(block)
        if early is not None and early.due(pcm[i : i + chunk]) and (block := blocks.rest()) is not None:
            accept(block)
    if (block := blocks.rest()) is not None:
        accept(block)
    rec.AcceptWaveform(b"")  # after an endpoint, FinalResult() alone would not finalise
    return finals + all(final_words(rec.FinalResult()))


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="decode files alone, fed as the service feeds them, and cache "
                                            "their final counts")
    p.add_argument("--cache", type=Path, required=True)
    p.add_argument("--config", type=Path, help="config the feeding is read from (default: the shipped one)")
    for f in dataclasses.fields(Feeding):
        p.add_argument(_flag(f.name), type=type(f.default), help=f"override the config's {f.name}")
    p.add_argument("--stdin", action="store_true", help="read the file list from stdin, one per line")
    p.add_argument("files", nargs="*")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    import vosk

    from emocap import asr, config, vosk_conf

    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(Feeding) if getattr(args, f.name) is not None}
    feeding = dataclasses.replace(Feeding.of(config.load(args.config)), **given)
    vosk.SetLogLevel(-1)
    with vosk_conf.model_folder(asr.model_dir(feeding.model), dither=feeding.dither) as folder:
        model = vosk.Model(str(folder))
    rec = asr.open_recognizer(model, RATE, feeding.final == "best-path")
    files = sys.stdin.read().split("\n") if args.stdin else args.files
    counts = load_cache(args.cache, feeding)
    for i, f in enumerate(x for x in files if x):
        counts[_key(f)] = count_finals(rec, f, feeding)
        if i % 50 == 49:  # a long run shares what it has so far
            save_cache(args.cache, feeding, {**load_cache(args.cache, feeding), **counts})
    save_cache(args.cache, feeding, {**load_cache(args.cache, feeding), **counts})
    return 0
