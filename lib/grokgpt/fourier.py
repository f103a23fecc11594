"""The Fourier picture of a modular-arithmetic network (Nanda et al. 2023, "Progress measures for grokking via
mechanistic interpretability").

Project the token embedding of the residues onto the Fourier basis of their group and measure the squared norm
per frequency. A network that has grokked concentrates its embedding on a handful of key frequencies; a
memorising one spreads it over all of them. For addition and subtraction the group is Z/p; for division it is the
multiplicative group, a cycle of length p - 1 once the residues are ordered by discrete logarithm.
`runs` logs the spectrum at every evaluation (fourier.csv), so the progress measures need no saved weights.
"""

from __future__ import annotations

import math

import pandas as pd
import torch

from grokgpt.model import GPT
from grokgpt.operations import OPERATIONS


def fourier_basis(p: int) -> torch.Tensor:
    """Orthonormal Fourier basis of functions on 0..p-1, as rows (p, p): the constant, then cos k and sin k
    for k = 1 .. p // 2 (for even p the last frequency has a cosine only)."""
    x = torch.arange(p, dtype=torch.float64)
    rows = [torch.ones(p, dtype=torch.float64)]
    for k in range(1, p // 2 + 1):
        rows.append(torch.cos(2 * math.pi * k * x / p))
        if 2 * k != p:
            rows.append(torch.sin(2 * math.pi * k * x / p))
    basis = torch.stack(rows)
    return basis / basis.norm(dim=1, keepdim=True)


def fourier_norms(embedding: torch.Tensor) -> pd.DataFrame:
    """Norm of a (p, d) embedding per frequency: columns frequency (0 .. p // 2) and norm, plus each
    frequency's share of the total squared norm (the shares sum to 1)."""
    p = embedding.size(0)
    coeffs = fourier_basis(p) @ embedding.double()  # (p, d): row 0 constant, then cos/sin pairs
    sq = coeffs.pow(2).sum(dim=1)
    per_freq = [sq[0]] + [sq[2 * k - 1 : 2 * k + 1].sum() for k in range(1, p // 2 + 1)]
    norms = torch.stack(per_freq)
    return pd.DataFrame({"frequency": range(len(norms)), "norm": norms.sqrt(), "share": norms / norms.sum()})


def primitive_root(p: int) -> int:
    """The smallest generator g of the multiplicative group mod a prime p: g^0 .. g^(p-2) are 1 .. p-1."""
    factors = [q for q in range(2, p) if (p - 1) % q == 0 and all(q % r for r in range(2, q))]
    return next(g for g in range(2, p) if all(pow(g, (p - 1) // q, p) != 1 for q in factors))


def residue_order(p: int, op: str) -> list[int]:
    """The residues in the order whose Fourier basis fits op (its record's `fourier`): 0..p-1 for "+" and "-"
    (the group Z/p); for "/" the nonzero residues as powers g^0, g^1, .., g^(p-2) of a primitive root, since a / b
    is subtraction of discrete logarithms, so the waves of a division network live on log x (the group Z/(p-1))."""
    if OPERATIONS[op].fourier == "log":
        g = primitive_root(p)
        return [pow(g, k, p) for k in range(p - 1)]
    return list(range(p))


def embedding_fourier_norms(model: GPT, p: int, op: str = "+") -> pd.DataFrame:
    """fourier_norms of the token embedding of the residues, taken in `residue_order(p, op)`."""
    return fourier_norms(model.transformer.wte.weight.detach()[residue_order(p, op)].cpu())


def key_frequencies(norms: pd.DataFrame, factor: float = 2.0) -> list[int]:
    """The non-constant frequencies holding more than `factor` times an even share of the non-constant squared
    norm. A random embedding has none (its shares stay well below twice even). Nanda et al. found about five in a
    network trained for long after grokking; a run stopped soon after grokking keeps more."""
    waves = norms[norms["frequency"] > 0]
    share = waves["share"] / waves["share"].sum()
    return sorted(waves["frequency"][share > factor / len(waves)].astype(int).tolist())


def key_share(norms: pd.DataFrame, keys: list[int]) -> float:
    """The share of the non-constant squared norm that the frequencies `keys` hold."""
    waves = norms[norms["frequency"] > 0]
    return float(waves[waves["frequency"].isin(keys)]["share"].sum() / waves["share"].sum())


def progress(spectra: pd.DataFrame) -> pd.DataFrame:
    """The key-frequency share over training, from the spectra a run logged at every evaluation (`runs.Run.fourier`
    with a run column): per run and step, the share of the non-constant squared norm held by the key frequencies
    of that run's last evaluation (its final key frequencies, as Nanda et al. measure their progress)."""
    rows = []
    for run, s in spectra.groupby("run", sort=False):
        keys = key_frequencies(s[s["step"] == s["step"].max()])
        for step, at in s.groupby("step"):
            rows.append({"run": run, "step": step, "key_share": key_share(at, keys), "keys": len(keys)})
    return pd.DataFrame(rows)
