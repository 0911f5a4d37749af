"""The wait a wearer sees, for tools/bench.py: end of speech -> caption, onset -> first partial.

A conversation is played in real time as one stream: Korean sentences from
../shared/data/asr/ko (every STRIDE-th file of its manifest: all corpora and many speakers),
each followed by a GAP_S pause of faint noise, long enough for Vosk's slowest endpoint rule
(2 s by the model's own rules) to close the utterance before the next one starts, as a
microphone would hear it. No file boundary flushes the recogniser, so every caption is
closed by the endpointer.

The figures come from what reaches a sink: ``emocap replay --json`` prints, per caption,
``end_to_caption_ms`` (the JSON sink's clock when it got the caption, minus the capture time
of the last word's end), ``end_to_shown_ms`` (the same to the utterance's early caption, when
one showed it through its last word: ``[captions] early_pause_s``) and ``onset_to_partial_ms`` (first partial sent to the sinks minus the
capture time of the first word's start); capture times come from the audio clock the chunks
carry (emocap/audio/clock.py), word times from Vosk. ``end_to_close_audio_ms`` is the same
wait in audio time (audio fed when the utterance closed minus the last word's end): the part
the endpoint settings decide, free of how busy the CPU was.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 16000
STRIDE = 15  # 360 files -> 24 sentences, about 3 minutes with the pauses
GAP_S = 2.0
NOISE_RMS = 3.0  # int16 units (about -80 dBFS): the clips' own trailing room tone is this faint


def sentences(data: Path, stride: int = STRIDE) -> list[Path]:
    """Every ``stride``-th file of the Korean ASR manifest."""
    manifest = data / "asr" / "ko" / "manifest.csv"
    with open(manifest, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [manifest.parent / r["path"] for r in rows[::stride]]


def build_stream(files: list[Path], out: Path, gap_s: float = GAP_S, seed: int = 0) -> float:
    """Write the sentences, each followed by a pause, as one 16 kHz WAV; returns its seconds."""
    rng = np.random.default_rng(seed)
    parts = []
    for f in files:
        x, rate = sf.read(str(f), dtype="int16")
        if rate != RATE or x.ndim != 1:
            raise ValueError(f"{f}: expected 16 kHz mono, got {rate} Hz, shape {x.shape}")
        parts += [x, np.clip(rng.normal(0, NOISE_RMS, int(gap_s * RATE)), -32768, 32767).astype(np.int16)]
    audio = np.concatenate(parts)
    sf.write(str(out), audio, RATE, subtype="PCM_16")
    return len(audio) / RATE


def _pct(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    a = np.asarray(values, dtype=float)
    return {"n": int(a.size), "p50": round(float(np.percentile(a, 50)), 1),
            "p95": round(float(np.percentile(a, 95)), 1), "max": round(float(a.max()), 1)}


def figures(captions: list[dict], files: int, audio_s: float, asr: dict) -> dict:
    """The section for bench's JSON, from the captions of the replayed stream."""
    ends = [c["end_to_caption_ms"] for c in captions if c.get("end_to_caption_ms") is not None]
    shown = [c["end_to_shown_ms"] for c in captions if c.get("end_to_shown_ms") is not None]
    early = [c for c in captions if c.get("early_text") is not None]
    onsets = [c["onset_to_partial_ms"] for c in captions if c.get("onset_to_partial_ms") is not None]
    closes = [c["end_to_close_audio_ms"] for c in captions if c.get("end_to_close_audio_ms") is not None]
    return {"unit": "ms", "replay": "real time, one stream", "sentences": files, "pause_s": GAP_S,
            "audio_s": round(audio_s, 1), "captions": len(captions), "asr": asr,
            "end_of_speech_to_caption": _pct(ends), "onset_to_first_partial": _pct(onsets),
            # the first caption of the utterance, early or final; and how often the early text stood
            "end_of_speech_to_shown": _pct(shown),
            "early": {"captions": len(early), "same_text": sum(_same(c["early_text"], c["text"]) for c in early)},
            # the same waits in audio time: what they would be with no decoding cost (no CPU share in it)
            "end_of_speech_to_close_audio": _pct(closes)}


def _same(a: str, b: str) -> bool:
    return "".join(a.split()) == "".join(b.split())


def asr_settings(cfg) -> dict:
    return {"endpoint_silence_s": cfg.asr.endpoint_silence_s, "early_pause_s": cfg.captions.early_pause_s,
            "final": cfg.asr.final, "feed_ms": cfg.asr.feed_ms, "chunk_ms": cfg.audio.chunk_ms}


def paced(cfg, data: Path, tmp: Path, replay_realtime):
    """Build the stream in ``tmp``, replay it with ``replay_realtime(files, log)`` (bench's
    child-process replay); returns that replay and the section's figures."""
    files = sentences(data)
    seconds = build_stream(files, tmp / "stream.wav")
    run = replay_realtime([tmp / "stream.wav"], tmp / "paced.jsonl")
    return run, figures(run.captions, len(files), seconds, asr_settings(cfg))


def text_lines(w: dict) -> list[str]:
    if "reason" in w:
        return [f"{'wearer latency':<29}n/a ({w['reason']})"]
    e, o = w["end_of_speech_to_caption"], w["onset_to_first_partial"]
    return [f"end of speech -> caption ms  p50 {e['p50']}  p95 {e['p95']}  max {e['max']}  ({e['n']} captions, "
            f"{w['sentences']} sentences, real time; " + ", ".join(f"{k} {v}" for k, v in w["asr"].items()) + ")",
            f"end of speech -> shown ms    p50 {w['end_of_speech_to_shown']['p50']}  p95 "
            f"{w['end_of_speech_to_shown']['p95']} (early caption or final; early {w['early']['captions']}, "
            f"same text as the final {w['early']['same_text']})",
            f"onset -> first partial ms    p50 {o['p50']}  p95 {o['p95']}  max {o['max']}",
            f"  same wait in audio time ms p50 {w['end_of_speech_to_close_audio']['p50']}  "
            f"p95 {w['end_of_speech_to_close_audio']['p95']} (no decoding cost)"]
