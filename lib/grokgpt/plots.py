"""The standard figures, in one style: training curves (seed bands optional), and `save_figure` into figures/.

Every function returns a matplotlib Figure and never shows it; notebooks display and save. Splits keep their
colour in every figure (train blue, val orange, test green). Figures are sized for the PDF report: it shows each
one as large as fits PRINT_BOX, so a figure drawn wider or taller than that box is printed smaller, its text with
it; `save_figure` warns when a figure's smallest text would print below MIN_PRINT_PT.
"""

from __future__ import annotations

import math
import textwrap
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.text import Text

from grokgpt import report, store
from grokgpt.critical import LEVEL

SPLIT_COLORS = {"train": "tab:blue", "val": "tab:orange", "test": "tab:green"}
LINESTYLES = ["-", "--", ":", "-."]
LABELS = {"acc": "accuracy (whole answer right)", "loss": "cross-entropy loss", "step": "step"}
SETTINGS = {"grokfast_lamb": "Grokfast λ", "weight_decay": "weight decay", "warmup_steps": "warmup", "train_frac":
            "train fraction", "n_layer": "layers", "loss_dtype": "loss"}  # fmt: skip  # short names for panel titles
PRINT_BOX = (6.7, 4.7)  # inches: the report's text width on A4 (6.73), and the 120 mm the PDF allows a figure's height
MIN_PRINT_PT = 7.0  # the smallest text a printed figure may have


def use_style() -> None:
    """One look for every figure: compact, gridded, readable at report width."""
    plt.rcParams.update({
        "figure.figsize": (6.4, 3.8), "figure.dpi": 150, "savefig.dpi": 150,  # inline images print sharp
        "savefig.bbox": "tight", "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False,
        "axes.spines.right": False, "axes.titlesize": 11, "legend.fontsize": 8, "legend.frameon": False,
    })  # fmt: skip


def save_figure(fig: Figure, name: str) -> Path:
    """Write fig to figures/<name>.png under this process's output (scratch/, or figures/ when the pipeline
    publishes), atomically, and close it: the notebook displays it once, with its caption under it."""
    smallest = printed_pt(fig)
    if smallest < MIN_PRINT_PT:
        warnings.warn(f"figure {name}: its smallest text prints at {smallest:.1f} pt in the report", stacklevel=2)
    path = store.atomic_write(
        store.output() / store.FIGURES / f"{name}.png", lambda tmp: fig.savefig(tmp, format="png")
    )
    plt.close(fig)
    return path


def printed_pt(fig: Figure) -> float:
    """The size in points at which fig's smallest text prints in the report, where the figure (its tight bounding
    box, as saved) is scaled to the largest size that fits PRINT_BOX."""
    renderer = fig.canvas.get_renderer()
    box = fig.get_tightbbox(renderer)
    pad = 2 * plt.rcParams["savefig.pad_inches"]
    scale = min(PRINT_BOX[0] / (box.width + pad), PRINT_BOX[1] / (box.height + pad))
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return scale * min(sizes, default=MIN_PRINT_PT / scale)


def curves(
    metrics: pd.DataFrame,
    metric: str = "acc",
    title: str = "",
    logx: bool = False,
    logy: bool = False,
    style_by: str | None = None,
    ax: plt.Axes | None = None,
    each_run: bool = False,
) -> Figure:
    """`metric` against step, one colour per split; with `style_by` (a column such as "train_frac") one line style
    per value, named in the legend as "val, train fraction 0.5". Where several runs share a line (a "seed"
    column), the line is their median and the band spans their min to max; with each_run, every run gets its own
    thin line instead."""
    use_style()
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots()
    if logx:  # step 0 has no place on a log axis: the curves start at the first evaluation after it
        metrics = metrics[metrics["step"] > 0]
    styles = sorted(metrics[style_by].unique()) if style_by else [None]
    for i, value in enumerate(styles):
        sub = metrics if value is None else metrics[metrics[style_by] == value]
        setting = f"{SETTINGS[style_by]} {report.label(value)}" if style_by in SETTINGS else report.label(value)
        for split, rows in sub.groupby("split", sort=False):
            label = split if value is None else f"{split}, {setting}"
            if each_run:
                for j, (_, run) in enumerate(rows.groupby("run", sort=False)):
                    ax.plot(run["step"], run[metric], LINESTYLES[i % len(LINESTYLES)],
                            color=SPLIT_COLORS.get(split), lw=0.9, alpha=0.8, label=None if j else label)  # fmt: skip
                continue
            stats = rows.groupby("step")[metric].agg(["median", "min", "max"])
            steps = stats.index.to_numpy()
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


def panels(metrics: pd.DataFrame, names: list[str], title: str = "", **kwargs) -> Figure:
    """`curves` side by side, one panel per metric in names (a loss on a log axis)."""
    use_style()
    fig, axes = plt.subplots(1, len(names), figsize=(min(PRINT_BOX[0], 3.4 * len(names)), 3.2), layout="constrained")
    for ax, name in zip(axes, names, strict=True):
        curves(metrics, name, ax=ax, logy=name == "loss", **kwargs)
    fig.suptitle(title)
    return fig


def grid(metrics: pd.DataFrame, metric: str, row: str, col: str, title: str = "", **kwargs) -> Figure:
    """`curves` of one metric in a grid of panels, one row per value of `row` and one column per value of `col`
    (for example primes × seeds), with shared axes."""
    use_style()
    rows, cols = sorted(metrics[row].unique()), sorted(metrics[col].unique())
    size = (min(PRINT_BOX[0], 2.4 * len(cols)), min(PRINT_BOX[1], 0.6 + 1.6 * len(rows)))
    fig, axes = plt.subplots(len(rows), len(cols), figsize=size, squeeze=False, sharex=True, sharey=True,
                             layout="constrained")  # fmt: skip
    for ax, (r, c) in zip(axes.flat, [(r, c) for r in rows for c in cols], strict=True):
        curves(metrics[(metrics[row] == r) & (metrics[col] == c)], metric, ax=ax, **kwargs)
        ax.set_title(
            f"{SETTINGS.get(row, row)} = {report.label(r)}, {SETTINGS.get(col, col)} = {report.label(c)}", fontsize=8
        )
        ax.set(xlabel="", ylabel="")
        ax.get_legend().remove() if ax is not axes.flat[0] else None
    fig.supxlabel(LABELS["step"])
    fig.supylabel(LABELS.get(metric, metric))
    fig.suptitle(title)
    return fig


def progress(metrics: pd.DataFrame, key_share: pd.DataFrame, by: str, title: str = "") -> Figure:
    """Grokking and its progress measures, one column per value of `by` (e.g. the training fraction), every run its
    own line: accuracy, the total weight norm, and the share of the embedding's squared norm in the run's final key
    frequencies (Nanda et al.'s measure), all against step on a log axis."""
    use_style()
    values = sorted(metrics[by].unique(), reverse=True)
    fig, axes = plt.subplots(3, len(values), figsize=(min(PRINT_BOX[0], 3.4 * len(values)), PRINT_BOX[1]),
                             squeeze=False, sharex=True, sharey="row", layout="constrained")  # fmt: skip
    measures = metrics[(metrics["split"] == "train") & (metrics["step"] > 0)].merge(
        key_share, on=["run", "step"], how="left"
    )
    for j, value in enumerate(values):
        curves(metrics[metrics[by] == value], "acc", ax=axes[0, j], logx=True, each_run=True)
        axes[0, j].set(title=f"{SETTINGS.get(by, by)} = {value:g}", xlabel="", ylabel="")
        axes[0, j].get_legend().remove() if j else None
        for i, (column, label) in enumerate([("weight_norm", "weight norm"), ("key_share", "key share")]):
            for _, run in measures[measures[by] == value].groupby("run", sort=False):
                axes[i + 1, j].plot(run["step"], run[column], color="tab:purple", lw=0.9, alpha=0.8)
            axes[i + 1, j].set(ylabel=label if j == 0 else "", xlabel="" if i == 0 else LABELS["step"], xscale="log")
    axes[0, 0].set_ylabel("accuracy")
    fig.suptitle(title)
    return fig


def answer_counts(answers: pd.DataFrame, title: str = "") -> Figure:
    """How often each answer occurs, one panel per p, one line per protocol (columns protocol, p, answer)."""
    use_style()
    primes = sorted(answers["p"].unique())
    fig, axes = plt.subplots(1, len(primes), figsize=(min(PRINT_BOX[0], 3.4 * len(primes)), 3.2), squeeze=False,
                             sharey=True, layout="constrained")  # fmt: skip
    for ax, p in zip(axes[0], primes, strict=True):
        for protocol, rows in answers[answers["p"] == p].groupby("protocol"):
            counts = rows["answer"].value_counts().sort_index()
            ax.plot(counts.index, counts.to_numpy() / counts.sum(), lw=1, label=f"{protocol} ({len(rows):,} rows)")
        ax.axhline(1 / p, color="grey", lw=0.8, ls=":", label="uniform 1/p")
        ax.set(xlabel="answer c", title=f"p = {p}")
    axes[0][0].set_ylabel("share of rows")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, [label.split(" (")[0] for label in labels], loc="outside lower center", ncols=len(labels))
    fig.suptitle(title)
    return fig


def fourier_norms(
    spectra: dict[str, pd.DataFrame],
    keys: list[int] | None = None,
    title: str = "",
    xlabel: str = "frequency k (cos and sin of 2πk·x / p)",
) -> Figure:
    """Norm of the embedding per non-constant Fourier frequency, one bar series per labelled spectrum (from
    `fourier.fourier_norms`), each as a share of its non-constant squared norm (the measure `fourier.key_share`
    and the report use); `keys` marks the key frequencies."""
    use_style()
    fig, ax = plt.subplots(figsize=(PRINT_BOX[0] - 0.4, 3.4))
    width = 0.8 / len(spectra)
    waves = {label: norms[norms["frequency"] > 0].set_index("frequency")["share"] for label, norms in spectra.items()}
    waves = {label: share / share.sum() for label, share in waves.items()}
    for i, (label, share) in enumerate(waves.items()):
        ax.bar(share.index + (i - (len(waves) - 1) / 2) * width, share, width=width, label=label)
    last = list(waves.values())[-1]
    for k in keys or []:  # above the bar, where no tick label is
        ax.annotate(str(k), (k, last.get(k, 0)), xytext=(0, 3), textcoords="offset points", ha="center", fontsize=7,
                    color="crimson")  # fmt: skip
    ax.set(xlabel=xlabel, ylabel="share of non-constant squared norm", title=title)
    ax.legend()
    return fig


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


PREDICTION_COLORS = {
    "train, right": "#c6dbef",
    "train, wrong": "#08306b",
    "val, right": "#fdd0a2",
    "val, wrong": "#d62728",
}


def prediction_map(maps: dict[str, pd.DataFrame], title: str = "") -> Figure:
    """The whole table a ∘ b, one panel per labelled snapshot (columns a, b, split, right): each cell coloured by its
    split and by whether the model's answer is right, so memorisation (train right, val wrong) and generalisation
    (everything right) can be seen at a glance."""
    import matplotlib.colors as mcolors
    from matplotlib.patches import Patch

    use_style()
    names = list(PREDICTION_COLORS)
    cmap = mcolors.ListedColormap(list(PREDICTION_COLORS.values()))
    fig, axes = plt.subplots(1, len(maps), figsize=(min(PRINT_BOX[0] - 0.4, 3.3 * len(maps)), 3.8), squeeze=False,
                             layout="constrained")  # fmt: skip
    for ax, (label, m) in zip(axes[0], maps.items(), strict=True):
        code = (m["split"] + ", " + m["right"].map({True: "right", False: "wrong"})).map(names.index)
        grid_ = m.assign(code=code).pivot(index="a", columns="b", values="code")
        ax.imshow(grid_.to_numpy(dtype=float), cmap=cmap, vmin=-0.5, vmax=len(names) - 0.5, interpolation="nearest")
        ax.set(title=f"{label}: {m['right'].mean():.1%} right", xlabel="b", ylabel="a")
        ax.grid(False)
    fig.legend(handles=[Patch(color=c, label=n) for n, c in PREDICTION_COLORS.items()], loc="outside lower center",
               ncols=4, fontsize=7)  # fmt: skip
    fig.suptitle(title)
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
