"""Emotion model architectures (PyTorch). All take ``[batch, 1, 40, 128]`` and return logits.

- ``crnn``: the origin design, kept as the baseline: Conv2d 1->32->64 + 2-layer BiGRU 128.
- ``small``: a 2-D CNN front (as the origin's, with BatchNorm) feeding 1-D convolutions over
  time and statistics pooling instead of the GRU. Only Conv, Relu, MaxPool, Gemm and
  element-wise pooling ops, so static INT8 quantisation covers every weight (onnxruntime
  cannot quantise a GRU).
- ``large``: the same front, wider, with a BiGRU and attentive statistics pooling; float.
- ``small_mel``: ``small`` behind a fixed inverse DCT that turns the z-scored MFCCs back into
  log-mel energies (MFCCs with as many coefficients as filters lose nothing), so the 2-D
  convolutions slide along a frequency axis rather than along cepstral coefficients.
"""
from __future__ import annotations

import torch
from scipy.fft import idct
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


def _conv1d(c_in: int, c_out: int, k: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
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


def _conv2d(c_in: int, c_out: int, pool: tuple[int, int]) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                         nn.ReLU(), nn.MaxPool2d(pool))


class Front2d(nn.Module):
    """Conv2d stack over (coefficient, time); returns a sequence ``(B, C*F', T')``."""

    def __init__(self, widths: tuple[int, int, int], n_mfcc: int = 40):
        super().__init__()
        a, b, c = widths
        self.convs = nn.Sequential(_conv2d(1, a, (2, 2)), _conv2d(a, b, (2, 2)), _conv2d(b, c, (2, 1)))
        self.out_channels = c * (n_mfcc // 8)

    def forward(self, x):
        return self.convs(x).flatten(1, 2)                # (B, C, F/8, T/4) -> (B, C*F/8, T/4)


class CNN2d(nn.Module):
    """Quantisable small model: Front2d -> 2 temporal convs -> stats pooling -> 2-layer head."""

    def __init__(self, widths=(32, 48, 96), temporal: int = 256, embed: int = 128, n_labels: int = 7,
                 dropout: float = 0.3):
        super().__init__()
        self.front = Front2d(widths)
        self.temporal = nn.Sequential(_conv1d(self.front.out_channels, temporal, 3),
                                      _conv1d(temporal, temporal, 3, dilation=2))
        self.pool = StatsPool()
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * temporal, embed), nn.ReLU(),
                                  nn.Dropout(dropout), nn.Linear(embed, n_labels))

    def forward(self, x):
        return self.head(self.pool(self.temporal(self.front(x))))


class LogMel(nn.Module):
    """Z-scored MFCCs ``(B, 1, C, T)`` -> per-band normalised log-mel energies ``(B, 1, C, T)``.

    A frozen Conv2d holds the inverse orthonormal DCT with the z-score undone (set from the
    training statistics by ``set_input_stats``); a BatchNorm then normalises each band, and
    folds into that Conv in ONNX. tools/export.py keeps this one Conv float in the INT8 model
    (its 8-bit input loses too much; the Conv holds no learned weights).
    """

    def __init__(self, n_mfcc: int = 40):
        super().__init__()
        self.idct = nn.Conv2d(1, n_mfcc, (n_mfcc, 1))
        self.idct.requires_grad_(False)
        self.norm = nn.BatchNorm2d(n_mfcc)
        self.set_input_stats(torch.zeros(n_mfcc), torch.ones(n_mfcc))

    @torch.no_grad()
    def set_input_stats(self, mean, std) -> None:
        mean, std = torch.as_tensor(mean, dtype=torch.float32), torch.as_tensor(std, dtype=torch.float32)
        inv = torch.from_numpy(idct(torch.eye(len(std)).numpy(), type=2, norm="ortho", axis=0)).float()
        self.idct.weight.copy_((inv * std[None, :])[:, None, :, None])  # band <- sum_c inv[band, c] * std_c * z_c
        self.idct.bias.copy_(inv @ mean)

    def forward(self, x):
        return self.norm(self.idct(x)).transpose(1, 2)    # (B, bands, 1, T) -> (B, 1, bands, T)


class MelCNN2d(nn.Module):
    """``CNN2d`` on log-mel energies recovered from the MFCC input."""

    def __init__(self, n_labels: int = 7, **kw):
        super().__init__()
        self.logmel = LogMel()
        self.cnn = CNN2d(n_labels=n_labels, **kw)

    def set_input_stats(self, mean, std) -> None:
        self.logmel.set_input_stats(mean, std)

    def forward(self, x):
        return self.cnn(self.logmel(x))


class AttentiveStatsPool(nn.Module):
    """Attention-weighted mean and standard deviation over time (frames that carry emotion count more)."""

    def __init__(self, channels: int, hidden: int = 64):
        super().__init__()
        self.score = nn.Sequential(nn.Conv1d(channels, hidden, 1), nn.Tanh(), nn.Conv1d(hidden, 1, 1))

    def forward(self, h):                                  # (B, C, T)
        w = torch.softmax(self.score(h), dim=2)
        mean = (h * w).sum(dim=2)
        var = (h * h * w).sum(dim=2) - mean * mean
        return torch.cat([mean, torch.sqrt(var.clamp(min=1e-5))], dim=1)


class CRNNPlus(nn.Module):
    """Large model: Front2d -> 2-layer BiGRU -> attentive stats pooling -> 2-layer head."""

    def __init__(self, widths=(32, 64, 96), hidden: int = 128, embed: int = 128, n_labels: int = 7,
                 dropout: float = 0.3):
        super().__init__()
        self.front = Front2d(widths)
        self.gru = nn.GRU(self.front.out_channels, hidden, num_layers=2, batch_first=True,
                          bidirectional=True, dropout=dropout)
        self.pool = AttentiveStatsPool(2 * hidden)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(4 * hidden, embed), nn.ReLU(),
                                  nn.Dropout(dropout), nn.Linear(embed, n_labels))

    def forward(self, x):
        seq, _ = self.gru(self.front(x).transpose(1, 2))   # (B, T', 2H)
        return self.head(self.pool(seq.transpose(1, 2)))


class Ensemble(nn.Module):
    """Averages its members' probabilities; returns log-probabilities as logits (softmax-equivalent)."""

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x):
        p = torch.stack([torch.softmax(m(x), dim=1) for m in self.members]).mean(dim=0)
        return torch.log(p.clamp(min=1e-7))


ARCHS = {
    "crnn": lambda n: CRNN(n),
    "small": lambda n: CNN2d(temporal=320, n_labels=n),
    "large": lambda n: CRNNPlus(hidden=160, n_labels=n),
    "small_mel": lambda n: MelCNN2d(temporal=320, n_labels=n),
}


def build(arch: str, n_labels: int) -> nn.Module:
    if arch not in ARCHS:
        raise ValueError(f"unknown architecture {arch!r}; expected one of {sorted(ARCHS)}")
    return ARCHS[arch](n_labels)
