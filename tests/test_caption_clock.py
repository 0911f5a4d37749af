"""Captions carry the audio clock: the capture times of the first word's start and the last
word's end (from the chunks' stamps and Vosk's word times) and the first partial's time;
the JSON sink turns them into the wearer's waits."""
import io
import json
import time

from emocap import asr, config
from emocap.audio.files import load_audio
from emocap.captioner import AudioChunk, Captioner, StreamEnd
from emocap.captions import Caption
from emocap.display.terminal import JsonSink
from emocap.emotion.engine import EmotionEngine
from emocap.meter import Meter

CLIP = "asr/ko/emotiontts/Emotional/emotional-to-emotional/nea/nea00001.flac"


class Collect:
    def __init__(self):
        self.partials, self.captions = [], []

    def partial(self, e):
        self.partials.append(e)

    def caption(self, e):
        self.captions.append(e)

    def close(self):
        pass


def test_caption_times_follow_the_chunks_clock(shared_data):
    cfg = config.load()
    meter, sink = Meter(), Collect()
    cap = Captioner(asr.Recognizer(asr.model_dir(""), 16000), EmotionEngine(cfg.emotion, meter, "small", 16000),
                    [sink], emoji=cfg.captions.emoji, sample_rate=16000, history_s=30, partials=True, feed_ms=250,
                    meter=meter, queue_size=1000)
    x = load_audio(shared_data / CLIP)
    t0 = 5_000_000_000_000  # an arbitrary clock: 100 ms chunks stamped 100 ms apart
    before = time.monotonic_ns()
    cap.start()
    for i in range(0, len(x), 1600):
        cap.put(AudioChunk(x[i : i + 1600], t0 + i * 62_500))  # 1e9 / 16000 ns a sample
    cap.put(StreamEnd("clip"))
    cap.close()
    assert cap.error is None and len(sink.captions) == 1
    c = sink.captions[0]
    assert c.speech_end_ns == t0 + round(c.t_end * 16000) * 62_500
    assert c.speech_start_ns == t0 + round(c.t_start * 16000) * 62_500
    assert sink.partials and before <= c.first_partial_ns <= c.t_mono_ns
    assert meter.snapshot()["latency"]["speech_end"]["n"] == 1
    assert c.t_end < c.t_closed <= len(x) / 16000  # closed after the last word, within the audio fed


def test_json_sink_reports_the_waits_at_delivery():
    out = io.StringIO()
    c = Caption(text="네", emotion=None, confidence=0.0, model=None, t_start=0.0, t_end=1.0, latency_ms=1.0,
                speech_start_ns=time.monotonic_ns() - 2_000_000_000, speech_end_ns=time.monotonic_ns() - 300_000_000,
                first_partial_ns=time.monotonic_ns() - 1_500_000_000)
    JsonSink(out).caption(c)
    obj = json.loads(out.getvalue())
    assert 300 <= obj["end_to_caption_ms"] < 300 + 1000  # generous: the sink ran just now
    assert 499 <= obj["onset_to_partial_ms"] <= 501
    assert Caption(text="네", emotion=None, confidence=0.0, model=None, t_start=0.0, t_end=1.0,
                   latency_ms=1.0).delays_ms(0) == {"end_to_caption_ms": None, "end_to_shown_ms": None, "onset_to_partial_ms": None,
                                     "end_to_close_audio_ms": None}


def test_a_pause_closes_the_caption_before_vosks_endpointer(shared_data):
    """Sentence + 0.4 s of faint noise, no end of stream: the pause detector (0.3 s) closes
    it; Vosk's own rules (0.5 s of decoded silence, behind the audio) have not yet."""
    import numpy as np
    cfg = config.load()
    rec = asr.Recognizer(asr.model_dir(""), 16000)
    x = load_audio(shared_data / CLIP)
    x = np.concatenate([x, np.random.default_rng(0).normal(0, 3, 6400).astype(np.int16)])
    counts = []
    for pause_s in (0.3, 0.0):
        meter, sink = Meter(), Collect()
        cap = Captioner(rec, EmotionEngine(cfg.emotion, meter, "small", 16000), [sink], emoji=cfg.captions.emoji,
                        sample_rate=16000, history_s=30, partials=True, feed_ms=250, meter=meter, queue_size=1000,
                        pause_s=pause_s)
        cap.start()
        for i in range(0, len(x), 1600):
            cap.put(AudioChunk(x[i : i + 1600]))
        cap.close()  # drains the queue; no StreamEnd, so nothing is flushed
        counts.append(len(sink.captions))
        if pause_s:
            assert "심폐소생술" in sink.captions[0].text.replace(" ", "")
        rec.finish()
    assert counts == [1, 0]
