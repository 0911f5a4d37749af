#!/usr/bin/env python3
"""Measure emocap's costs on this machine, in one run: one JSON object with --json.

    python tools/bench.py [--json] [--config config.toml] [--runs 300] [--no-pipeline]

Every figure carries its unit. Sections:
  mfcc            MFCC of one model window (128 frames): emocap.features vs python_speech_features
  inference       small and large model, one window, onnxruntime with 1 thread
  emotion_window  MFCC + small model for one window: the per-window emotion cost
  cascade         share of test-split clips the small model is unsure of (re-run on large)
  spacing         Korean spacing (kiwipiepy) per caption, its RSS and load time (tools/spacing_bench.py)
  peers           per window: emocap's path vs the small model's FP32 twin and the origin's
                   stack (librosa MFCC + PyTorch CRNN, untrained), ratios (tools/emocap_train/peers.py)
  wearer_latency  end of speech (last word's end) -> caption at the sink, and speech onset ->
                   first partial, p50/p95: a real-time replay of 24 sentences with pauses
                   (tools/emocap_train/wearer_latency.py)
  caption_latency  after Vosk's final result, per caption, in that real-time replay (dynamic
                   mode as configured), and with each mode held (fast replays of continuous speech)
  replay           process CPU share of one core (that real-time replay), real-time factor (fast replay)
  peak_rss         of the service process during that real-time replay
  drops_under_load frames dropped during a real-time replay while a process loads every core
The last four run `emocap replay` in a child process with the performance log in a temporary
folder, and read that log; they are null, with a reason, where the pipeline is missing.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

# One BLAS thread, as the service runs (systemd/emocap.service sets the same): set before numpy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from emocap_train import ROOT, shared_data  # noqa: E402

import onnxruntime as ort  # noqa: E402
import python_speech_features as psf  # noqa: E402

from emocap_train import peers  # noqa: E402
from emocap_train import serdata, streams  # noqa: E402
from emocap_train import spacing_bench  # noqa: E402
from emocap_train import wearer_latency  # noqa: E402
from emocap_train.timing import timed  # noqa: E402
from emocap_train.bench_pipeline import pipeline_figures, pipeline_missing, wearer_only  # noqa: E402
from emocap import config, features  # noqa: E402
from emocap.emotion.model import EmotionModel  # noqa: E402
from emocap.errors import EmocapError  # noqa: E402

DATA = shared_data()
# A Korean sentence of continuous speech (4.6 s), the source of the timed windows.
SPEECH = "asr/ko/emotiontts/Emotional/emotional-to-emotional/nea/nea00101.flac"
SER_MANIFESTS = ("ser/manifest.csv", "asr/ko/emotion.csv")


def one_window(samples: np.ndarray, s: features.FeatureSettings) -> np.ndarray:
    """The samples of exactly one model window (``frames`` frames), from the middle of the speech."""
    n = (s.frames - 1) * s.frame_step + s.frame_len
    start = max((len(samples) - n) // 2, 0)
    return samples[start : start + n]


def bench_mfcc(x: np.ndarray, s: features.FeatureSettings, runs: int) -> dict:
    """Both extractors with the same settings (no energy swap, no lifter, Hamming window, nfft)."""
    theirs = lambda: psf.mfcc(x, samplerate=s.sample_rate, winlen=s.win_s, winstep=s.step_s, numcep=s.numcep,
                              nfilt=s.nfilt, nfft=s.nfft, lowfreq=s.lowfreq, highfreq=s.highfreq,
                              preemph=s.preemph, ceplifter=s.ceplifter, appendEnergy=False, winfunc=np.hamming)
    same = np.allclose(features.mfcc(x, s), theirs(), atol=1e-3)
    return {"unit": "ms per window", "frames": s.frames, "runs": runs, "same_output": bool(same),
            "emocap": timed(lambda: features.mfcc(x, s), runs), "python_speech_features": timed(theirs, runs)}


def bench_inference(models: dict[str, EmotionModel], x: np.ndarray, runs: int) -> dict:
    out = {"unit": "ms per window", "threads": 1, "runs": runs}
    for name, m in models.items():
        z = features.normalise(m.windows_of(x)[:1], m.mean, m.std)
        out[name] = timed(lambda: m.session.run(["logits"], {"mfcc": z}), runs)
    return out


def bench_emotion_window(small: EmotionModel, x: np.ndarray, runs: int) -> dict:
    """Features (MFCC, trim, CMN, window, z-score) + the small model + softmax for one window."""
    return {"unit": "ms per window", "model": "small", "threads": 1, "runs": runs,
            **timed(lambda: small.predict(x), runs)}


def bench_cascade(models: dict[str, EmotionModel], threshold: float, split: Path) -> dict:
    """On the test split: how often cascade mode runs the large model, and what each mode scores.
    Each speaker is one stream, as the engine hears a voice: in cascade mode the large model's
    stream (a centred model's running mean) takes in only the utterances it re-runs."""
    clips = [c for m in SER_MANIFESTS for c in serdata.read_manifest(DATA / m)]
    clips = [c for c in serdata.select(clips, serdata.load_split(split), "test") if c.label in models["small"].labels]
    hits = {"small": 0, "large": 0, "cascade": 0}
    rerun = 0
    for group in streams.by_speaker(clips):
        big = models["large"]
        small_s, large_s, rerun_s = models["small"].new_stream(), big.new_stream(), big.new_stream()
        for c in (clips[i] for i in group):
            x = serdata.load_audio(c.path)
            small = models["small"].predict(x, small_s)
            # Run once: both large streams centre these (a stream-normalised large model would need
            # the re-run stream's own windows; the shipped one is not stream-normalised).
            logits = big.window_logits(big.windows_of(x, large_s))
            unsure = small.confidence < threshold
            rerun += unsure
            hits["small"] += small.label == c.label
            hits["large"] += big.predict_logits(logits, large_s).label == c.label
            hits["cascade"] += (big.predict_logits(logits, rerun_s) if unsure else small).label == c.label
    n = len(clips)
    return {"unit": "share of test clips", "rate": round(rerun / n, 4), "clips": n, "threshold": threshold,
            "split": str(split), "streams": "each speaker one stream",
            "accuracy": {k: round(v / n, 4) for k, v in hits.items()}}


# Continuous speech: 12 sentences (3 speakers x 4 emotions, about 58 s) back to back on one clock.
CONTINUOUS = [f"asr/ko/emotiontts/Emotional/emotional-to-emotional/{spk}/{spk}00{block}01.flac"
              for spk in ("nea", "nek", "neb") for block in (0, 1, 2, 3)]


def machine() -> dict:
    model = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                  if l.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return {"cpu": model, "cores": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version(),
            "onnxruntime": ort.__version__, "numpy": np.__version__,
            "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"), "load_avg_1min": round(os.getloadavg()[0], 2)}


def run(cfg: config.Config, runs: int, pipeline: bool = True) -> dict:
    models = {name: EmotionModel(path, threads=1) for name, path in
              (("small", cfg.emotion.small_model), ("large", cfg.emotion.large_model))}
    x = one_window(serdata.load_audio(DATA / SPEECH), models["small"].settings)
    return {
        "machine": machine(),
        "mfcc": bench_mfcc(x, models["small"].settings, runs),
        "inference": bench_inference(models, x, runs),
        "emotion_window": bench_emotion_window(models["small"], x, runs),
        "cascade": bench_cascade(models, cfg.emotion.cascade_confidence, serdata.DEFAULT_SPLIT),
        "spacing": spacing_bench.spacing(),  # Korean spacing: ms per caption, RSS added, load time
        "peers": peers.compare(models["small"], x, [serdata.load_audio(DATA / f) for f in CONTINUOUS], runs),
        **(pipeline_figures(cfg, [DATA / f for f in CONTINUOUS]) if pipeline else pipeline_missing("--no-pipeline")),
    }


def _q(d: dict) -> str:
    return f"p50 {d['p50']:.3f}  p95 {d['p95']:.3f}"


def text(r: dict) -> str:
    m = r["machine"]
    c = r["cascade"]
    lines = [f"emocap bench on {m['cpu']} ({m['cores']} cores, load {m['load_avg_1min']}), onnxruntime "
             f"{m['onnxruntime']}, 1 thread",
             f"MFCC per window, ms          emocap {_q(r['mfcc']['emocap'])} | python_speech_features "
             f"{_q(r['mfcc']['python_speech_features'])} (same output: {r['mfcc']['same_output']})",
             f"small model per window, ms   {_q(r['inference']['small'])}",
             f"large model per window, ms   {_q(r['inference']['large'])}",
             f"MFCC + small per window, ms  {_q(r['emotion_window'])}",
             f"cascade rate (test split)    {c['rate']:.3f} of {c['clips']} clips below {c['threshold']}; accuracy "
             + ", ".join(f"{k} {v:.3f}" for k, v in c["accuracy"].items())]
    lines.append(spacing_bench.text_line(r["spacing"]))
    q = r["peers"]["ratios_p50"]
    lines.append(f"peers per window (p50 ratio) small FP32 / INT8: model {q['fp32_over_int8_model']}, path "
                 f"{q['fp32_over_int8_path']}; origin (librosa + torch CRNN) / emocap: path {q['origin_over_emocap_path']}")
    lines += pipeline_text(r)
    return "\n".join(lines)


def pipeline_text(r: dict) -> list[str]:
    labels = {"caption_latency": "caption latency after final", "replay": "replay CPU / RTF",
              "peak_rss": "peak RSS", "drops_under_load": "frames dropped under load"}
    missing = [f"{labels[k]:<29}n/a ({r[k]['reason']})" for k in labels if "reason" in r[k]]
    if missing:
        return missing
    c, p, d = r["caption_latency"], r["replay"], r["drops_under_load"]
    modes = ", ".join(f"{m} {t:.0f} s" for m, t in c["mode_seconds"].items())
    return wearer_latency.text_lines(r["wearer_latency"]) + [f"caption latency after final  ms p50 {c['p50']:.2f}  p95 {c['p95']:.2f}  ({c['captions']} captions, "
            f"real-time replay; kept small {c['kept_model']['small']}, large {c['kept_model']['large']}; {modes})",
            "  held in one mode, ms       " + "; ".join(f"{m} p50 {v['p50']:.2f} p95 {v['p95']:.2f}"
                                                       for m, v in c["by_mode"].items()),
            f"replay CPU / RTF             {p['cpu_share_of_one_core']:.3f} of one core (real time); real-time factor "
            f"{p['real_time_factor']:.3f} (fast); {p['audio_s']} s of speech",
            f"peak RSS                     {r['peak_rss']['value']} MB",
            f"frames dropped under load    {d['dropped']} of {d['captured']} ({d['hog']}); mode switches "
            + (", ".join(d["mode_switches"]) or "none")]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--config", help="config.toml (models and cascade threshold); default: the repo's")
    p.add_argument("--runs", type=int, default=300, help="timed runs per figure (default 300)")
    p.add_argument("--no-pipeline", action="store_true", help="skip the replays (about 3 minutes)")
    p.add_argument("--wearer-only", action="store_true",
                   help="only the real-time replay behind wearer_latency (about 3 minutes)")
    args = p.parse_args(argv)
    try:
        if args.wearer_only:
            result = {"machine": machine(), "wearer_latency": wearer_only(config.load(args.config))}
            print(json.dumps(result, ensure_ascii=False) if args.json else "\n".join(wearer_latency.text_lines(result["wearer_latency"])))
            return 0
        result = run(config.load(args.config), args.runs, not args.no_pipeline)
    except EmocapError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False) if args.json else text(result))
    return 0
