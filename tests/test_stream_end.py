"""A stream's end leaves nothing of it in the next stream, with the real Vosk model.

When a stream's last block closes an utterance, Vosk's FinalResult() alone keeps the decoder's
feature pipeline, so the next stream was decoded as a continuation: for this RAVDESS clip then
this CREMA-D clip the second one's caption read otherwise than decoded alone and started 0.04 s
before its own first sample. Found by the soak (tools/soak.py), which checks every file's
caption count against the file decoded alone.
"""
import pytest

from emocap import asr
from emocap.audio.files import load_audio

ENDS_ON_ENDPOINT = "ser/ravdess/Actor_23/03-01-02-01-01-01-23.flac"
NEXT = "ser/crema-d/AudioWAV/1073_MTI_ANG_XX.flac"
BLOCK = 2 * 4000  # bytes: 250 ms, the shipped [asr] feed_ms


def decode(rec: asr.Recognizer, pcm: bytes) -> tuple[list[tuple[float, str]], bool]:
    """Utterances of one stream (start relative to the stream's first sample, text), and
    whether its last block closed one."""
    start, out, closed = rec.samples / 16000, [], False
    for i in range(0, len(pcm), BLOCK):
        u = rec.accept(pcm[i : i + BLOCK])
        closed = u is not None
        out += [u] if u else []
    u = rec.finish()
    out += [u] if u else []
    return [(round(u.start_s - start, 3), u.text) for u in out], closed


@pytest.fixture(scope="module")
def model_dir():
    return asr.model_dir("")


def test_next_stream_decodes_as_alone(shared_data, model_dir):
    first, second = (load_audio(shared_data / p, 16000).tobytes() for p in (ENDS_ON_ENDPOINT, NEXT))
    alone, _ = decode(asr.Recognizer(model_dir, 16000, dither=0.0), second)

    rec = asr.Recognizer(model_dir, 16000, dither=0.0)
    _, closed = decode(rec, first)
    assert closed, "precondition: the first clip's last block must close an utterance"
    after, _ = decode(rec, second)
    assert alone and after == alone
