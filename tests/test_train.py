import os
import re

import pandas as pd
import pytest
import torch
from torch.nn import functional as F

from grokgpt import data
from grokgpt.data import ModularConfig, SentenceConfig
from grokgpt.devices import check_device, resolve_device
from grokgpt.grokfast import gradfilter_ema
from grokgpt.model import GPT, GPTConfig
from grokgpt.train import TrainConfig, evaluate, lr_at, train

BASE = dict(max_steps=100, batch_size=16, lr=1e-3, weight_decay=0.0, eval_every=10, device="cpu")


def config(**kw) -> TrainConfig:
    return TrainConfig(**{**BASE, **kw})


def test_lr_schedule():
    cfg = config(warmup_steps=10)
    assert 0 < lr_at(0, cfg) < 1e-3
    assert lr_at(10, cfg) == 1e-3 and lr_at(5000, cfg) == 1e-3
    assert all(lr_at(s, cfg) < lr_at(s + 1, cfg) for s in range(10))
    assert lr_at(0, config(warmup_steps=0)) == 1e-3


@pytest.mark.parametrize(
    "kw", [{"max_steps": -1}, {"max_steps": 1e4}, {"batch_size": 0}, {"lr": 0}, {"device": "tpu"}, {"stop_acc": 2}]
)
def test_train_config_rejects_nonsense(kw):
    with pytest.raises(ValueError):
        config(**kw)


def _sentence_setup(text="I love machine learning"):
    ds = data.sentence(SentenceConfig(text))
    cfg = GPTConfig(n_layer=1, n_head=2, n_embd=32, block_size=ds.block_size, vocab_size=ds.vocab_size)
    return ds, GPT.seeded(cfg, seed=0)


def test_sentence_overfits_within_1000_steps():
    ds, model = _sentence_setup()
    metrics = train(
        model,
        ds,
        config(max_steps=1000, batch_size=1, lr=3e-3, eval_every=100),
    )
    assert list(metrics.columns) == ["step", "split", "loss", "acc", "lr", "weight_norm", "elapsed_s"]
    assert metrics.iloc[0].acc < 0.5 and metrics.iloc[-1].acc == 1.0 and metrics.iloc[-1].loss < 1e-2


def test_evaluate_scores_the_whole_answer_in_float64():
    """A model that predicts every target is right on every row; one wrong answer token makes its row wrong."""
    ds = data.arithmetic({"train": [(12, "+", 85, 0), (3, "+", 5, 8), (96, "+", 96, 95)]}, 97, tokens="char")
    rows = ds.splits["train"]

    class Oracle(torch.nn.Module):  # logits peaked on the true next token wherever there is one
        def forward(self, idx, start=0):
            return 50.0 * F.one_hot(rows.y.clamp(min=0), ds.vocab_size)[:, start:].double(), None

    loss, acc = evaluate(Oracle(), rows, ds.start)
    assert acc == 1.0 and loss < 1e-12 and isinstance(loss, float)
    wrong = data.Rows(rows.x, rows.y.clone(), rows.answer)
    last = int(wrong.answer[1].nonzero()[-1])  # the end mark of "3+5=8"
    wrong.y[1, last] = (wrong.y[1, last] + 1) % ds.vocab_size
    assert evaluate(Oracle(), wrong, ds.start)[1] == pytest.approx(2 / 3)


def test_early_stop_after_holding_the_target():
    ds, model = _sentence_setup()
    cfg = config(max_steps=5000, batch_size=1, lr=3e-3, eval_every=50, stop_acc=1.0, stop_after=200)
    metrics = train(model, ds, cfg)
    last = metrics["step"].max()
    assert last < 5000
    held = metrics[(metrics.step >= last - 200)]
    assert (held.acc == 1.0).all()


def test_runs_are_reproducible():
    ds = data.modular(ModularConfig(p=11, ops="+", fractions=(0.5, 0.5)))
    cfg = GPTConfig(n_layer=1, n_head=2, n_embd=16, block_size=ds.block_size, vocab_size=ds.vocab_size)
    tc = config(max_steps=20)
    a = train(GPT.seeded(cfg, 0), ds, tc)
    b = train(GPT.seeded(cfg, 0), ds, tc)
    pd.testing.assert_frame_equal(a.drop(columns="elapsed_s"), b.drop(columns="elapsed_s"))


def test_grokfast_with_lamb_zero_is_the_identity_and_otherwise_amplifies():
    torch.manual_seed(0)
    layer = torch.nn.Linear(3, 2)
    layer(torch.randn(4, 3)).sum().backward()
    before = {n: p.grad.clone() for n, p in layer.named_parameters()}
    ema = gradfilter_ema(layer, None, alpha=0.98, lamb=0.0)
    for n, p in layer.named_parameters():
        assert torch.equal(p.grad, before[n]) and torch.allclose(ema[n], before[n])
    gradfilter_ema(layer, None, alpha=0.5, lamb=2.0)
    for n, p in layer.named_parameters():
        torch.testing.assert_close(p.grad, 3 * before[n])  # ema starts at the gradient: g + 2 g


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")


def test_check_device_refuses_unknown_and_absent_devices():
    assert check_device("cpu") == torch.device("cpu") and check_device("auto") == resolve_device("auto")
    for name in ("banana", "cuda:abc", "meta", "CPU"):
        with pytest.raises(ValueError, match="device"):
            check_device(name)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            check_device("cuda:0")


def test_cosine_schedule_decays_to_zero_at_the_budget():
    cfg = config(warmup_steps=10, max_steps=110, cosine=True)
    assert lr_at(10, cfg) == 1e-3 and lr_at(60, cfg) == pytest.approx(5e-4) and lr_at(110, cfg) == pytest.approx(0)
    assert all(lr_at(s, cfg) >= lr_at(s + 1, cfg) for s in range(10, 110))


def test_device_and_thread_policy_live_in_devices_only():
    """resolve_device, the cores and the sweep's one thread are defined in devices.py, and no other module of the
    library reads the CPU affinity, picks a device by itself or sets torch's threads from a literal."""
    from pathlib import Path

    from grokgpt import devices, sweeps

    assert sweeps.THREADS == devices.THREADS == 1 and 1 <= devices.cores() <= (os.cpu_count() or 1)
    for path in sorted(Path(devices.__file__).parent.glob("*.py")):
        if path.name != "devices.py":
            text = path.read_text()
            assert "sched_getaffinity" not in text and "cuda.is_available" not in text, path.name
            assert "def resolve_device" not in text and "def cores" not in text, path.name
            assert not re.search(r"set_num_threads\(\s*\d", text), path.name  # a literal thread count
