"""Dynamic Inference Mode against the deadline, through the real service: real Vosk, the real
EmotionEngine and both real ONNX models, each model run slowed by a fixed sleep as on a
slower CPU, the Monitor that `emocap replay` runs deciding. The CPU-idle axis is held out of the way (never busy
enough to step down, never idle enough to step up) so that the deadline alone moves the mode.
"""
import dataclasses
import json
import time

import pytest

from emocap import asr, config
from emocap.audio.sources import FileSource
from emocap.commands._common import background_workers, warm
from emocap.emotion.engine import EmotionEngine
from emocap.emotion.model import EmotionModel
from emocap.meter import Meter
from emocap.service import Service

KO = "asr/ko/emotiontts/Emotional/emotional-to-emotional"


class Slowed:
    """A real EmotionModel whose every run takes ``extra_s`` longer."""

    def __init__(self, model: EmotionModel, extra_s: float) -> None:
        self.model, self.extra_s = model, extra_s

    def __getattr__(self, name):
        return getattr(self.model, name)

    def predict_windows(self, wins, stream=None):
        time.sleep(self.extra_s)
        return self.model.predict_windows(wins, stream)


class Captions:
    def __init__(self) -> None:
        self.captions = []

    def partial(self, event) -> None:
        pass

    def caption(self, event) -> None:
        if event.final:  # early captions (untagged first) are replaced by their finals
            self.captions.append(event)

    def close(self) -> None:
        pass


def replay(tmp_path, shared_data, n_files, *, initial, small_s, large_s, deadline_ms, cascade_confidence=None):
    base = config.load()
    emotion = base.emotion
    if cascade_confidence is not None:  # 1.01: cascade then costs small + large on every utterance
        emotion = dataclasses.replace(emotion, cascade_confidence=cascade_confidence)
    cfg = dataclasses.replace(
        base, emotion=emotion,
        mode=dataclasses.replace(base.mode, initial=initial, cpu_window_s=0.5, dwell_s=1.0, min_samples=3,
                                 deadline_ms=deadline_ms, idle_down=0.0, idle_up=0.999),
        perf=dataclasses.replace(base.perf, interval_s=0.5, log_path=str(tmp_path / "perf.jsonl"), journald=False))
    meter = Meter()
    models = {"small": Slowed(EmotionModel(emotion.small_model, emotion.threads), small_s),
              "large": Slowed(EmotionModel(emotion.large_model, emotion.threads), large_s)}
    engine = EmotionEngine(emotion, meter, initial, models=models)
    files = [f for spk in ("nea", "nee") for f in sorted((shared_data / KO / spk).glob("*.flac"))[:6]][:n_files]
    sources = [FileSource(f, 16000, 1600, False) for f in files]
    sink = Captions()
    recognizer = asr.Recognizer(asr.model_dir(cfg.asr.model), 16000)
    warm(engine, recognizer, 16000)  # as build_service does, which builds its own models
    service = Service(cfg, sources, [sink], recognizer=recognizer, engine=engine, meter=meter)
    for worker in background_workers(cfg, service):  # the Monitor, as for `emocap replay`
        service.add_worker(worker)
    service.run()
    recs = [json.loads(line) for line in (tmp_path / "perf.jsonl").read_text().splitlines()]
    for r in recs:  # what happened, for the reader of `pytest -s`
        if r["event"] == "mode":
            print(json.dumps(r))
        elif "emotion" in r["latency_ms"]:
            print(f"{r['uptime_s']:7.2f} s {r['mode']:8} emotion {json.dumps(r['latency_ms']['emotion'])}")
    return sink.captions, recs, engine.mode


def test_slow_cpu_keeps_cascade_while_the_deadline_holds(tmp_path, shared_data):
    """40 ms a model run: cascade takes 40-90 ms an utterance (more on a busy machine), over
    the old fixed 30 ms guard (which stepped down to small) but within the deadline (600 ms,
    wide for a shared CI machine): cascade runs throughout."""
    # 0.9: most utterances are unsure at that level, so the cascade really re-runs on large (at the
    # calibrated default, 0.91, nearly all are; the test sets it itself so as not to depend on that).
    captions, recs, mode = replay(tmp_path, shared_data, 8, initial="cascade", small_s=0.04, large_s=0.04,
                                  deadline_ms=600.0, cascade_confidence=0.9)
    assert len(captions) >= 6
    assert [r for r in recs if r["event"] == "mode"] == [] and mode == "cascade"
    perf = [r for r in recs if r["event"] == "perf"]
    assert {r["mode"] for r in perf} == {"cascade"}
    assert sum(r["model_large"] for r in perf) > 0  # unsure utterances really re-ran on the large model
    assert min(r["latency_ms"]["emotion"]["p50"] for r in perf if "emotion" in r["latency_ms"]) > 30.0


def test_mode_settles_where_the_deadline_holds(tmp_path, shared_data):
    """large 400 ms and cascade 420 ms an utterance break a 300 ms deadline; small (20 ms)
    holds it: large -> cascade -> small, and small stays (cascade is remembered as too slow)."""
    captions, recs, mode = replay(tmp_path, shared_data, 12, initial="large", small_s=0.02, large_s=0.4,
                                  deadline_ms=300.0, cascade_confidence=1.01)
    switches = [r for r in recs if r["event"] == "mode"]
    assert [(r["mode_from"], r["mode_to"]) for r in switches] == [("large", "cascade"), ("cascade", "small")]
    assert all(r["reason"].startswith("emotion p95 ") and r["latency_emotion_p95_ms"] > 300.0 for r in switches)
    assert mode == "small"
    settled = [c for c in captions if c.model == "small"]
    assert len(settled) >= 3 and all(c.model == "small" for c in captions[-3:])
    # An utterance begun in cascade just before the switch is timed in the first interval after
    # it (its record says small): judge small on the intervals begun one cascade run later.
    settled_from = switches[-1]["uptime_s"] + 0.5
    last = [r for r in recs if r["event"] == "perf" and r["mode"] == "small" and "emotion" in r["latency_ms"]
            and r["uptime_s"] - r["interval_s"] >= settled_from]
    assert last and max(r["latency_ms"]["emotion"]["p95"] for r in last) <= 300.0
