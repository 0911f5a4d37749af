"""Ensembles on the yardstick: members are averaged, and the subset is chosen on validation only."""
import json
from pathlib import Path

import numpy as np
import pytest

from emocap_train import loco_ensemble
from emocap_train.serdata import LABELS, Clip


def _clips(corpus: str, labels: list[str]) -> list[Clip]:
    return [Clip(Path(f"/x/{corpus}{i}.wav"), l, f"{corpus}:1", corpus) for i, l in enumerate(labels)]


def _onehot(labels: list[str], flip: set[int] = frozenset(), sure: float = 0.9) -> np.ndarray:
    """Confident probabilities for ``labels``, wrong (the next label) at the indices in ``flip``."""
    p = np.full((len(labels), len(LABELS)), (1 - sure) / (len(LABELS) - 1), dtype=np.float32)
    for i, l in enumerate(labels):
        p[i, (LABELS.index(l) + (i in flip)) % len(LABELS)] = sure
    return p


def test_the_subset_is_chosen_on_validation_not_on_the_held_out_corpus():
    val_y = ["anger", "sadness", "happiness", "neutral"] * 3
    test_y = ["anger", "sadness", "neutral", "happiness"] * 5
    val_clips, test_clips = _clips("crema-d", val_y), _clips("emotiontts-ko", test_y)
    # a: perfect on validation, poor on the held-out corpus; b: the reverse.
    val = {"a": _onehot(val_y), "b": _onehot(val_y, flip=set(range(0, 12, 2)))}
    test = {"a": _onehot(test_y, flip=set(range(0, 20, 2))), "b": _onehot(test_y)}
    r = loco_ensemble.rank(val, test, val_clips, test_clips)
    assert r["chosen_on_validation"]["members"] == ["a"]
    assert r["chosen_on_validation"]["held_out_f1"] == r["alone"]["a"]["held_out_f1"] < r["alone"]["b"]["held_out_f1"]
    assert r["alone"]["b"]["held_out_f1"] == 1.0
    assert r["all_members"]["members"] == ["a", "b"]
    assert len(r["subsets"]) == 3


def test_members_are_averaged_so_a_confident_member_outvotes_an_unsure_one():
    y = ["anger", "sadness", "fear", "neutral"] * 2
    clips = _clips("ravdess", y)
    sure_right, unsure_wrong = _onehot(y, sure=0.9), _onehot(y, flip=set(range(8)), sure=0.3)
    r = loco_ensemble.rank({"a": sure_right, "b": unsure_wrong}, {"a": sure_right, "b": unsure_wrong}, clips, clips)
    assert r["alone"]["b"]["held_out_f1"] == 0.0
    assert r["all_members"]["held_out_f1"] == 1.0
    assert r["all_members"]["held_out_shown"]["all_agree"] == {"coverage": 0.0, "shown_precision": 0.0}
    assert r["all_members"]["held_out_shown"]["precision_curve"]["0.5"]["shown_precision"] == 1.0


def test_per_corpus_scores_are_averaged_not_pooled():
    y = ["anger", "sadness"] * 4
    clips = _clips("crema-d", y) + _clips("ravdess", y)
    probs = np.concatenate([_onehot(y), _onehot(y, flip=set(range(8)))])
    s = loco_ensemble.score(probs, clips)
    assert s["per_corpus"] == {"crema-d": 1.0, "ravdess": 0.0}
    assert s["macro_f1"] == 0.5 and s["accuracy"] == 0.5


def test_summary_means_each_member_over_folds_and_leaves_out_a_member_missing_from_a_fold():
    def fold(alone: dict, all_f1: float, chosen: float) -> dict:
        return {"alone": {n: {"held_out_f1": f} for n, f in alone.items()},
                "all_members": {"held_out_f1": all_f1}, "chosen_on_validation": {"held_out_f1": chosen}}
    s = loco_ensemble.summary({"x": fold({"a": 0.2, "b": 0.4}, 0.5, 0.4), "y": fold({"a": 0.4}, 0.3, 0.4)})
    assert s == {"alone:a": 0.3, "alone:b": None, "all_members": 0.4, "chosen_on_validation": 0.4}


def test_a_fold_recipe_names_its_own_teacher():
    from emocap_train.loco import fold_recipe

    recipe = ["--seed", "4", "--teacher", "runs/loco/teacher_{fold}.onnx"]
    assert fold_recipe(recipe, "crema-d")[-1] == "runs/loco/teacher_crema-d.onnx"
    assert fold_recipe(recipe, "emotiontts-ko:1")[-1] == "runs/loco/teacher_emotiontts-ko-1.onnx"
    assert fold_recipe(recipe, "ravdess")[:3] == ["--seed", "4", "--teacher"]


def test_loco_join_refuses_one_member_or_a_recipe(capsys):
    from emocap_train.loco import parse_args

    for argv in (["--name", "x", "--join", "a"], ["--name", "x", "--join", "a", "b", "--", "--seed", "4"]):
        with pytest.raises(SystemExit):
            parse_args(argv)
    assert capsys.readouterr().err.count("--join takes two or more trained recipes") == 2


def test_loco_join_refuses_to_overwrite_a_member(capsys):
    from emocap_train.loco import parse_args

    for argv in (["--name", "rb", "--join", "rb", "rb5"], ["--name", "x", "--join", "rb", "rb"]):
        with pytest.raises(SystemExit):
            parse_args(argv)
    assert capsys.readouterr().err.count("would be overwritten") == 2


def test_loco_join_names_members_of_different_splits(tmp_path, capsys):
    from emocap_train import loco

    for recipe, held_out in (("a", "crema-d"), ("b", "ravdess")):
        run = tmp_path / f"{recipe}_crema-d"
        run.mkdir()
        (run / "model.onnx").write_bytes(b"")
        (run / "split.json").write_text(json.dumps({"held_out": held_out}))
    argv = ["--name", "j", "--out", str(tmp_path), "--folds", "crema-d", "--join", "a", "b"]
    assert loco.main(argv) == 2
    err = capsys.readouterr().err
    assert "a_crema-d and " in err and "b_crema-d were trained on different splits" in err
    assert not (tmp_path / "j_crema-d").exists()  # refused before anything is built
