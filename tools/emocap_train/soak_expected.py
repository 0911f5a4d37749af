"""Utterances expected per file in a soak: the finals Vosk gives for the file decoded alone.

"Alone" means a fresh ``KaldiRecognizer`` on the configured Vosk model, fed the file in the
same ``[asr] feed_ms`` blocks as the captioner feeds it from a stream's start, then
``FinalResult()``; a final counts when it has text and word times (what the captioner turns
into a caption). The service must give exactly this many captions per file, whatever ran
before it (other files, recogniser recycling).

Counts are cached in a JSON file keyed by path, size and mtime, under a header naming the
model folder and feed_ms (a different model or block size starts a fresh cache). Decoding
runs in its own process (this file run as a script), so the soak's RSS never includes it.

    python tools/soak_expected.py --cache PATH --feed-ms 250 [--model DIR] FILE...
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


def _header(model: str, feed_ms: int) -> dict:
    return {"model": str(model), "feed_ms": feed_ms}


def load_cache(cache: Path, model: str, feed_ms: int) -> dict[str, int]:
    try:
        data = json.loads(cache.read_text())
    except (OSError, ValueError):
        return {}
    return data.get("counts", {}) if data.get("header") == _header(model, feed_ms) else {}


def save_cache(cache: Path, model: str, feed_ms: int, counts: dict[str, int]) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps({"header": _header(model, feed_ms), "counts": counts}))
    tmp.replace(cache)  # atomic: a soak reading the cache meanwhile sees old or new, never half


def expected(paths: list[str], cache: Path, model: str, feed_ms: int, compute: bool = True) -> dict[str, int]:
    """Expected finals for each distinct path (missing ones decoded in a child process first,
    unless ``compute`` is False: then only the cached ones are returned)."""
    counts = load_cache(cache, model, feed_ms)
    todo = sorted({p for p in paths if _key(p) not in counts})
    if todo and compute:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(DAEMON), os.environ.get("PYTHONPATH", "")]))
        subprocess.run([sys.executable, str(Path(__file__).resolve().parents[1] / "soak_expected.py"),
                        "--cache", str(cache), "--feed-ms", str(feed_ms),
                        "--model", str(model), "--stdin"], input="\n".join(todo), text=True, env=env, check=True)
        counts = load_cache(cache, model, feed_ms)
    return {p: counts[_key(p)] for p in set(paths) if _key(p) in counts}


def count_finals(model, path: str, rate: int, feed: int) -> int:
    import vosk

    from emocap.audio.files import load_audio

    rec = vosk.KaldiRecognizer(model, rate)
    rec.SetWords(True)
    pcm = load_audio(path, rate).tobytes()
    results = [rec.Result() for i in range(0, len(pcm), 2 * feed) if rec.AcceptWaveform(pcm[i : i + 2 * feed])]
    results.append(rec.FinalResult())
    finals = [json.loads(r) for r in results]
    return sum(1 for r in finals if r.get("text", "").strip() and r.get("result"))


def undithered(model: Path, dest: Path) -> Path:
    """``model`` with ``--dither=0``: its files linked, its conf/ copied with one line added.
    Kaldi dithers its input from a process-wide random sequence, so two decodes of the same
    audio can differ by a syllable or an end point; without dither they are exact."""
    (dest / "conf").mkdir(parents=True)
    for item in Path(model).iterdir():
        if item.name != "conf":
            (dest / item.name).symlink_to(item.resolve())
    for item in (Path(model) / "conf").iterdir():
        (dest / "conf" / item.name).write_text(item.read_text())
    with open(dest / "conf" / "mfcc.conf", "a") as f:
        f.write("\n--dither=0.0\n")
    return dest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="decode files alone and cache their final counts")
    p.add_argument("--cache", type=Path, required=True)
    p.add_argument("--feed-ms", type=int, default=250)
    p.add_argument("--model", default="", help="Vosk model folder (default: the packaged Korean one)")
    p.add_argument("--stdin", action="store_true", help="read the file list from stdin, one per line")
    p.add_argument("files", nargs="*")
    args = p.parse_args(argv)
    import vosk

    from emocap import asr

    vosk.SetLogLevel(-1)
    model = vosk.Model(str(asr.model_dir(args.model)))
    files = sys.stdin.read().split("\n") if args.stdin else args.files
    counts = load_cache(args.cache, args.model, args.feed_ms)
    for i, f in enumerate(x for x in files if x):
        counts[_key(f)] = count_finals(model, f, 16000, 16000 * args.feed_ms // 1000)
        if i % 50 == 49:  # a long run shares what it has so far
            save_cache(args.cache, args.model, args.feed_ms, {**load_cache(args.cache, args.model, args.feed_ms), **counts})
    save_cache(args.cache, args.model, args.feed_ms, {**load_cache(args.cache, args.model, args.feed_ms), **counts})
    return 0
