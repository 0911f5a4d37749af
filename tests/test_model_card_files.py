"""A rebuilt model and its card never disagree: the runtime refuses a file its card does not match."""
import json
import shutil
from pathlib import Path

import pytest

from emocap.emotion.integrity import check_against_card
from emocap.errors import ModelError
from emocap_train import model_card

SMALL = Path(__file__).resolve().parents[1] / "models" / "small.onnx"


def _stale_copy(tmp_path: Path) -> Path:
    """models/small.onnx under a new name, with a card that records other bytes (as after a rebuild)."""
    out = tmp_path / "m.onnx"
    shutil.copy(SMALL, out)
    card = {"name": "m", "file": "m.onnx", "bytes": 3, "sha256": "0" * 64, "description": "kept", "labels": ["x"]}
    out.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="m.onnx"):
        check_against_card(out)
    return out


def test_a_rewritten_file_drops_its_stale_card(tmp_path):
    out = _stale_copy(tmp_path)
    model_card.drop_stale_card(out)
    assert not out.with_suffix(".json").exists()
    check_against_card(out)  # no card: taken as it is
    model_card.drop_stale_card(out)  # nothing to drop is fine


def test_a_file_rewritten_in_place_gets_its_card_refreshed(tmp_path):
    out = _stale_copy(tmp_path)
    model_card.refresh_card(out)
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["bytes"] == out.stat().st_size and card["sha256"] == model_card.sha256(out)
    assert card["description"] == "kept" and card["labels"] == ["x"]  # the rest of the card stays
    check_against_card(out)


def test_a_part_is_recorded_and_a_card_made_only_for_a_part(tmp_path):
    out = _stale_copy(tmp_path)
    model_card.refresh_card(out, {"calibration": {"temperature": 0.8}})
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["calibration"] == {"temperature": 0.8} and card["description"] == "kept"
    check_against_card(out)
    bare = tmp_path / "bare.onnx"
    shutil.copy(SMALL, bare)
    model_card.refresh_card(bare)
    assert not bare.with_suffix(".json").exists()


def test_member_taken_out_of_the_large_model_keeps_what_its_card_said(tmp_path):
    """requantise.py --member: the teacher taken out of models/large.onnx gets a card from the large
    model's members list, so an ensemble rebuilt from it names the member's precision."""
    from emocap.emotion.model import EmotionModel
    from emocap_train import requantise

    large = Path(__file__).resolve().parents[1] / "models" / "large.onnx"
    out = tmp_path / "teacher.onnx"
    out.with_suffix(".json").write_text(json.dumps({"file": "teacher.onnx", "sha256": "0" * 64}))  # a stale card
    assert requantise.main(["--model", str(large), "--member", "0", "--arch", "ensemble(small,large)",
                            "--out", str(out)]) == 0
    card = json.loads(out.with_suffix(".json").read_text())
    listed = json.loads(large.with_suffix(".json").read_text())["members"][0]
    assert card["precision"] == listed["precision"] == "float16 weights, float32 compute"
    assert card["sha256"] == model_card.sha256(out) and card["bytes"] == out.stat().st_size
    assert EmotionModel(out).labels  # the runtime's integrity check accepts the file with its card


@pytest.mark.parametrize("name", ["small", "large"])
def test_shipped_cards_carry_the_committed_yardstick(name):
    """tools/card_metrics.py --yardstick copies models/yardstick/NAME.json into the card; a rebuild
    (tools/build_models.sh) must not drop the leave-one-corpus-out figures."""
    models = Path(__file__).resolve().parents[1] / "models"
    card = json.loads((models / f"{name}.json").read_text())
    assert card["yardstick"] == json.loads((models / "yardstick" / f"{name}.json").read_text())
    assert "what" in card["yardstick"]
