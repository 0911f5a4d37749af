"""The sentence-end gate on pause closes (emocap/sentence_end.py): which morphemes may end a
sentence, Kiwi's reading of real captions, and, with the real Vosk model, that a close taken
back leaves exactly the words of a run without the pause detector."""
import logging

import numpy as np
import pytest

from emocap import asr, config, sentence_end, spacing
from emocap.audio.files import load_audio
from emocap.captioner import AudioChunk, Captioner, StreamEnd
from emocap.emotion.engine import EmotionEngine
from emocap.meter import Meter

# "너한테 그 말을 들으니까 [pause] 정말 마음이 아프다": closed at the pause, two captions.
INNER_PAUSE = "asr/ko/emotiontts/Emotional/emotional-to-emotional/nee/nee00201.flac"
SENTENCE = "asr/ko/emotiontts/Emotional/emotional-to-emotional/nea/nea00001.flac"


@pytest.mark.parametrize("form,tag,ok", [
    ("을", "JKO", False), ("는", "JX", False), ("에", "JKB", False),  # particles
    ("던", "ETM", False),  # adnominal: 기다리던 | 월급날
    ("으니까", "EC", False), ("고", "EC", False), ("면", "EC", False),  # connective only
    ("지", "EC", True), ("는데", "EC", True),  # colloquial sentence ends
    ("다", "EF", True), ("세요", "EF", True), ("베타", "NNG", True), ("?", "SF", True),
])
def test_which_last_morpheme_may_end_a_sentence(form, tag, ok):
    assert sentence_end.may_end(form, tag) is ok


def test_kiwi_reads_real_caption_ends():
    kiwi = spacing.KiwiSpacing()
    gate = sentence_end.make_gate("sentence-end", kiwi)
    assert kiwi.last_morpheme("너는 그 발 들으니까") == ("으니까", "EC")
    assert not gate("너는 그 발 들으니까") and gate.taken_back == 1
    assert gate("정말 마음이 아프다") and gate("여기 승리도 팔죠") and gate.taken_back == 1
    assert kiwi.last_morpheme("   ") is None


def test_without_kiwi_every_pause_closes(caplog):
    assert sentence_end.make_gate("always", spacing.KiwiSpacing()) is None
    with caplog.at_level(logging.WARNING):
        assert sentence_end.make_gate("sentence-end", spacing.NoSpacing()) is None
    assert 'pause_close = "sentence-end" needs Kiwi' in caplog.text


def captions(streams, pause_s=0.0, gate=None, space=str):
    """Captions of the streams (100 ms chunks) through a Captioner on the real model."""
    cfg, meter, sink = config.load(), Meter(), Collect()
    cap = Captioner(asr.Recognizer(asr.model_dir(""), 16000, space=space),
                    EmotionEngine(cfg.emotion, meter, "small", 16000), [sink], emoji=cfg.captions.emoji,
                    sample_rate=16000, history_s=30, partials=True, feed_ms=250, meter=meter, queue_size=1000,
                    pause_s=pause_s, pause_gate=gate)
    cap.start()
    for x in streams:
        for i in range(0, len(x), 1600):
            cap.put(AudioChunk(x[i : i + 1600]))
        cap.put(StreamEnd("clip"))
    cap.close()
    assert cap.error is None
    return sink.captions, meter.snapshot()["counts"].get("pauses_taken_back", 0)


class Collect:
    def __init__(self):
        self.captions = []

    def partial(self, e):
        pass

    def caption(self, e):
        self.captions.append(e)

    def close(self):
        pass


def test_a_close_taken_back_leaves_the_words_of_a_run_without_pauses(shared_data):
    kiwi = spacing.KiwiSpacing()
    quiet = np.random.default_rng(0).normal(0, 3, 16000).astype(np.int16)
    streams = [np.concatenate([load_audio(shared_data / f), quiet]) for f in (INNER_PAUSE, SENTENCE)]
    plain, _ = captions(streams, space=kiwi.space)  # each closed by its stream's end
    split, _ = captions(streams, 0.4, space=kiwi.space)
    gated, back = captions(streams, 0.4, sentence_end.make_gate("sentence-end", kiwi), kiwi.space)
    assert len(plain) == 2 and len(split) == 3  # the inner pause splits the first sentence
    assert [c.text for c in gated] == [c.text for c in plain]
    spans = lambda caps: [t for c in caps for t in (c.t_start, c.t_end)]  # noqa: E731
    assert spans(gated) == pytest.approx(spans(plain), abs=1e-6)
    assert back == 1
    # Both sentence ends still close at their pause (0.4 s, 100 ms chunks, a 250 ms block),
    # before their stream's end.
    for g, p in zip(gated, plain):
        assert g.t_closed - g.t_end <= 0.4 + 0.35 < p.t_closed - p.t_end
