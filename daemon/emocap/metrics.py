"""Every metric the service keeps: its name, kind, unit, and where it is measured.

Kinds:

- ``latency``: milliseconds, one sample per event; each performance record summarises the
  interval's samples (``latency_ms.<name>``: n, p50, p95, max; journald
  ``LATENCY_<NAME>_P95_MS``...). Every latency measured is recorded.
- ``count``: cumulative since start, only ever grows; a record holds the interval's increase.
- ``gauge``: a value as it stands when the meter is read.

A stage pushes what it measures to the :class:`~emocap.meter.Meter`; a total kept elsewhere
(the ring buffer's frame counters, the captioner's queue) is read where it is kept, through a
function registered once with ``Meter.read``. ``recorded`` marks the counts and gauges that are
fields of each record (and of journald, upper-cased), which ``emocap stats`` sums.
"""
from __future__ import annotations

from dataclasses import dataclass

LATENCY, COUNT, GAUGE = "latency", "count", "gauge"


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str
    unit: str
    what: str  # what one unit is, and the module that measures it
    recorded: bool = True


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("emotion", LATENCY, "ms", "one utterance's emotion, cascade included (emotion/engine.py)"),
    Metric("mfcc", LATENCY, "ms", "one feature extraction (emotion/engine.py)"),
    Metric("infer_small", LATENCY, "ms", "one small-model run over an utterance's windows (emotion/engine.py)"),
    Metric("infer_large", LATENCY, "ms", "one large-model run over an utterance's windows (emotion/engine.py)"),
    Metric("caption", LATENCY, "ms", "Vosk's final result to the caption handed to the sinks (captioner.py)"),
    Metric("speech_end", LATENCY, "ms", "end of speech (capture time of the last word's end) to the caption "
           "handed to the sinks (captioner.py)"),
    Metric("frames_captured", COUNT, "samples", "offered by the source: stored or dropped (audio/ring.py, read)"),
    Metric("frames_dropped", COUNT, "samples", "not stored, the ring buffer was full (audio/ring.py, read)"),
    Metric("captions", COUNT, "captions", "handed to the sinks (captioner.py)"),
    Metric("early_captions", COUNT, "captions", "early captions (words so far at a pause) handed to the sinks "
           "(captioner.py)", recorded=False),
    Metric("model_small", COUNT, "utterances", "whose kept emotion came from the small model (emotion/engine.py)"),
    Metric("model_large", COUNT, "utterances", "whose kept emotion came from the large model (emotion/engine.py)"),
    Metric("runs_small", COUNT, "runs", "small-model sessions run (emotion/engine.py)", recorded=False),
    Metric("runs_large", COUNT, "runs", "large-model sessions run (emotion/engine.py)", recorded=False),
    Metric("mode_switches", COUNT, "switches", "Dynamic Inference Mode switches (monitor.py)"),
    Metric("asr_recycles", COUNT, "recycles", "KaldiRecognizer replaced, RSS over [asr] max_rss_mb (recycle.py)",
           recorded=False),
    Metric("pauses_taken_back", COUNT, "pauses", "closes at a pause taken back: the text could not end a sentence "
           "(captioner.py, sentence_end.py)", recorded=False),
    Metric("ring_fill", GAUGE, "share 0..1", "of the ring buffer in use (audio/ring.py, read)"),
    Metric("asr_backlog_s", GAUGE, "s", "audio queued for the recogniser, about (captioner.py, read)"),
)}

# Per-model names, by model ("small", "large").
INFER = {"small": "infer_small", "large": "infer_large"}
KEPT = {"small": "model_small", "large": "model_large"}
RUNS = {"small": "runs_small", "large": "runs_large"}


def named(kind: str, recorded_only: bool = False) -> tuple[str, ...]:
    """The names of one kind, in the order above."""
    return tuple(m.name for m in METRICS.values() if m.kind == kind and (m.recorded or not recorded_only))


def kind_of(name: str) -> str:
    """The kind of a named metric; a name missing here is a ValueError that says where to add it."""
    try:
        return METRICS[name].kind
    except KeyError:
        raise ValueError(f"metric {name!r} is not named in emocap/metrics.py") from None
