"""The shipped models honour the model contract, and their cards match their files."""
import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from emocap.emotion.model import EmotionModel
from emocap.errors import ModelError
from emocap.features import FeatureSettings

MODELS = Path(__file__).resolve().parents[1] / "models"
EXPECTED_LABELS = {"happiness", "surprise", "neutral", "fear", "disgust", "anger", "sadness"}
MAX_BYTES = {"small": 1_100_000, "large": 5_500_000}


@pytest.mark.parametrize("name", ["small", "large"])
def test_model_io_and_metadata(name):
    path = MODELS / f"{name}.onnx"
    m = EmotionModel(path)
    assert path.stat().st_size <= MAX_BYTES[name]
    (inp,), (out,) = m.session.get_inputs(), m.session.get_outputs()
    assert inp.name == "mfcc" and inp.type == "tensor(float)" and inp.shape[1:] == [1, 40, 128]
    assert out.name == "logits" and out.shape[1] == len(m.labels)
    assert set(m.labels) == EXPECTED_LABELS and len(m.labels) == 7
    assert m.mean.shape == m.std.shape == (40,) and (m.std > 0).all()
    logits = m.session.run(None, {"mfcc": np.zeros((3, 1, 40, 128), np.float32)})[0]
    assert logits.shape == (3, 7) and np.isfinite(logits).all()  # dynamic batch


@pytest.mark.parametrize("name", ["small", "large"])
def test_card_matches_model(name):
    path = MODELS / f"{name}.onnx"
    card = json.loads(path.with_suffix(".json").read_text())
    m = EmotionModel(path)
    assert card["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert card["labels"] == m.labels  # order read from metadata, not a constant
    np.testing.assert_allclose(card["norm_mean"], m.mean, atol=1e-5)
    assert FeatureSettings.from_dict(card["features"]) == m.settings  # fields added later take their defaults
    assert {"test", "test_korean"} <= set(card["metrics"])


def test_small_is_int8():
    g = onnx.load(str(MODELS / "small.onnx")).graph
    weights = [t for t in g.initializer if len(t.dims) >= 2]
    int8 = {t.name for t in weights if t.data_type in (onnx.TensorProto.INT8, onnx.TensorProto.UINT8)}
    # Every learned matrix/kernel is stored in 8 bits but two that quantisation.quantise keeps float
    # on purpose: the fixed inverse-DCT front and the 7x128 logits layer (the node writing the output).
    front = {i for n in g.node if n.name.startswith("/logmel/") for i in n.input}
    logits = {i for n in g.node if g.output[0].name in n.output for i in n.input}
    floats = [t for t in weights if t.name not in int8]
    assert weights and all(t.name in front | logits for t in floats)
    assert sum(np.prod(t.dims) for t in floats) <= 0.01 * sum(np.prod(t.dims) for t in weights)


def test_runtime_reads_labels_from_metadata(tmp_path):
    m = onnx.load(str(MODELS / "small.onnx"))
    props = {p.key: p for p in m.metadata_props}
    labels = json.loads(props["labels"].value)
    props["labels"].value = json.dumps(labels[::-1])
    swapped = tmp_path / "swapped.onnx"
    onnx.save(m, str(swapped))
    assert EmotionModel(swapped).labels == labels[::-1]


def test_model_without_metadata_is_refused(tmp_path):
    m = onnx.load(str(MODELS / "small.onnx"))
    del m.metadata_props[:]
    bare = tmp_path / "bare.onnx"
    onnx.save(m, str(bare))
    with pytest.raises(ModelError, match="metadata lacks"):
        EmotionModel(bare)


def test_missing_or_broken_model_file(tmp_path):
    with pytest.raises(ModelError, match="no such model file"):
        EmotionModel(tmp_path / "nope.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not a loadable ONNX model"):
        EmotionModel(junk)
