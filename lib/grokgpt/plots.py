"""The standard figures, in one style: training curves (seed bands optional), and `save_figure` into figures/
(the figures of many runs' outcomes are in `sweepplots`).

Every function returns a matplotlib Figure and never shows it; notebooks display and save. Splits keep their
colour in every figure (train blue, val orange, test green). Figures are sized for the PDF report: it shows each
one as large as fits PRINT_BOX, so a figure drawn wider or taller than that box is printed smaller, its text with
it; `save_figure` warns when a figure's smallest text would print below MIN_PRINT_PT.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.text import Text

from grokgpt import report, store

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
