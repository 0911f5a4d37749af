#!/usr/bin/env python3
"""What recycling the recogniser costs in decoding time, and what it saves in memory.

Vosk alone (no emotion, no spacing) decodes the same asr/ko files, in a fixed shuffled order,
with one recogniser replaced by a fresh one whenever ``GAP`` seconds of audio have passed since
the last (at a file's end, as the service does at a stream's end; glibc's heap trimmed as
recycle.py does). Each gap runs in a fresh process, so the peaks do not share a heap. Prints one
JSON line per gap: real-time factor (audio s per wall s, one thread), recycles, peak RSS (MiB).
A gap of -1 never recycles. The README's "Memory over a long run" table comes from

    python tools/recycle_cost.py --gaps -1 60 30 15 --files 100
"""
import argparse
import csv
import json
import random
import subprocess
import sys
import time

from emocap_train import ROOT, shared_data


def decode(gap: float, n: int, seed: int) -> dict:
    import vosk

    from emocap import asr, vosk_conf
    from emocap.audio.files import load_audio
    from emocap.recycle import rss_mb, trim_heap

    folder = shared_data() / "asr" / "ko"
    with open(folder / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    random.Random(seed).shuffle(rows)
    clips = [load_audio(folder / r["path"], 16000) for r in rows[:n]]
    vosk.SetLogLevel(-1)
    with vosk_conf.model_folder(asr.model_dir(""), dither=0.0) as model_path:  # as the shipped config
        model = vosk.Model(str(model_path))
    rec, since, audio, peak, recycles = asr.open_recognizer(model, 16000), 0.0, 0.0, 0.0, 0
    t0 = time.perf_counter()
    for x in clips:
        if 0 <= gap <= since:
            rec = None  # the old one's cache goes before the new one fills its own
            trim_heap()
            rec, since, recycles = asr.open_recognizer(model, 16000), 0.0, recycles + 1
        pcm = x.tobytes()
        for i in range(0, len(pcm), 8000):  # [asr] feed_ms = 250
            rec.AcceptWaveform(pcm[i : i + 8000])
        rec.FinalResult()
        since += len(x) / 16000
        audio += len(x) / 16000
        peak = max(peak, rss_mb())
    wall = time.perf_counter() - t0
    return {"gap_s": gap, "files": n, "audio_s": round(audio, 1), "wall_s": round(wall, 2),
            "x_realtime": round(audio / wall, 2), "recycles": recycles, "peak_rss_mb": round(peak)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--gaps", type=float, nargs="+", default=[-1, 60, 30, 15])
    p.add_argument("--files", type=int, default=100)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--one", type=float, help=argparse.SUPPRESS)  # the child: one gap
    args = p.parse_args()
    if args.one is not None:
        print(json.dumps(decode(args.one, args.files, args.seed)))
        return 0
    for gap in args.gaps:
        cmd = [sys.executable, __file__, "--one", str(gap), "--files", str(args.files), "--seed", str(args.seed)]
        subprocess.run(cmd, check=True, cwd=ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
