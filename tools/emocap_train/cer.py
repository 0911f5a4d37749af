"""Character and word error rates for Korean captions, and splitting ``emocap replay --json``
output of several files back into files.

CER = Levenshtein distance over characters / reference length, after NFC and keeping only
``str.isalnum()`` characters (spaces and punctuation removed), as in ../shared/data/README.md.
WER = the same over words: whitespace-separated eojeol (Korean spacing units), each
normalised the same way (a word of punctuation alone is dropped).
"""
from __future__ import annotations

import bisect
import unicodedata


def normalise(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFC", text) if c.isalnum())


def words(text: str) -> list[str]:
    return [w for w in (normalise(t) for t in text.split()) if w]


def levenshtein(a, b) -> int:
    """Edit distance between two sequences (strings: characters; lists: words)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def errors(ref: str, hyp: str) -> tuple[int, int]:
    """(character errors, reference characters) after normalisation."""
    r, h = normalise(ref), normalise(hyp)
    return levenshtein(r, h), len(r)


def word_errors(ref: str, hyp: str) -> tuple[int, int]:
    """(word errors, reference words): spacing counts, characters within a word too."""
    r, h = words(ref), words(hyp)
    return levenshtein(r, h), len(r)


def cer(ref: str, hyp: str) -> float:
    e, n = errors(ref, hyp)
    return e / max(n, 1)


def captions_by_file(captions: list[dict], durations: list[float]) -> list[list[dict]]:
    """Replay plays files back to back on one clock: caption times run on from file to file.
    Returns each file's captions, by where each caption's start falls."""
    starts, t = [], 0.0
    for d in durations:
        starts.append(t)
        t += d
    out: list[list[dict]] = [[] for _ in durations]
    for c in captions:
        out[max(bisect.bisect_right(starts, c["t_start"]) - 1, 0)].append(c)
    return out
