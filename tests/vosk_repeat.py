"""Decode one clip twice, each time in a fresh KaldiRecognizer on one model loaded at the
given dither, and print both raw Vosk results (words, times, confidences), one JSON per line.

    python tests/vosk_repeat.py CLIP DITHER
"""
import json
import sys
from pathlib import Path


def main(clip: str, dither: float) -> None:
    import vosk

    from emocap import asr, vosk_conf
    from emocap.audio.files import load_audio

    vosk.SetLogLevel(-1)
    with vosk_conf.model_folder(asr.model_dir(""), dither=dither) as folder:
        model = vosk.Model(str(folder))
    pcm = load_audio(Path(clip), 16000).tobytes()
    for _ in range(2):
        rec = vosk.KaldiRecognizer(model, 16000)
        rec.SetWords(True)
        results = [json.loads(rec.Result()) for i in range(0, len(pcm), 8000) if rec.AcceptWaveform(pcm[i : i + 8000])]
        results.append(json.loads(rec.FinalResult()))
        print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
