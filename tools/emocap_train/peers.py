"""The emotion path beside its peers, on the same windows, for tools/bench.py.

- ``emocap``: emocap.features MFCC + the shipped small model (QDQ INT8), onnxruntime, 1 thread.
- ``small_fp32``: the same features + the small model's FP32 twin (tools/qdq_float.py: the
  same graph with its INT8 weights folded back to float and the activation QDQ pairs
  removed), onnxruntime, 1 thread: what the INT8 kernels buy on this CPU.
- ``origin``: the origin project's stack: librosa MFCC (40 x 128 frames, same window) + the
  PyTorch CRNN (Conv2d 32/64 + 2-layer BiGRU 128, tools/emocap_train/ser_models.py ``crnn``), 1 torch
  thread. Its weights are untrained (timing only: the work does not depend on the values).

librosa and torch are development dependencies (``.[dev]``, ``.[train]``); without them the
origin figures are null with the reason. Ratios > 1 mean the peer is slower than emocap.
"""
from __future__ import annotations

import copy

import numpy as np
import onnxruntime as ort

from emocap_train.timing import timed
from emocap import features
from emocap.emotion.model import INPUT, OUTPUT, EmotionModel


def fp32_session(small: EmotionModel) -> ort.InferenceSession:
    import onnx

    from emocap_train import qdq_float

    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = 1, 1
    model = qdq_float.float_model(onnx.load(str(small.path)))
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def agreement(small: EmotionModel, fp32: ort.InferenceSession, utterances: list[np.ndarray]) -> dict:
    """Share of real speech windows where the FP32 twin picks the INT8 model's label."""
    wins = np.concatenate([small.windows_of(u) for u in utterances])
    z = features.normalise(wins, small.mean, small.std)
    a = small.session.run([OUTPUT], {INPUT: z})[0].argmax(1)
    b = fp32.run([OUTPUT], {INPUT: z})[0].argmax(1)
    return {"windows": int(len(wins)), "same_label": round(float((a == b).mean()), 4)}


def origin_stack(s: features.FeatureSettings, n_labels: int):
    """(features, model) callables of the origin's stack, or a reason string."""
    try:
        import librosa
        import torch

        from emocap_train import ser_models
    except ImportError as e:
        return f"origin stack needs the dev dependencies ({e.name} missing)"
    torch.set_num_threads(1)
    net = ser_models.build("crnn", n_labels).eval()

    def feats(x: np.ndarray) -> np.ndarray:
        y = x.astype(np.float32) / 32768.0
        return librosa.feature.mfcc(y=y, sr=s.sample_rate, n_mfcc=s.numcep, n_fft=s.nfft, hop_length=s.frame_step,
                                    win_length=s.frame_len, n_mels=s.nfilt, center=False)[:, : s.frames]

    def model(m: np.ndarray):
        with torch.inference_mode():
            return net(torch.from_numpy(np.ascontiguousarray(m[None, None], dtype=np.float32)))

    return feats, model


def compare(small: EmotionModel, x: np.ndarray, utterances: list[np.ndarray], runs: int) -> dict:
    """Per-window costs of the three paths on window ``x`` (int16 samples of one window)."""
    s = small.settings
    z = features.normalise(small.windows_of(x)[:1], small.mean, small.std)
    fp32 = fp32_session(small)
    out = {"unit": "ms per window", "threads": 1, "runs": runs, "window_frames": s.frames,
           "fp32_twin": "models/small.onnx with QDQ folded to float (tools/qdq_float.py)",
           "emocap": {"features": timed(lambda: features.mfcc(x, s), runs),
                      "model": timed(lambda: small.session.run([OUTPUT], {INPUT: z}), runs),
                      "path": timed(lambda: small.predict(x), runs)},
           "small_fp32": {"model": timed(lambda: fp32.run([OUTPUT], {INPUT: z}), runs),
                          "agreement_with_int8": agreement(small, fp32, utterances)}}
    twin = copy.copy(small)  # the same features and contract, the FP32 session
    twin.session = fp32
    out["small_fp32"]["path"] = timed(lambda: twin.predict(x), runs)
    origin = origin_stack(s, len(small.labels))
    if isinstance(origin, str):
        out["origin"] = {"features": None, "model": None, "path": None, "reason": origin}
    else:
        feats, model = origin
        m = feats(x)
        out["origin"] = {"weights": "untrained (timing only)", "features": timed(lambda: feats(x), runs),
                         "model": timed(lambda: model(m), runs), "path": timed(lambda: model(feats(x)), runs)}
    out["ratios_p50"] = ratios(out)
    return out


def ratios(out: dict) -> dict:
    """p50 ratios: peer / emocap (> 1: the peer is slower)."""
    e, f, o = out["emocap"], out["small_fp32"], out["origin"]
    r = lambda a, b: round(a["p50"] / b["p50"], 2) if a and b and b["p50"] else None
    return {"fp32_over_int8_model": r(f["model"], e["model"]), "fp32_over_int8_path": r(f["path"], e["path"]),
            "origin_over_emocap_features": r(o["features"], e["features"]),
            "origin_over_emocap_model": r(o["model"], e["model"]),
            "origin_over_emocap_path": r(o["path"], e["path"])}
