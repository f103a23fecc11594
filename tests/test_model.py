import pytest
import torch

from grokgpt.model import GPT, GPTConfig


def small(**kw):
    return GPT(GPTConfig(**{"block_size": 8, "vocab_size": 11, "n_layer": 2, "n_head": 2, "n_embd": 16, **kw}))


def test_shapes_and_loss():
    torch.manual_seed(0)
    model = small()
    idx = torch.randint(11, (3, 8))
    logits, loss = model(idx)
    assert logits.shape == (3, 8, 11) and loss is None
    logits, loss = model(idx, targets=idx)
    assert loss.ndim == 0 and loss.item() == pytest.approx(torch.log(torch.tensor(11.0)).item(), rel=0.1)


def test_causal():
    """Changing token t + 1 leaves the logits at positions <= t unchanged."""
    torch.manual_seed(0)
    model = small().eval()
    idx = torch.randint(11, (2, 8))
    for t in range(7):
        changed = idx.clone()
        changed[:, t + 1] = (changed[:, t + 1] + 1) % 11
        a, _ = model(idx)
        b, _ = model(changed)
        assert torch.equal(a[:, : t + 1], b[:, : t + 1])
        assert not torch.allclose(a[:, t + 1 :], b[:, t + 1 :])


@pytest.mark.parametrize("start", [1, 3, 7])
def test_start_computes_the_same_logits_and_gradients(start):
    """forward(start=k) skips work before position k in the last block, and changes nothing else."""
    torch.manual_seed(0)
    full, part = small(), small()
    part.load_state_dict(full.state_dict())
    idx = torch.randint(11, (4, 8))
    targets = torch.full_like(idx, -1)
    targets[:, start:] = idx[:, start:]
    a, loss_a = full(idx, targets)
    b, loss_b = part(idx, targets, start=start)
    torch.testing.assert_close(a[:, start:], b)
    torch.testing.assert_close(loss_a, loss_b)
    loss_a.backward()
    loss_b.backward()
    for (name, pa), (_, pb) in zip(full.named_parameters(), part.named_parameters(), strict=True):
        torch.testing.assert_close(pa.grad, pb.grad, msg=name)


def test_generate_greedy_is_deterministic_and_crops_context():
    torch.manual_seed(0)
    model = small().eval()
    idx = torch.randint(11, (2, 3))
    out = model.generate(idx, 10)
    assert out.shape == (2, 13) and torch.equal(out[:, :3], idx)
    assert torch.equal(out, model.generate(idx, 10))


def test_weight_tying():
    model = small(tie_weights=True)
    assert model.lm_head.weight is model.transformer.wte.weight


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"n_embd": 15}, "divisible"),
        ({"block_size": 0}, "block_size"),
        ({"n_layer": -1}, "n_layer"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_config_rejects_nonsense(kw, message):
    with pytest.raises(ValueError, match=message):
        GPTConfig(**{"n_layer": 1, "n_embd": 16, "n_head": 2, **kw})


def test_sequence_longer_than_block_size_is_refused():
    with pytest.raises(ValueError, match="block_size"):
        small()(torch.zeros(1, 9, dtype=torch.long))


@pytest.mark.parametrize("missing", ["vocab_size", "block_size"])
def test_a_gpt_refuses_a_shape_without_its_data_sets_sizes(missing):
    shape = GPTConfig(**{"block_size": 8, "vocab_size": 11, "n_layer": 1, "n_head": 2, "n_embd": 16, missing: None})
    with pytest.raises(ValueError, match="for_data"):
        GPT(shape)
