"""The shipped INT8 models give the same answers on every CPU.

onnxruntime's x86 integer kernels without VNNI (AVX2 only) add pairs of u8 x s8 products in
16 bits, which saturate above 32767. With weights in -64..64 (7-bit, quantise() of
emocap_train/quantisation.py) a pair is at most 2 * 255 * 64 = 32640, so no CPU can saturate;
the probability check below then compares the integer kernels of whatever CPU runs the
tests with the float QDQ graph.
"""
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper

from emocap_train import serdata
from emocap import features
from conftest import ROOT
from emocap.emotion.model import EmotionModel

MODELS = ("small", "large")
# Real clips from every corpus (validation speakers; nothing is chosen on them here).
CLIPS = ["ser/ravdess/Actor_05/03-01-03-02-01-01-05.flac", "ser/ravdess/Actor_10/03-01-06-01-02-02-10.flac",
         "ser/crema-d/AudioWAV/1007_IEO_ANG_HI.flac", "ser/crema-d/AudioWAV/1034_TIE_SAD_XX.flac",
         "ser/crema-d/AudioWAV/1050_DFA_HAP_XX.flac", "ser/crema-d/AudioWAV/1072_ITS_NEU_XX.flac",
         "asr/ko/emotiontts/Emotional/emotional-to-emotional/neb/neb00104.flac",
         "asr/ko/emotiontts/Emotional/emotional-to-emotional/nel/nel00305.flac"]


@pytest.mark.parametrize("name", MODELS)
def test_integer_weights_cannot_saturate_16_bit_pair_sums(name):
    g = onnx.load(str(ROOT / f"models/{name}.onnx")).graph
    weights = [numpy_helper.to_array(t) for t in g.initializer if t.data_type == onnx.TensorProto.INT8]
    assert weights, "no INT8 weights: not the quantised model"
    worst = max(int(np.abs(w.astype(np.int32)).max()) for w in weights)
    assert worst <= 64
    assert 2 * 255 * worst <= 32767


def _probs(path, x, level):
    opts = ort.SessionOptions()
    opts.graph_optimization_level = level
    s = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return features.softmax(s.run(None, {"mfcc": x})[0])


@pytest.fixture(scope="module")
def windows(shared_data):
    m = EmotionModel(ROOT / "models/small.onnx")
    wins = np.concatenate([m.windows_of(serdata.load_audio(shared_data / c)) for c in CLIPS])
    return features.normalise(wins, m.mean, m.std)


@pytest.mark.parametrize("name", MODELS)
def test_integer_kernels_match_float_qdq_on_real_windows(name, windows):
    path = ROOT / f"models/{name}.onnx"
    fused = _probs(path, windows, ort.GraphOptimizationLevel.ORT_ENABLE_ALL)  # QLinearConv etc.
    plain = _probs(path, windows, ort.GraphOptimizationLevel.ORT_DISABLE_ALL)  # DQ -> float op -> Q
    assert len(windows) >= 20
    assert np.abs(fused - plain).max() < 0.01
    assert (fused.argmax(1) == plain.argmax(1)).all()
