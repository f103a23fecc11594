"""Number formats and display tables: how the report prints steps, spans, accuracies and the tables of `analysis`.

No sentences are built here: conclusions are written by hand in the notebooks, beside the tables below, with their
numbers as short f-strings over these formats (DESIGN.md, "Prose by hand, facts by the runs").
"""

from __future__ import annotations

import math

import pandas as pd
from pandas.io.formats.style import Styler

from grokgpt import analysis

# ----------------------------------------------------------------------------------------------------------------
# Numbers


def steps(value, censored_at: int | None = None) -> str:
    """A step count as the report prints it: `1,900`, `> 12,000` for a censored run, `–` for nothing."""
    if value is None or isinstance(value, float) and math.isnan(value) or value is pd.NA:
        return f"> {int(censored_at):,}" if censored_at is not None else "–"
    return f"{value:,.0f}"


def rounded(value: float) -> str:
    """A prediction as the report prints it: three significant figures, `123,000`."""
    return steps(value if value is None or math.isnan(value) else float(f"{value:.3g}"))


def span(values: pd.Series, fmt=steps) -> str:
    """`1,900` for one value, `1,800–2,200` for a range, `–` for none (fmt formats each end)."""
    values = values.dropna().astype(float)
    if values.empty:
        return "–"
    lo, hi = fmt(values.min()), fmt(values.max())
    return lo if lo == hi else f"{lo}–{hi}"  # one value when both ends print alike


def accuracy(value: float) -> str:
    """Three decimals, more only where three would round up to a perfect score: 0.003, 0.396, 0.9996; 1.000 only
    when exact."""
    if value == 1:
        return "1.000"
    digits = 3
    while value < 1 and float(f"{value:.{digits}f}") >= 1:  # a run that missed one equation in 10,000 is not perfect
        digits += 1
    return f"{value:.{digits}f}"


def label(value) -> str:
    """A setting's value as the report prints it: 0.5, 1e-05, 'weight decay 1 + Grokfast'."""
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def missing(names: list[str], where: str = "this notebook") -> str:
    """A warning line for runs of a notebook (or of a section: `where`) that the registry asks for and data/runs/
    lacks (empty when none)."""
    if not names:
        return ""
    shown = ", ".join(f"`{n}`" for n in names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    runs = f"1 run of {where} is" if len(names) == 1 else f"{len(names)} runs of {where} are"
    return f"**{runs} not computed yet** ({shown}): the results below leave them out. `make runs` computes them."


# ----------------------------------------------------------------------------------------------------------------
# Tables


def summary_table(summary: pd.DataFrame, decisions: pd.DataFrame | None = None) -> pd.DataFrame:
    """A `analysis.summarise` table as the report prints it, with the `analysis.outcomes` columns when given: the
    outcome, and for a setting that is "beyond" its budget, the budget the finding rule would need."""
    out = pd.DataFrame(index=summary.index)
    if decisions is not None:
        out["outcome"] = decisions["outcome"]
    out["runs"] = summary["runs"]
    out["train 99%"] = summary["fitted"].astype(str) + " of " + summary["runs"].astype(str)
    out["val held"] = summary["held"].astype(str) + " of " + summary["runs"].astype(str)
    out["median held step"] = [steps(m, b if c else None) for m, b, c in
                               zip(summary["median_held"], summary["budget"], summary["censored"] > 0, strict=True)]  # fmt: skip
    out["held range"] = [
        span(pd.Series([lo, hi])) for lo, hi in zip(summary["min_held"], summary["max_held"], strict=True)
    ]
    out["delay"] = summary["delay"].map(lambda d: "–" if math.isnan(d) else f"{d:.3g}×")
    out["collapses"] = summary["collapses"]
    out["final val"] = [span(pd.Series([lo, hi]), accuracy) for lo, hi in
                        zip(summary["val_final_min"], summary["val_final_max"], strict=True)]  # fmt: skip
    out["budget"] = summary["budget"].map("{:,}".format)
    if decisions is not None:
        out["needs"] = [rounded(n) if o == "beyond" else "" for o, n in
                        zip(decisions["outcome"], decisions["needed"], strict=True)]  # fmt: skip
    return out


def ungrokking_table(ungrok: pd.DataFrame) -> pd.DataFrame:
    """05 (h): a `critical.ungrokking` table as the report prints it."""
    out = pd.DataFrame(index=ungrok.index)
    out["outcome"] = ungrok["outcome"]
    out["runs"] = ungrok["runs"]
    out["final val"] = [span(pd.Series([lo, hi]), accuracy) for lo, hi in
                        zip(ungrok["val_final_min"], ungrok["val_final_max"], strict=True)]  # fmt: skip
    out["final train (lowest)"] = ungrok["train_final_min"].map(accuracy)
    out["val change, last quarter (steepest)"] = ungrok["late_change"].map("{:+.3f}".format)
    return out


def runs_table(table: pd.DataFrame) -> pd.DataFrame:
    """04: one row per run as the report prints it."""
    out = pd.DataFrame(index=table.index)
    out["train 99%"] = table["train_reached"].map(steps)
    out["train collapses"] = table["train_collapses"]
    out["train held from"] = table["train_held"].map(steps)
    out["val 99% first"] = table["val_reached"].map(steps)
    out["val held from"] = [steps(v, last if c else None) for v, last, c in
                            zip(table["val_held"], table["last_step"], table["censored"], strict=True)]  # fmt: skip
    out["delay"] = table["delay"].map(lambda d: "–" if math.isnan(d) else f"{d:.3g}×")
    out["collapses"] = table["collapses"]
    out["lowest val after 99%"] = table["lowest_after"].map(lambda v: "–" if math.isnan(v) else f"{v:.3f}")
    out["last step"] = table["last_step"].map(steps)
    return out


def final_table(test: pd.DataFrame, seed_report: dict[int, tuple[float, float]]) -> pd.DataFrame:
    """03: final test loss and accuracy per prime (mean, min–max, runs) beside the seed report's."""
    rows = []
    for p, g in test.groupby("p"):
        rows.append(
            {
                "p": p,
                "runs": len(g),
                "test loss (mean)": f"{g['loss'].mean():.3g}",
                "test loss (range)": span(g["loss"], lambda v: f"{v:.3g}"),
                "test accuracy (mean)": accuracy(g["acc"].mean()),
                "test accuracy (range)": span(g["acc"], accuracy),
                "seed report loss": f"{seed_report[p][0]:.4g}" if p in seed_report else "–",
                "seed report accuracy": f"{seed_report[p][1]:.4f}" if p in seed_report else "–",
            }
        )
    return pd.DataFrame(rows).set_index("p")


def fourier_table(runs: list) -> pd.DataFrame:
    """04: per run, the key frequencies of the final embedding and the share of the non-constant squared norm they
    hold when train, then val, first reached 99%, and at the end."""
    from grokgpt import fourier

    rows = []
    for run in runs:
        spectra = run.fourier
        end = spectra[spectra["step"] == spectra["step"].max()]
        keys = fourier.key_frequencies(end)
        row = {"fraction": run.config["data"]["fractions"][0], "seed": run.config["train"]["seed"],
               "key frequencies": ", ".join(map(str, keys))}  # fmt: skip
        for split in ("train", "val"):
            step = analysis.reached(run.metrics, split)
            row[f"share at {split} 99%"] = (
                "–" if step is None else f"{fourier.key_share(spectra[spectra['step'] == step], keys):.0%}"
            )
        row["share at the end"] = f"{fourier.key_share(end, keys):.0%}"
        rows.append(row)
    return pd.DataFrame(rows).set_index(["fraction", "seed"])


# ----------------------------------------------------------------------------------------------------------------
# Settings tables

SETTING_GROUPS = {
    "data": ["p", "ops", "fractions", "tokens", "loss_on", "text", "block_size"],
    "model": ["n_layer", "n_head", "n_embd", "init", "dropout", "tie_weights"],
    "training": ["batch_size", "lr", "weight_decay", "beta1", "beta2", "warmup_steps", "cosine", "grokfast_lamb",
                 "grokfast_alpha"],
    "budget": ["max_steps", "eval_every", "stop_acc", "stop_after"],
    "seeds": ["seed"],
}  # fmt: skip


def _value(v) -> str:
    if isinstance(v, list | tuple):
        return "/".join(_value(x) for x in v)
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def settings(runs: list) -> Styler:
    """The settings of a notebook's runs, from their config.json, one row per group (data, model, training, budget,
    seeds, then the environment): each setting with its value, or every value it takes across the runs."""
    rows = {}
    for group, keys in SETTING_GROUPS.items():
        items = []
        for key in keys:
            values = []
            for run in runs:
                section = run.config["data"] if key in run.config["data"] else run.config["train"]
                section = run.config["model"] if key in run.config["model"] else section
                if key in section and section[key] is not None:
                    values.append(_value(section[key]))
            if values:
                items.append(f"{key} {', '.join(sorted(set(values), key=lambda v: (len(v), v)))}")
        if items:
            rows[group] = " · ".join(items)
    envs = sorted({f"torch {r.config['env']['torch']}, {r.config['env']['threads']} thread(s), {r.config['env']['device']}"
                   for r in runs if "env" in r.config})  # fmt: skip
    rows["ran on"] = f"{len(runs)} runs; environment " + "; ".join(envs)
    table = pd.DataFrame({"settings": rows})
    return table.style.set_properties(**{"text-align": "left"}).set_table_styles(
        [{"selector": "th", "props": "text-align: left"}]
    )


def markdown_table(table: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (its columns as they are; no index)."""
    lines = ["| " + " | ".join(map(str, table.columns)) + " |", "|" + " --- |" * len(table.columns)]
    lines += ["| " + " | ".join(str(v).replace("|", "/") for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)
