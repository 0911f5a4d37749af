#!/usr/bin/env python3
"""First-utterance latency: does the first caption after start pay for lazy initialisation?

    python tools/first_utterance.py [--runs 3] [--json] [--daemon DIR] [AUDIO]

Replays AUDIO (default demo/demo_ko.flac) in real time through ``emocap replay`` (the
service's own builder and pipeline) with a performance record every 0.5 s and the mode held
at cascade, and prints per utterance: the emotion latency (the ``emotion`` stage's max in the
record holding it; one utterance per record at this pacing), the ONNX part of it
(``infer_small`` + ``infer_large``) and the caption's ``latency_ms``. ``--daemon DIR`` runs
another checkout's ``daemon/`` folder, e.g. one from before warm start, for a before/after.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_run(daemon: Path, audio: Path, tmp: Path) -> list[dict]:
    log = tmp / "perf.jsonl"
    log.unlink(missing_ok=True)
    cfg = tmp / "config.toml"
    cfg.write_text(f'[emotion]\nsmall_model = "{ROOT}/models/small.onnx"\nlarge_model = "{ROOT}/models/large.onnx"\n'
                   '[mode]\ninitial = "cascade"\ndynamic = false\n'
                   f'[perf]\ninterval_s = 0.5\nlog_path = "{log}"\njournald = false\n', encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "emocap.cli", "replay", "--realtime", "--json", "--config", str(cfg),
                        str(audio)], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(daemon)})
    if p.returncode != 0:
        sys.exit(f"first_utterance: emocap replay failed ({p.returncode}): {p.stderr.strip()[-500:]}")
    captions = [json.loads(line) for line in p.stdout.splitlines()]
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    per = [r["latency_ms"] for r in records if r.get("event") == "perf" and "emotion" in r.get("latency_ms", {})]
    if any(lat["emotion"]["n"] != 1 for lat in per) or len(per) != len(captions):
        sys.exit("first_utterance: expected one utterance per perf record; use a file with pauses between them")
    return [{"emotion_ms": lat["emotion"]["max"],
             "onnx_ms": round(sum(lat[k]["max"] for k in ("infer_small", "infer_large") if k in lat), 3),
             "caption_latency_ms": c["latency_ms"], "model": c["model"]} for lat, c in zip(per, captions)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("audio", nargs="?", type=Path, default=ROOT / "demo" / "demo_ko.flac")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--daemon", type=Path, default=ROOT / "daemon", help="the daemon/ folder to run")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [one_run(args.daemon.resolve(), args.audio.resolve(), Path(tmp)) for _ in range(args.runs)]
    n = min(len(r) for r in runs)
    summary = {"daemon": str(args.daemon), "runs": runs,
               "median_by_utterance": [{k: statistics.median(r[i][k] for r in runs)
                                        for k in ("emotion_ms", "onnx_ms", "caption_latency_ms")} for i in range(n)]}
    if args.json:
        print(json.dumps(summary))
    else:
        for i, m in enumerate(summary["median_by_utterance"], 1):
            print(f"utterance {i}: emotion {m['emotion_ms']:.1f} ms (onnx {m['onnx_ms']:.1f} ms), "
                  f"caption latency {m['caption_latency_ms']:.1f} ms  (median of {args.runs} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
