#!/usr/bin/env python3
"""Compare INT8 quantisation choices for one checkpoint on VALIDATION windows (never test).

    python tools/quant_compare.py --checkpoint runs/ckpt/small_mel_kd_s4/model.pt \
        --manifest ../shared/data/ser/manifest.csv --manifest ../shared/data/asr/ko/emotion.csv

For each calibration method (min/max, percentile 99.99, entropy) and, for a model with a
log-mel front, with that front float or INT8, prints the share of validation windows whose
label the INT8 model keeps from its FP32 parent, as one JSON object. tools/export.py uses the
best of these as its defaults.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from pathlib import Path

import onnx

import export
import serdata


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--manifest", action="append", required=True)
    p.add_argument("--split", default=str(serdata.DEFAULT_SPLIT))
    p.add_argument("--calibration-clips", type=int, default=400)
    args = p.parse_args(argv)

    model, ckpt = export.load_model([args.checkpoint])
    settings = export.FeatureSettings.from_dict(ckpt["features"])
    wins = export.clip_windows(export.part_clips(ckpt["labels"], args.manifest, args.split, "validation"), ckpt)
    calib = export.calibration_windows(ckpt, args.manifest, args.split, args.calibration_clips)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        export.export_fp32(model, fp32, settings)
        export.add_metadata(fp32, ckpt)
        has_front = any(n.name.startswith(export.FLOAT_FRONT) for n in onnx.load(str(fp32)).graph.node)
        for method in ("minmax", "percentile", "entropy"):
            for float_front in ((True, False) if has_front else (True,)):
                q = Path(tmp) / f"{method}_{float_front}.onnx"
                with contextlib.redirect_stdout(sys.stderr):  # onnxruntime prints its progress
                    export.quantise(fp32, q, calib, method, float_front)
                export.add_metadata(q, ckpt)
                name = method + ("" if not has_front else ", front float" if float_front else ", front int8")
                results[name] = round(export.window_agreement(q, fp32, wins), 4)
    print(json.dumps({"checkpoint": args.checkpoint, "validation_windows": int(len(wins)),
                      "agreement_with_fp32": results}, indent=1))


if __name__ == "__main__":
    main()
