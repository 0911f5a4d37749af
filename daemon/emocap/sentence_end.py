"""Whether a caption's text may end a sentence: the check before a pause closes an utterance.

A pause in the audio (emocap/pause.py) closes an utterance about a second before Vosk's
endpointer would, but read and spoken Korean also pauses inside sentences: after a topic or
subject (``그 말을 들으니까 | 정말 마음이 아프다``). Closed there, the sentence is split in two
captions, and Vosk's FinalResult() restarts its feature pipeline (CMVN, i-vector) for the
second half, which costs accuracy (README, "Caption latency"). A Korean sentence cannot end
on a particle, an adnominal ending or a purely connective ending, so when the tentative
final's last morpheme (by Kiwi, the spacer's model) is one of those, the captioner takes the
close back: the utterance is decoded on from where it began, as if there had been no pause.

Connective endings that colloquial speech also ends sentences with (``-지``, ``-아/어``,
``-는데``, ``-거든``, ``-게``, ``-려고``) are not in the list: taking such a close back costs
the wearer the second of waiting the pause detector exists to save.
"""
from __future__ import annotations

import logging
from typing import Callable, Optional

log = logging.getLogger(__name__)

CHOICES = ("always", "sentence-end")

# Kiwi (Sejong) tags: J* particles, ETM adnominal endings ("기다리던 | 월급날").
NOT_FINAL_TAGS = ("J", "ETM")
# Connective endings (EC) that only join clauses, never end a sentence even in speech.
CONNECTIVE_ONLY = frozenset(("고", "면", "으면", "서", "어서", "아서", "며", "으며", "지만", "다가", "도록",
                             "니까", "으니까", "러", "으러", "어도", "아도", "도"))

Morpheme = Callable[[str], Optional[tuple]]
"""text -> (form, tag) of its last morpheme, or None when there is none."""


def may_end(form: str, tag: str) -> bool:
    """False when a sentence cannot end on this morpheme."""
    if tag.startswith(NOT_FINAL_TAGS):
        return False
    return not (tag == "EC" and form in CONNECTIVE_ONLY)


class SentenceEnd:
    def __init__(self, last_morpheme: Morpheme) -> None:
        self._last = last_morpheme
        self.taken_back = 0
        """Pause closes taken back because the text could not end a sentence."""

    def __call__(self, text: str) -> bool:
        last = self._last(text)
        if last is None or may_end(*last):
            return True
        self.taken_back += 1
        return False


def make_gate(choice: str, spacer) -> SentenceEnd | None:
    """``[asr] pause_close``: None (every pause closes) for "always", or when the spacer has no
    Korean morphology (spacing none, or kiwipiepy missing: one log line)."""
    if choice == "always":
        return None
    last = getattr(spacer, "last_morpheme", None)
    if last is None:
        log.warning('[asr] pause_close = "sentence-end" needs Kiwi ([captions] spacing = "kiwi" and kiwipiepy '
                    "installed); every pause closes an utterance")
        return None
    return SentenceEnd(last)
