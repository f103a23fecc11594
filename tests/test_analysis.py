import math

import pandas as pd
import pytest
import torch

from grokgpt import analysis, data


def test_fourier_norms_find_the_frequencies_of_a_synthetic_embedding():
    p = 97
    x = torch.arange(p, dtype=torch.float64)
    emb = torch.zeros(p, 8, dtype=torch.float64)
    emb[:, 0] = torch.cos(2 * math.pi * 5 * x / p)
    emb[:, 1] = 3 * torch.sin(2 * math.pi * 11 * x / p)
    emb[:, 2] = 0.5  # a constant offset: frequency 0, never a key frequency
    emb[:, 3] = 0.01 * torch.randn(p, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    norms = analysis.fourier_norms(emb)
    assert len(norms) == p // 2 + 1 and norms.share.sum() == pytest.approx(1.0)
    assert norms.norm.pow(2).sum() == pytest.approx(emb.pow(2).sum().item())  # the basis is orthonormal
    assert analysis.key_frequencies(norms) == [5, 11]
    assert analysis.key_share(norms, [5, 11]) > 0.99


def test_an_even_embedding_has_no_key_frequencies():
    emb = torch.randn(97, 256, generator=torch.Generator().manual_seed(0))
    norms = analysis.fourier_norms(emb)
    assert analysis.key_frequencies(norms) == []


def test_fourier_basis_is_orthonormal_for_odd_and_even_p():
    for p in (7, 8):
        basis = analysis.fourier_basis(p)
        torch.testing.assert_close(basis @ basis.T, torch.eye(p, dtype=torch.float64))


def long_metrics(run, train, val, every=100):
    rows = [dict(step=i * every, split="train", loss=1 - a, acc=a, elapsed_s=i) for i, a in enumerate(train)]
    rows += [dict(step=i * every, split="val", loss=1 - a, acc=a, elapsed_s=i) for i, a in enumerate(val)]
    return pd.DataFrame(rows).assign(run=run)


def test_crossings_mark_censored_runs_without_inventing_a_step():
    m = pd.concat(
        [
            long_metrics("a", [0.1, 1.0, 1.0, 1.0], [0.0, 0.2, 0.995, 1.0]).assign(weight_decay=1.0),
            long_metrics("b", [0.1, 1.0, 1.0, 1.0], [0.0, 0.1, 0.2, 0.3]).assign(weight_decay=0.0),
        ]
    )
    t = analysis.crossings(m, keep=["weight_decay"]).set_index("run")
    assert t.at["a", "train_step"] == 100 and t.at["a", "val_step"] == 200 and t.at["a", "grokked"]
    assert pd.isna(t.at["b", "val_step"]) and not t.at["b", "grokked"] and t.at["b", "last_step"] == 300
    s = analysis.summarise(t, "weight_decay")
    assert s.at[0.0, "grokked"] == 0 and pd.isna(s.at[0.0, "val_step"]) and s.at[1.0, "val_step"] == 200
    sentence = analysis.verdict(s, "weight_decay")
    assert (
        "fastest at weight_decay = 1" in sentence and "none grokked within 300 steps with weight_decay = 0" in sentence
    )


def test_verdict_names_a_tie_as_a_tie():
    m = pd.concat(
        [
            long_metrics(f"{w}{s}", [0.1, 1.0, 1.0], [0.0, 0.995, 1.0]).assign(warmup_steps=w, seed=s)
            for w in (0, 10)
            for s in (0, 1)
        ]
    )
    sentence = analysis.verdict(
        analysis.summarise(analysis.crossings(m, keep=["warmup_steps"]), "warmup_steps"), "warmup_steps"
    )
    assert "all at the same median of 100 steps" in sentence and "fastest" not in sentence


def test_collapses_count_each_fall_once():
    m = long_metrics("a", [0.2, 0.995, 0.5, 0.4, 1.0, 1.0, 0.3, 1.0], [0.0] * 8)
    assert analysis.collapses(m) == [200, 600]
    assert analysis.collapses(long_metrics("b", [0.2, 0.5], [0.0, 0.0])) == []


def test_leakage_counts_shared_and_repeated_lines():
    splits = {
        "train": [(1, "+", 2, 3), (1, "+", 2, 3)],
        "val": [(1, "+", 2, 3), (7, "+", 1, 1)],
        "test": [(0, "-", 1, 6)],
    }
    t = analysis.leakage(splits, p=7).set_index("split")
    assert t.at["train", "repeats"] == 1 and t.at["val", "in_train"] == 1 and t.at["val", "in_train_share"] == 0.5
    assert t.at["val", "operand_ge_p"] == 1 and t.at["test", "in_train"] == 0
    clean = analysis.leakage(data.split_leak_free(data.table(11, "+-"), (0.4, 0.4, 0.2), 0), p=11)
    assert clean.in_train.sum() == 0 and clean.repeats.sum() == 0


def test_division_waves_live_on_the_discrete_logarithm():
    p = 97
    g = analysis.primitive_root(p)
    assert g == 5 and sorted(analysis.residue_order(p, "/")) == list(range(1, p))
    log = {pow(g, k, p): k for k in range(p - 1)}
    emb = torch.zeros(p + 2, 4, dtype=torch.float64)  # residues, then the "/" and "=" tokens
    for x in range(1, p):
        emb[x, 0] = math.cos(2 * math.pi * 7 * log[x] / (p - 1))
        emb[x, 1] = math.sin(2 * math.pi * 7 * log[x] / (p - 1))

    class Model:
        transformer = torch.nn.Module()

    Model.transformer.wte = torch.nn.Embedding.from_pretrained(emb)
    assert analysis.key_frequencies(analysis.embedding_fourier_norms(Model, p, "/")) == [7]
    assert analysis.key_frequencies(analysis.embedding_fourier_norms(Model, p, "+")) != [7]


def test_last_evaluation_takes_each_runs_own_last_step():
    short = long_metrics("short", [0.1, 1.0], [0.0, 0.5])
    long = long_metrics("long", [0.1, 1.0, 1.0, 1.0], [0.0, 0.2, 0.6, 0.9])
    last = analysis.last_evaluation(pd.concat([short, long]))
    assert sorted(last.groupby("run").step.unique().map(list).to_dict().items()) == [("long", [300]), ("short", [100])]
    assert len(last) == 2 * last.split.nunique()
    assert last.set_index(["run", "split"]).at[("long", "val"), "acc"] == 0.9
