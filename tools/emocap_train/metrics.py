"""Classification metrics over label indices (numpy only, so evaluate.py needs no torch)."""
from __future__ import annotations

import numpy as np


def confusion(y_true: list[int], y_pred: list[int], n: int) -> np.ndarray:
    """``m[i, j]`` = clips of true label i predicted as j."""
    m = np.zeros((n, n), dtype=int)
    for t, p in zip(y_true, y_pred):
        m[t, p] += 1
    return m


def summary(cm: np.ndarray, labels: list[str]) -> dict:
    """Accuracy, UAR and macro-F1 over the labels that occur (support > 0), plus per class."""
    tp = np.diag(cm).astype(float)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    present = support > 0
    n = int(cm.sum())
    return {
        "n": n,
        "accuracy": float(tp.sum() / n) if n else 0.0,
        "uar": float(recall[present].mean()) if present.any() else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "labels": list(labels),
        "per_class": {
            l: {"precision": float(precision[i]), "recall": float(recall[i]),
                "f1": float(f1[i]), "support": int(support[i])}
            for i, l in enumerate(labels)
        },
        "confusion": cm.tolist(),
    }
