"""Digital silence filled before Vosk when dither is off: only runs of zeros a frame long,
across block boundaries, always the same way; and with it the real model ends an utterance
in a stretch of exact zeros, which without it (and without dither) it never does."""
import numpy as np

from emocap import asr
from emocap.digital_silence import MIN_RUN, SilenceFill

NEA = "asr/ko/emotiontts/Emotional/emotional-to-emotional/nea/nea00001.flac"


def filled(blocks):
    fill = SilenceFill()
    return np.concatenate([np.frombuffer(fill(b.tobytes()), np.int16) for b in blocks])


def test_only_runs_a_frame_long_are_filled_across_blocks():
    x = np.full(4000, 7, np.int16)
    x[100:100 + MIN_RUN - 1] = 0  # one sample short of a frame
    x[1000:1000 + MIN_RUN] = 0
    x[3800:] = 0  # 200 zeros here and 300 in the next block: one run of 500
    nxt = np.concatenate([np.zeros(300, np.int16), np.full(100, 7, np.int16)])
    y = filled([x, nxt])
    assert (y[100:100 + MIN_RUN - 1] == 0).all()
    assert set(np.unique(y[1000:1000 + MIN_RUN])) == {-1, 1}
    assert (y[3800:4000] == 0).all() and set(np.unique(y[4000:4300])) == {-1, 1}  # filled once known long
    assert (y[x.size + 300:] == 7).all() and (y[:100] == 7).all()
    assert (filled([x, nxt]) == y).all()  # the same every time
    speech = np.arange(-300, 300, dtype=np.int16)
    assert SilenceFill()(speech.tobytes()) == speech.tobytes()  # untouched


def test_the_real_model_ends_an_utterance_in_digital_silence(shared_data):
    from emocap.audio.files import load_audio
    x = load_audio(shared_data / NEA)
    pcm = np.concatenate([x, np.zeros(16000 * 4, np.int16)]).tobytes()
    rec = asr.Recognizer(asr.model_dir(""), 16000, dither=0.0)
    closed = [u for i in range(0, len(pcm), 8000) if (u := rec.accept(pcm[i : i + 8000]))]
    rec._fill = None  # as without the fill
    rec.finish()
    unfilled = [u for i in range(0, len(pcm), 8000) if (u := rec.accept(pcm[i : i + 8000]))]
    assert len(closed) == 1 and "심폐소생술" in closed[0].text.replace(" ", "")
    assert unfilled == []
