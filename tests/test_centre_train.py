"""Stream centring trained in (train.py --centre-train): the batches, the rule, validation, a run."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from emocap_train import centre_train, validation  # noqa: E402
from emocap_train.serdata import Clip  # noqa: E402
from emocap import features  # noqa: E402
from emocap.stream_centre import StreamCentre  # noqa: E402
from conftest import run_tool  # noqa: E402


def test_each_run_of_a_batch_is_one_speaker_and_the_speakers_differ():
    speakers = [f"s{i % 5}" for i in range(50)]
    batches = list(centre_train.SpeakerBatches(speakers, [1.0] * 50, n_batches=7, speakers=3, per_speaker=4, seed=0))
    assert len(batches) == 7
    for b in batches:
        assert len(b) == 12
        runs = [{speakers[i] for i in b[k : k + 4]} for k in range(0, 12, 4)]
        assert all(len(r) == 1 for r in runs)
        assert len(set.union(*runs)) == 3


def test_weights_steer_speakers_and_clips():
    speakers = ["a"] * 4 + ["b"] * 4
    weights = [1.0, 0.0, 0.0, 0.0] + [0.0] * 4  # only a's first clip can be drawn
    b = next(iter(centre_train.SpeakerBatches(speakers, weights, 1, speakers=1, per_speaker=5, seed=0)))
    assert b == [0] * 5


def test_more_speakers_a_batch_than_training_has_is_refused():
    with pytest.raises(ValueError, match="2 speakers a batch, but training has 1"):
        centre_train.SpeakerBatches(["a", "a"], [1.0, 1.0], 1, speakers=2, per_speaker=1, seed=0)


def test_training_rule_is_the_runtimes_once_the_stream_holds_the_group():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3 * 4, 7)).astype(np.float32)
    out = centre_train.centred(torch.from_numpy(logits), per_speaker=4, weight=2.0).numpy()
    prior = logits.mean(axis=0)
    for g in range(3):
        stream = StreamCentre(prior, 2.0, max_utterances=20)
        for row in logits[g * 4 : g * 4 + 4]:
            last = stream.apply(row[None, :])[0]
        np.testing.assert_allclose(out[g * 4 + 3], last, atol=1e-5)  # the 4th utterance sees all four


def test_the_gradient_reaches_the_group_mean():
    z = torch.zeros(4, 7, requires_grad=True)
    out = centre_train.centred(z, per_speaker=2, weight=0.0)
    out[0, 0].backward()
    # Row 0 minus its group's mean (rows 0 and 1); the prior is detached.
    assert z.grad[0, 0] == pytest.approx(0.5) and z.grad[1, 0] == pytest.approx(-0.5)
    assert z.grad[2:].abs().sum() == 0


def test_validation_streams_take_out_each_speakers_pull():
    rng = np.random.default_rng(1)
    clips = [Clip(f"/x/{s}{i}.wav", "neutral", s, "c") for s in "ab" for i in range(6)]
    base = rng.normal(size=(12, 7)).astype(np.float32)
    pull = np.where(np.arange(12)[:, None] < 6, 3.0, -3.0) * np.eye(7, dtype=np.float32)[2]
    owner = np.repeat(np.arange(12), 2)  # two windows a clip
    moved = {}
    for weight in (0.0, 4.0):
        shifted = centre_train.centred_clips(np.repeat(base + pull, 2, axis=0), owner, clips, weight)
        plain = centre_train.centred_clips(np.repeat(base, 2, axis=0), owner, clips, weight)
        moved[weight] = [np.abs(s - p).max() for s, p in zip(shifted, plain)]
    # Unshrunk, a speaker-wide pull is gone from every clip (the mean holds the clip itself) ...
    assert moved[0.0] == pytest.approx([0.0] * 12, abs=1e-4)
    # ... shrunk by 4 pseudo-clips, 4/(n + 4) of it is left at the stream's n-th clip.
    assert max(moved[4.0]) == pytest.approx(3 * 4 / 5, abs=1e-4)
    assert min(moved[4.0]) == pytest.approx(3 * 4 / 10, abs=1e-4)


def test_train_with_centring(shared_data, tmp_path):
    r = run_tool("tools/train.py", "--manifest", shared_data / "ser/manifest.csv", "--arch", "small", "--out", tmp_path,
                 "--epochs", "1", "--max-clips", "60", "--workers", "0", "--crops", "1", "--variants", "1",
                 "--centre-train", "4", "--batch", "8", "--speakers-per-batch", "2")
    assert r.returncode == 0, r.stderr[-2000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert len(report["history"]) == 1 and report["args"]["centre_train"] == 4
    for batch, speakers in (("10", "4"), ("8", "8"), ("8", "0")):  # uneven, one window a group, none
        r = run_tool("tools/train.py", "--manifest", shared_data / "ser/manifest.csv", "--out", tmp_path / "x",
                     "--centre-train", "4", "--batch", batch, "--speakers-per-batch", speakers)
        assert r.returncode != 0 and "must split evenly" in r.stderr, r.stderr[-500:]


class _Fixed(torch.nn.Module):
    """A 'model' whose logits are the window's first 7 values: validation's maths without training."""

    def forward(self, x):
        return x[:, 0, :7, 0]


def test_validation_predictions_are_the_runtimes_and_centring_reaches_them():
    clips = [Clip(f"/x/{s}{i}.wav", "neutral", s, "c") for s in "ab" for i in range(4)]
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(16, 7)).astype(np.float32)
    logits[:8, 3] += 5.0  # speaker a's voice pulls every clip to label 3, b's away from it
    logits[8:, 3] -= 5.0
    wins = np.zeros((16, 1, 40, 128), np.float32)
    wins[:, 0, :7, 0] = logits
    owner = np.repeat(np.arange(8), 2)
    zero, one = np.zeros(40, np.float32), np.ones(40, np.float32)
    plain = validation.clip_predictions(_Fixed(), wins[:, 0], owner, zero, one, "cpu", clips)
    expected = [int(np.argmax(features.softmax(logits[owner == c]).mean(axis=0))) for c in range(8)]
    assert plain == expected and plain[:4] == [3, 3, 3, 3]
    centred = validation.clip_predictions(_Fixed(), wins[:, 0], owner, zero, one, "cpu", clips, centre_weight=0.0)
    assert centred[:4] != [3, 3, 3, 3]  # the pull is taken out of speaker a's stream
