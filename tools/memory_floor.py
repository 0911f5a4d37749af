#!/usr/bin/env python3
"""What the service's parts hold in memory, step by step in one process: Python and the two
ONNX sessions, the Vosk model, its first decode (the demo), then Kiwi spacing. Prints VmRSS
after each step, MiB (the README's "Why 900 MB does not hold with Kiwi spacing and the default gap").

    python tools/memory_floor.py
"""
import sys

import psutil

from emocap_train import ROOT


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20  # as tools/soak.py samples it


def main() -> int:
    steps = [("start", rss_mb())]
    import onnxruntime as ort

    sessions = [ort.InferenceSession(str(ROOT / "models" / f"{m}.onnx")) for m in ("small", "large")]
    steps.append(("python, numpy, both ONNX sessions", rss_mb()))
    from emocap import asr
    from emocap.audio.files import load_audio
    from emocap.spacing import make_spacer

    rec = asr.Recognizer(asr.model_dir(""), 16000)
    steps.append(("Vosk model and recogniser", rss_mb()))
    rec.accept(load_audio(ROOT / "demo" / "demo_ko.flac", 16000).tobytes())
    rec.finish()
    steps.append(("first decode (the demo)", rss_mb()))
    make_spacer("kiwi")
    steps.append(("Kiwi spacing, loaded and warmed", rss_mb()))
    last = 0.0
    for name, mb in steps:
        print(f"{name:<36} {mb:7.1f} MiB  (+{mb - last:.1f})")
        last = mb
    del sessions
    return 0


if __name__ == "__main__":
    sys.exit(main())
