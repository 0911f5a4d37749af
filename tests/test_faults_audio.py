"""Audio faults through the whole service (real Vosk, real ONNX models, real speech):

- the USB microphone is pulled out mid-sentence and plugged back in, where it comes back under
  another device index. This machine has no sound card, so PortAudio is replaced by a fake
  (tests/fakemic.py) behind emocap.audio.mic's own seam; MicSource, the ring and the rest are real.
- the captioner hangs for seconds: the ring overflows and counts exactly what it lost, audio
  flows again afterwards, and the systemd watchdog is not pinged while the pipeline hangs.
"""
import logging
import threading
import time

import numpy as np
import pytest

from emocap.audio import mic
from emocap.audio.files import load_audio
from emocap.audio.sources import FileSource
from emocap.config import AudioConfig
from fakemic import RATE, room  # noqa: F401 (fixture)
from faultkit import SPEECH, NotifySocket, build, cfg, models, reference_text, vosk, wait_for  # noqa: F401

pytestmark = pytest.mark.faults


def test_microphone_pulled_mid_sentence_and_replugged_under_another_index(cfg, vosk, models, room, shared_data,
                                                                          caplog):
    caplog.set_level(logging.WARNING, logger="emocap")
    first, second = (load_audio(shared_data / f) for f in SPEECH[:2])
    cut = 2 * RATE  # the cable comes out 2 s into the first sentence, mid-word
    # What Vosk makes of each part alone (the captioner feeds it 250 ms blocks from each stream's start).
    expected = [reference_text(vosk, first[:cut]), reference_text(vosk, np.concatenate((second, np.zeros(RATE, np.int16))))]
    room.audio, room.cut_at = first, cut
    source = mic.MicSource(AudioConfig(reopen_s=0.2), 1600)
    svc, rec, (sink,) = build(cfg, vosk, models, [source])
    runner = threading.Thread(target=svc.run)
    runner.start()
    try:
        wait_for(lambda: source.waiting, "the lost microphone to be noticed")
        # The interrupted sentence is captioned while the microphone is still out, not held
        # back to merge with whatever is said after it returns.
        wait_for(lambda: len(sink.captions) == 1, "the caption of the interrupted sentence")
        assert source.waiting and not room.plugged
        time.sleep(1.0)  # several reopen attempts fail meanwhile
        room.audio, room.pos, room.index = np.concatenate((second, np.zeros(2 * RATE, np.int16))), 0, 2
        room.plugged = True
        wait_for(lambda: len(sink.captions) == 2, "the caption of the sentence after the replug")
    finally:
        svc.stop()
        runner.join(60)
    assert not runner.is_alive() and svc.captioner.error is None
    assert room.opened == [1, 2], "the replugged microphone was reopened under its new index"
    assert sink.texts == expected and all(expected)
    assert rec.finals == 2 and all(c.emotion for c in sink.captions)
    assert svc.ring.dropped == 0
    log = caplog.text
    assert "stopped delivering audio" in log and "reopening failed" in log and "reopened" in log


def _hang(rec, after: int, seconds: float, span: dict) -> None:
    """Hold the recogniser ``seconds`` once it has been fed ``after`` samples; ``span`` gets
    when the hang began ("from") and ended ("to")."""
    wait_for(lambda: rec.fed >= after, f"{after / RATE:g} s of audio recognised")
    rec.gate = threading.Event()
    wait_for(rec.held.is_set, "the recogniser to hang")
    span["from"] = time.monotonic()
    time.sleep(seconds)
    span["to"] = time.monotonic()
    rec.gate.set()


def test_captioner_hang_overflows_the_ring_exactly_and_starves_the_watchdog(cfg, vosk, models, shared_data,
                                                                            tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.WARNING, logger="emocap")
    notify = NotifySocket(tmp_path / "notify.sock")
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify.sock"))
    monkeypatch.setenv("WATCHDOG_USEC", "100000")  # pinged at most every 50 ms while healthy
    # Real time through a 1 s ring and a 0.5 s queue; the recogniser hangs for 3 s at 2 s.
    # Three recordings back to back: each file's end closes its utterance.
    srcs = [FileSource(shared_data / f, RATE, 1600, realtime=True) for f in SPEECH]
    total = sum(len(s.samples) for s in srcs)
    svc, rec, (sink,) = build(cfg, vosk, models, srcs, ring_seconds=1.0, queue_s=0.5)
    span: dict = {}
    threading.Thread(target=_hang, args=(rec, 2 * RATE, 3.0, span), daemon=True).start()
    try:
        svc.run()
    finally:
        notify.close()
    lost = svc.ring.dropped
    # Exact: every sample the source offered was either recognised or counted as dropped.
    assert svc.ring.written + lost == total
    assert rec.fed == svc.ring.written
    assert lost > RATE  # ~1.5 s: the hang minus what the queue and the ring hold
    assert svc.meter.snapshot()["counts"]["frames_dropped"] == lost
    assert f"{lost} audio frames were dropped" in caplog.text
    # Audio flowed again: the sentences after the hang were captioned.
    hang_at = 2.0 + 0.25  # s of stream time where the recogniser stopped (one block late at most)
    assert len(sink.captions) == rec.finals >= 2
    assert any(c.t_start > hang_at for c in sink.captions), [(c.t_start, c.text) for c in sink.captions]
    pings = notify.pings()
    # Once the queue is full (0.5 s) the loop waits on it and stops pinging: systemd would
    # restart a real hang after WatchdogSec. Pings resume when audio flows again.
    assert [t for t in pings if span["from"] + 1.0 < t < span["to"]] == []
    assert any(t < span["from"] for t in pings) and any(t > span["to"] for t in pings)
    assert [m for _, m in notify.messages][0] == "READY=1"
