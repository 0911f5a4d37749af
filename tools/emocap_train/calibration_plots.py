"""Small PNGs for models/REPORT.md: reliability diagrams and precision/coverage curves."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _bins(probs: np.ndarray, y: np.ndarray, bins: int = 10):
    conf, right = probs.max(1), probs.argmax(1) == y
    idx = np.minimum((conf * bins).astype(int), bins - 1)
    keep = [b for b in range(bins) if np.any(idx == b)]
    return ([conf[idx == b].mean() for b in keep], [right[idx == b].mean() for b in keep],
            [int(np.sum(idx == b)) for b in keep])


def _panels(path: Path, models: dict, panel_width: float, draw) -> None:
    """One panel per model side by side, confidence (0-1) across: ``draw(ax, name, value)`` fills
    each with ``models[name]``; the figure is saved as a PNG at ``path``."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(models), figsize=(panel_width * len(models), 3.2), squeeze=False)
    for ax, (name, value) in zip(axes[0], models.items()):
        draw(ax, name, value)
        ax.set_xlim(0, 1)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def reliability(path: Path, models: dict, y: np.ndarray) -> None:
    """One panel per model: accuracy against mean confidence per bin, before and after T."""

    def draw(ax, name, value):
        before, after, t = value
        ax.plot([0, 1], [0, 1], color="0.7", lw=1)
        for probs, label, style in ((before, "T = 1", "o--"), (after, f"T = {t:.2f}", "s-")):
            conf, acc, _ = _bins(probs, y)
            ax.plot(conf, acc, style, ms=4, label=label)
        ax.set_title(f"{name} (validation)", fontsize=9)
        ax.set_xlabel("confidence")
        ax.set_ylabel("accuracy")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=7, loc="upper left")

    _panels(path, models, 3.2, draw)


def coverage(path: Path, models: dict, thresholds: np.ndarray, target: float) -> None:
    """One panel per model: precision of shown tags and coverage against the threshold, per corpus."""

    def draw(ax, name, value):
        curve, chosen = value
        for i, (corpus, c) in enumerate(curve.items()):
            color = f"C{i}"
            ax.plot(thresholds, c["precision"], "-", color=color, lw=1.2, label=f"{corpus} precision")
            ax.plot(thresholds, c["coverage"], ":", color=color, lw=1.2, label=f"{corpus} coverage")
        ax.axhline(target, color="0.6", lw=0.8)
        ax.axvline(chosen, color="k", lw=0.8)
        ax.set_title(f"{name}: show_confidence {chosen:.2f}", fontsize=9)
        ax.set_xlabel("show_confidence")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=6, loc="lower left")

    _panels(path, models, 3.6, draw)
