"""Stopping on time: SIGTERM on a CPU too slow to caption its queue before systemd's
TimeoutStopSec, and SIGTERM while a caption is being made. Real Vosk, real ONNX models; the
slow CPU is the real recogniser with a delay added to each call."""
import logging
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from emocap.audio.files import load_audio
from emocap.audio.sources import FileSource
from conftest import ROOT
from faultkit import SPEECH, WAIT_S, build, cfg, models, vosk, wait_for  # noqa: F401 (fixtures)

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def speech_file(shared_data, tmp_path_factory):
    """The three sentences back to back (about 11 s), as one recording."""
    path = tmp_path_factory.mktemp("speech") / "three.wav"
    sf.write(path, np.concatenate([load_audio(shared_data / f) for f in SPEECH]), 16000)
    return path


@pytest.mark.parametrize("drain_s", [0.0, 1.0])
def test_stop_on_a_slow_cpu_drops_queued_audio_beyond_the_bound(cfg, vosk, models, speech_file, caplog, drain_s):
    # Each 250 ms block costs the recogniser 0.3 s more than here: slower than real time, so a
    # fast replay fills the 10 s queue. Draining all of it would take 12 s or more.
    caplog.set_level(logging.WARNING, logger="emocap")
    source = FileSource(speech_file, 16000, 1600, realtime=False)
    svc, rec, (sink,) = build(cfg, vosk, models, [source], delay_s=0.3, stop_drain_s=drain_s, queue_s=10.0)
    stopped = {}

    def stop_mid_utterance():
        wait_for(lambda: svc.captioner.backlog() >= 60 and sink.partials and sink.partials[-1].text,
                 "a full queue while a sentence is being recognised")
        stopped["t"] = time.monotonic()
        svc.stop()

    threading.Thread(target=stop_mid_utterance, daemon=True).start()
    svc.run()
    took = time.monotonic() - stopped["t"]
    assert took < drain_s + 4.0, f"stop took {took:.1f} s with [audio] stop_drain_s = {drain_s}"
    dropped = svc.captioner.dropped_at_stop
    print(f"stop_drain_s={drain_s}: run() returned {took:.2f} s after stop(), {dropped / 16000:.1f} s of audio dropped")
    assert dropped >= 30 * 1600  # most of the queue was dropped, not captioned
    # Exact: every sample read from the ring was either recognised or dropped at the stop.
    assert rec.fed + dropped == svc.ring.written
    assert svc.ring.dropped == 0
    # Every final result became a caption; the sentence in progress at the stop is among them.
    assert rec.finals == len(sink.captions) >= 1 and sink.closed
    if drain_s == 0.0:
        assert sink.times[-1] > stopped["t"] and sink.captions[-1].text
    warnings = [r.getMessage() for r in caplog.records if "stop_drain_s" in r.getMessage()]
    assert len(warnings) == 1 and f"{dropped / 16000:.1f} s of queued audio dropped" in warnings[0]


SLOW_FIRST_CAPTION = """
import sys, time
from emocap import cli
from emocap.emotion import engine
classify = engine.EmotionEngine.classify
calls = []
def slow(self, samples, *span):  # the first caption takes a while, and says when it starts
    calls.append(1)
    if len(calls) == 1:
        print("fault: classifying", file=sys.stderr, flush=True)
        time.sleep(0.4)
    return classify(self, samples, *span)
engine.EmotionEngine.classify = slow
cli.entry()
"""


def test_sigterm_during_a_caption_delivers_it_and_exits_0_within_2_s(speech_file, tmp_path):
    conf = tmp_path / "c.toml"
    conf.write_text(f'[emotion]\nsmall_model = "{ROOT}/models/small.onnx"\nlarge_model = "{ROOT}/models/large.onnx"\n'
                    f'[perf]\nlog_path = "{tmp_path}/perf.jsonl"\n')
    script = tmp_path / "slow.py"
    script.write_text(SLOW_FIRST_CAPTION)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "daemon"))
    p = subprocess.Popen([sys.executable, str(script), "replay", "--json", "--realtime", "--config", str(conf),
                          str(speech_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    guard = threading.Timer(WAIT_S * 2, p.kill)
    guard.start()
    try:
        for line in p.stderr:
            if line.startswith("fault: classifying"):
                break
        t = time.monotonic()
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=WAIT_S)
        took = time.monotonic() - t
    finally:
        guard.cancel()
    assert p.returncode == 0, err
    assert took < 2.0, f"exit took {took:.2f} s after SIGTERM"
    assert "Traceback" not in err
    captions = out.splitlines()
    assert captions, "the caption being made at SIGTERM never reached the sink"
    assert '"text": "' in captions[0] and '"emotion": ' in captions[0]
