"""Korean word spacing of caption text.

Vosk's Korean model emits morphemes as words (``취득 을 원 하시면``), which wraps early on the
OLED and reads like a parse tree. kiwipiepy re-spaces the text into eojeol (``취득을 원하시면``).
Only spaces may change: a result whose other characters differ from the input is thrown away
and the input kept, so recognition (CER) is never touched by spacing.

Kiwi spaces the text from scratch (``reset_whitespace``), and then only those of Vosk's spaces
that Kiwi also put are kept: a word boundary is always a morpheme boundary, so Kiwi chooses
which of Vosk's boundaries separate words, and adds none inside a word Vosk emitted whole
(``세계문화유산``), nor splits recognition garbage it cannot parse. Over the 360 files of
../shared/data/asr/ko this took the word error rate from 62 % (Kiwi alone) to 57 %
(tools/spacing_bench.py --compare; README, Recognition).

The model loads once at start (about a second), then is warmed so the first caption does not
pay for Kiwi's lazy initialisation. Its dictionaries (proper nouns, typos, multi-word names)
cost 270 MB more and did not lower the word error rate on our data, so they stay off.
"""
from __future__ import annotations

import logging
import time
import warnings
from typing import Protocol

log = logging.getLogger(__name__)

CHOICES = ("kiwi", "none")
WARM_TEXT = "심폐소생술 을 자격증 취득 을 원 하시면 인터넷 으로 신청 해주세요"


class Spacer(Protocol):
    name: str

    def space(self, text: str) -> str:
        """The text re-spaced; its non-space characters unchanged."""


class NoSpacing:
    name = "none"

    def space(self, text: str) -> str:
        return text


def _letters(text: str) -> str:
    return "".join(text.split())


def _boundaries(text: str) -> set[int]:
    """Positions, in the text without spaces, of the characters that follow a space."""
    cuts, i = set(), 0
    for word in text.split():
        cuts.add(i)
        i += len(word)
    return cuts - {0}


def join_only(vosk: str, kiwi: str) -> str:
    """``vosk``'s characters with those of its spaces that ``kiwi`` (same characters) also has."""
    keep = _boundaries(vosk) & _boundaries(kiwi)
    return "".join((" " if i in keep else "") + c for i, c in enumerate(_letters(vosk)))


class KiwiSpacing:
    name = "kiwi"

    def __init__(self, dicts: bool = False, reset_whitespace: bool = True, space_tolerance: int = 0,
                 model_type: str = "cong", only_join: bool = True) -> None:
        """The defaults are the shipped choice (tools/spacing_bench.py --compare measures the others)."""
        from kiwipiepy import Kiwi

        t0 = time.perf_counter()
        with warnings.catch_warnings():  # num_workers=0 (one thread, ours) warns of a changed default
            warnings.simplefilter("ignore", DeprecationWarning)
            self._kiwi = Kiwi(num_workers=0, load_default_dict=dicts, load_typo_dict=dicts, load_multi_dict=dicts,
                              model_type=model_type)
        self._kiwi.global_config.space_tolerance = space_tolerance
        self._reset, self._only_join = reset_whitespace, only_join
        self._kiwi.space(WARM_TEXT, reset_whitespace=self._reset)
        self.load_s = time.perf_counter() - t0
        self.rejected = 0
        """Results thrown away because a character other than a space changed."""

    def space(self, text: str) -> str:
        if not text.strip():
            return text
        out = self._kiwi.space(text, reset_whitespace=self._reset).strip()
        if _letters(out) != _letters(text):
            self.rejected += 1
            return text
        return join_only(text, out) if self._only_join else " ".join(out.split())

    def last_morpheme(self, text: str) -> tuple[str, str] | None:
        """(form, tag) of the text's last morpheme by Kiwi, for emocap/sentence_end.py."""
        tokens = self._kiwi.tokenize(text) if text.strip() else []
        return (tokens[-1].form, tokens[-1].tag) if tokens else None


def make_spacer(choice: str) -> Spacer:
    """``[captions] spacing``: kiwi when kiwipiepy is importable, else none (one log line)."""
    if choice == "none":
        return NoSpacing()
    try:
        return KiwiSpacing()
    except ImportError as e:
        log.warning("[captions] spacing = kiwi: kiwipiepy is not installed (%s); captions keep Vosk's spacing", e)
    except Exception as e:  # a broken model package must not stop captions
        log.warning("[captions] spacing = kiwi: Kiwi failed to load (%s); captions keep Vosk's spacing", e)
    return NoSpacing()
