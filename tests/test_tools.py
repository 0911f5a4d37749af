"""Training smoke test (train -> export -> evaluate) and evaluate.py's JSON contract."""
import csv
import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import run_tool

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"n", "accuracy", "macro_f1", "labels", "per_class", "confusion"}


def _tiny_manifest(shared_data: Path, tmp: Path, rows_per_label: int = 2) -> Path:
    """A manifest in another folder (paths relative to it), with one label no model has."""
    src = list(csv.DictReader(open(shared_data / "ser" / "manifest.csv")))
    picked, seen = [], {}
    for r in src:
        if r["speaker"] in ("ravdess:03", "ravdess:08") and seen.get(r["label"], 0) < rows_per_label:
            seen[r["label"]] = seen.get(r["label"], 0) + 1
            picked.append(r)
    out = tmp / "tiny.csv"
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label", "speaker", "extra"])
        for r in picked:
            w.writerow([os.path.relpath(shared_data / "ser" / r["path"], tmp), r["label"], r["speaker"], "x"])
        w.writerow([os.path.relpath(shared_data / "ser" / picked[0]["path"], tmp), "boredom", "ravdess:03", "x"])
    return out


@pytest.fixture
def tiny(shared_data, tmp_path):
    d = tmp_path / "m"
    d.mkdir()
    return _tiny_manifest(shared_data, d)


def test_evaluate_json_schema(tiny):
    r = run_tool("tools/evaluate.py", "--manifest", tiny, "--model", ROOT / "models/small.onnx", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert KEYS <= set(out)
    assert out["n"] == 14 and out["skipped"] == 1 and out["skipped_labels"] == {"boredom": 1}
    assert len(out["confusion"]) == 7 and sum(map(sum, out["confusion"])) == 14
    assert 0 <= out["accuracy"] <= 1 and 0 <= out["macro_f1"] <= 1
    assert sum(v["support"] for v in out["per_class"].values()) == 14


def test_evaluate_report_and_bad_manifest(tiny, tmp_path):
    r = run_tool("tools/evaluate.py", "--manifest", tiny, "--model", ROOT / "models/small.onnx",
             "--report", tmp_path / "rep")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "rep" / "confusion.png").stat().st_size > 1000
    assert "macro-F1" in (tmp_path / "rep" / "report.txt").read_text()
    r = run_tool("tools/evaluate.py", "--manifest", tmp_path / "missing.csv", "--model", ROOT / "models/small.onnx")
    assert r.returncode == 2 and "missing.csv" in r.stderr and "Traceback" not in r.stderr


def _says_what_the_shipped_card_says(card: dict) -> None:
    """An INT8 export's card: the same quantiser made the shipped small model, so the same words."""
    shipped = json.loads((ROOT / "models/small.json").read_text())
    assert card["precision"] == shipped["precision"] and card["ops"]["int8_weight_share"] > 0.9
    assert card["quantisation"]["scheme"] == shipped["quantisation"]["scheme"]


def test_train_export_evaluate_smoke(shared_data, tiny, tmp_path):
    pytest.importorskip("torch")
    manifests = ["--manifest", shared_data / "ser/manifest.csv"]
    run = tmp_path / "run"
    r = run_tool("tools/train.py", *manifests, "--arch", "small", "--out", run, "--epochs", "2",
             "--max-clips", "40", "--workers", "0", "--crops", "1", "--noise", shared_data / "noise",
             "--variants", "2", "--teacher", ROOT / "models/large.onnx", "--mixup", "0.2")
    assert r.returncode == 0, r.stderr[-2000:]
    report = json.loads((run / "report.json").read_text())
    assert report["train_clips"] == 40 and len(report["history"]) == 2
    assert report["feature_copies"] == 2 and report["teacher"].endswith("large.onnx")
    # Raw and averaged weights are both validated; the better one counts and is the one saved.
    for h in report["history"]:
        assert h["val_score"] == max(h["val_score_raw"], h["val_score_ema"])
        assert h["val_score"] == h[f"val_score_{h['weights']}"]
    best = report["history"][report["best_epoch"] - 1]
    ckpt = __import__("torch").load(run / "model.pt", weights_only=False)
    assert ckpt["epoch"] == report["best_epoch"] and ckpt["weights"] == best["weights"]
    assert (run / "curve.png").stat().st_size > 1000
    # Quantisation choices compared on validation windows (no log-mel front: one row per method
    # and weight width), with the integer-vs-float-QDQ probability gap beside each.
    r = run_tool("tools/quant_compare.py", "--checkpoint", run / "model.pt", *manifests, "--calibration-clips", "8")
    assert r.returncode == 0, r.stderr[-2000:]
    compared = json.loads(r.stdout)
    assert set(compared["agreement_with_fp32"]) == {f"{m}, {b}-bit weights" for m in ("minmax", "percentile", "entropy")
                                                   for b in (7, 8)}
    assert compared["validation_windows"] > 0 and all(0 <= v <= 1 for v in compared["agreement_with_fp32"].values())
    assert all(0 <= v < 1 for v in compared["max_prob_gap_integer_vs_float_qdq"].values())
    onnx_path = tmp_path / "smoke.onnx"
    # a rebuild writes over a model whose card records the old file's sha256
    onnx_path.write_bytes(b"old model")
    onnx_path.with_suffix(".json").write_text(json.dumps({"file": "smoke.onnx", "sha256": "0" * 64}))
    r = run_tool("tools/export.py", "--checkpoint", run / "model.pt", "--out", onnx_path, "--int8",
             "--calibration-clips", "8", "--skip-metrics", *manifests[:2], "--split", ROOT / "splits/ser_split.json")
    assert r.returncode == 0, r.stderr[-2000:]
    card = json.loads(onnx_path.with_suffix(".json").read_text())
    _says_what_the_shipped_card_says(card)
    r = run_tool("tools/evaluate.py", "--manifest", tiny, "--model", onnx_path, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["n"] == 14


def test_ensemble_averages_member_probabilities(shared_data, tmp_path):
    import numpy as np
    import onnx

    from emocap import features
    from emocap.emotion.model import EmotionModel

    small, large = ROOT / "models/small.onnx", ROOT / "models/large.onnx"
    out = tmp_path / "ens.onnx"
    r = run_tool("tools/ensemble.py", "--member", small, "--member", large, "--out", out, "--skip-metrics")
    assert r.returncode == 0, r.stderr[-2000:]
    ens, a, b = EmotionModel(out), EmotionModel(small), EmotionModel(large)
    x = _clip_windows(shared_data)
    expected = (features.softmax(a.window_logits(x)) + features.softmax(b.window_logits(x))) / 2
    np.testing.assert_allclose(features.softmax(ens.window_logits(x)), expected, atol=1e-5)
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["labels"] == ens.labels and [m["bytes"] for m in card["members"]] == [
        small.stat().st_size, large.stat().st_size]
    assert card["arch"].startswith("ensemble(") and card["bytes"] == out.stat().st_size
    # A member with another label order cannot be averaged column by column: refused, one line.
    m = onnx.load(str(small))
    props = {p.key: p for p in m.metadata_props}
    props["labels"].value = json.dumps(json.loads(props["labels"].value)[::-1])
    onnx.save(m, str(tmp_path / "swapped.onnx"))
    r = run_tool("tools/ensemble.py", "--member", small, "--member", tmp_path / "swapped.onnx",
             "--out", tmp_path / "bad.onnx", "--skip-metrics")
    assert r.returncode == 1 and "member 1 differs" in r.stderr and "Traceback" not in r.stderr


def _clip_windows(shared_data):
    """Model windows of one real clip."""
    from emocap_train import serdata
    from emocap import features

    clip = serdata.read_manifest(shared_data / "ser/manifest.csv")[0]
    s = features.FeatureSettings()
    return features.windows(features.utterance_features(serdata.load_audio(clip.path), s), s)


def test_loco_trains_and_scores_the_held_out_corpus(shared_data, tmp_path):
    """The yardstick end to end on its smallest folds (the Korean corpus whole, and half its
    speakers), with a stream-normalised recipe."""
    pytest.importorskip("torch")
    r = run_tool("tools/loco.py", "--name", "t", "--out", tmp_path, "--folds", "emotiontts-ko", "emotiontts-ko:1",
                 "--", "--arch", "small", "--epochs", "1", "--max-clips", "40", "--variants", "2", "--crops", "1",
                 "--stream-norm", timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    whole, half = out["folds"]["emotiontts-ko"], out["folds"]["emotiontts-ko:1"]
    assert whole["n"] == 200 and half["n"] == 40 and 0 <= whole["macro_f1"] <= 1
    assert out["mean_over_folds"]["macro_f1"] == pytest.approx((whole["macro_f1"] + half["macro_f1"]) / 2, abs=1e-4)
    assert "--stream-norm" in out["train_options"]
    from emocap.emotion.model import EmotionModel

    assert EmotionModel(tmp_path / "t_emotiontts-ko" / "model.onnx").settings.stream_norm
    split = json.loads((tmp_path / "t_emotiontts-ko" / "split.json").read_text())
    assert all(s.startswith("emotiontts:") for s in split["test"]["speakers"])
    half_split = json.loads((tmp_path / "t_emotiontts-ko-1" / "split.json").read_text())
    assert sum(s.startswith("emotiontts:") for s in half_split["train"]["speakers"]) == 5
    assert not any(s.startswith("emotiontts:") for s in split["train"]["speakers"])
    # Rescored with a threshold calibrated on the fold's validation: the model now carries it.
    r = run_tool("tools/loco.py", "--name", "t", "--out", tmp_path, "--folds", "emotiontts-ko:1", "--rescore",
                 "--calibrate", timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    cal = json.loads(r.stdout)["folds"]["emotiontts-ko:1"]
    model = EmotionModel(tmp_path / "t_emotiontts-ko-1" / "model.onnx")
    assert cal["show_confidence"] == model.show_confidence and model.temperature != 1.0
    assert json.loads((tmp_path / "t_emotiontts-ko-1" / "loco_calibrated.json").read_text()) == cal
    _check_fold_ensembles(tmp_path, half, cal)


def _check_fold_ensembles(tmp_path, half, cal):
    """The trained fold ``t`` of emotiontts-ko:1 (uncalibrated scores ``half``, calibrated ``cal``),
    joined with a copy of itself by loco_ensemble.py and by loco.py --join."""
    # The ensemble tool scores a member alone as the yardstick does; a copy of the model joins it.
    shutil.copytree(tmp_path / "t_emotiontts-ko-1", tmp_path / "copy_emotiontts-ko-1")
    r = run_tool("tools/loco_ensemble.py", "--names", "t", "copy", "--out", tmp_path, "--folds", "emotiontts-ko:1")
    assert r.returncode == 0, r.stderr[-2000:]
    ens = json.loads(r.stdout)["folds"]["emotiontts-ko:1"]
    assert ens["alone"]["t"]["held_out_f1"] == cal["macro_f1"] == ens["all_members"]["held_out_f1"]
    assert ens["all_members"]["members"] == ["copy", "t"]
    assert (tmp_path / "copy_emotiontts-ko-1" / "probs_test.npz").exists()
    # --join: each fold's model the mean of two recipes' fold models; two copies of one model vote as it does.
    r = run_tool("tools/loco.py", "--name", "j", "--out", tmp_path, "--folds", "emotiontts-ko:1", "--join", "t", "copy",
                 timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    joined = json.loads(r.stdout)
    assert joined["joined"] == ["t", "copy"] and joined["folds"]["emotiontts-ko:1"]["macro_f1"] == half["macro_f1"]
    assert json.loads((tmp_path / "j_emotiontts-ko-1" / "model.json").read_text())["arch"] == "ensemble(small,small)"
    r = run_tool("tools/loco.py", "--name", "j", "--out", tmp_path, "--folds", "emotiontts-ko:1", "--join", "t", "gone")
    assert r.returncode == 2 and "gone_emotiontts-ko-1" in r.stderr
