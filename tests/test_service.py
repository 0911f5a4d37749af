"""The pipeline in-process with the real Vosk and ONNX models: one emotion run per final
result, lifecycle and stop path, a slow stage that does not stall reading, SIGTERM."""
import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import soundfile as sf

from emocap import metrics
from emocap.audio.files import load_audio
from emocap.audio.sources import FileSource
from conftest import ROOT
from emocap.emotion.engine import EmotionEngine
from emocap.meter import Meter
from emocap.service import Service, State
from faultkit import SPEECH, Collect, NotifySocket, Recognizer, cfg, vosk  # noqa: F401 (fixtures)


class CountingEngine(EmotionEngine):
    calls = 0
    delay_s = 0.0

    def classify(self, samples, start_s=None, end_s=None):
        self.calls += 1
        time.sleep(self.delay_s)  # a deliberately slow stage, when asked for
        return super().classify(samples, start_s, end_s)


class Worker:
    def __init__(self, log):
        self.log = log

    def start(self):
        self.log.append("start")

    def stop(self):
        self.log.append("stop")


def service(cfg, vosk, sources, **kw):
    meter = Meter()
    engine = CountingEngine(cfg.emotion, meter, "cascade")
    sink = Collect()
    svc = Service(cfg, sources, [sink], recognizer=Recognizer(vosk), engine=engine, meter=meter, **kw)
    return svc, engine, sink


def test_emotion_runs_once_per_final_result(cfg, vosk, shared_data):
    # Without early captions, each of which classifies the speech before its pause
    # (tests/test_early_captions.py counts those).
    cfg = dataclasses.replace(cfg, captions=dataclasses.replace(cfg.captions, early_pause_s=0.0))
    sources = [FileSource(shared_data / f, 16000, 1600, realtime=False) for f in SPEECH]
    svc, engine, sink = service(cfg, vosk, sources)
    log = []
    svc.add_worker(Worker(log))
    svc.run()
    finals = svc.captioner._rec.finals
    assert finals >= len(SPEECH)
    assert engine.calls == finals == len(sink.captions)
    assert svc.state is State.STOPPED and sink.closed and log == ["start", "stop"]
    assert sink.partials, "partial text was never shown"
    # Spans lie inside their own file on the shared clock, in order.
    ends = np.cumsum([s.seconds for s in sources])
    for c in sink.captions:
        i = int(np.searchsorted(ends, c.t_start, side="right"))
        assert c.t_end <= ends[i] + 1e-6 and c.t_start < c.t_end
    assert [c.t_start for c in sink.captions] == sorted(c.t_start for c in sink.captions)
    assert svc.ring.dropped == 0  # fast mode waits for space: nothing is ever dropped
    snap = svc.meter.snapshot()
    counts = snap["counts"]
    assert counts["captions"] == finals
    # the ring's totals, read where they are kept; every name measured is named in metrics.py
    assert (counts["frames_captured"], counts["frames_dropped"]) == (svc.ring.written, 0)
    assert counts["frames_captured"] == sum(len(s.samples) for s in sources)
    assert snap["gauges"]["ring_fill"] == 0.0 and snap["gauges"]["asr_backlog_s"] == 0.0
    for key, kind in (("latency", "latency"), ("counts", "count"), ("gauges", "gauge")):
        assert {metrics.kind_of(name) for name in snap[key]} <= {kind}, snap[key]
    assert counts.get("model_small", 0) + counts.get("model_large", 0) == finals


def test_slow_emotion_stage_does_not_stall_reading(cfg, vosk, shared_data, tmp_path):
    # Two 2 s files in real time through a 0.5 s ring, while each emotion run takes 1.5 s.
    # If the loop draining the ring waited for the worker, the ring would overflow; the
    # recogniser's queue (5 s) absorbs it instead.
    audio = load_audio(shared_data / SPEECH[0])
    paths = []
    for i in range(2):
        paths.append(tmp_path / f"part{i}.wav")
        sf.write(paths[-1], audio[16000 * (1 + 2 * i) : 16000 * (3 + 2 * i)], 16000)
    small = dataclasses.replace(cfg, audio=dataclasses.replace(cfg.audio, ring_seconds=0.5, queue_s=5.0))
    svc, engine, sink = service(small, vosk, [FileSource(p, 16000, 1600, realtime=True) for p in paths])
    engine.delay_s = 1.5
    svc.run()
    assert engine.calls >= 1 and svc.ring.dropped == 0


def test_stop_from_another_thread_flushes_and_closes(cfg, vosk, shared_data):
    source = FileSource(shared_data / SPEECH[0], 16000, 1600, realtime=True)
    svc, engine, sink = service(cfg, vosk, [source])
    timer = threading.Timer(2.5, svc.stop)  # mid-utterance
    timer.start()
    t = time.monotonic()
    svc.run()
    assert time.monotonic() - t < source.seconds  # it did not play to the end
    assert svc.state is State.STOPPED and sink.closed
    assert len(sink.captions) == 1  # the interrupted utterance is flushed, not lost
    assert sink.captions[0].t_end <= 2.6


def test_sigterm_stops_replay_cleanly_with_exit_0_and_systemd_is_told(shared_data, tmp_path):
    notify = NotifySocket(tmp_path / "notify.sock")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "daemon"), NOTIFY_SOCKET=str(tmp_path / "notify.sock"),
               WATCHDOG_USEC="100000")
    files = [str(shared_data / f) for f in SPEECH[:2]]
    p = subprocess.Popen([sys.executable, "-m", "emocap.cli", "replay", "--json", "--realtime", *files],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    guard = threading.Timer(120, p.kill)  # a hung pipeline fails the test instead of hanging it
    guard.start()
    first = p.stdout.readline()  # the end of the first file in real time
    p.send_signal(signal.SIGTERM)
    rest, err = p.communicate(timeout=60)
    guard.cancel()
    notify.close()
    messages = [m for _, m in notify.messages]
    assert p.returncode == 0, err
    assert "Traceback" not in err
    assert json.loads(first)["t_end"] < 6
    for line in rest.splitlines():  # the second file's flushed utterance, if it had started
        assert json.loads(line)["t_start"] > json.loads(first)["t_end"]
    assert messages[0] == "READY=1" and messages[-1] == "STOPPING=1"
    assert "WATCHDOG=1" in messages[1:-1]  # pinged while audio was being processed


def test_run_without_microphone_plays_the_demo_file_and_exits(shared_data, tmp_path):
    demo = tmp_path / "short.wav"
    sf.write(demo, load_audio(shared_data / SPEECH[1])[: 16000 * 3], 16000)
    cfg = tmp_path / "run.toml"
    cfg.write_text(f'[audio]\nsource = "file"\ndemo_file = "{demo}"\n[emotion]\nsmall_model = "{ROOT}/models/small.onnx"\n'
                   f'large_model = "{ROOT}/models/large.onnx"\n')
    env = dict(os.environ, PYTHONPATH=str(ROOT / "daemon"))
    p = subprocess.run([sys.executable, "-m", "emocap.cli", "run", "--config", str(cfg)], capture_output=True,
                       text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    (line,) = p.stdout.splitlines()
    assert line.split(" s  ", 1)[1].startswith("입영 통지서")  # the clip's first words, tagged
    assert "[" in line and "]" in line
