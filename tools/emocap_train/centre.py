"""Give a model stream centring (emocap/stream_centre.py): its prior, weight and fade in the metadata.

    python tools/centre.py --model models/small.onnx --manifest ../shared/data/ser/manifest.csv \
        --manifest ../shared/data/asr/ko/emotion.csv [--weight 4] [--max-utterances 20] [--calm-label neutral]

The prior is the mean utterance logit (the mean of the window logits) of the split's
VALIDATION utterances, uncentred: a stream whose utterances average that is left as it is.
``--calm-label neutral`` adds the calm guard (emocap/stream_centre.py): the shift never lowers
that label below the other labels' shift weighted by the stream's lean to each. ``--off`` takes
centring out. The logits change, so run tools/calibrate.py afterwards: the temperature and
thresholds are fitted on centred logits. The card records the settings.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from emocap_train import model_card, serdata, streams
from emocap.emotion.model import META_CENTRE, EmotionModel

MAX_UTTERANCES = 20
"""The default fade: a stream's mean holds the last 20 utterances (older ones fade)."""


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, action="append", help="ONNX model, rewritten in place (repeatable)")
    p.add_argument("--manifest", action="append", default=[])
    p.add_argument("--split", default=str(serdata.DEFAULT_SPLIT))
    p.add_argument("--weight", type=float, default=4.0, help="pseudo-utterances of the prior in each stream")
    p.add_argument("--max-utterances", type=int, default=MAX_UTTERANCES,
                   help="utterances a stream's mean holds before fading")
    p.add_argument("--calm-label",
                   help="label the shift never lowers below the others' lean-weighted shift (the calm guard)")
    p.add_argument("--off", action="store_true", help="remove centring from the models")
    args = p.parse_args(argv)
    if not args.off and not args.manifest:
        p.error("--manifest is needed to compute the prior (or --off)")
    if args.weight < 0 or args.max_utterances < 1:
        p.error("--weight must be >= 0 and --max-utterances >= 1")
    return args


def prior_logits(model: EmotionModel, manifests, split) -> np.ndarray:
    """Mean over the validation utterances of each one's mean window logit, uncentred."""
    clips = serdata.part_clips(model.labels, manifests, split, "validation")
    wins = streams.model_windows(model, clips, serdata.load_audio)
    return np.mean([model.window_logits(w).mean(axis=0) for w in wins], axis=0)


def write_meta(path: Path, spec: dict | None) -> None:
    """``spec`` as the model's ``stream_centre`` metadata (None removes it); the card follows."""
    model_card.rewrite_metadata(path, {META_CENTRE: spec}, {META_CENTRE: spec})


def main(argv=None) -> int:
    args = parse_args(argv)
    for path in map(Path, args.model):
        spec = None
        if not args.off:
            model = EmotionModel(path)
            if args.calm_label is not None and args.calm_label not in model.labels:
                print(f"centre: {path}: --calm-label {args.calm_label!r} is not one of its labels {model.labels}",
                      file=sys.stderr)
                return 2
            prior = prior_logits(model, args.manifest, args.split)
            spec = {"prior": [round(float(v), 5) for v in prior], "weight": args.weight,
                    "max_utterances": args.max_utterances, "prior_from": "validation",
                    "split_file": Path(args.split).name}
            if args.calm_label is not None:
                spec["calm_label"] = args.calm_label
        write_meta(path, spec)
        print(json.dumps({str(path): spec}))
    return 0
