"""Corpus-adversarial training: the reversed gradient, its schedule, and a training run with it."""
import json

import pytest

torch = pytest.importorskip("torch")
from emocap_train import adversary, ser_models  # noqa: E402
from conftest import run_tool  # noqa: E402


def test_the_model_gets_the_corpus_heads_gradient_reversed():
    torch.manual_seed(0)
    model = ser_models.build("small", 7).train()
    adv = adversary.CorpusAdversary(model, n_corpora=3)
    x, corpus = torch.randn(4, 1, 40, 128), torch.tensor([0, 1, 2, 1])
    first = next(model.parameters())

    torch.manual_seed(1)  # the same dropout masks in both passes, so both see the same embedding
    model(x)
    adv.loss(corpus, 0.5).backward()
    reversed_grad, head_grad = first.grad.clone(), adv.head[0].weight.grad.clone()
    model.zero_grad(), adv.zero_grad()

    torch.manual_seed(1)
    model(x)  # the same head without the reversal: what a plain corpus classifier would teach the model
    torch.nn.functional.cross_entropy(adv.head(adv._embedding), corpus).backward()
    torch.testing.assert_close(reversed_grad, -0.5 * first.grad)
    torch.testing.assert_close(head_grad, adv.head[0].weight.grad)  # the head itself learns normally


def test_validation_passes_leave_no_embedding_behind():
    model = ser_models.build("small", 7)
    adv = adversary.CorpusAdversary(model, n_corpora=2)
    model.train()(torch.randn(2, 1, 40, 128))
    assert adv._embedding is not None
    with torch.no_grad():
        model.eval()(torch.randn(2, 1, 40, 128))
    assert adv._embedding is None


def test_reversal_grows_from_zero():
    assert adversary.scale(0.0) == 0.0
    assert 0.98 < adversary.scale(0.5) < adversary.scale(1.0) < 1.0


def test_train_with_adversary(shared_data, tmp_path):
    r = run_tool("tools/train.py", "--manifest", shared_data / "ser/manifest.csv", "--arch", "small", "--out", tmp_path,
             "--epochs", "1", "--max-clips", "40", "--workers", "0", "--crops", "1", "--variants", "1",
             "--adversary", "0.3")
    assert r.returncode == 0, r.stderr[-2000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert len(report["history"]) == 1
    r = run_tool("tools/train.py", "--manifest", shared_data / "ser/manifest.csv", "--out", tmp_path / "x",
             "--adversary", "0.3", "--mixup", "0.2")
    assert r.returncode != 0 and "--adversary and --mixup" in r.stderr
