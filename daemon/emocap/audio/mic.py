"""The microphone through PyAudio (PortAudio): the callback only copies into the ring
buffer; a supervisor thread reopens a lost device."""
from __future__ import annotations

import contextlib
import logging
import threading

from emocap.audio.ring import RingBuffer
from emocap.audio.sources import Source
from emocap.config import AudioConfig
from emocap.errors import AudioError
from emocap.native_stderr import captured_stderr

log = logging.getLogger(__name__)


def _pyaudio():
    try:
        import pyaudio
    except ImportError:
        raise AudioError("microphone support needs PyAudio: run tools/setup.sh "
                         "(or pip install '.[device]')") from None
    with captured_stderr():  # PortAudio/ALSA/JACK list every device they fail to probe
        return pyaudio, pyaudio.PyAudio()


def _default_input(pa) -> dict | None:
    try:
        return pa.get_default_input_device_info()
    except OSError:  # PortAudio: "No Default Input Device Available"
        return None


def find_input(pa, wanted: str) -> tuple[int, str]:
    """``(index, name)`` of the input device: the default, an index, or part of a name."""
    devices = [pa.get_device_info_by_index(i) for i in range(pa.get_device_count())]
    inputs = [d for d in devices if d.get("maxInputChannels", 0) > 0]
    if wanted.isdigit():
        match = [d for d in inputs if d["index"] == int(wanted)]
    elif wanted:
        match = [d for d in inputs if wanted.lower() in d["name"].lower()]
    else:
        default = _default_input(pa)
        match = [default] if default else inputs[:1]
    if not match:
        names = ", ".join(f"{d['index']}: {d['name']}" for d in inputs) or "none"
        what = f"matching [audio] device = {wanted!r}" if wanted else "at all"
        raise AudioError(f"no audio input device {what} (inputs found: {names}); plug in a microphone, "
                         'fix [audio] device, or set [audio] source = "file"')
    return int(match[0]["index"]), str(match[0]["name"])


class MicSource(Source):
    """The microphone through PyAudio. The callback only copies into the ring. A stream
    that stops (device unplugged, ALSA error) or stops delivering audio is closed, and
    reopened every ``reopen_s`` until it works again; it is logged, never fatal."""

    def __init__(self, cfg: AudioConfig, chunk: int) -> None:
        self.cfg, self.chunk = cfg, chunk
        self._pyaudio, self._pa = _pyaudio()
        try:
            self.index, self.name = find_input(self._pa, cfg.device)
        except AudioError:
            self._pa.terminate()
            raise
        self._stream = None
        self._ring: RingBuffer | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _callback(self, in_data, frame_count, time_info, status):
        self._ring.write(in_data)  # copy only: no maths, no logging, no locks here
        return None, self._pyaudio.paContinue

    def _open(self) -> None:
        try:
            self._stream = self._pa.open(format=self._pyaudio.paInt16, channels=1, rate=self.cfg.sample_rate,
                                         input=True, input_device_index=self.index,
                                         frames_per_buffer=self.chunk, stream_callback=self._callback)
        except (OSError, ValueError) as e:
            raise AudioError(f"input device {self.index} ({self.name}): cannot record {self.cfg.sample_rate} Hz "
                             f"mono 16-bit ({e})") from None

    def start(self, ring: RingBuffer) -> None:
        self._ring = ring
        self._open()
        log.info("recording from input device %d (%s)", self.index, self.name)
        self._thread = threading.Thread(target=self._supervise, name="mic-supervisor", daemon=True)
        self._thread.start()

    def _flowing(self, seen: int) -> tuple[bool, int]:
        """Whether the stream is up and delivered audio since the last check (count ``seen``)."""
        now = self._ring.written + self._ring.dropped
        try:
            active = self._stream is not None and self._stream.is_active()
        except OSError:
            active = False
        return active and now > seen, now

    def _supervise(self) -> None:
        seen = -1
        while not self._stop.wait(max(1.0, self.chunk / self.cfg.sample_rate * 5)):
            ok, seen = self._flowing(seen)
            if not ok:
                self._reopen()
                seen = -1

    def _reopen(self) -> None:
        self.waiting = True
        log.warning("microphone %s stopped delivering audio; reopening every %.1f s", self.name, self.cfg.reopen_s)
        last = ""
        while not self._stop.wait(self.cfg.reopen_s):
            self._close_stream()
            try:
                self._reopen_device()
                log.warning("microphone %s reopened", self.name)
                self.waiting = False
                return
            except AudioError as e:  # said once per new reason, not every reopen_s
                log.log(logging.DEBUG if str(e) == last else logging.WARNING, "reopening failed: %s", e)
                last = str(e)

    def _reopen_device(self) -> None:
        # A replugged USB device gets a new index: enumerate afresh with a new PortAudio.
        self._pa.terminate()
        self._pyaudio, self._pa = _pyaudio()
        self.index, self.name = find_input(self._pa, self.cfg.device)
        self._open()

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.stop_stream()
                stream.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._close_stream()
        self._pa.terminate()
        if self._ring is not None:
            self._ring.close()
