"""The standard figures, in one style: training curves (seed bands optional), and `save_figure` into figures/.

Every function returns a matplotlib Figure and never shows it; notebooks display and save. Splits keep their
colour in every figure (train blue, val orange, test green).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from grokgpt import store

SPLIT_COLORS = {"train": "tab:blue", "val": "tab:orange", "test": "tab:green"}
LINESTYLES = ["-", "--", ":", "-."]
LABELS = {"acc": "accuracy (whole answer right)", "loss": "cross-entropy loss", "step": "step"}


def use_style() -> None:
    """One look for every figure: compact, gridded, readable at report width."""
    plt.rcParams.update(
        {
            "figure.figsize": (6.4, 3.8),
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 11,
            "legend.fontsize": 8,
            "legend.frameon": False,
        }
    )


def save_figure(fig: Figure, name: str) -> Path:
    """Write fig to figures/<name>.png under this process's output (scratch/, or figures/ when the pipeline
    publishes), atomically, and return the path."""
    return store.atomic_write(
        store.output() / store.FIGURES / f"{name}.png", lambda tmp: fig.savefig(tmp, format="png")
    )


def curves(
    metrics: pd.DataFrame,
    metric: str = "acc",
    title: str = "",
    logx: bool = False,
    logy: bool = False,
    style_by: str | None = None,
    ax: plt.Axes | None = None,
) -> Figure:
    """`metric` against step, one colour per split; with `style_by` (a column such as "p") one line style per
    value. Where several runs share a line (a "seed" column), the line is their median and the band spans
    their min to max."""
    use_style()
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots()
    styles = sorted(metrics[style_by].unique()) if style_by else [None]
    for i, value in enumerate(styles):
        sub = metrics if value is None else metrics[metrics[style_by] == value]
        for split, rows in sub.groupby("split", sort=False):
            stats = rows.groupby("step")[metric].agg(["median", "min", "max"])
            steps = stats.index.to_numpy()
            if logx:  # step 0 has no place on a log axis; plot it at 1
                steps = steps.clip(min=1)
            label = split if value is None else f"{split}, {style_by} = {value}"
            color = SPLIT_COLORS.get(split)
            ax.plot(steps, stats["median"], LINESTYLES[i % len(LINESTYLES)], color=color, label=label, lw=1.4)
            if (stats["min"] != stats["max"]).any():
                ax.fill_between(steps, stats["min"], stats["max"], color=color, alpha=0.15, lw=0)
    ax.set(xlabel=LABELS["step"], ylabel=LABELS.get(metric, metric), title=title)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.legend()
    return fig


def answer_counts(answers: pd.DataFrame, title: str = "") -> Figure:
    """How often each answer occurs, one panel per p, one line per protocol (columns protocol, p, answer)."""
    use_style()
    primes = sorted(answers["p"].unique())
    fig, axes = plt.subplots(
        1, len(primes), figsize=(6.4 * len(primes) / 1.6, 3.2), squeeze=False, sharey=True, layout="constrained"
    )
    for ax, p in zip(axes[0], primes, strict=True):
        for protocol, rows in answers[answers["p"] == p].groupby("protocol"):
            counts = rows["answer"].value_counts().sort_index()
            ax.plot(counts.index, counts.to_numpy() / counts.sum(), lw=1, label=f"{protocol} ({len(rows):,} rows)")
        ax.axhline(1 / p, color="grey", lw=0.8, ls=":", label="uniform")
        ax.set(xlabel="answer c", title=f"p = {p}")
        ax.legend()
    axes[0][0].set_ylabel("share of rows")
    fig.suptitle(title)
    return fig


def fourier_norms(spectra: dict[str, pd.DataFrame], keys: list[int] | None = None, title: str = "") -> Figure:
    """Norm of the embedding per Fourier frequency, one bar series per labelled spectrum (from
    `analysis.fourier_norms`), each normalised to its total; `keys` marks the key frequencies."""
    use_style()
    fig, ax = plt.subplots(figsize=(7.2, 3.6))
    width = 0.8 / len(spectra)
    for i, (label, norms) in enumerate(spectra.items()):
        ax.bar(norms["frequency"] + (i - (len(spectra) - 1) / 2) * width, norms["share"], width=width, label=label)
    for k in keys or []:
        ax.annotate(
            str(k), (k, 0), xytext=(0, -14), textcoords="offset points", ha="center", fontsize=7, color="crimson"
        )
    ax.set(xlabel="frequency k (cos and sin of 2πk·x / p)", ylabel="share of squared norm", title=title)
    ax.legend()
    return fig


def sweep(crossings_table: pd.DataFrame, by: str, title: str = "", logx: bool = False) -> Figure:
    """Steps to 99% per run against a setting: filled circles for val, small crosses for train. A run whose
    val accuracy never reached 99% is drawn as an open triangle at its last step (censored: it had not
    grokked by then), never as if it had grokked."""
    use_style()
    fig, ax = plt.subplots()
    t = crossings_table
    categories = sorted(t[by].unique())
    numeric = pd.api.types.is_numeric_dtype(t[by])
    x = t[by].astype(float) if numeric else t[by].map({v: i for i, v in enumerate(categories)}).astype(float)
    done, censored = t["grokked"].astype(bool), ~t["grokked"].astype(bool)
    ax.scatter(x, t["train_step"].astype(float), marker="x", s=18, color=SPLIT_COLORS["train"], label="train 99%")
    ax.scatter(x[done], t["val_step"][done].astype(float), s=22, color=SPLIT_COLORS["val"], label="val 99%")
    if censored.any():
        ax.scatter(x[censored], t["last_step"][censored], marker="^", s=40, facecolors="none",
                   edgecolors=SPLIT_COLORS["val"], label="val < 99% at the end of the budget")  # fmt: skip
    medians = t["val_step"][done].astype(float).groupby(x[done]).median()
    ax.plot(medians.index, medians.to_numpy(), color=SPLIT_COLORS["val"], lw=1, alpha=0.6)
    if not numeric:
        ax.set_xticks(range(len(categories)), categories)
    ax.set(xlabel=by, ylabel="steps", title=title, yscale="log")
    if logx and numeric:
        linthresh = min(v for v in categories if v > 0)
        ax.set_xscale("symlog", linthresh=linthresh)
        ax.set_xlim(left=-linthresh / 2 if min(categories) <= 0 else None)
    ax.legend()
    return fig
