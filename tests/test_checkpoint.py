import pytest
import torch

from grokgpt import checkpoint, store
from grokgpt.checkpoint import CheckpointError
from grokgpt.model import GPT, GPTConfig
from grokgpt.tokenizers import NumberTokenizer


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = GPT(GPTConfig(block_size=4, vocab_size=9, n_layer=1, n_head=2, n_embd=8))
    path = tmp_path / "model.pt"
    checkpoint.save(path, model, NumberTokenizer(7, "+"), {"task": "modular", "p": 7, "ops": "+"})
    return path, model


def test_round_trip(saved):
    path, model = saved
    ckpt = checkpoint.load(path)
    assert ckpt.info["p"] == 7 and ckpt.tokenizer.encode("3+4=") == [3, 7, 4, 8]
    for (name, a), b in zip(model.state_dict().items(), ckpt.model.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_missing_truncated_and_foreign_files_are_named(saved, tmp_path):
    path, _ = saved
    with pytest.raises(CheckpointError, match="no checkpoint"):
        checkpoint.load(tmp_path / "nope.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(path.read_bytes()[:500])
    with pytest.raises(CheckpointError, match="truncated"):
        checkpoint.load(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(CheckpointError, match="not a grokgpt checkpoint"):
        checkpoint.load(foreign)


def test_a_failed_save_keeps_the_previous_checkpoint(saved):
    path, model = saved
    before = path.read_bytes()

    def explode(tmp):
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        store.atomic_write(path, explode)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]
