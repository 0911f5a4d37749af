"""bench.py's pipeline sections: the wearer's waits, caption latency per mode, CPU,
real-time factor, peak RSS and drops under load, each from `emocap replay` in a child
process (emocap_train.replaying) and its performance log."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from emocap_train import shared_data, wearer_latency
from emocap_train.replaying import Replay, audio_seconds, percentiles, replay, static_mode
from emocap import config
from emocap.emotion.mode import MODES


def paced_stream(cfg: config.Config, tmp: Path) -> tuple[Replay, dict]:
    """The real-time replay of sentences with pauses, and the wearer's waits in it."""
    return wearer_latency.paced(cfg, shared_data(), tmp, lambda files, log: replay(cfg, files, log, realtime=True))


def wearer_only(cfg: config.Config) -> dict:
    """Only the real-time stream (``--wearer-only``: endpoint settings compared one by one)."""
    with tempfile.TemporaryDirectory(prefix="emocap-bench-") as tmp:
        paced, figures = paced_stream(cfg, Path(tmp))
    return {**figures, "rss_mb_max": paced.summary["rss_mb_max"] if paced.summary else None}


def pipeline_figures(cfg: config.Config, files: list[Path]) -> dict:
    """The wearer's waits, caption latency, CPU, real-time factor, peak RSS and drops: a
    real-time replay of sentences with pauses, fast and loaded replays of ``files``."""
    with tempfile.TemporaryDirectory(prefix="emocap-bench-") as tmp:
        fast = replay(cfg, files, Path(tmp, "fast.jsonl"), realtime=False)
        paced, wearer = paced_stream(cfg, Path(tmp))
        loaded = replay(cfg, files, Path(tmp, "hog.jsonl"), realtime=True, under_hog=True)
        # Each mode held (dynamic off): what a caption costs in it. Fast replays: the latency
        # after the final result does not depend on pacing, only on the models run.
        by_mode = {m: replay(static_mode(cfg, m), files, Path(tmp, f"{m}.jsonl"), realtime=False) for m in MODES}
    if not all(r.summary for r in (fast, paced, loaded, *by_mode.values())):
        return pipeline_missing("emocap replay wrote no performance log (is the Monitor registered?)")
    seconds = audio_seconds(files)
    lat = [c["latency_ms"] for c in paced.captions]
    s_fast, s_paced, s_loaded = fast.summary, paced.summary, loaded.summary
    return {
        "wearer_latency": wearer,
        "caption_latency": {"unit": "ms", "replay": "real time", "captions": len(lat),
                            "p50": round(float(np.percentile(lat, 50)), 2) if lat else None,
                            "p95": round(float(np.percentile(lat, 95)), 2) if lat else None,
                            "max": round(max(lat), 2) if lat else None,
                            "kept_model": {m: sum(c["model"] == m for c in paced.captions) for m in ("small", "large")},
                            "mode_seconds": s_paced["mode_seconds"],
                            "by_mode": {m: percentiles([c["latency_ms"] for c in r.captions]) for m, r in by_mode.items()}},
        "replay": {"unit": "share of one core (0..1); processing s per audio s", "audio_s": round(seconds, 2),
                   "paced_audio_s": wearer["audio_s"],
                   "cpu_share_of_one_core": round(s_paced["cpu_percent"]["mean"] / 100, 3),
                   "real_time_factor": round(s_fast["seconds"] / seconds, 3)},
        "peak_rss": {"unit": "MB", "value": s_paced["rss_mb_max"]},
        "drops_under_load": {"unit": "frames", "dropped": s_loaded["frames"]["dropped"],
                             "captured": s_loaded["frames"]["captured"], "hog": f"{os.cpu_count()} busy processes",
                             "mode_switches": [f"{w['mode_from']}->{w['mode_to']}" for w in s_loaded["switches"]],
                             "caption_latency_p95_ms": round(float(np.percentile(
                                 [c["latency_ms"] for c in loaded.captions], 95)), 2) if loaded.captions else None},
    }


def pipeline_missing(reason: str) -> dict:
    return {
        "wearer_latency": {"unit": "ms", "end_of_speech_to_caption": None, "end_of_speech_to_shown": None,
                           "onset_to_first_partial": None,
                           "reason": reason},
        "caption_latency": {"unit": "ms", "p50": None, "p95": None, "reason": reason},
        "replay": {"unit": "share of one core (0..1); processing s per audio s", "cpu_share_of_one_core": None,
                   "real_time_factor": None, "reason": reason},
        "peak_rss": {"unit": "MB", "value": None, "reason": reason},
        "drops_under_load": {"unit": "frames", "dropped": None, "captured": None, "reason": reason},
    }
