#!/usr/bin/env python3
"""Build the bundled demo recording, demo/demo_ko.flac, and its README (source, licence,
attribution, transcripts).

    python tools/make_demo.py [--speaker nem] [--clips 00001,00103,00205,00305] [--pause 0.6]

A few emotional-to-emotional utterances of ONE speaker of the emotion split's test part
(never seen in training), joined by short pauses: 16 kHz mono 16-bit FLAC.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from emocap_train import ROOT, shared_data
from emocap.audio.files import load_audio

SHARED = shared_data()
CORPUS_COMMIT = "5c8ccc80cb11e8de113c25f9ad019dc5d3a8e47b"
PART = "emotiontts/Emotional/emotional-to-emotional"
RATE = 16000


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=SHARED / "asr" / "ko", help="the asr/ko folder")
    p.add_argument("--speaker", default="nem")
    p.add_argument("--clips", default="00001,00103,00205,00305", help="file numbers, in playing order")
    p.add_argument("--pause", type=float, default=0.6, help="silence between utterances, seconds")
    p.add_argument("--split", type=Path, default=ROOT / "splits" / "ser_split.json")
    p.add_argument("--out", type=Path, default=ROOT / "demo" / "demo_ko.flac")
    return p.parse_args(argv)


def read_csv(path: Path) -> dict[str, dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return {r["path"]: r for r in csv.DictReader(f)}


def check_speaker(speaker: str, split: Path) -> None:
    test = json.loads(split.read_text())["test"]["speakers"]
    if f"emotiontts:{speaker}" not in test:
        sys.exit(f"make_demo: speaker {speaker} is not in the test part of {split}: {test}")


def build(args) -> list[dict]:
    texts, labels = read_csv(args.data / "manifest.csv"), read_csv(args.data / "emotion.csv")
    gap = np.zeros(round(args.pause * RATE), dtype=np.int16)
    parts, rows, t = [gap[: RATE // 4]], [], 0.25  # a short lead-in before the first word
    for num in args.clips.split(","):
        rel = f"{PART}/{args.speaker}/{args.speaker}{num}.flac"
        audio = load_audio(args.data / rel, RATE)
        rows.append({"file": rel, "text": texts[rel]["text"], "label": labels[rel]["label"],
                     "start": round(t, 2), "end": round(t + len(audio) / RATE, 2)})
        parts += [audio, gap]
        t += (len(audio) + len(gap)) / RATE
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sf.write(args.out, np.concatenate(parts), RATE, format="FLAC", subtype="PCM_16")
    return rows


README = """# Demo recording: `demo_ko.flac`

{seconds:.1f} s of Korean speech, 16 kHz mono 16-bit FLAC ({kbytes} kB): {n} utterances of one
speaker (`{speaker}`, {gender}) acted in different emotions, joined by {pause} s pauses. It is
what `emocap replay demo/demo_ko.flac` and `emocap run` without a microphone play.

| # | at (s) | original file | acted emotion | transcript |
|---|--------|---------------|---------------|------------|
{table}

## Source and attribution

From the public 5 % sample of the conversational speech corpus DB of **로봇의 감정 및 개성을
표현할 수 있는 대화형 음성합성 오픈소스 플랫폼** (an open-source conversational speech synthesis
platform able to express a robot's emotion and personality), 대화형 음성코퍼스 DB
(2017-2019), recorded by SELVAS AI (셀바스AI) under KAIST and funded by the Korean Ministry
of Trade, Industry and Energy (Industrial Technology Innovation Program No. 10080667).

- Repository: <https://github.com/emotiontts/emotiontts_open_db>, commit
  `{commit}`, files `Dataset/SpeechCorpus/Emotional/emotional-to-emotional/{speaker}/wav/<name>.wav`
  (22.05 kHz); transcripts from that folder's `transcript/` files.
- Changes: each file converted to 16 kHz mono 16-bit with SoX
  (`sox IN.wav -r 16000 -c 1 -b 16 OUT.flac`), then concatenated in the order above with
  silence between them by `tools/make_demo.py`. Emotion labels follow the corpus's file
  numbering (`001xx` happiness, `002xx` sadness, `003xx` anger, `000xx` neutral; see
  `../shared/data/README.md` for why the 002/003 blocks are read this way).

## Licence

The corpus is licensed under the **Creative Commons Attribution-NonCommercial-ShareAlike 4.0
International** licence (CC BY-NC-SA 4.0, <https://creativecommons.org/licenses/by-nc-sa/4.0/>),
and its README adds: research use only, no commercial use. This recording is an adaptation
of it and is licensed under the same terms (see `LICENSE` beside it); the licence of the
emocap code does not apply to it. Do not ship it in a commercial product image.

Rebuild it with `python tools/make_demo.py` (needs `../shared/data/asr/ko`).
"""

LICENSE = """demo_ko.flac is an adaptation of recordings from the emotiontts_open_db corpus
(https://github.com/emotiontts/emotiontts_open_db, commit {commit}),
by SELVAS AI / KAIST, licensed under CC BY-NC-SA 4.0.

It is licensed under the Creative Commons Attribution-NonCommercial-ShareAlike 4.0
International License. To view a copy of this license, visit
https://creativecommons.org/licenses/by-nc-sa/4.0/legalcode
(summary: https://creativecommons.org/licenses/by-nc-sa/4.0/).

Attribution, sources and changes: see README.md in this folder.
"""


def write_readme(args, rows: list[dict]) -> None:
    info = sf.info(str(args.out))
    table = "\n".join(f"| {i} | {r['start']:.2f}-{r['end']:.2f} | `{Path(r['file']).stem}` | {r['label']} | {r['text']} |"
                      for i, r in enumerate(rows, 1))
    gender = "male" if args.speaker in ("emf", "emg", "emh", "nek", "nel", "nem", "nen", "neo") else "female"
    (args.out.parent / "README.md").write_text(README.format(
        seconds=info.duration, kbytes=args.out.stat().st_size // 1000, n=len(rows), speaker=args.speaker,
        gender=gender, pause=args.pause, table=table, commit=CORPUS_COMMIT), encoding="utf-8")
    (args.out.parent / "LICENSE").write_text(LICENSE.format(commit=CORPUS_COMMIT), encoding="utf-8")


def main(argv=None) -> int:
    args = parse_args(argv)
    check_speaker(args.speaker, args.split)
    rows = build(args)
    write_readme(args, rows)
    size = args.out.stat().st_size
    print(f"{args.out}: {sf.info(str(args.out)).duration:.1f} s, {size} bytes")
    if size >= 1_000_000:
        print("make_demo: the demo is over 1 MB; use fewer or shorter clips", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
