#!/usr/bin/env python3
"""Summarise model cards (test-split metrics) as a Markdown table: baseline vs shipped models.

    python tools/model_report.py models/baseline/crnn.json models/small.json models/large.json
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def row(name: str, part: dict) -> str:
    return f"| {name} | {part['n']} | {part['accuracy']:.3f} | {part['uar']:.3f} | {part['macro_f1']:.3f} |"


def calibration(cards) -> None:
    """Temperature, ECE and the show threshold's precision/coverage per corpus (validation, test)."""
    cal = [(n, c) for n, c in cards if "calibration" in c]
    if not cal:
        return
    print("\n## Calibrated confidence and abstention\n")
    print("Temperature fitted on validation utterances by `tools/calibrate.py` (NLL of the utterance "
          "probabilities the runtime shows); ECE: 15 equal-width bins of the top-1 confidence.\n")
    print("| model | temperature | ECE before | ECE after | NLL before | NLL after | validation utterances |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for n, c in cal:
        k = c["calibration"]
        print(f"| {n} | {k['temperature']:.3f} | {k['ece_before']:.3f} | {k['ece_after']:.3f} | "
              f"{k['nll_before']:.3f} | {k['nll_after']:.3f} | {k['utterances']} |")
    print("\n![reliability](reliability.png)\n")
    print("Shown tags at each model's `show_confidence` (the lowest threshold whose validation precision, "
          "averaged over corpora, reaches the target); test figures measured once, nothing chosen on them:\n")
    print("| model | threshold | part | corpus | precision of shown tags | coverage |\n|---|---:|---|---|---:|---:|")
    for n, c in cal:
        v = c["show_confidence"]["validation"]
        t = v["threshold"]
        for corpus, r in v["per_corpus"].items():
            print(f"| {n} | {t:.2f} | validation | {corpus} | {r['precision']:.3f} | {r['coverage']:.3f} |")
        print(f"| {n} | {t:.2f} | validation | **mean** | {v['mean_precision']:.3f} | {v['mean_coverage']:.3f} |")
        test = c.get("metrics", {}).get("test", {})
        per = {k: m for k, m in test.get("per_corpus", {}).items() if "coverage" in m}
        for corpus, r in per.items():
            print(f"| {n} | {t:.2f} | test | {corpus} | {r['shown_precision']:.3f} | {r['coverage']:.3f} |")
        if per:
            mp = sum(r["shown_precision"] for r in per.values()) / len(per)
            mc = sum(r["coverage"] for r in per.values()) / len(per)
            print(f"| {n} | {t:.2f} | test | **mean** | {mp:.3f} | {mc:.3f} |")
    print("\n![precision and coverage against the threshold, per corpus (validation)](coverage.png)")


def main(paths: list[str]) -> None:
    cards = [(Path(p).stem, json.loads(Path(p).read_text())) for p in paths]
    print("| model | bytes | precision | test macro-F1 | Korean test macro-F1 | 10 dB unseen noise macro-F1 | INT8/FP16 vs FP32 window agreement |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for name, c in cards:
        m = c["metrics"]
        agree = c.get("fp32_window_agreement_test")
        print(f"| {name} ({c['arch']}) | {c['bytes']:,} | {c['precision']} | {m['test']['macro_f1']:.3f} | "
              f"{m['test_korean']['macro_f1']:.3f} | {m['test_noise_10db']['macro_f1']:.3f} | "
              f"{'' if agree is None else f'{agree:.4f}'} |")
    for part, title in (("test", "whole test split"), ("test_korean", "Korean part of the test split")):
        print(f"\n{title}:\n\n| model | clips | accuracy | UAR | macro-F1 |\n|---|---:|---:|---:|---:|")
        for name, c in cards:
            print(row(name, c["metrics"][part]))
    for name, c in cards:
        labels = c["labels"]
        cm = c["metrics"]["test"]["confusion"]
        print(f"\n{name}: confusion on the test split (rows true, columns predicted)\n")
        print("| | " + " | ".join(labels) + " |\n|---|" + "---:|" * len(labels))
        for l, r in zip(labels, cm):
            print(f"| {l} | " + " | ".join(map(str, r)) + " |")
    calibration(cards)


if __name__ == "__main__":
    main(sys.argv[1:])
