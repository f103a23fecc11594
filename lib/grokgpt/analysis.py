"""Analysis of finished runs: when a run crossed an accuracy, final-metric tables, and the Fourier picture.

The Fourier analysis follows Nanda et al. 2023 ("Progress measures for grokking via mechanistic
interpretability"): project the token embedding of the residues 0..p-1 onto the Fourier basis of Z/p and
measure the norm per frequency. A network that has grokked modular arithmetic concentrates its embedding on a
handful of key frequencies; a memorising one spreads it over all of them.
"""

from __future__ import annotations

import math

import pandas as pd
import torch

from grokgpt.model import GPT


def steps_to(metrics: pd.DataFrame, split: str, acc: float) -> int | None:
    """The first evaluated step at which `split` accuracy reached `acc`, or None if it never did."""
    hit = metrics[(metrics["split"] == split) & (metrics["acc"] >= acc)]
    return int(hit["step"].min()) if len(hit) else None


def final(metrics: pd.DataFrame) -> pd.DataFrame:
    """The metrics at the last evaluated step, one row per split."""
    return metrics[metrics["step"] == metrics["step"].max()].set_index("split")[["step", "loss", "acc"]]


# ----------------------------------------------------------------------------------------------------------------
# Fourier analysis of the embedding


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


def embedding_fourier_norms(model: GPT, p: int) -> pd.DataFrame:
    """fourier_norms of the token embedding rows of the residues 0..p-1 (one token per residue)."""
    return fourier_norms(model.transformer.wte.weight.detach()[:p].cpu())


def key_frequencies(norms: pd.DataFrame, share: float = 0.5) -> list[int]:
    """The fewest non-constant frequencies that together hold `share` of the non-constant squared norm."""
    ranked = norms[norms["frequency"] > 0].sort_values("share", ascending=False)
    cumulative = ranked["share"].cumsum() / ranked["share"].sum()
    n = int((cumulative < share).sum()) + 1
    return sorted(ranked["frequency"].head(n).astype(int).tolist())


# ----------------------------------------------------------------------------------------------------------------
# Many runs: crossings and censoring


def crossings(metrics: pd.DataFrame, acc: float = 0.99, keep: list[str] | None = None) -> pd.DataFrame:
    """One row per run of a `runs.collect` table: the first steps at which train and val accuracy reached acc,
    the last step, the final val accuracy, and `grokked` (False: val never reached acc within the run's steps,
    a censored observation: the step is NaN, not the budget). `keep` names setting columns to carry along."""
    rows = []
    for run, m in metrics.groupby("run", sort=False):
        last = m["step"].max()
        val_final = m[(m.step == last) & (m.split == "val")]["acc"]
        t_val = steps_to(m, "val", acc)
        rows.append(
            {
                **{k: m[k].iloc[0] for k in keep or []},
                "run": run,
                "train_step": steps_to(m, "train", acc),
                "val_step": t_val,
                "last_step": last,
                "val_final": val_final.iloc[0] if len(val_final) else float("nan"),
                "grokked": t_val is not None,
                "val_seconds": m[(m.step == t_val)]["elapsed_s"].iloc[0] if t_val is not None else float("nan"),
            }
        )
    out = pd.DataFrame(rows)
    return out.astype({"train_step": "Float64", "val_step": "Float64"})


# ----------------------------------------------------------------------------------------------------------------
# Data sets


def leakage(splits: dict[str, list[tuple]], p: int) -> pd.DataFrame:
    """Per split: rows, distinct lines, rows that repeat a line already in the split, rows whose line also occurs
    in train (and their share), and rows with an operand outside 0..p-1. Lines compare as the model reads them."""
    train = set(splits["train"])
    rows = []
    for name, eqs in splits.items():
        distinct = len(set(eqs))
        in_train = sum(e in train for e in eqs) if name != "train" else 0
        rows.append(
            {
                "split": name,
                "rows": len(eqs),
                "distinct": distinct,
                "repeats": len(eqs) - distinct,
                "in_train": in_train,
                "in_train_share": in_train / len(eqs) if eqs else 0.0,
                "operand_ge_p": sum(a >= p or b >= p for a, _, b, _ in eqs),
            }
        )
    return pd.DataFrame(rows)
