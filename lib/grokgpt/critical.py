"""The critical training-set size (Varma et al. 2023, "Explaining grokking through circuit efficiency"): below it,
weight decay makes memorising the cheaper solution, so a network trained from scratch does not grok and a grokked
network trained on that few equations ungroks (validation falls back towards chance, train stays fitted).

Both read one table, a row per run (`analysis.crossings` renamed): its curve (how it started), seed, D (its
training equations), acc and train (its final validation and train accuracy), val_gain (the change of
validation accuracy over the last quarter of the run). From it: the bracket of sizes between which a curve
crosses LEVEL, and each size's ungrokking outcome; and, from a run's metrics, where it ungrokked for good."""

from __future__ import annotations

import math

import pandas as pd

from grokgpt.analysis import RISING, THRESHOLD

LEVEL = 0.5  # the critical size: where final validation accuracy crosses 50% (chance is 1/p)


def bracket(final: pd.DataFrame, level: float = LEVEL) -> pd.DataFrame:
    """Per curve of the table, the two sizes between which the curve's median crosses `level`: below, the
    largest D whose median is under it; above, the smallest larger D whose median is at or over it (NaN where the
    crossing lies outside the sizes tried). Also the number of sizes and runs, and the sizes where the seeds
    disagree (some under, some over), as the table prints them: "250, 500" or "none"."""
    rows = []
    for curve, t in final.groupby("curve", sort=False):
        med = t.groupby("D")["acc"].median().sort_index()
        low = med[med < level]
        below = low.index.max() if len(low) else math.nan
        high = med[(med >= level) & (med.index > (below if len(low) else -math.inf))]
        split = t.groupby("D")["acc"].agg(lambda a: bool((a < level).any() and (a >= level).any()))
        rows.append({"curve": curve, "below": below, "above": high.index.min() if len(high) else math.nan,
                     "sizes": len(med), "runs": len(t), "seeds disagree at": ", ".join(f"{d:,}" for d in split[split].index) or "none"})  # fmt: skip
    return pd.DataFrame(rows).set_index("curve")


def ungrokking(final: pd.DataFrame, level: float = LEVEL) -> pd.DataFrame:
    """Per size D of the table's runs that started grokked: runs, the range of final validation accuracy, the
    lowest final train accuracy, the steepest late fall and the outcome, the one decision every table and
    conclusion reads:
    - ungrokked: every run ends under `level` while still fitting its D equations (train >= THRESHOLD);
    - falling: not so, but some run's validation accuracy still fell by more than RISING over the last quarter of
      its run: a longer budget may see it ungrok (the analogue of `analysis.outcomes`' "rising");
    - kept: every run ends at or over `level`, none still falling;
    - split: anything else (seeds on both sides, or a run that no longer fits its own equations)."""
    g = final.groupby("D")
    out = pd.DataFrame({"runs": g.size(), "val_final_min": g["acc"].min(), "val_final_max": g["acc"].max(),
                        "train_final_min": g["train"].min(), "late_change": g["val_gain"].min()})  # fmt: skip
    out["outcome"] = "split"
    out.loc[out["val_final_min"] >= level, "outcome"] = "kept"
    out.loc[out["late_change"] < -RISING, "outcome"] = "falling"
    out.loc[(out["val_final_max"] < level) & (out["train_final_min"] >= THRESHOLD), "outcome"] = "ungrokked"
    return out


def under_from(metrics: pd.DataFrame, level: float = LEVEL) -> pd.Series:
    """Per run of a `runs.collect` table, the first evaluation from which validation accuracy stays under `level`
    to the end of the run: where it ungrokked for good (NaN for a run that ends at or over `level`)."""

    def first(val: pd.DataFrame) -> float:
        over = val.loc[val["acc"] >= level, "step"]
        later = val.loc[val["step"] > over.max(), "step"] if len(over) else val["step"]
        return float(later.min()) if len(later) else math.nan

    return metrics[metrics["split"] == "val"].groupby("run")[["step", "acc"]].apply(first)
