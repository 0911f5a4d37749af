#!/usr/bin/env python3
"""Character error rate of the captions: through the pipeline vs. Vosk fed each file whole.

    python tools/asr_cer.py [--manifest ../shared/data/asr/ko/manifest.csv] [--limit N]

Pipeline: one ``emocap replay --json`` process over all files (fast mode), captions mapped
back to files by time. Whole-file: each file's 16 kHz PCM fed to a fresh KaldiRecognizer in
8000-byte chunks, text = the Result()s and FinalResult() joined by spaces (the method of
../shared/data/README.md). The two run side by side. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "daemon"))

import cer  # noqa: E402
from emocap import asr  # noqa: E402
from emocap.audio.io import load_audio  # noqa: E402

SHARED = next((p / "shared" / "data" for p in ROOT.parents if (p / "shared" / "data").is_dir()),
              ROOT.parent / "shared" / "data")
DEFAULT_MANIFEST = SHARED / "asr" / "ko" / "manifest.csv"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    p.add_argument("--limit", type=int, default=0, help="first N files only (0: all)")
    p.add_argument("--config", type=Path, help="config for the pipeline run")
    p.add_argument("--details", action="store_true", help="add per-file texts to the output")
    return p.parse_args(argv)


def read_manifest(path: Path, limit: int) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["file"] = str(path.parent / r["path"])
    return rows[:limit] if limit else rows


def start_pipeline(files: list[str], config: Path | None, out, err) -> subprocess.Popen:
    """``emocap replay --json`` in the background, writing to files (a pipe nobody reads
    yet would fill and stall it)."""
    cmd = [sys.executable, "-m", "emocap.cli", "replay", "--json", *files]
    if config:
        cmd[4:4] = ["--config", str(config)]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "daemon"))
    return subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env)


def whole_file_texts(audio: list, model_path: Path) -> list[str]:
    import vosk

    vosk.SetLogLevel(-1)
    model = vosk.Model(str(model_path))
    texts = []
    for samples in audio:
        rec, pcm, parts = vosk.KaldiRecognizer(model, 16000), samples.tobytes(), []
        for i in range(0, len(pcm), 8000):
            if rec.AcceptWaveform(pcm[i : i + 8000]):
                parts.append(json.loads(rec.Result())["text"])
        parts.append(json.loads(rec.FinalResult())["text"])
        texts.append(" ".join(p for p in parts if p))
    return texts


def score(refs: list[str], hyps: list[str]) -> dict:
    errs = [cer.errors(r, h) for r, h in zip(refs, hyps)]
    e, n = sum(x for x, _ in errs), sum(y for _, y in errs)
    return {"errors": e, "ref_chars": n, "cer": round(e / n, 4)}


def main(argv=None) -> int:
    args = parse_args(argv)
    rows = read_manifest(args.manifest, args.limit)
    files = [r["file"] for r in rows]
    t0 = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = start_pipeline(files, args.config, out, err)
        done: dict[str, float] = {}
        waiter = threading.Thread(target=lambda: (proc.wait(), done.setdefault("t", time.monotonic() - t0)))
        waiter.start()
        audio = [load_audio(f) for f in files]
        whole = whole_file_texts(audio, asr.model_dir(""))
        t_whole = time.monotonic() - t0
        waiter.join()
        t_pipe = done["t"]
        out.seek(0), err.seek(0)
        lines, errors = out.read().splitlines(), err.read()
    if proc.returncode != 0:
        print(errors, file=sys.stderr)
        return 1
    caps = cer.captions_by_file([json.loads(l) for l in lines], [len(a) / 16000 for a in audio])
    piped = [" ".join(c["text"] for c in cs) for cs in caps]
    refs = [r["text"] for r in rows]
    result = {"files": len(rows), "audio_s": round(sum(len(a) for a in audio) / 16000, 1),
              "pipeline": score(refs, piped), "whole_file": score(refs, whole),
              "files_differing": sum(cer.normalise(a) != cer.normalise(b) for a, b in zip(piped, whole)),
              "captions": sum(len(c) for c in caps), "pipeline_wall_s": round(t_pipe, 1),
              "whole_file_wall_s": round(t_whole, 1), "note": "both decoders ran concurrently on this machine"}
    if args.details:
        result["per_file"] = [{"path": r["path"], "ref": r["text"], "pipeline": p, "whole_file": w}
                              for r, p, w in zip(rows, piped, whole) if cer.normalise(p) != cer.normalise(w)]
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
