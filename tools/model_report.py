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


if __name__ == "__main__":
    main(sys.argv[1:])
