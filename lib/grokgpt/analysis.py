"""Analysis of finished runs: when a run crossed an accuracy, final-metric tables, and the Fourier picture.

The Fourier analysis follows Nanda et al. 2023 ("Progress measures for grokking via mechanistic
interpretability"): project the token embedding of the residues onto the Fourier basis of their group and
measure the norm per frequency. A network that has grokked modular arithmetic concentrates its embedding on a
handful of key frequencies; a memorising one spreads it over all of them. For addition the group is Z/p; for
division it is the multiplicative group, a cycle of length p - 1 once residues are ordered by discrete logarithm.
"""

from __future__ import annotations

import pandas as pd


def steps_to(metrics: pd.DataFrame, split: str, acc: float) -> int | None:
    """The first evaluated step at which `split` accuracy reached `acc`, or None if it never did."""
    hit = metrics[(metrics["split"] == split) & (metrics["acc"] >= acc)]
    return int(hit["step"].min()) if len(hit) else None


def final(metrics: pd.DataFrame) -> pd.DataFrame:
    """The metrics at the last evaluated step, one row per split."""
    return metrics[metrics["step"] == metrics["step"].max()].set_index("split")[["step", "loss", "acc"]]


def last_evaluation(metrics: pd.DataFrame) -> pd.DataFrame:
    """The rows of a `runs.collect` table at each run's last evaluated step (one per run and split)."""
    return metrics[metrics["step"] == metrics.groupby("run")["step"].transform("max")]


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


def collapses(metrics: pd.DataFrame, split: str = "train", reached: float = 0.99, below: float = 0.9) -> list[int]:
    """Evaluated steps at which `split` accuracy fell below `below` after it had first reached `reached`:
    the loss spikes that follow memorisation (one entry per fall, not per evaluation spent down)."""
    m = metrics[metrics["split"] == split].sort_values("step")
    first = steps_to(metrics, split, reached)
    if first is None:
        return []
    after = m[m["step"] > first]
    down = after["acc"] < below
    return after["step"][down & ~down.shift(fill_value=False)].astype(int).tolist()


def summarise(crossings_table: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per value of the setting `by`: runs, how many grokked, and the median (min, max) steps to train and val
    99% over the runs that got there. Censored runs count in `runs`, never in the step statistics."""
    g = crossings_table.groupby(by)
    out = pd.DataFrame(
        {
            "runs": g.size(),
            "grokked": g["grokked"].sum(),
            "train_step": g["train_step"].median(),
            "val_step": g["val_step"].median(),
            "val_step_min": g["val_step"].min(),
            "val_step_max": g["val_step"].max(),
            "budget": g["last_step"].max(),
        }
    )
    return out.astype({"grokked": int})


def _fmt(value) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def verdict(summary: pd.DataFrame, name: str) -> str:
    """One sentence from a `summarise` table: which setting grokked fastest, and which did not grok at all."""
    done = summary[summary["grokked"] == summary["runs"]]
    never = summary[summary["grokked"] == 0]
    partly = summary[(summary["grokked"] > 0) & (summary["grokked"] < summary["runs"])]
    parts = []
    if len(done) > 1 and done["val_step"].nunique() == 1:
        parts.append(
            f"every run grokked with {name} = {', '.join(map(_fmt, done.index))}, all at the same median of "
            f"{done['val_step'].iloc[0]:,.0f} steps to val 99%"
        )
    elif len(done):
        best = done["val_step"].idxmin()
        parts.append(
            f"every run grokked with {name} = {', '.join(map(_fmt, done.index))}; fastest at {name} = {_fmt(best)} "
            f"(median {done.at[best, 'val_step']:,.0f} steps to val 99%"
            + (f", against {done['val_step'].max():,.0f} at the slowest)" if len(done) > 1 else ")")
        )
    if len(partly):
        parts.append(
            "some runs grokked with "
            + ", ".join(f"{name} = {_fmt(v)} ({r.grokked} of {r.runs})" for v, r in partly.iterrows())
        )
    if len(never):
        unfit = never[never["train_step"].isna()]
        parts.append(
            f"none grokked within {never['budget'].max():,} steps with {name} = "
            + ", ".join(map(_fmt, never.index))
            + (
                f" (with {name} = {', '.join(map(_fmt, unfit.index))} train accuracy did not reach 99% either)"
                if len(unfit)
                else ""
            )
        )
    sentence = "; ".join(parts) or f"no runs for {name}"
    return sentence[0].upper() + sentence[1:] + "."
