"""The model card (``<model>.json`` beside an ONNX file): file, contract, data, test metrics, training.

tools/export.py, tools/ensemble.py, tools/calibrate.py and tools/card_metrics.py write cards
through here, so every card names the same fields the same way.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import shlex
import sys
from pathlib import Path

from emocap_train import serdata
from emocap.emotion.model import INPUT, OUTPUT
from emocap.features import FeatureSettings


def test_metrics(path: Path, manifests, split, noise, workers) -> dict:
    """Whole test split, its Korean part (from the same predictions), and the split under noise."""
    from emocap_train import evaluate
    from emocap_train import metrics

    clips = [c for m in manifests for c in serdata.read_manifest(m)]
    test = serdata.select(clips, serdata.load_split(split), "test")
    keep = ("n", "accuracy", "uar", "macro_f1", "per_class", "confusion", "per_corpus", "skipped",
            "show_confidence", "coverage", "shown_precision")
    whole = evaluate.evaluate(path, test, workers=workers)
    out = {"test": {k: whole[k] for k in keep}}
    labels = whole["labels"]
    kept = [c for c in test if c.label in labels]  # the clips evaluate() predicted, in order
    korean = [(labels.index(c.label), p) for c, p in zip(kept, whole["predictions"]) if c.corpus == "emotiontts-ko"]
    if korean:
        r = metrics.summary(metrics.confusion(*zip(*korean), len(labels)), labels)
        out["test_korean"] = {**{k: r[k] for k in keep if k in r}, "skipped": 0}
    if noise:
        files = serdata.noise_files(noise)
        r = evaluate.evaluate(path, test, files, 10.0, workers=workers)
        out["test_noise_10db"] = {"folders": noise, "macro_f1": r["macro_f1"], "accuracy": r["accuracy"]}
    return out


def training_summary(checkpoints: list[str]) -> list[dict]:
    """What train.py reported beside each checkpoint (report.json): epochs, validation, command."""
    out = []
    for c in checkpoints:
        rep = Path(c).with_name("report.json")
        r = json.loads(rep.read_text()) if rep.is_file() else {}
        keep = ("arch", "best_epoch", "best_val_score", "selection", "epochs_run", "stopped_by", "command", "seconds",
                "seconds_features", "machine", "teacher", "teacher_sha256")
        out.append({"checkpoint": c, **{k: r[k] for k in keep if k in r}})
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def file_card(out: Path, description: str) -> dict:
    return {"name": out.stem, "file": out.name, "bytes": out.stat().st_size, "sha256": sha256(out),
            "description": description}


def drop_stale_card(out: Path) -> None:
    """Remove the card of a model file about to be rewritten: it records the old file's sha256, and
    the runtime refuses a file whose card does not match it (emocap.emotion.integrity)."""
    out.with_suffix(".json").unlink(missing_ok=True)


def save_card(card: dict, out: Path) -> None:
    """The card of model ``out`` goes beside it as .json."""
    out.with_suffix(".json").write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n")


def refresh_card(out: Path, part: dict | None = None) -> None:
    """After a model is rewritten in place (tools/requantise.py, tools/calibrate.py), its card
    records the new file, and ``part`` when given; a model without a card gets one only for a part."""
    path = out.with_suffix(".json")
    if not path.is_file() and not part:
        return
    card = json.loads(path.read_text()) if path.is_file() else {}
    card.update(file_card(out, card.get("description", "")))
    card.update(part or {})
    save_card(card, out)


def rewrite_metadata(path: Path, values: dict, card_part: dict) -> None:
    """Set ONNX metadata keys of ``path`` in place (JSON values; None removes the key); the card
    follows the file and takes ``card_part`` (tools/calibrate.py, tools/centre.py)."""
    import onnx  # the train extra: not needed by the rest of this module's readers

    m = onnx.load(str(path))
    props = {p.key: p.value for p in m.metadata_props}
    for k, v in values.items():
        props.pop(k, None)
        if v is not None:
            props[k] = json.dumps(v)
    del m.metadata_props[:]
    for k, v in props.items():
        m.metadata_props.add(key=k, value=v)
    onnx.save(m, str(path))
    refresh_card(path, card_part)


def contract_card(labels, mean, std, settings: FeatureSettings, manifests, split_path) -> dict:
    """The card's copy of the model contract (I/O, labels, statistics, features) and its data."""
    split = serdata.load_split(split_path)
    return {
        "input": {"name": INPUT, "shape": ["batch", 1, settings.numcep, settings.frames], "dtype": "float32",
                  "normalisation": "z-score per coefficient after utterance mean normalisation"},
        "output": {"name": OUTPUT, "shape": ["batch", len(labels)], "dtype": "float32"},
        "labels": list(labels),
        "norm_mean": [round(float(v), 6) for v in mean],
        "norm_std": [round(float(v), 6) for v in std],
        "features": settings.to_dict(),
        "aggregation": "mean of window softmax over an utterance's windows (emocap.features.aggregate)",
        "data": {"manifests": manifests, "split_file": str(Path(split_path).name),
                 "train_speakers": split["train"]["speakers"],
                 "validation_speakers": split["validation"]["speakers"],
                 "test_speakers": split["test"]["speakers"]},
    }


def write_card(card: dict, out: Path, args, tool: str, argv) -> None:
    """Test metrics (unless skipped), date and command; the card goes beside the model as .json."""
    if args.manifest and not args.skip_metrics:
        card["metrics"] = test_metrics(out, args.manifest, args.split, args.noise, args.workers)
    card["date"] = datetime.date.today().isoformat()
    card["command"] = f"python {tool} " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    save_card(card, out)
    print(f"wrote {out} ({card['bytes']} bytes) and {out.with_suffix('.json')}")
    if "metrics" in card:
        t = card["metrics"]["test"]
        print(f"test: macro-F1 {t['macro_f1']:.4f} accuracy {t['accuracy']:.4f} UAR {t['uar']:.4f}")
