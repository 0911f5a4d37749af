"""Emotion model architectures (PyTorch). All take ``[batch, 1, 40, 128]`` and return logits.

- ``crnn``: the origin design, kept as the baseline: Conv2d 1->32->64 + 2-layer BiGRU 128.
- ``small`` / ``large``: a time-delay CNN (1-D convolutions over the MFCC frames) with
  statistics pooling. Only Conv, Relu, Gemm and element-wise pooling ops, so static INT8
  quantisation covers every weight (a GRU stays float in onnxruntime), and ~25 M MACs a
  window instead of the CRNN's ~170 M.
"""
from __future__ import annotations

import torch
from torch import nn


class CRNN(nn.Module):
    """Origin baseline: CNN (1->32->64, ReLU, MaxPool) + 2-layer BiGRU(128) + Linear(256->n)."""

    def __init__(self, n_labels: int = 7, n_mfcc: int = 40):
        super().__init__()
        self.cnn = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.gru = nn.GRU(64 * (n_mfcc // 4), 128, num_layers=2, batch_first=True,
                          bidirectional=True, dropout=0.3)
        self.drop = nn.Dropout(0.3)
        self.out = nn.Linear(256, n_labels)

    def forward(self, x):
        h = self.cnn(x)                                  # (B, 64, F/4, T/4)
        h = h.flatten(1, 2).transpose(1, 2)              # (B, T/4, 64*F/4)
        seq, _ = self.gru(h)
        return self.out(self.drop(seq.mean(dim=1)))


def _tdnn(c_in: int, c_out: int, k: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    pad = dilation * (k - 1) // 2
    return nn.Sequential(
        nn.Conv1d(c_in, c_out, k, stride=stride, padding=pad, dilation=dilation, bias=False),
        nn.BatchNorm1d(c_out),
        nn.ReLU(),
    )


class StatsPool(nn.Module):
    """Mean and standard deviation over time: a fixed-size summary of any-length input."""

    def forward(self, h):
        mean = h.mean(dim=2)
        var = (h * h).mean(dim=2) - mean * mean
        return torch.cat([mean, torch.sqrt(var.clamp(min=1e-5))], dim=1)


class TDNN(nn.Module):
    """1-D CNN over MFCC frames (x-vector style) + statistics pooling + 2-layer head."""

    def __init__(self, widths: tuple[int, ...], embed: int, n_labels: int = 7, n_mfcc: int = 40,
                 dropout: float = 0.3):
        super().__init__()
        w1, w2, w3, w4, w5 = widths
        self.body = nn.Sequential(
            _tdnn(n_mfcc, w1, 5),
            _tdnn(w1, w2, 3, stride=2),
            _tdnn(w2, w3, 3, dilation=2),
            _tdnn(w3, w4, 3, stride=2),
            _tdnn(w4, w5, 3, dilation=2),
            _tdnn(w5, 2 * w5, 1),
        )
        self.pool = StatsPool()
        self.head = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(4 * w5, embed), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(embed, n_labels),
        )

    def forward(self, x):
        return self.head(self.pool(self.body(x.flatten(1, 2))))  # (B,1,F,T) -> (B,F,T)


ARCHS = {
    "crnn": lambda n: CRNN(n),
    "small": lambda n: TDNN((128, 128, 192, 192, 256), 256, n),
    "large": lambda n: TDNN((192, 192, 256, 256, 384), 128, n, dropout=0.4),
}


def build(arch: str, n_labels: int) -> nn.Module:
    if arch not in ARCHS:
        raise ValueError(f"unknown architecture {arch!r}; expected one of {sorted(ARCHS)}")
    return ARCHS[arch](n_labels)
