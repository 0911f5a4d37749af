"""The text of a final: the lattice's best path (``[asr] final = "best-path"``, one alternative)
or Vosk's minimum-Bayes-risk words; both forms of Vosk's result read the same way."""
import json

from emocap import asr
from emocap.audio.files import load_audio

CLIP = "asr/ko/emotiontts/Emotional/emotional-to-emotional/nea/nea00001.flac"


def test_both_result_forms_give_text_and_word_times():
    words = [{"word": "네", "start": 0.3, "end": 0.6}]
    assert asr.final_words(json.dumps({"text": "네", "result": words})) == ("네", words)
    alt = {"alternatives": [{"text": " 네 ", "confidence": 12.0, "result": words}]}
    assert asr.final_words(json.dumps(alt)) == ("네", words)
    assert asr.final_words(json.dumps({"alternatives": []})) == ("", [])  # silence
    assert asr.final_words(json.dumps({"text": ""})) == ("", [])


def test_best_path_and_mbr_each_decode_real_speech(shared_data):
    import vosk

    vosk.SetLogLevel(-1)
    model = vosk.Model(str(asr.model_dir("")))
    pcm = load_audio(shared_data / CLIP).tobytes()
    results = {}
    for best_path in (True, False):
        rec = asr.open_recognizer(model, 16000, best_path)
        for i in range(0, len(pcm), 8000):
            rec.AcceptWaveform(pcm[i : i + 8000])
        raw = rec.FinalResult()
        assert ("alternatives" in json.loads(raw)) == best_path
        results[best_path] = asr.final_words(raw)
    for text, words in results.values():
        assert text and [w["word"] for w in words] == text.split()
        assert 0 <= words[0]["start"] < words[-1]["end"] <= len(pcm) / 2 / 16000
