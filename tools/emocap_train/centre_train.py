"""Stream centring trained in (``train.py --centre-train W``).

The runtime centres each utterance's logits on its stream's running mean (emocap/stream_centre.py):
a model trained without it learns to read a voice's absolute colour, and centring after the fact
only undoes part of that. Here each training batch is ``speakers`` groups of ``per_speaker``
windows of one speaker each, and the loss sees every window's logits moved by its group's mean
logit, shrunk towards the batch mean by ``W`` pseudo-utterances, less that batch mean (the prior).
That is the runtime's move for the last utterance of a ``per_speaker``-long stream; the runtime's
is causal (earlier utterances are moved less) and holds up to 20. The gradient flows through the
group mean, so the model learns what tells one speaker's emotions apart rather than what tells
speakers apart.

Validation plays each speaker's clips as one centred stream (``StreamCentre``, the runtime's
class), its prior the mean raw clip logit of the validation clips, as tools/centre.py sets it;
the checkpoint is chosen on that. The saved model carries no centring: give it the same weight
with tools/centre.py before it is evaluated or shipped.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import torch
from torch.utils.data import Sampler

from emocap_train import centre, streams
from emocap.stream_centre import StreamCentre

MAX_UTTERANCES = centre.MAX_UTTERANCES
"""The fade of the validation streams: tools/centre.py's default."""


def check_args(args) -> None:
    """train.py's options for centring, refused with one line each."""
    if args.centre_train is None:
        return
    if args.mixup > 0:
        raise SystemExit("train.py: --centre-train and --mixup cannot be combined (a mixed window has no one speaker)")
    if args.centre_train < 0:
        raise SystemExit(f"train.py: --centre-train must be >= 0 (pseudo-utterances), not {args.centre_train}")
    per = args.batch // args.speakers_per_batch if args.speakers_per_batch >= 1 else 0
    if per < 2 or per * args.speakers_per_batch != args.batch:
        raise SystemExit(f"train.py: --batch {args.batch} must split evenly into --speakers-per-batch "
                         f"{args.speakers_per_batch} groups of at least 2 windows")


class SpeakerBatches(Sampler):
    """Batches of ``speakers`` x ``per_speaker`` clip indices, each run of ``per_speaker`` one speaker's.

    Speakers are drawn in proportion to their clips' summed ``weights`` and clips within a speaker
    in proportion to their own, so the clips' overall mix is close to the plain weighted sampler's
    (a speaker appears at most once a batch). Clips are drawn with replacement, so a speaker with
    few clips may repeat one (another random window and copy of it).
    """

    def __init__(self, speakers_of: list[str], weights: list[float], n_batches: int, speakers: int,
                 per_speaker: int, seed: int) -> None:
        groups = defaultdict(list)
        for i, s in enumerate(speakers_of):
            groups[s].append(i)
        w = np.asarray(weights, dtype=np.float64)
        self.groups = [np.array(g) for _, g in sorted(groups.items()) if w[g].sum() > 0]
        self.within = [w[g] / w[g].sum() for g in self.groups]
        totals = np.array([w[g].sum() for g in self.groups])
        self.p_speaker = totals / totals.sum()
        self.n_batches, self.speakers, self.per_speaker = n_batches, speakers, per_speaker
        self.rng = np.random.default_rng(seed)
        if speakers > len(self.groups):
            raise ValueError(f"--centre-train: {speakers} speakers a batch, but training has {len(self.groups)}")

    def __len__(self) -> int:
        return self.n_batches

    def __iter__(self):
        for _ in range(self.n_batches):
            chosen = self.rng.choice(len(self.groups), self.speakers, replace=False, p=self.p_speaker)
            yield [int(i) for s in chosen
                   for i in self.rng.choice(self.groups[s], self.per_speaker, p=self.within[s])]


def centred(logits: torch.Tensor, per_speaker: int, weight: float) -> torch.Tensor:
    """Logits ``(speakers * per_speaker, labels)`` of SpeakerBatches order, each moved by its group's
    mean shrunk towards the batch mean (``weight`` pseudo-utterances), less the batch mean."""
    g = logits.view(-1, per_speaker, logits.shape[1])
    prior = logits.detach().mean(dim=0)
    centre = (g.sum(dim=1) + weight * prior) / (per_speaker + weight)
    return (g - (centre - prior)[:, None, :]).reshape(logits.shape)


def centred_clips(logits: np.ndarray, owner: np.ndarray, clips, weight: float) -> list[np.ndarray]:
    """Each clip's window logits (``logits`` rows whose ``owner`` is the clip) centred along its
    speaker's stream, in the order every tool plays it, as the runtime centres an utterance; the
    prior is the mean clip logit over all ``clips``, as tools/centre.py sets it."""
    per_clip = [logits[owner == c] for c in range(len(clips))]
    prior = np.mean([w.mean(axis=0) for w in per_clip], axis=0)
    return streams.play_streams(clips, lambda: StreamCentre(prior, weight, MAX_UTTERANCES),
                                lambda i, stream: stream.apply(per_clip[i]))
