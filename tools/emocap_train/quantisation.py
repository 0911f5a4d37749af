"""Static INT8 (QDQ) quantisation of an exported model, its calibration windows, and checks on the result.

Calibration windows come from training speakers only; ``op_summary`` and ``window_agreement``
say what a quantised file computes in 8 bits and how often it picks its float parent's label.
tools/export.py (``--int8``), tools/quant_compare.py and tools/requantise.py quantise through here.
"""
from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import onnx

from emocap_train import serdata
from emocap import features
from emocap.emotion.model import INPUT, OUTPUT, EmotionModel

# Weightless ops of a statistics-pooling block, kept float by quantise().
POOLING_OPS = ("ReduceMean", "Mul", "Sub", "Clip", "Sqrt", "Concat")
# Node-name prefix of the fixed inverse-DCT front of small_mel, also kept float by quantise().
FLOAT_FRONT = "/logmel/"


class _Windows:
    """onnxruntime CalibrationDataReader over normalised MFCC windows."""

    def __init__(self, wins: np.ndarray, batch: int = 32):
        # Equal batches: the percentile calibrator stacks them and rejects a short last one.
        n = max(1, len(wins) // batch) * batch
        self.batches = [{INPUT: wins[i : i + batch]} for i in range(0, min(n, len(wins)), batch)]

    def get_next(self):
        return self.batches.pop() if self.batches else None


def calibration_windows(ckpt, manifests, split, n_clips) -> np.ndarray:
    """Normalised windows of ``n_clips`` random training clips (never validation or test)."""
    train = serdata.part_clips(ckpt["labels"], manifests, split, "train")
    rng = np.random.default_rng(0)
    chosen = [train[i] for i in rng.choice(len(train), min(n_clips, len(train)), replace=False)]
    return features.normalise(serdata.clip_windows(chosen, ckpt), np.asarray(ckpt["mean"]), np.asarray(ckpt["std"]))


# What quantise() makes, as export.py's cards say it (requantise.py keeps the card's words).
PRECISION = "int8 (static QDQ, per-channel 7-bit weights, last layer float)"


def scheme(n_clips: int) -> dict:
    """The card's account of quantise() with ``calibration_windows(..., n_clips)``: what and why."""
    return {"scheme": "static QDQ: UINT8 activations (min/max ranges), INT8 weights limited to -64..64 "
                      "(onnxruntime reduce_range), per channel; the log-mel front, the pooling statistics "
                      "and the logits layer float",
            "why": "x86 CPUs without VNNI add pairs of u8 x s8 products in 16 bits; 2 * 255 * 64 = 32640 "
                   "cannot saturate",
            "calibration_windows": f"{n_clips} random training clips (quantisation.calibration_windows, seed 0)"}


def quantise(fp32: Path, out: Path, calib: np.ndarray, method: str = "minmax", float_front: bool = True,
             reduce_range: bool = True, float_logits: bool = True) -> None:
    """Static QDQ: 7-bit (``reduce_range``) per-channel weights, UINT8 activations with calibrated ranges.

    7-bit weights (-64..64) keep onnxruntime's x86 AVX2 kernels (no VNNI) exact: they add
    pairs of u8 x s8 products in 16 bits, which saturate above 32767; 2 * 255 * 64 = 32640
    cannot. With 8-bit weights those machines gave other confidences than the float QDQ
    graph and arm64 (tests/test_quant_exact.py checks the shipped files). ``float_logits``
    keeps the last layer (7 x 128 weights) float, so the logits are not rounded to 8 bits:
    one step there moved probabilities by about 0.01, near the test's tolerance.

    The statistics pooling (mean, E[h^2] - mean^2, sqrt) stays float: it holds no weights, and
    in 8 bits the subtraction cancels badly. So does (``float_front``) a log-mel front
    (``small_mel``): its fixed inverse DCT (40x40 weights) reads the input MFCCs, which lose too
    much in 8 bits with one scale for all coefficients. ``tools/quant_compare.py`` measures the
    choices (min/max against percentile and entropy ranges, the front float or INT8) on
    validation windows. On the shipped small model: min/max with the front float 98.6 % (entropy
    the same, percentile 98.3 %); with the front INT8 97.9 % (percentile 97.7 %).
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    methods = {"minmax": (CalibrationMethod.MinMax, {}), "entropy": (CalibrationMethod.Entropy, {}),
               "percentile": (CalibrationMethod.Percentile, {"CalibPercentile": 99.99})}
    calibrate_method, extra = methods[method]
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
        keep_float = [n.name for n in onnx.load(str(pre)).graph.node
                      if ("/pool/" in n.name and n.op_type in POOLING_OPS)
                      or (float_front and n.name.startswith(FLOAT_FRONT))
                      or (float_logits and OUTPUT in n.output)]
        quantize_static(
            str(pre), str(out), _Windows(calib), quant_format=QuantFormat.QDQ, per_channel=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            calibrate_method=calibrate_method, extra_options=extra, nodes_to_exclude=keep_float,
            reduce_range=reduce_range,
        )


def op_summary(path: Path) -> dict:
    """Which compute ops read INT8 (fed by DequantizeLinear) and which stay float."""
    g = onnx.load(str(path)).graph
    produced_by = {o: n.op_type for n in g.node for o in n.output}
    quant, floats = Counter(), Counter()
    for n in g.node:
        if n.op_type in ("QuantizeLinear", "DequantizeLinear"):
            continue
        fed_by_dq = any(produced_by.get(i) == "DequantizeLinear" for i in n.input)
        (quant if fed_by_dq else floats)[n.op_type] += 1
    weights = sum(int(np.prod(t.dims)) for t in g.initializer)
    int8_weights = sum(int(np.prod(t.dims)) for t in g.initializer if t.data_type in (onnx.TensorProto.INT8, onnx.TensorProto.UINT8))
    return {"int8_input_ops": dict(quant), "float_ops": dict(floats),
            "int8_weight_share": round(int8_weights / max(weights, 1), 4)}


def window_agreement(a: Path, b: Path, wins: np.ndarray) -> float:
    """Share of windows where two models pick the same label (INT8 vs its FP32 parent)."""
    ma, mb = EmotionModel(a), EmotionModel(b)
    return float(np.mean(ma.window_logits(wins).argmax(1) == mb.window_logits(wins).argmax(1)))
