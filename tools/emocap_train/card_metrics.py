#!/usr/bin/env python3
"""Recompute a shipped model's test-split metrics into its card (after re-quantising or calibrating).

    python tools/card_metrics.py --model models/small.onnx --float-parent runs/small_float.onnx \
        --manifest ../shared/data/ser/manifest.csv --manifest ../shared/data/asr/ko/emotion.csv \
        --noise ../shared/data/noise/cafe_restaurant ...

The same figures tools/export.py writes (``model_card.test_metrics``: whole test split with
coverage and shown precision at the model's show_confidence, Korean part, 10 dB unseen noise),
and with ``--float-parent`` the INT8 model's window agreement with its float parent on the
test windows. Run once per shipped model: nothing is chosen on these figures.
"""
from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path

from emocap_train import model_card, quantisation
from emocap_train import serdata
from emocap.emotion.model import EmotionModel


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--manifest", required=True, action="append")
    p.add_argument("--split", default=str(serdata.DEFAULT_SPLIT))
    p.add_argument("--noise", action="append", default=[])
    p.add_argument("--float-parent", help="float model the INT8 file was quantised from")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--yardstick", help="JSON with the recipe's leave-one-corpus-out figures (models/yardstick/)")
    args = p.parse_args(argv)
    path = Path(args.model)
    card_path = path.with_suffix(".json")
    card = json.loads(card_path.read_text())
    model = EmotionModel(path)
    if args.float_parent:
        ckpt = {"labels": model.labels, "features": model.settings.to_dict()}
        wins = serdata.clip_windows(serdata.part_clips(model.labels, args.manifest, args.split, "test"), ckpt)
        card["fp32_window_agreement_test"] = round(quantisation.window_agreement(path, Path(args.float_parent), wins), 4)
        card["fp32_agreement_windows"] = int(len(wins))
    card["metrics"] = model_card.test_metrics(path, args.manifest, args.split, args.noise, args.workers)
    card.pop("metrics_note", None)
    if args.yardstick:  # measured by tools/loco.py, hours of training: kept in a file, not rerun here
        card["yardstick"] = json.loads(Path(args.yardstick).read_text())
    card.update(model_card.file_card(path, card.get("description", "")))
    card["metrics_date"] = datetime.date.today().isoformat()
    model_card.save_card(card, path)
    t = card["metrics"]["test"]
    print(f"{path}: test macro-F1 {t['macro_f1']:.4f}, coverage {t['coverage']:.4f}, "
          f"shown precision {t['shown_precision']:.4f} at {t['show_confidence']:.2f}")
    return 0
