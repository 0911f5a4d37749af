#!/usr/bin/env python3
"""Character and word error rates of the captions: through the pipeline vs. Vosk fed each file whole.

    python tools/asr_cer.py [--manifest ../shared/data/asr/ko/manifest.csv] [--limit N] [--config PATH]
                            [--spacing-off] [--no-whole-file] [--pause-after S] [--details]
    python tools/asr_cer.py --score CAPTIONS.jsonl   # a saved `emocap replay --json` of the manifest's files, in order

Pipeline: one ``emocap replay --json`` process over all files (fast mode), captions mapped
back to files by time; with --spacing-off a second one with ``[captions] spacing = "none"``
runs beside it. Whole-file: each file's 16 kHz PCM fed to a fresh KaldiRecognizer in
8000-byte chunks, text = the Result()s and FinalResult() joined by spaces (the method of
../shared/data/README.md), scored raw and re-spaced by emocap.spacing. All run side by side.
CER: characters, spaces and punctuation removed; WER: eojeol (whitespace words). Prints one
JSON object. --pause-after S plays each file followed by S seconds of faint noise, as a pause
a microphone hears; with early captions on (``[captions] early_pause_s``) each run also gets
``<run>_first_shown``: the text the wearer read first, an utterance's early caption where one
showed it whole, else its final.
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

from emocap_train import ROOT, cer, shared_data
from emocap import asr, config
from emocap.audio.files import load_audio

SHARED = shared_data()
DEFAULT_MANIFEST = SHARED / "asr" / "ko" / "manifest.csv"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    p.add_argument("--limit", type=int, default=0, help="first N files only (0: all)")
    p.add_argument("--config", type=Path, help="config for the pipeline run")
    p.add_argument("--spacing-off", action="store_true", help="also replay with [captions] spacing = none")
    p.add_argument("--no-whole-file", action="store_true", help="skip the whole-file Vosk decode")
    p.add_argument("--pause-after", type=float, default=0.0, metavar="S",
                   help="follow each file with S seconds of faint noise (a pause after each sentence)")
    p.add_argument("--details", action="store_true", help="add per-file texts to the output")
    p.add_argument("--score", type=Path, metavar="JSONL",
                   help="only score this saved `emocap replay --json` output of the manifest's files, in order")
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


def whole_file_texts(audio: list, model_path: Path, dither: float) -> list[str]:
    import vosk

    from emocap import vosk_conf

    vosk.SetLogLevel(-1)
    with vosk_conf.model_folder(model_path, dither=dither) as folder:  # the pipeline's dither
        model = vosk.Model(str(folder))
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
    """CER (characters, spaces removed) and WER (eojeol: whitespace words), summed over files."""
    errs = [cer.errors(r, h) for r, h in zip(refs, hyps)]
    e, n = sum(x for x, _ in errs), sum(y for _, y in errs)
    werrs = [cer.word_errors(r, h) for r, h in zip(refs, hyps)]
    we, wn = sum(x for x, _ in werrs), sum(y for _, y in werrs)
    return {"cer": round(e / n, 4), "char_errors": e, "ref_chars": n, "wer": round(we / wn, 4), "word_errors": we,
            "ref_words": wn, "hyp_words": sum(len(cer.words(h)) for h in hyps)}


def configs(args, tmp: Path) -> dict[str, Path | None]:
    """The pipeline runs: as configured, and (--spacing-off) the same with spacing none."""
    runs: dict[str, Path | None] = {"pipeline": args.config}
    if args.spacing_off:
        import dataclasses

        from emocap_train import replaying
        from emocap import config

        cfg = config.load(args.config)
        off = dataclasses.replace(cfg, captions=dataclasses.replace(cfg.captions, spacing="none"))
        runs["pipeline_spacing_none"] = replaying.write_config(off, tmp / "spacing_none.toml")
    return runs


def run_pipelines(runs: dict, files: list[str], tmp: Path) -> dict[str, list[dict]]:
    procs = {}
    for name, cfg in runs.items():
        out, err = open(tmp / f"{name}.out", "w+"), open(tmp / f"{name}.err", "w+")
        procs[name] = (start_pipeline(files, cfg, out, err), out, err)
    results = {}
    for name, (proc, out, err) in procs.items():
        proc.wait()
        out.seek(0), err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"{name}: emocap replay failed: {err.read().strip()[-500:]}")
        results[name] = [json.loads(l) for l in out.read().splitlines()]
    return results


def with_pause(files: list[str], seconds: float, tmp: Path) -> list[str]:
    """Copies of ``files`` (16 kHz WAV, in ``tmp``) each followed by ``seconds`` of the bench's faint noise."""
    import numpy as np
    import soundfile as sf

    from emocap_train.wearer_latency import NOISE_RMS

    rng, out = np.random.default_rng(0), []
    for i, f in enumerate(files):
        noise = np.clip(rng.normal(0, NOISE_RMS, int(seconds * 16000)), -32768, 32767).astype(np.int16)
        path = tmp / f"{i:04d}.wav"
        sf.write(str(path), np.concatenate([load_audio(f), noise]), 16000, subtype="PCM_16")
        out.append(str(path))
    return out


def first_shown(caps: list[list[dict]]) -> list[str] | None:
    """Per file, each utterance's early text where an early caption showed it whole, else its
    final; None when no caption had an early one."""
    if not any(c.get("early_text") for cs in caps for c in cs):
        return None
    return [" ".join(c.get("early_text") or c["text"] for c in cs) for cs in caps]


def score_runs(done: dict[str, list[dict]], refs: list[str], durations: list[float]) -> dict:
    """Each pipeline run's scores, and those of the text first shown where early captions came."""
    result = {}
    for name, lines in done.items():
        caps = cer.captions_by_file(lines, durations)
        result[name] = {**score(refs, [" ".join(c["text"] for c in cs) for cs in caps]),
                        "captions": sum(len(c) for c in caps)}
        if (first := first_shown(caps)) is not None:
            result[f"{name}_first_shown"] = {**score(refs, first),
                                             "early_whole": sum(bool(c.get("early_text")) for cs in caps for c in cs)}
    return result


def score_saved(path: Path, rows: list[dict]) -> dict:
    """The pipeline's scores from captions saved by an earlier replay of ``rows``' files."""
    durations = [len(load_audio(r["file"])) / 16000 for r in rows]
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    caps = cer.captions_by_file(lines, durations)
    return {"files": len(rows), "audio_s": round(sum(durations), 1), "captions_file": str(path),
            "pipeline": {**score([r["text"] for r in rows], [" ".join(c["text"] for c in cs) for cs in caps]),
                         "captions": len(lines)}}


def main(argv=None) -> int:
    args = parse_args(argv)
    rows = read_manifest(args.manifest, args.limit)
    if args.score:
        print(json.dumps(score_saved(args.score, rows), ensure_ascii=False, indent=1))
        return 0
    files, refs = [r["file"] for r in rows], [r["text"] for r in rows]
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        if args.pause_after:
            files = with_pause(files, args.pause_after, Path(tmp))
        done: dict = {}
        runs = configs(args, Path(tmp))
        waiter = threading.Thread(target=lambda: done.update(run_pipelines(runs, files, Path(tmp))))
        waiter.start()
        audio = [load_audio(f) for f in files]
        whole = None if args.no_whole_file else whole_file_texts(audio, asr.model_dir(""), config.load(args.config).asr.dither)
        t_whole = time.monotonic() - t0
        waiter.join()
    if set(done) != set(runs):
        print("asr_cer: a pipeline run failed (see above)", file=sys.stderr)
        return 1
    durations = [len(a) / 16000 for a in audio]
    result = {"files": len(rows), "audio_s": round(sum(durations), 1), "pause_after_s": args.pause_after,
              **score_runs(done, refs, durations)}
    if whole is not None:
        from emocap.spacing import KiwiSpacing

        spacer = KiwiSpacing()
        result["whole_file"] = score(refs, whole)
        result["whole_file_spaced"] = score(refs, [spacer.space(w) for w in whole])
        result["whole_file_wall_s"] = round(t_whole, 1)
    result["wall_s"] = round(time.monotonic() - t0, 1)
    result["note"] = "the decoders ran concurrently on this machine"
    if args.details:
        piped = [" ".join(c["text"] for c in cs) for cs in cer.captions_by_file(done["pipeline"], durations)]
        result["per_file"] = [{"path": r["path"], "ref": r["text"], "pipeline": p} for r, p in zip(rows, piped)]
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0
