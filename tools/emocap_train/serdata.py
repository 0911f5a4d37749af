"""Emotion data for the tools: manifests, the committed split, noise, and clip features.

Clip features come from ``emocap.features`` (the runtime's own extractor), so training,
export calibration and evaluation see exactly what the device sees.
"""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emocap_train import ROOT, streams
from emocap import features
from emocap.audio.files import load_audio  # serdata.load_audio: the tools' one audio reader
from emocap.errors import EmocapError
from emocap.features import FeatureSettings

LABELS = ["happiness", "surprise", "neutral", "fear", "disgust", "anger", "sadness"]
DEFAULT_SPLIT = ROOT / "splits" / "ser_split_v2.json"  # the shipped small model's split; v1 stays for comparison
# Noise categories kept out of training so evaluation can use noise the model never heard.
HELD_OUT_NOISE = ("cafe_restaurant", "vehicle", "home_appliance")
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")


@dataclass(frozen=True)
class Clip:
    path: Path
    label: str
    speaker: str
    corpus: str


def read_manifest(csv_path: str | Path) -> list[Clip]:
    """Rows of a manifest (``path,label,speaker`` + ignored columns); paths made absolute."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise EmocapError(f"{csv_path}: no such manifest")
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"path", "label", "speaker"} - set(reader.fieldnames or [])
        if missing:
            raise EmocapError(f"{csv_path}: manifest lacks columns {sorted(missing)}")
        rows = list(reader)
    base = csv_path.parent
    return [
        Clip(base / r["path"], r["label"].strip(), r["speaker"].strip(), (r.get("corpus") or "").strip())
        for r in rows
    ]


def sentence_id(clip: Clip) -> int:
    """Sentence number of a Korean emotiontts clip: the last two digits of its file name."""
    m = re.search(r"(\d\d)$", clip.path.stem)
    return int(m.group(1)) if m else -1


def load_split(path: str | Path = DEFAULT_SPLIT) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def select(clips: list[Clip], split: dict, part: str) -> list[Clip]:
    """Clips of one split part: its speakers, and for sentence-ruled corpora its sentences."""
    spec = split[part]
    speakers = set(spec["speakers"])
    sentences = {k: set(v) for k, v in spec.get("sentences", {}).items()}
    out = []
    for c in clips:
        if c.speaker not in speakers:
            continue
        if c.corpus in sentences and sentence_id(c) not in sentences[c.corpus]:
            continue
        out.append(c)
    return out


def with_sentences(split: dict, part: str, numbers) -> dict:
    """``split`` with ``part`` reading sentences ``numbers`` of its sentence-ruled corpora: e.g. the
    training scripts (1-3) read by validation speakers, to see how much a model leans on scripts."""
    spec = dict(split[part])
    spec["sentences"] = {corpus: sorted(numbers) for corpus in spec.get("sentences", {})}
    return {**split, part: spec}


def neutral_heavy(clips: list[Clip], share: float, seed: int = 0) -> list[Clip]:
    """Each speaker's neutral clips and a seeded draw of the others, so that neutral clips make
    ``share`` of the speaker's stream (as far as the speaker has clips). An acted corpus gives
    every speaker every emotion equally; a wearer's day is mostly calm speech, and a method
    that adapts to the stream (stream_norm, stream_centre) must hold up on such a stream."""
    rng = np.random.default_rng(seed)
    by: dict[str, list[int]] = {}
    for i, c in enumerate(clips):
        by.setdefault(c.speaker, []).append(i)
    keep = []
    for speaker, idx in sorted(by.items()):
        neutral = [i for i in idx if clips[i].label == "neutral"]
        others = [i for i in idx if clips[i].label != "neutral"]
        n = min(len(others), round(len(neutral) * (1 - share) / share)) if share < 1 else 0
        keep += neutral + [int(i) for i in rng.choice(others, size=n, replace=False)]
    return [clips[i] for i in sorted(keep)]


def noise_files(dirs: list[str | Path], exclude: tuple[str, ...] = ()) -> list[Path]:
    """Audio files under ``dirs`` whose parent folder is not in ``exclude``."""
    found = []
    for d in dirs:
        for p in sorted(Path(d).rglob("*")):
            if p.suffix.lower() in AUDIO_SUFFIXES and p.parent.name not in exclude:
                found.append(p)
    return found


def mix_at_snr(clean: np.ndarray, noise: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """``clean`` plus a random stretch of ``noise`` scaled to ``snr_db`` (int16 in and out)."""
    c = clean.astype(np.float32)
    n = noise.astype(np.float32)
    if len(n) < len(c):
        n = np.tile(n, int(np.ceil(len(c) / max(len(n), 1))))
    start = int(rng.integers(0, len(n) - len(c) + 1))
    n = n[start : start + len(c)]
    pc, pn = float(np.mean(c**2)) + 1e-9, float(np.mean(n**2)) + 1e-9
    mixed = c + n * np.sqrt(pc / (pn * 10 ** (snr_db / 10)))
    return np.clip(mixed, -32768, 32767).astype(np.int16)


def part_clips(labels, manifests, split, part) -> list:
    """Clips of one split part whose label the model has."""
    clips = [c for m in manifests for c in read_manifest(m) if c.label in labels]
    return select(clips, load_split(split), part)


def clip_windows(clips, ckpt) -> np.ndarray:
    """Un-normalised model windows of every clip, cut exactly as the runtime cuts them."""
    s = FeatureSettings.from_dict(ckpt["features"])
    feats = [features.utterance_features(load_audio(c.path), s) for c in clips]
    if s.stream_norm:
        feats = streams.stream_features(feats, clips, s)
    return np.concatenate([features.windows(f, s) for f in feats])
