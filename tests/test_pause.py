"""The pause detector on real speech: one pause after each sentence, none in noise alone,
and the floor follows a louder room."""
import numpy as np

from emocap.audio.files import load_audio
from emocap.pause import PauseDetector

CLIP = "asr/ko/emotiontts/Emotional/emotional-to-emotional/nea/nea00001.flac"


def chunks(x, n=1600):
    return [x[i : i + n] for i in range(0, len(x), n)]


def pauses(det, x):
    """Times (s, chunk end) at which the detector reported a pause."""
    out, t = [], 0
    for c in chunks(x):
        t += len(c)
        if det.update(c):
            out.append(t / 16000)
    return out


def noise(seconds, rms, seed=0):
    return np.random.default_rng(seed).normal(0, rms, int(seconds * 16000)).astype(np.int16)


def test_a_pause_after_each_sentence_within_the_silence_asked_for(shared_data):
    x = load_audio(shared_data / CLIP)
    speech = np.flatnonzero(np.abs(x) > 500)
    end = speech[-1] / 16000  # the last loud sample of the sentence
    stream = np.concatenate([noise(1, 3), x, noise(2, 3, 1), x, noise(2, 3, 2)])
    found = pauses(PauseDetector(16000, 0.3), stream)
    assert len(found) == 2
    first_end = 1 + end
    assert first_end + 0.3 <= found[0] <= first_end + 0.3 + 0.45  # quiet tail + 0.3 s, in 100 ms chunks


def test_noise_alone_and_a_louder_room_make_no_pause_until_voice():
    det = PauseDetector(16000, 0.3)
    assert pauses(det, noise(5, 3)) == []
    # A louder room reads as voice until the floor (a low percentile of the last 10 s) has
    # risen to it: then one pause at most, and none after that.
    assert len(pauses(det, noise(12, 300, 1))) <= 1
    assert pauses(det, noise(12, 300, 2)) == []


def test_reset_waits_for_new_voice(shared_data):
    x = load_audio(shared_data / CLIP)
    det = PauseDetector(16000, 0.3)
    for c in chunks(x[: len(x) // 2]):
        det.update(c)
    det.reset()  # e.g. Vosk's endpointer closed the utterance
    assert pauses(det, noise(2, 3)) == []


def test_room_tone_louder_than_the_floor_ends_the_voice_with_a_range(shared_data):
    # A sentence cut 50 ms after its last loud sample, then 1.5 s of its room's tone (24 dB, over
    # the floor + 15 dB learnt from the fainter gap before it), then the faint gap again.
    x = load_audio(shared_data / CLIP)
    last = np.flatnonzero(np.abs(x) > 500)[-1]
    stream = np.concatenate([noise(3, 3), x[: last + 800], noise(1.5, 16, 1), noise(2, 3, 2)])
    end = 3 + last / 16000
    plain = pauses(PauseDetector(16000, 0.25), stream)
    ranged = pauses(PauseDetector(16000, 0.25, range_db=45), stream)
    assert len(plain) == len(ranged) == 1
    assert plain[0] > end + 1.5  # the room tone read as voice: the pause came only after it
    assert end + 0.25 <= ranged[0] <= end + 0.25 + 0.2  # 45 dB under the words: quiet
