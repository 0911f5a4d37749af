"""tools/ensemble.py: members trained on other statistics see their own z-scores through an exact adapter."""
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from emocap.emotion.model import INPUT, META_LABELS, META_MEAN, META_STD
from emocap.features import softmax
from emocap_train import ensemble

SMALL = Path(__file__).resolve().parents[1] / "models" / "small.onnx"


def _with_meta(m: onnx.ModelProto, **values) -> onnx.ModelProto:
    m = onnx.ModelProto.FromString(m.SerializeToString())
    for p in m.metadata_props:
        if p.key in values:
            p.value = values[p.key]
    return m


def _run(m: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {INPUT: x})[0]


def test_member_with_other_statistics_gets_its_own_z_scores():
    a = onnx.load(str(SMALL))
    meta = ensemble.metadata(a)
    mean, std = np.array(json.loads(meta[META_MEAN]), np.float32), np.array(json.loads(meta[META_STD]), np.float32)
    mean_b, std_b = mean + 0.5, std * 1.7
    b = _with_meta(a, **{META_MEAN: json.dumps(mean_b.tolist()), META_STD: json.dumps(std_b.tolist())})
    joined = ensemble.join([a, b])
    assert json.loads(ensemble.metadata(joined)[META_STD]) == json.loads(meta[META_STD])  # the runtime uses a's
    x = np.random.default_rng(0).normal(size=(4, 1, 40, 128)).astype(np.float32)
    raw = x * std[None, None, :, None] + mean[None, None, :, None]  # the features before z-scoring
    x_b = ((raw - mean_b[None, None, :, None]) / std_b[None, None, :, None]).astype(np.float32)
    expected = np.log((softmax(_run(a, x)) + softmax(_run(a, x_b))) / 2)
    np.testing.assert_allclose(_run(joined, x), expected, atol=2e-3)
    # without the adapter member b would have seen a's z-scores, and the mean would differ
    assert np.abs(np.log(softmax(_run(a, x))) - expected).max() > 0.01


def test_members_with_other_labels_are_refused():
    a = onnx.load(str(SMALL))
    labels = json.loads(ensemble.metadata(a)[META_LABELS])
    b = _with_meta(a, **{META_LABELS: json.dumps(labels[::-1])})
    with pytest.raises(ValueError, match="member 1 differs"):
        ensemble.join([a, b])
