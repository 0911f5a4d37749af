"""Recogniser recycling ([asr] max_rss_mb) with the real Vosk model on real clips.

At stream ends (the preferred boundary) a limit every boundary passes gives exactly the
captions of a run that never recycles, on the same clock. Mid-stream (a microphone's case)
no speech is lost and spans stay continuous, while the next utterance may be cut or worded
slightly differently (Vosk's speaker adaptation restarts; see recycle.py).

Kaldi's dither would make two runs of the same audio differ by a syllable; the recogniser
decodes without it (``[asr] dither = 0``, emocap/vosk_conf.py), so the comparisons are exact.
"""
import dataclasses
import functools

import numpy as np
import pytest
import soundfile as sf

from emocap_train.cer import errors
from emocap import asr, captioner, config, recycle
from emocap.audio.files import load_audio
from emocap.audio.sources import FileSource
from emocap.emotion.engine import EmotionEngine
from emocap.meter import Meter
from emocap.service import Service
from faultkit import SPEECH, Collect

EN = "asr/en/LibriSpeech/test-clean/1089/134686/1089-134686-0000.flac"


@pytest.fixture(scope="module")
def cfg():
    return config.load()


@pytest.fixture(scope="module")
def recognizer(cfg):
    return asr.Recognizer(asr.model_dir(cfg.asr.model), 16000, dither=0.0)


@pytest.fixture(scope="module")
def joined(shared_data, tmp_path_factory):
    """One stream of three clips with pauses between, so Vosk's endpointing closes utterances
    mid-stream."""
    # A room's pause, not digital silence.
    gap = np.random.default_rng(0).normal(0, 40, 16000 * 3 // 2).astype(np.int16)
    joined = np.concatenate([x for c in SPEECH for x in (load_audio(shared_data / c), gap)])
    path = tmp_path_factory.mktemp("recycle") / "three.wav"
    sf.write(path, joined, 16000)
    return path


def key(c):
    return c.text, round(c.t_start, 3), round(c.t_end, 3), c.emotion, round(c.confidence, 4)


def run(cfg, recognizer, paths, max_rss_mb, gap_s=0.0):
    cfg = dataclasses.replace(cfg, asr=dataclasses.replace(cfg.asr, max_rss_mb=max_rss_mb, recycle_gap_s=gap_s))
    meter, sink = Meter(), Collect()
    engine = EmotionEngine(cfg.emotion, meter, "small")
    sources = [FileSource(p, 16000, 1600, realtime=False) for p in paths]
    svc = Service(cfg, sources, [sink], recognizer=recognizer, engine=engine, meter=meter)
    svc.run()
    ends = np.cumsum([s.seconds for s in sources])
    return sink.captions, ends, meter.snapshot()["counts"].get("asr_recycles", 0)


def test_recycling_at_stream_ends_changes_no_caption(cfg, recognizer, shared_data):
    streams = [shared_data / f for f in (*SPEECH, EN)]
    plain, ends, none = run(cfg, recognizer, streams, 0.0)
    recycled, _, n = run(cfg, recognizer, streams, 1.0)  # 1 MB: always over the limit
    assert none == 0 and n == len(streams)  # every stream end; no stream is long enough for mid-stream
    assert len(plain) >= len(streams) and [key(c) for c in recycled] == [key(c) for c in plain]


def test_recycling_mid_stream_loses_no_speech(cfg, recognizer, joined, monkeypatch):
    plain, ends, _ = run(cfg, recognizer, [joined], 0.0)
    monkeypatch.setattr(captioner, "Recycler",
                        functools.partial(recycle.Recycler, mid_stream_after_s=0.0))
    recycled, _, n = run(cfg, recognizer, [joined], 1.0)
    # Vosk's endpointer closes two or three utterances in it (it joins two clips across this
    # room's pauses, or not, by where its blocks end): at least one closes mid-stream.
    assert len(plain) >= 2 and plain[0].t_end < ends[0] - 1.0, "no utterance closed mid-stream"
    assert n >= 2  # after the mid-stream finals, and at the end
    assert key(recycled[0]) == key(plain[0])  # before any recycle
    # The same speech is captioned: every plain utterance overlaps a recycled one, and the
    # stream's words agree (CER of one against the other, a few characters at most).
    for p in plain:
        assert any(r.t_start < p.t_end and p.t_start < r.t_end for r in recycled), p
    err, n_ref = errors(" ".join(c.text for c in plain), " ".join(c.text for c in recycled))
    assert err / n_ref <= 0.1
    # Spans stay continuous on the recogniser's clock across each recycle: in order, inside the stream.
    assert all(a.t_end <= b.t_start for a, b in zip(recycled, recycled[1:]))
    assert all(0 <= c.t_start < c.t_end <= ends[0] + 1e-6 for c in recycled)


def test_recycler_decides_by_rss_and_gap():
    rss = [900.0]
    r = recycle.Recycler(850.0, Meter(), 16000, min_gap_s=10.0, rss=lambda: rss[0])
    assert r.due(0)
    r.recycled(0, 900.0)
    assert not r.due(16000 * 5)  # within the gap
    assert r.due(16000 * 11)
    rss[0] = 800.0
    assert not r.due(16000 * 30)  # under the limit
    assert not recycle.Recycler(0.0, Meter(), 16000, min_gap_s=0.0, rss=lambda: 1e9).due(10**9)  # 0: off
    assert recycle.rss_mb() > 10
