"""What the tests of the whole service (tests/test_faults_*.py, tests/test_service.py) share:
the real Vosk recogniser (loaded and warmed once per session), the real emotion engine, a
collecting sink, wrappers that count or slow the recogniser, and a stand-in for systemd's
notify socket that stamps each message with the time it arrived."""
from __future__ import annotations

import dataclasses
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from emocap import asr, config
from emocap.audio.files import load_audio
from emocap.emotion.engine import EmotionEngine
from emocap.meter import Meter
from emocap.service import Service

from conftest import WAIT_S, wait_for  # noqa: F401 (the fault tests take them from here)

KO = "asr/ko/emotiontts/Emotional/emotional-to-emotional/"
# Korean sentences of 3-4 s each, speech from the start nearly to the end.
SPEECH = [KO + "nem/nem00103.flac", KO + "nee/nee00203.flac", "asr/ko/emotiontts/Main/main/kih/kih00001.flac"]


@pytest.fixture(scope="session")
def cfg() -> config.Config:
    return config.load()


@pytest.fixture(scope="session")
def vosk(cfg, shared_data) -> asr.Recognizer:
    """The real recogniser, warmed: its first decode builds caches for seconds, which would
    otherwise look like a stall to tests that pace audio in real time."""
    rec = asr.Recognizer(asr.model_dir(cfg.asr.model), cfg.audio.sample_rate)
    audio = load_audio(shared_data / SPEECH[2])
    for i in range(0, len(audio), 4000):
        rec.accept(audio[i : i + 4000].tobytes())
    rec.finish()
    return rec


@pytest.fixture(scope="session")
def models(cfg):
    """Both ONNX sessions, loaded once and shared by the engines the tests build."""
    return EmotionEngine(cfg.emotion, Meter(), "cascade").models


class Collect:
    """A sink that keeps everything, stamping each final caption with the time it arrived;
    early captions (emocap/early.py), which a final replaces, are kept apart in ``early``."""

    def __init__(self) -> None:
        self.partials, self.captions, self.times, self.early, self.closed = [], [], [], [], False

    def partial(self, e) -> None:
        self.partials.append(e)

    def caption(self, e) -> None:
        if not e.final:
            self.early.append(e)
            return
        self.captions.append(e)
        self.times.append(time.monotonic())

    def close(self) -> None:
        self.closed = True

    @property
    def texts(self) -> list[str]:
        return [c.text for c in self.captions]


class Recognizer:
    """The real recogniser, counting finals and samples; ``delay_s`` slows each call (a slow
    CPU); ``gate`` (when set to an Event) holds a call until it is opened (a hang)."""

    def __init__(self, rec: asr.Recognizer, delay_s: float = 0.0) -> None:
        self.rec, self.delay_s = rec, delay_s
        self.finals, self.fed = 0, 0
        self.gate: threading.Event | None = None
        self.held = threading.Event()  # set while a call waits at the gate

    def accept(self, pcm: bytes):
        if self.gate is not None and not self.gate.is_set():
            self.held.set()
            self.gate.wait(WAIT_S)
            self.held.clear()
        time.sleep(self.delay_s)
        self.fed += len(pcm) // 2
        return self._count(self.rec.accept(pcm))

    def finish(self):
        return self._count(self.rec.finish())

    def partial(self):
        return self.rec.partial()

    def so_far(self):
        return self.rec.so_far()

    @property
    def samples(self) -> int:
        return self.rec.samples

    def _count(self, utt):
        self.finals += utt is not None
        return utt


def build(cfg, vosk, models, sources, sinks=None, *, delay_s: float = 0.0, **audio) -> tuple[Service, Recognizer, list]:
    """A Service on the real models with ``[audio]`` overrides; returns it, its recogniser, its sinks."""
    cfg = dataclasses.replace(cfg, audio=dataclasses.replace(cfg.audio, **audio)) if audio else cfg
    meter = Meter()
    engine = EmotionEngine(cfg.emotion, meter, "cascade", models=models)
    rec = Recognizer(vosk, delay_s)
    sinks = sinks if sinks is not None else [Collect()]
    return Service(cfg, sources, sinks, recognizer=rec, engine=engine, meter=meter), rec, sinks


def reference_text(vosk: asr.Recognizer, audio: np.ndarray, feed: int = 4000) -> str:
    """What the recogniser makes of ``audio`` as one stream in ``feed``-sample blocks."""
    texts = []
    for i in range(0, len(audio), feed):
        if (u := vosk.accept(audio[i : i + feed].tobytes())) is not None:
            texts.append(u.text)
    if (u := vosk.finish()) is not None:
        texts.append(u.text)
    return " ".join(texts)


class NotifySocket:
    """systemd's notify socket, read at once as systemd does; keeps (arrival time, message)."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.05)
        self.messages: list[tuple[float, str]] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._done.is_set():
            try:
                data = self.sock.recv(256).decode()
            except socket.timeout:
                continue
            self.messages.append((time.monotonic(), data))

    def pings(self) -> list[float]:
        return [t for t, m in self.messages if m == "WATCHDOG=1"]

    def close(self) -> None:
        self._done.set()
        self._thread.join()
        self.sock.close()
