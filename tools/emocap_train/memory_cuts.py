"""What each of the service's memory cuts saves, each measured in fresh processes, with and
without it (README, "Memory over a long run", "What was cut"):

- ``graph``: ``vosk.Model()`` from the packaged folder, against a folder whose Gr.fst is the
  copy without its unused word list, made as the service makes it (emocap/vosk_conf.py,
  emocap/vosk_graph.py; with the time to make that folder);
- ``scipy``: importing ``scipy.signal`` (emocap/audio/files.py imports it only to resample);
- ``arena``: both ONNX models run on a 30 s utterance's windows, onnxruntime's arena on and
  off (emocap/emotion/model.py turns it off), and their per-window latency.

RSS is VmRSS (MiB) after the step minus before it, in a child process per variant and run.

    python tools/memory_cuts.py [--runs 2] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from emocap_train import ROOT

from emocap.recycle import rss_mb  # noqa: E402  (VmRSS, MiB: what the recycler watches; daemon/ on the path first)

CUTS = {"graph": ("original", "copy"), "scipy": ("imported", "not imported"), "arena": ("on", "off")}


def _graph(variant: str) -> dict:
    import vosk

    from emocap import asr, vosk_conf

    vosk.SetLogLevel(-1)
    src = asr.model_dir("")
    if variant == "original":
        before = rss_mb()
        model = vosk.Model(str(src))
        return {"rss_mb": rss_mb() - before}
    t0 = time.perf_counter()
    with vosk_conf.model_folder(src) as folder:  # as the service loads it: links and the copy
        folder_s = time.perf_counter() - t0
        before = rss_mb()
        model = vosk.Model(str(folder))
        out = {"rss_mb": rss_mb() - before, "folder_s": folder_s}
    del model
    return out


def _scipy(variant: str) -> dict:
    import emocap.service  # noqa: F401  (all the service imports before a file needs resampling)

    before = rss_mb()
    if variant == "imported":
        import scipy.signal  # noqa: F401
    return {"rss_mb": rss_mb() - before}


def _arena(variant: str) -> dict:
    import numpy as np
    import onnxruntime as ort

    from emocap.audio.files import load_audio
    from emocap.emotion.model import EmotionModel

    demo = load_audio(ROOT / "demo" / "demo_ko.flac", 16000)
    speech = np.tile(demo, int(np.ceil(30 * 16000 / len(demo))))[: 30 * 16000]
    out = {}
    for name in ("small", "large"):
        model = EmotionModel(ROOT / "models" / f"{name}.onnx")
        wins = model.windows_of(speech)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = 1, 1
        opts.enable_cpu_mem_arena = variant == "on"
        model.session = ort.InferenceSession(str(model.path), opts, providers=["CPUExecutionProvider"])
        before = rss_mb()
        model.window_logits(wins)
        out[f"{name}_rss_mb"] = rss_mb() - before
        times = []
        for _ in range(300):
            t0 = time.perf_counter()
            model.window_logits(wins[:1])
            times.append((time.perf_counter() - t0) * 1000)
        out[f"{name}_window_ms_p50"] = statistics.median(times)
        out["windows"] = len(wins)
    out["rss_mb"] = out["small_rss_mb"] + out["large_rss_mb"]
    return out


def child(cut: str, variant: str) -> dict:
    """One measurement in a fresh process."""
    p = subprocess.run([sys.executable, __file__, "--child", cut, variant], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=f"{ROOT / 'daemon'}:{ROOT / 'tools'}"), check=True)
    return json.loads(p.stdout)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="RSS saved by each memory cut, in fresh processes")
    p.add_argument("--runs", type=int, default=2, help="processes per variant")
    p.add_argument("--cuts", nargs="+", choices=CUTS, default=list(CUTS))
    p.add_argument("--json", action="store_true")
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps({"graph": _graph, "scipy": _scipy, "arena": _arena}[args.child[0]](args.child[1])))
        return 0
    report = {cut: {v: [child(cut, v) for _ in range(args.runs)] for v in CUTS[cut]} for cut in args.cuts}
    if args.json:
        print(json.dumps(report))
        return 0
    for cut, variants in report.items():
        (a, ra), (b, rb) = variants.items()
        saved = statistics.median(r["rss_mb"] for r in ra) - statistics.median(r["rss_mb"] for r in rb)
        print(f"{cut:6s} {a}: {[round(r['rss_mb'], 1) for r in ra]} MiB, {b}: {[round(r['rss_mb'], 1) for r in rb]} MiB;"
              f" saved {saved:.1f} MiB (medians)")
        for v, runs in variants.items():
            extra = {k: [round(r[k], 3) for r in runs] for k in runs[0] if k.endswith(("_ms_p50", "folder_s"))}
            if extra:
                print(f"       {v}: {extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
