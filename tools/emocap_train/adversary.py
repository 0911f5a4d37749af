"""Corpus-adversarial training (domain-adversarial, Ganin & Lempitsky 2015).

A small head learns to tell from the model's embedding (the input of its last Linear) which
corpus a training window came from; its gradient reaches the model reversed, so the model
learns an embedding the head cannot use: one that says less about the recording (corpus,
microphone, language) and keeps what the emotion head needs. The head lives only in training:
the exported model is the emotion model alone.

The reversal grows from 0 to 1 over training (``scale``), as in the paper, so the emotion
head settles before the adversary pushes. The head has its own optimiser (the model's
OneCycle schedule knows only the model's parameters).
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.utils.data import Dataset


class _Reverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale: float):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.scale * grad, None


def scale(progress: float) -> float:
    """The reversal's weight at ``progress`` (0..1) of training: 2 / (1 + e^-10p) - 1."""
    return 2.0 / (1.0 + math.exp(-10.0 * progress)) - 1.0


class CorpusAdversary(nn.Module):
    """Reads the embedding of ``model`` at each forward pass and scores a corpus head on it."""

    def __init__(self, model: nn.Module, n_corpora: int, hidden: int = 64) -> None:
        super().__init__()
        linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
        if not linears:
            raise ValueError("corpus adversary: the model has no Linear layer to read an embedding from")
        self._embedding: torch.Tensor | None = None
        linears[-1].register_forward_hook(self._keep)
        self.head = nn.Sequential(nn.Linear(linears[-1].in_features, hidden), nn.ReLU(),
                                  nn.Linear(hidden, n_corpora))

    def _keep(self, module, inputs, _output) -> None:
        # Only training passes feed the head; validation's would only hold a batch in memory.
        self._embedding = inputs[0] if module.training else None

    def loss(self, corpus: torch.Tensor, weight: float) -> torch.Tensor:
        """Cross-entropy of the corpus head on the last forward pass's embedding, reversed by ``weight``."""
        return nn.functional.cross_entropy(self.head(_Reverse.apply(self._embedding, weight)), corpus)


class WithCorpus(Dataset):
    """A training dataset's items with the clip's corpus index added."""

    def __init__(self, ds: Dataset, corpus_ids: list[int]) -> None:
        self.ds, self.corpus_ids = ds, corpus_ids

    def __len__(self):
        return len(self.ds)

    def __getitem__(self, i):
        return (*self.ds[i], torch.tensor(self.corpus_ids[i]))
