"""The figures of many runs' outcomes, in the style of `plots`: steps to grok against a setting (`sweep`), the
phase diagram (`phase`), the fraction trend with its band (`fraction_fit`) and the critical-size curves
(`critical`). Like every figure, each returns a Figure and never shows it; notebooks display and save them with
`plots.save_figure`.
"""

from __future__ import annotations

import math
import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from grokgpt.critical import LEVEL
from grokgpt.plots import SPLIT_COLORS, use_style

SEED_MARKERS = ["o", "s", "D", "v", "P", "X"]


def sweep(table: pd.DataFrame, by: str, title: str = "", logx: bool = False) -> Figure:
    """Steps to val held (filled, one marker per seed, slightly apart) and train reached (small crosses) per run
    against a setting, with the median line over held runs. A censored run (val never held) is an open triangle at
    its last step: it had not grokked by then, and is never drawn as if it had."""
    use_style()
    fig, ax = plt.subplots()
    t = table.reset_index(drop=True)
    categories = sorted(t[by].unique())
    numeric = pd.api.types.is_numeric_dtype(t[by])
    x = t[by].astype(float) if numeric else t[by].map({v: i for i, v in enumerate(categories)}).astype(float)
    seeds = sorted(t["seed"].unique()) if "seed" in t else [None]
    offset = (t["seed"].map({s: i for i, s in enumerate(seeds)}) - (len(seeds) - 1) / 2) if "seed" in t else 0 * x
    xs = x * (1 + 0.04 * offset) if numeric and logx else x + 0.08 * offset * (1 if not numeric else min(
        [b - a for a, b in zip(categories, categories[1:], strict=False)] or [1]))  # fmt: skip
    held, censored = ~t["censored"], t["censored"]
    ax.scatter(
        xs, t["train_reached"].astype(float), marker="x", s=14, color=SPLIT_COLORS["train"], label="train reached 99%"
    )
    for i, seed in enumerate(seeds):
        mine = held & (t["seed"] == seed) if seed is not None else held
        ax.scatter(
            xs[mine],
            t["val_held"][mine].astype(float),
            s=22,
            marker=SEED_MARKERS[i % len(SEED_MARKERS)],
            color=SPLIT_COLORS["val"],
            label=f"val held 99%, seed {seed}" if seed is not None else "val held 99%",
        )
    if censored.any():
        ax.scatter(xs[censored], t["last_step"][censored], marker="^", s=40, facecolors="none",
                   edgecolors="tab:red", label="censored: val not held by the end of the run")  # fmt: skip
    medians = t["val_held"][held].astype(float).groupby(x[held]).median()
    ax.plot(medians.index, medians.to_numpy(), color=SPLIT_COLORS["val"], lw=1, alpha=0.6)
    width = 16 if len(categories) <= 4 else 10  # wrapped labels must not run into each other
    ax.set_xticks(range(len(categories)) if not numeric else categories,
                  [textwrap.fill(str(v), width) for v in categories] if not numeric else [f"{v:g}" for v in categories],
                  fontsize=None if numeric or len(categories) <= 4 else 7)  # fmt: skip
    ax.set(xlabel=by, ylabel="steps", title=f"{title} (n = {len(t)} runs)", yscale="log")
    if logx and numeric and any(v > 0 for v in categories):
        linthresh = min(v for v in categories if v > 0)
        ax.set_xscale("symlog", linthresh=linthresh)
        ax.set_xticks(categories, [f"{v:g}" for v in categories])
        ax.set_xlim(left=-linthresh / 2 if min(categories) <= 0 else None)
    ax.legend(fontsize=7)
    return fig


def phase(summary: pd.DataFrame, title: str = "") -> Figure:
    """The phase diagram: a summary indexed by (train_frac, weight_decay), colour = median steps to val held
    (log scale); each cell says how many runs held and its median (`> budget` without one); cells without a median
    are grey, hatched where train accuracy did not reach 99% either."""
    import matplotlib.colors as mcolors
    from matplotlib.ticker import FuncFormatter

    use_style()
    grid_ = summary["median_held"].unstack("weight_decay").sort_index(ascending=False)
    fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    ax.set_facecolor("0.85")
    values = grid_.to_numpy(dtype=float)
    held = values[~pd.isna(values)]
    norm = mcolors.LogNorm(vmin=held.min(), vmax=max(held.max(), held.min() + 1)) if len(held) else None
    image = ax.imshow(values, cmap="viridis_r", aspect="auto", norm=norm)
    for i, frac in enumerate(grid_.index):
        for j, wd in enumerate(grid_.columns):
            if (frac, wd) not in summary.index:  # a cell whose runs are not computed yet
                ax.text(j, i, "no runs", ha="center", va="center", fontsize=7, color="0.4")
                continue
            r = summary.loc[(frac, wd)]
            median = f"> {int(r.budget):,}" if math.isnan(r.median_held) else f"{r.median_held:,.0f}"
            text = f"{int(r.held)}/{int(r.runs)}\n{median}"
            dark = norm is not None and not math.isnan(r.median_held) and norm(r.median_held) > 0.6  # viridis_r
            box = dict(facecolor="0.85", edgecolor="none", pad=1) if r.fitted == 0 else None  # readable on hatching
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if dark else "black", bbox=box)
            if r.fitted == 0:
                ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", lw=0, color="0.5"))
    ax.set_xticks(range(len(grid_.columns)), [f"{v:g}" for v in grid_.columns])
    ax.set_yticks(range(len(grid_.index)), [f"{v:g}" for v in grid_.index])
    ax.set(xlabel="weight decay", ylabel="training fraction", title=title)
    ax.grid(False)
    if norm is not None:
        bar = fig.colorbar(image, ax=ax, label="median steps to val held (Kaplan–Meier)")
        plain = FuncFormatter(lambda v, _: f"{v:,.0f}")  # 2,000, not 2 × 10^3
        bar.ax.yaxis.set_major_formatter(plain)
        bar.ax.yaxis.set_minor_formatter(plain)
        bar.ax.yaxis.set_minor_locator(plt.NullLocator())
        inner = [t for t in bar.get_ticks() if norm.vmin * 1.15 < t < norm.vmax / 1.15]
        bar.set_ticks([norm.vmin, *inner, norm.vmax])  # both ends labelled: the fastest and slowest medians
    return fig


def fraction_fit(
    summary: pd.DataFrame, a: float, b: float, extrapolate_to: float | None = None, title: str = "", band=None
) -> Figure:
    """Median steps to val held against training fraction on log–log axes, the fitted a · fraction^b, and where
    the fit puts a smaller fraction (extrapolate_to); settings without a median (more than half censored) are
    drawn at their budget as open triangles, or, where most runs reached 99% without holding it, as crosses at the
    median step they first reached it. `band(x) -> (low, high)` draws the fit's uncertainty as a shaded band."""
    use_style()
    fig, ax = plt.subplots()
    fracs = summary.index.to_numpy(dtype=float)
    known = summary["median_held"].notna().to_numpy()
    ax.scatter(fracs[known], summary["median_held"][known], color=SPLIT_COLORS["val"], label="median steps to val held")
    ax.vlines(fracs[known], summary["min_held"][known], summary["max_held"][known], color=SPLIT_COLORS["val"], lw=1)
    fell = ~known & (2 * summary["reached"] > summary["runs"]).to_numpy()
    if fell.any():
        ax.scatter(fracs[fell], summary["val_reached"][fell], marker="x", color="tab:red",
                   label="reached 99%, did not stay (at first reach)")  # fmt: skip
    if (~known & ~fell).any():
        ax.scatter(fracs[~known & ~fell], summary["budget"][~known & ~fell], marker="^", facecolors="none",
                   edgecolors="tab:red", label="no median (at the budget)")  # fmt: skip
    lo = min([*fracs, extrapolate_to or fracs.min()])
    xs = pd.Series([lo, fracs.max()])
    ax.plot(xs, a * xs**b, color="grey", lw=1, ls="--", label=f"fit: {a:.3g} · fraction^{b:.3g}")
    if band is not None:
        grid_ = np.geomspace(lo, fracs.max(), 50)
        low, high = band(grid_)
        ax.fill_between(grid_, low, high, color="grey", alpha=0.2, lw=0, label="95% bootstrap band over seeds")
    if extrapolate_to:
        ax.scatter([extrapolate_to], [a * extrapolate_to**b], marker="*", s=80, color="grey",
                   label=f"fit at {extrapolate_to:.3g}: about {float(f'{a * extrapolate_to**b:.3g}'):,.0f} steps")  # fmt: skip
    ax.set(xscale="log", yscale="log", xlabel="training fraction", ylabel="steps", title=title)
    ticks = sorted({*fracs, *([extrapolate_to] if extrapolate_to else [])})
    ax.set_xticks(ticks, [f"{t:.3g}" for t in ticks], fontsize=7)
    ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.legend(fontsize=7, loc="upper right")  # the upper left holds the extrapolation
    return fig


CURVE_COLORS = ["tab:purple", "tab:green", "tab:brown"]


def critical(final: pd.DataFrame, mark: int | None = None, level: float = LEVEL, title: str = "") -> Figure:
    """Final validation accuracy against the training-set size D, one curve per `curve` (its median line), each
    run a point (marker by seed); `mark` draws a vertical line at one size (the seed report's 500), `level` the
    crossing that defines the critical size."""
    use_style()
    fig, ax = plt.subplots()
    seeds = sorted(final["seed"].unique())
    for c, (curve, t) in enumerate(final.groupby("curve", sort=False)):
        color = CURVE_COLORS[c % len(CURVE_COLORS)]
        med = t.groupby("D")["acc"].median()
        ax.plot(med.index, med.to_numpy(), color=color, lw=1.5, label=f"{curve} (median)")
        for i, seed in enumerate(seeds):
            mine = t[t["seed"] == seed]
            ax.scatter(mine["D"], mine["acc"], color=color, s=18, alpha=0.7, marker=SEED_MARKERS[i % len(SEED_MARKERS)])
    ax.axhline(level, color="grey", lw=0.8, ls=":")
    if mark is not None:
        ax.axvline(mark, color="black", lw=0.8, ls="--", label=f"D = {mark}")
    for i, seed in enumerate(seeds if len(seeds) > 1 else []):  # the markers, once for every curve
        ax.scatter([], [], color="grey", s=18, marker=SEED_MARKERS[i % len(SEED_MARKERS)], label=f"seed {seed}")
    ax.set(xscale="log", xlabel="training equations D", ylabel="final validation accuracy", ylim=(-0.03, 1.03),
           title=title)  # fmt: skip
    sizes = sorted(final["D"].unique())
    ax.set_xticks(sizes, [f"{d:g}" for d in sizes])
    ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.legend(fontsize=7, loc="upper left")
    return fig
