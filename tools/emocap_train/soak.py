"""Soak: hours of distinct speech through the real service, as fast as it goes.

    python tools/soak.py --hours H [--json] [--plot PNG] [--config PATH] [--data DIR]

The playlist is all of the shared data's Korean (asr/ko) and English (asr/en) speech and
the SER clips (ser/manifest.csv), in one fixed shuffled order (``--seed``), repeated only
when exhausted, until H hours of audio have played. They play through the same Service,
Captioner, EmotionEngine, Vosk and Monitor (dynamic mode) as ``emocap replay``, in this
process; files are decoded one at a time as they start, so the playlist costs no memory.

Reported (one JSON object with ``--json``, else a summary; ``--plot`` draws the curves):
RSS against audio hours (sampled every ``--sample-s`` of wall time), captions emitted
against utterances expected (see soak_expected.py: the finals each file gives decoded alone,
computed once in a child process and cached), per-file mismatches, frames dropped, mode
switches and recogniser recycles, and the RSS growth per audio hour after the first hour.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

import soundfile as sf  # noqa: E402

from emocap_train import shared_data, soak_expected  # noqa: E402
from emocap_train.soak_run import run_soak  # noqa: E402

MANIFESTS = ("asr/ko/manifest.csv", "asr/en/manifest.csv", "ser/manifest.csv")




def playlist(data: Path, seed: int) -> list[tuple[str, float]]:
    """Every file of the three manifests with its duration (s), in a fixed shuffled order."""
    files = []
    for rel in MANIFESTS:
        manifest = data / rel
        with open(manifest, newline="") as f:
            files += [str(manifest.parent / row["path"]) for row in csv.DictReader(f)]
    files = sorted(set(files))
    random.Random(seed).shuffle(files)
    return [(f, sf.info(f).duration) for f in files]


def take(items: list[tuple[str, float]], hours: float) -> list[tuple[str, float]]:
    """Files from the playlist, cycling only when it is exhausted, until ``hours`` of audio."""
    out, total, i = [], 0.0, 0
    while total < hours * 3600 and items:
        out.append(items[i % len(items)])
        total += out[-1][1]
        i += 1
    return out


def compare(per_file: list[int], files: list[str], expected: dict[str, int]) -> dict:
    """Captions against expected over the files that have an expected count."""
    known = [(f, c) for f, c in zip(files, per_file) if f in expected]
    bad = [{"file": f, "captions": c, "expected": expected[f]} for f, c in known if c != expected[f]]
    silent = [f for f, c in zip(files, per_file) if c == 0]
    return {"captions": sum(per_file), "files_without_caption": len(silent), "silent_files": silent[:50],
            "captions_checked": sum(c for _, c in known),
            "expected": sum(expected[f] for f, _ in known), "files_checked": len(known),
            "mismatches": bad[:50], "mismatched_files": len(bad)}


def plot(report: dict, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = report["samples"]
    hours, rss = [x["audio_h"] for x in s], [x["rss_mb"] for x in s]
    fig, ax = plt.subplots(figsize=(6.4, 3.2), dpi=90)
    ax.plot(hours, rss, lw=1.2, label="RSS")
    for x in [x["audio_h"] for x in report.get("recycle_at", [])]:
        ax.axvline(x, color="tab:orange", lw=0.5, alpha=0.5)
    ax.axhline(report["config"]["max_rss_mb"], color="tab:red", ls="--", lw=0.8, label="[asr] max_rss_mb")
    c = report["counts"]
    ax.set(xlabel="audio played (h)", ylabel="RSS (MB)",
           title=f"soak: {report['audio_hours']:.2f} h audio, {c['captions']} captions "
                 f"({c['expected']} expected), {report['frames_dropped']} frames dropped")
    ax.title.set_fontsize(9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)


def cpu_name() -> str:
    try:
        names = [ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")]
    except OSError:
        names = []
    return f"{len(names)} x {names[0]}" if names else "unknown"


def summary(r: dict) -> str:
    c, m = r["counts"], r["rss_mb"]
    growth = "n/a" if m["growth_mb_per_h_after_1h"] is None else f"{m['growth_mb_per_h_after_1h']:.1f}"
    return (f"{r['audio_hours']:.2f} h audio ({r['files_played']} files, {r['distinct_files']} distinct) in "
            f"{r['wall_s']:.0f} s wall\ncaptions {c['captions']}; checked {c['captions_checked']} against "
            f"{c['expected']} expected over {c['files_checked']} files, {c['mismatched_files']} mismatched; "
            f"{c['files_without_caption']} files without a caption\n"
            f"RSS start {m['start']:.0f} MB, peak {m['peak']:.0f} MB, end {m['end']:.0f} MB, growth after "
            f"the first hour {growth} MB/h\nframes dropped {r['frames_dropped']}, mode switches "
            f"{r['mode_switches']}, recogniser recycles {r['asr_recycles']}")


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--hours", type=float, required=True, help="hours of audio to play")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", type=Path, metavar="PNG", help="write RSS against audio hours here")
    p.add_argument("--out", type=Path, metavar="JSON", help="also write the JSON report to this file")
    p.add_argument("--config", type=Path, help="config file (default: the repository's config.toml)")
    p.add_argument("--data", type=Path, default=shared_data(), help="the shared data folder")
    p.add_argument("--seed", type=int, default=11, help="playlist shuffle seed")
    p.add_argument("--sample-s", type=float, default=2.0, help="wall seconds between RSS samples")
    p.add_argument("--max-rss-mb", type=float, help="override [asr] max_rss_mb")
    p.add_argument("--max-wall-s", type=float, help="stop after this much wall time (reports the hours covered)")
    p.add_argument("--progress", type=Path, metavar="JSONL", help="append each RSS sample here as it is taken")
    p.add_argument("--cache", type=Path, default=Path.home() / ".cache/emocap/soak-expected.json",
                   help="cache of the expected finals per file")
    p.add_argument("--no-dither", action="store_true",
                   help="decode at [asr] dither = 0 whatever the config says (exact, repeatable counts; "
                        "memory is the same)")
    p.add_argument("--no-compute-expected", action="store_true",
                   help="check only files already in the cache (e.g. filled by a concurrent soak_expected.py)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from emocap import config

    cfg = config.load(args.config)
    if args.max_rss_mb is not None:
        cfg = dataclasses.replace(cfg, asr=dataclasses.replace(cfg.asr, max_rss_mb=args.max_rss_mb))
    if args.no_dither:
        cfg = dataclasses.replace(cfg, asr=dataclasses.replace(cfg.asr, dither=0.0))
    entries = take(playlist(args.data, args.seed), args.hours)
    with tempfile.TemporaryDirectory(prefix="emocap-soak-") as tmp:  # the perf log of this run only
        cfg = dataclasses.replace(cfg, perf=dataclasses.replace(cfg.perf, log_path=str(Path(tmp) / "perf.jsonl")))
        report = run_soak(cfg, entries, sample_s=args.sample_s, max_wall_s=args.max_wall_s, progress=args.progress)
    played = [f for f, _ in entries[: report["files_played"]]]
    exp = soak_expected.expected(played, args.cache, soak_expected.Feeding.of(cfg), compute=not args.no_compute_expected)
    report["counts"] = compare(report.pop("per_file"), played, exp)
    report.update(hours_requested=args.hours, seed=args.seed, distinct_files=len(set(played)),
                  dither=bool(cfg.asr.dither), cpu=cpu_name())
    if args.out:
        args.out.write_text(json.dumps(report))
    if args.plot:
        plot(report, args.plot)
    print(json.dumps(report) if args.json else summary(report))
    return 0
