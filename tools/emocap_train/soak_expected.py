"""Utterances expected per file in a soak: the finals Vosk gives for the file decoded alone.

"Alone" means a fresh decoder and feature pipeline on the configured Vosk model at
``[asr] dither`` and ``[asr] final`` (loaded as the service loads it: emocap/vosk_conf.py; digital silence filled as
the service fills it when dither is off), fed the file in the same ``[asr] feed_ms`` blocks as
the captioner feeds it from a stream's start, then ``FinalResult()``; a final counts when it has
text and word times (what the captioner turns into a caption). One ``KaldiRecognizer`` serves
all files, finalised after each (an empty ``AcceptWaveform`` first, so that a file whose last
block closed an utterance is finalised too and the next starts clean): it keeps only its cache
of the composed graph, which changes no result, and a fresh ``KaldiRecognizer`` per file was
2.8x slower (the playlist's first 30 files: 71 s against 26 s on a 2-vCPU AMD EPYC, one-off,
the same finals and texts). The service must give exactly this many captions per file,
whatever ran before it (other files, recogniser recycling).

Counts are cached in a JSON file keyed by path, size and mtime, under a header naming the
model folder, feed_ms, dither and final (a different model, block size, dither or final starts a fresh cache). Decoding
runs in its own process (this file run as a script), so the soak's RSS never includes it.

    python tools/soak_expected.py --cache PATH --feed-ms 250 [--dither 0] [--final mbr] [--model DIR] FILE...
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

DAEMON = Path(__file__).resolve().parents[2] / "daemon"


def _key(path: str) -> str:
    st = os.stat(path)
    return f"{path}|{st.st_size}|{st.st_mtime_ns}"


def _header(model: str, feed_ms: int, dither: float, final: str) -> dict:
    return {"model": str(model), "feed_ms": feed_ms, "dither": dither, "final": final}


def load_cache(cache: Path, model: str, feed_ms: int, dither: float, final: str) -> dict[str, int]:
    try:
        data = json.loads(cache.read_text())
    except (OSError, ValueError):
        return {}
    return data.get("counts", {}) if data.get("header") == _header(model, feed_ms, dither, final) else {}


def save_cache(cache: Path, model: str, feed_ms: int, dither: float, final: str, counts: dict[str, int]) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps({"header": _header(model, feed_ms, dither, final), "counts": counts}))
    tmp.replace(cache)  # atomic: a soak reading the cache meanwhile sees old or new, never half


def expected(paths: list[str], cache: Path, model: str, feed_ms: int, dither: float, final: str = "best-path",
             compute: bool = True) -> dict[str, int]:
    """Expected finals for each distinct path (missing ones decoded in a child process first,
    unless ``compute`` is False: then only the cached ones are returned)."""
    counts = load_cache(cache, model, feed_ms, dither, final)
    todo = sorted({p for p in paths if _key(p) not in counts})
    if todo and compute:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(DAEMON), os.environ.get("PYTHONPATH", "")]))
        subprocess.run([sys.executable, str(Path(__file__).resolve().parents[1] / "soak_expected.py"),
                        "--cache", str(cache), "--feed-ms", str(feed_ms), "--dither", str(dither),
                        "--final", final, "--model", str(model), "--stdin"], input="\n".join(todo), text=True, env=env, check=True)
        counts = load_cache(cache, model, feed_ms, dither, final)
    return {p: counts[_key(p)] for p in set(paths) if _key(p) in counts}


def count_finals(rec, path: str, rate: int, feed: int, dither: float) -> int:
    """Finals of one file through ``rec`` (emocap.asr.open_recognizer), left finalised."""
    from emocap.audio.files import load_audio
    from emocap.digital_silence import SilenceFill

    pcm = load_audio(path, rate).tobytes()
    fill = SilenceFill() if not dither else (lambda block: block)
    results = [rec.Result() for i in range(0, len(pcm), 2 * feed) if rec.AcceptWaveform(fill(pcm[i : i + 2 * feed]))]
    rec.AcceptWaveform(b"")  # after an endpoint, FinalResult() alone would not finalise
    results.append(rec.FinalResult())
    from emocap.asr import final_words

    return sum(1 for text, words in map(final_words, results) if text and words)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="decode files alone and cache their final counts")
    p.add_argument("--cache", type=Path, required=True)
    p.add_argument("--feed-ms", type=int, default=250)
    p.add_argument("--dither", type=float, default=0.0, help="Kaldi's --dither ([asr] dither)")
    p.add_argument("--final", default="best-path", choices=("best-path", "mbr"), help="[asr] final")
    p.add_argument("--model", default="", help="Vosk model folder (default: the packaged Korean one)")
    p.add_argument("--stdin", action="store_true", help="read the file list from stdin, one per line")
    p.add_argument("files", nargs="*")
    args = p.parse_args(argv)
    import vosk

    from emocap import asr, vosk_conf

    vosk.SetLogLevel(-1)
    with vosk_conf.model_folder(asr.model_dir(args.model), dither=args.dither) as folder:
        model = vosk.Model(str(folder))
    rec = asr.open_recognizer(model, 16000, args.final == "best-path")
    files = sys.stdin.read().split("\n") if args.stdin else args.files
    head = (args.cache, args.model, args.feed_ms, args.dither, args.final)
    counts = load_cache(*head)
    for i, f in enumerate(x for x in files if x):
        counts[_key(f)] = count_finals(rec, f, 16000, 16000 * args.feed_ms // 1000, args.dither)
        if i % 50 == 49:  # a long run shares what it has so far
            save_cache(*head, {**load_cache(*head), **counts})
    save_cache(*head, {**load_cache(*head), **counts})
    return 0
