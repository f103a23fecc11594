import math

import pytest
import torch

from grokgpt import fourier


def test_fourier_norms_find_the_frequencies_of_a_synthetic_embedding():
    p = 97
    x = torch.arange(p, dtype=torch.float64)
    emb = torch.zeros(p, 8, dtype=torch.float64)
    emb[:, 0] = torch.cos(2 * math.pi * 5 * x / p)
    emb[:, 1] = 3 * torch.sin(2 * math.pi * 11 * x / p)
    emb[:, 2] = 0.5  # a constant offset: frequency 0, never a key frequency
    emb[:, 3] = 0.01 * torch.randn(p, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    norms = fourier.fourier_norms(emb)
    assert len(norms) == p // 2 + 1 and norms.share.sum() == pytest.approx(1.0)
    assert norms.norm.pow(2).sum() == pytest.approx(emb.pow(2).sum().item())  # the basis is orthonormal
    assert fourier.key_frequencies(norms) == [5, 11]
    assert fourier.key_share(norms, [5, 11]) > 0.99


def test_an_even_embedding_has_no_key_frequencies():
    emb = torch.randn(97, 256, generator=torch.Generator().manual_seed(0))
    norms = fourier.fourier_norms(emb)
    assert fourier.key_frequencies(norms) == []


def test_fourier_basis_is_orthonormal_for_odd_and_even_p():
    for p in (7, 8):
        basis = fourier.fourier_basis(p)
        torch.testing.assert_close(basis @ basis.T, torch.eye(p, dtype=torch.float64))


def test_division_waves_live_on_the_discrete_logarithm():
    p = 97
    g = fourier.primitive_root(p)
    assert g == 5 and sorted(fourier.residue_order(p, "/")) == list(range(1, p))
    log = {pow(g, k, p): k for k in range(p - 1)}
    emb = torch.zeros(p + 2, 4, dtype=torch.float64)  # residues, then the "/" and "=" tokens
    for x in range(1, p):
        emb[x, 0] = math.cos(2 * math.pi * 7 * log[x] / (p - 1))
        emb[x, 1] = math.sin(2 * math.pi * 7 * log[x] / (p - 1))

    class Model:
        transformer = torch.nn.Module()

    Model.transformer.wte = torch.nn.Embedding.from_pretrained(emb)
    assert fourier.key_frequencies(fourier.embedding_fourier_norms(Model, p, "/")) == [7]
    assert fourier.key_frequencies(fourier.embedding_fourier_norms(Model, p, "+")) != [7]
