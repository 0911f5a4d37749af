"""Early captions: at a pause the words so far go to the sinks at once, then with their tag;
Vosk's final caption of the utterance follows and replaces them. The decoding is never cut, so
on the demo the finals are those of a run without early captions (real Vosk model, real speech)."""
import dataclasses
import io
import json

import numpy as np

from emocap import asr, config
from emocap.audio.files import load_audio
from emocap.captioner import AudioChunk, Captioner, StreamEnd
from emocap.captions import Caption
from emocap.early import EarlyCaptions, Shown
from emocap.display.terminal import JsonSink, TerminalSink
from emocap.emotion.engine import EmotionEngine
from emocap.meter import Meter
from emocap.transcript.sink import TranscriptSink

from conftest import ROOT

DEMO = ROOT / "demo" / "demo_ko.flac"  # four sentences, each followed by about 1.5 s of quiet


class Collect:
    def __init__(self):
        self.events = []

    def partial(self, e):
        pass

    def caption(self, e):
        self.events.append(e)

    def close(self):
        pass


def run(early_s: float, rec: asr.Recognizer):
    cfg = config.load()
    meter, sink = Meter(), Collect()
    cap = Captioner(rec, EmotionEngine(cfg.emotion, meter, "small", 16000), [sink], emoji=cfg.captions.emoji,
                    sample_rate=16000, history_s=30, partials=True, feed_ms=250, meter=meter, queue_size=1000,
                    early_s=early_s)
    x = load_audio(DEMO)
    cap.start()
    for i in range(0, len(x), 1600):
        cap.put(AudioChunk(x[i : i + 1600]))
    cap.put(StreamEnd("demo"))
    cap.close()
    assert cap.error is None
    return sink.events, meter


def test_early_captions_come_first_and_leave_the_finals_as_they_were():
    rec = asr.Recognizer(asr.model_dir(""), 16000)
    plain, _ = run(0.0, rec)
    events, meter = run(0.4, rec)
    finals = [e for e in events if e.final]
    early = [e for e in events if not e.final]
    same = lambda cs: [(c.text, round(c.t_start, 3), round(c.t_end, 3)) for c in cs]  # one recogniser, run on
    assert same(finals) == same(plain)
    assert all(c.early_ns is None and c.early_text is None for c in plain)
    # Each pause sends the words at once, untagged, then (when the first word is placed) the
    # same words and span with their tag.
    firsts = [e for i, e in enumerate(early) if i == 0 or not follows(e, early[i - 1])]
    assert len(firsts) >= 3 and meter.snapshot()["counts"]["early_captions"] == len(firsts)
    assert all(e.emotion is None and not e.shown for e in firsts)
    # Shown as soon as the chunk that completes the pause arrives (0.1 s chunks here), not when
    # the 250 ms block it falls in fills; t_end is where the pause began.
    assert all(0.4 - 0.01 <= e.t_closed - e.t_end <= 0.4 + 0.1 + 0.01 for e in firsts), [
        round(e.t_closed - e.t_end, 3) for e in firsts]
    tagged = {id(e): early[i + 1] for i, e in enumerate(early[:-1]) if follows(early[i + 1], e)}
    assert len(tagged) >= 3 and all(t.emotion is not None for t in tagged.values())
    for i, e in enumerate(events):
        if e.final or e not in firsts:
            continue
        final = next(c for c in events[i + 1 :] if c.final)  # every early caption has its final after it
        if final.early_ns == e.t_mono_ns:  # it held the last word: its tag is the final's
            assert final.early_text == e.text and final.t_end <= e.t_end + 0.3
            t = tagged[id(e)]
            assert (final.emotion, final.confidence, final.model) == (t.emotion, t.confidence, t.model)
    assert sum(c.early_ns is not None for c in finals) >= 3  # the quiet after each sentence showed it whole
    assert all((c.early_ns is None) == (c.early_text is None) for c in finals)


def follows(e, before) -> bool:
    """``e`` is the tagged copy of the untagged early caption ``before``."""
    return before.emotion is None and e.emotion is not None and (e.text, e.t_start, e.t_end) == (
        before.text, before.t_start, before.t_end)


def early_and_final():
    kw = dict(emotion="anger", confidence=0.9, model="small", t_start=0.0, t_end=1.0, latency_ms=1.0, emoji="😠")
    return Caption(text="그만 하세요", final=False, **kw), Caption(text="그만하세요", early_ns=1, early_text="그만 하세요", **kw)


def test_only_finals_reach_the_json_output_and_the_transcript(tmp_path):
    early, final = early_and_final()
    out = io.StringIO()
    sink = JsonSink(out)
    sink.caption(early)
    sink.caption(final)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["text"] == "그만하세요"
    assert json.loads(lines[0])["early_text"] == "그만 하세요"
    cfg = config.load().transcript
    t = TranscriptSink(dataclasses.replace(cfg, path=str(tmp_path / "t.jsonl")))
    t.caption(early)
    t.caption(final)
    t.close()
    rows = (tmp_path / "t.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 and json.loads(rows[0])["text"] == "그만하세요"


def test_a_live_terminal_shows_the_early_caption_in_place_then_prints_the_final():
    early, final = early_and_final()
    out = io.StringIO()
    sink = TerminalSink(out, live=True)
    sink.caption(early)
    assert "\n" not in out.getvalue() and "그만 하세요 😠 [anger]" in out.getvalue()
    sink.caption(final)
    assert out.getvalue().count("\n") == 1 and out.getvalue().rstrip().endswith("(0.90 small)")
    quiet = io.StringIO()
    TerminalSink(quiet, live=False).caption(early)  # a log or pipe keeps finals only
    assert quiet.getvalue() == ""


def test_an_early_caption_covers_the_final_it_showed_whole():
    caption = Caption(text="여기 생맥주도", emotion=None, confidence=0.0, model=None, t_start=1.0, t_end=3.0,
                      latency_ms=0.0, final=False)
    shown = Shown(caption, None, "small", heard_s=3.5, finals=0, tagged=True)
    final = "여기 생맥주도 주세요"
    assert shown.covers(1.2, 3.4, final) and shown.covers(0.8, 3.5, final)  # the same first word, within 0.3 s
    assert not shown.covers(0.5, 3.0, final)  # a word before it: not what it showed
    assert not shown.covers(2.9, 3.4, final)  # another first word
    assert not shown.covers(1.0, 3.6, final)  # a word after what had been heard
    # Untagged (Vosk had not placed the first word; the caption's start is where the decoding
    # began): the first syllable decides.
    untagged = Shown(dataclasses.replace(caption, t_start=0.0), None, None, heard_s=3.5, finals=0, tagged=False)
    assert untagged.covers(1.2, 3.4, final) and untagged.covers(1.2, 3.4, "여기생맥주도")
    assert not untagged.covers(1.2, 3.4, "저기 생맥주도")  # another first word
    assert not untagged.covers(1.2, 3.6, final)  # a word after what had been heard
    assert not Shown(dataclasses.replace(caption, text=""), None, None, 3.5, 0, False).covers(1.2, 3.4, "")


def test_a_pause_that_voice_ends_within_the_same_chunk_shows_nothing():
    rng = np.random.default_rng(0)
    sound = lambda s, rms: rng.normal(0, rms, int(s * 16000)).astype(np.int16)  # noqa: E731
    early = EarlyCaptions(16000, 0.25)
    assert not early.due(sound(3, 3)) and not early.due(sound(1, 3000))  # a floor, then voice
    # 0.3 s of quiet then voice again, all in one chunk: when it arrives the pause is over.
    assert not early.due(np.concatenate([sound(0.3, 3), sound(0.2, 3000)]))
    assert early.due(sound(0.3, 3))  # the quiet after that voice holds to the chunk's end
