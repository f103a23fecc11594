"""The sentences and tables that the notebooks display, built from runs and unit-tested.

Every number a notebook quotes comes from here or from an f-string over a table: nothing is typed by hand, so no
sentence can go stale. Functions take the tables of `analysis` and return Markdown strings or display-ready
DataFrames (integers as integers, at most 4 significant digits, "> N" for a censored run).
"""

from __future__ import annotations

import math

import pandas as pd
from pandas.io.formats.style import Styler

from grokgpt import analysis


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
    """At most 4 significant digits, never rounded up to a perfect score: 0.9996, 0.492, 1.000 only when exact."""
    return "1.000" if value == 1 else f"{value:.4g}" if value > 0.1 else f"{value:.3f}"


def count(n: int, total: int, what: str = "runs") -> str:
    """`2 of 3 runs`, `1 of 1 run`."""
    n, total = int(n), int(total)
    return f"{n} of {total} {what}" if total != 1 else f"{n} of 1 {what.rstrip('s')}"


def missing(names: list[str], where: str = "this notebook") -> str:
    """A warning line for runs of a notebook (or of a section: `where`) that the registry asks for and data/runs/
    lacks (empty when none)."""
    if not names:
        return ""
    shown = ", ".join(f"`{n}`" for n in names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    runs = f"1 run of {where} is" if len(names) == 1 else f"{len(names)} runs of {where} are"
    return f"**{runs} not computed yet** ({shown}): the results below leave them out. `make runs` computes them."


def summary_table(summary: pd.DataFrame) -> pd.DataFrame:
    """A `analysis.summarise` table as the report prints it."""
    out = pd.DataFrame(index=summary.index)
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
    out["budget"] = summary["budget"].map("{:,}".format)
    return out


def label(value) -> str:
    """A setting's value as the report prints it: 0.5, 1e-05, 'weight decay 1 + Grokfast'."""
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def verdict(
    summary: pd.DataFrame, name: str, baseline_median: float, expected: pd.Series | None = None, at: float | None = None
) -> str:
    """One paragraph from a summary: which settings held grokking in every run (fastest by median), which in some,
    which in none, and where validation reached 99% without holding it; "did not grok" only where
    `analysis.decided` says so: the budget was at least DECIDING_FACTOR × the baseline's median and, where
    `expected` gives what a trend predicts for a setting (`analysis.predicted`), × that prediction too, and (with
    `at`, the baseline's value of an ordered setting) no undecided setting lies between it and the baseline.
    An empty name lists the values alone (when they name themselves: "weight decay 1 + Grokfast")."""
    named = f"{name} = " if name else ""
    every = summary[summary["held"] == summary["runs"]]
    some = summary[(summary["held"] > 0) & (summary["held"] < summary["runs"])]
    none = summary[summary["held"] == 0]
    plain = analysis.decided(summary, baseline_median, expected)
    decided = analysis.decided(summary, baseline_median, expected, at)
    by_trend = "" if expected is None else f" and {analysis.DECIDING_FACTOR}× what the fraction trend predicts there"
    parts = []
    if len(every):
        ranked = every.sort_values("median_held")
        listing = ", ".join(f"{label(r.Index)} ({held_range(r)})" for r in ranked.itertuples())
        overlap = len(every) > 1 and every["min_held"].max() <= every["max_held"].min()
        parts.append(
            f"every run held grokking with {named}{listing} (steps to val held: median; range"
            + ("; the ranges all overlap, so no difference between them is resolved)" if overlap else ")")
        )
    if len(some):
        parts.append(
            "some did with "
            + ", ".join(
                f"{named}{label(r.Index)} ({r.held} of {r.runs}, held from {span(pd.Series([r.min_held, r.max_held]))}; "
                f"Kaplan–Meier median {steps(r.median_held, r.budget)})"
                for r in some.itertuples()
            )
        )
    unfit = none[none["fitted"] == 0]  # underfit: train never reached 99%, its own outcome
    none = none[none["fitted"] > 0]
    found = none[decided.loc[none.index]]
    shadowed = none[plain.loc[none.index] & ~decided.loc[none.index]]
    rising = none[~plain.loc[none.index] & (none["rising"] > 0)]
    undecided = none[~plain.loc[none.index] & (none["rising"] == 0)]

    def listed(rows) -> str:
        return ", ".join(map(label, rows.index if isinstance(rows, pd.DataFrame) else rows))

    if len(found):
        parts.append(
            f"none did with {named}{listed(found)} within {found['min_budget'].min():,} steps, at least "
            f"{analysis.DECIDING_FACTOR}× the baseline's median of {steps(baseline_median)}{by_trend}, with no run "
            "still rising at the end: a finding"
        )
    if len(rising):
        parts.append(
            f"with {named}{listed(rising)} no run held within {rising['min_budget'].min():,} steps, but validation "
            f"accuracy was still rising at the end in {count(int(rising['rising'].sum()), int(rising['runs'].sum()))} "
            f"(up to {accuracy(rising['val_final_max'].max())}): not a finding, a longer budget may yet see it grok"
        )
    if len(undecided):
        parts.append(
            f"with {named}{listed(undecided)} no run held within {undecided['min_budget'].min():,} steps, which does "
            f"not make 'did not grok' a finding (that needs {analysis.MIN_SEEDS} seeds and a budget of at least "
            f"{analysis.DECIDING_FACTOR}× the baseline's median{by_trend}"
            + (f"; the trend predicts {_predictions(expected.loc[undecided.index])})" if by_trend else ")")
        )
    if len(shadowed):
        open_ = summary.index[summary["median_held"].isna() & ~plain]
        nearer = [b for b in open_ if any(min(v, at) < b < max(v, at) for v in shadowed.index)]
        parts.append(
            f"with {named}{listed(shadowed)} no run held within {shadowed['min_budget'].min():,} steps either, but "
            f"{named}{listed(nearer)} lies between it and the baseline and was left undecided: if grokking keeps "
            "slowing away from the baseline, it needs a longer budget still, so that is not a finding"
        )
    if len(unfit):
        parts.append(
            f"with {named}{listed(unfit)} no run fitted its training set: train accuracy never reached 99% within "
            f"{unfit['min_budget'].min():,} steps (over these runs, final train accuracy at most "
            f"{accuracy(unfit['train_final_max'].max())} and final validation accuracy at most "
            f"{accuracy(unfit['val_final_max'].max())}): the model underfits there, so there is no memorisation for "
            "grokking to follow"
        )
    fell = summary[summary["reached"] > summary["held"]]
    if len(fell):
        parts.append(
            "validation reached 99% without staying there to the end in "
            + ", ".join(
                f"{count(r.reached - r.held, r.runs)} with {named}{label(r.Index)} (in those runs: first at step "
                f"{steps(r.fell_reached)}, median; lowest after: {accuracy(r.fell_lowest)}; {r.fell_dips} dip"
                f"{'s' if r.fell_dips != 1 else ''} below 99% in all)"
                for r in fell.itertuples()
            )
        )
    sentence = "; ".join(parts) or f"no runs for {name or 'these settings'} yet"
    return sentence[0].upper() + sentence[1:] + "."


def _predictions(expected: pd.Series) -> str:
    """`41,500 steps at 0.1 (so 166,000 needed)`: what a trend predicts (3 significant figures), by index, and the
    budget that DECIDING_FACTOR × that needs."""
    return ", ".join(
        f"{rounded(v)} steps at {label(i)} (so {rounded(analysis.DECIDING_FACTOR * v)} needed)"
        for i, v in expected.dropna().items()
    )


def held_range(row) -> str:
    """`2,000; 1,800–2,300`: a summary row's median step to val held and the range over its seeds."""
    spread = "" if row.min_held == row.max_held else f"; {steps(row.min_held)}–{steps(row.max_held)}"
    few = f"; {row.runs} run{'s' if row.runs != 1 else ''}, too few seeds" if row.runs < analysis.MIN_SEEDS else ""
    return steps(row.median_held) + spread + few


def stability(summary: pd.DataFrame, name: str) -> str:
    """Collapses and the lowest val accuracy after first reaching 99%, per setting (the seed's "more stable"), and
    whether the counts tell the settings apart: not when they differ by at most one collapse."""
    parts = [
        f"{name} = {label(r.Index)}: {r.collapses} collapse{'s' if r.collapses != 1 else ''} below 50%, lowest "
        + ("–" if math.isnan(r.lowest_after) else f"{r.lowest_after:.3f}")
        for r in summary.itertuples()
    ]
    spread = summary["collapses"].max() - summary["collapses"].min()
    verdict = (
        f" The counts differ by at most one collapse over {span(summary['runs'], '{:.0f}'.format)} runs a setting: "
        f"too few to tell the settings' stability apart."
        if spread <= 1
        else f" Most collapses with {name} = {label(summary['collapses'].idxmax())}, fewest with {name} = "
        f"{label(summary['collapses'].idxmin())}."
    )
    return "After validation first reached 99%: " + "; ".join(parts) + "." + (verdict if len(summary) > 1 else "")


def delay(held: pd.DataFrame, total: int) -> str:
    """The delay over the runs that held: a median when every run held, else the held runs' range, so labelled."""
    ranged = span(held["delay"], lambda d: f"{d:.3g}×")
    if len(held) == total:
        return (f"**{held['delay'].median():.3g}× later** than train first reached 99% (median delay"
                + ("" if total == 1 else f"; {ranged}") + ")")  # fmt: skip
    return f"a delay of {ranged} in the runs that held"


def grokking(table: pd.DataFrame, by: str = "train_frac") -> str:
    """Per training fraction: train reached, val held and the delay (medians and ranges over seeds), censored runs
    and collapses, as a Markdown list."""
    lines = []
    for value, g in table.groupby(by):
        held = g[~g["censored"]]
        s = analysis.summarise(g.assign(_all=0), "_all").iloc[0]
        line = (
            f"- **Training fraction {label(value)}** ({count(len(g), len(g))}): train accuracy reached 99% at step "
            f"{span(g['train_reached'])}"
        )
        fell = g[g["train_collapses"] > 0]
        if len(fell):
            line += (
                f" but fell below 50% again in {count(len(fell), len(g))}, and held 99% only from step "
                f"{span(g['train_held'])}"
            )
        line += "; "
        if len(held):
            line += (
                f"validation held 99% in {count(len(held), len(g))}, from step {span(held['val_held'])} "
                f"(Kaplan–Meier median over all {len(g)}: {steps(s.median_held, s.budget)}), {delay(held, len(g))}."
            )
        else:
            line += f"validation held 99% in none of them within {int(g['budget'].min()):,} steps."
        coarse = g[g["train_reached"] > g["eval_every"]]
        if len(held) and len(coarse):
            first = coarse["train_reached"].astype(float)
            line += (
                f" Evaluations are {int(g['eval_every'].iloc[0])} steps apart, so train first reached 99% up to "
                f"{int(g['eval_every'].iloc[0]) - 1} steps before the step logged: the delay could be up to "
                f"{(first / (first - coarse['eval_every'] + 1)).max():.2g}× larger."
            )
        fell = g[g["collapses"] > 0]
        if len(fell):
            line += (
                f" Validation accuracy collapsed below 50% after first reaching 99% in {count(len(fell), len(g))} "
                f"(lowest {g['lowest_after'].min():.3f})" + (" and recovered." if fell["censored"].sum() == 0 else ".")
            )
        lines.append(line)
    return "\n".join(lines)


def harder(table: pd.DataFrame, by: str = "p") -> str:
    """Is the larger setting harder? Harder only if a smaller share of its runs held, or the held steps do not
    overlap; otherwise "not clearly harder"."""
    s = analysis.summarise(table, by)
    if len(s) < 2:
        return f"Only {by} = {label(s.index[0])} has runs yet: no comparison." if len(s) else "No runs yet."
    small, large = s.iloc[0], s.iloc[-1]
    lo, hi = s.index[0], s.index[-1]
    share_small, share_large = small.held / small.runs, large.held / large.runs
    if share_large != share_small:
        answer = "harder" if share_large < share_small else "not harder"
    elif not large.held:
        answer = "not comparable (no run held 99% validation accuracy)"
    elif large.min_held > small.max_held or large.max_held < small.min_held:
        answer = "harder" if large.median_held > small.median_held else "easier"
    else:
        answer = "not clearly harder"
    return (
        f"By these runs {by} = {hi} is **{answer}** than {by} = {lo}: validation held 99% in "
        f"{count(large.held, large.runs)} with {by} = {hi}, from step {steps(large.median_held, large.budget)} "
        f"({span(pd.Series([large.min_held, large.max_held]))}), against {count(small.held, small.runs)} with {by} = "
        f"{lo}, from step {steps(small.median_held, small.budget)} ({span(pd.Series([small.min_held, small.max_held]))}); "
        "medians and ranges over seeds"
        + (" (the ranges overlap)." if answer == "not clearly harder" else ".")
    )  # fmt: skip


def overfit(table: pd.DataFrame) -> str:
    """01: per setting, how many runs predict every character at the end, when they first did (runs that never did
    are counted, not dropped), and how often and in how many runs the accuracy fell back afterwards."""
    lines = []
    for setting, g in table.groupby("setting", sort=False):
        never, falls, falling = int(g["first_exact"].isna().sum()), int(g["falls"].sum()), int((g["falls"] > 0).sum())
        lines.append(
            f"- **{setting}**: every character right at the last step in {count(int((g['final_acc'] == 1).sum()), len(g))}"
            f" (final accuracy {span(g['final_acc'], accuracy)}); first all right at step {span(g['first_exact'])}"
            + (f" ({'never' if never == len(g) else f'never in {count(never, len(g))}'})" if never else "")
            + f"; afterwards accuracy fell below 100% in {falls} evaluation{'s' if falls != 1 else ''}"
            + (f", in {count(falling, len(g))}, down to {g['lowest_after'].min():.3f}." if falls else ".")
        )  # fmt: skip
    return "\n".join(lines)


def spikes(table: pd.DataFrame, lr: float, spike_lr: float) -> str:
    """01: the loss spikes of each setting, and whether the learning rate or the schedule removes spikes and falls."""
    groups = dict(list(table.groupby("setting", sort=False)))
    clean = {
        k: g["spikes"].sum() == 0 and g["falls"].sum() == 0 and (g["final_acc"] == 1).all() for k, g in groups.items()
    }
    counts = "; ".join(f"{k}: {int(g['spikes'].sum())}" for k, g in groups.items())
    base = [clean[k] for k, g in groups.items() if (g["lr"] == lr).all()]
    high = [clean[k] for k, g in groups.items() if (g["lr"] == spike_lr).all()]
    if base and high and all(base) and not any(high):
        verdict = (f"At lr {spike_lr:g} every schedule has spikes, falls or an imperfect end; at lr {lr:g} none does: "
                   "the lower learning rate removes them, with either schedule.")  # fmt: skip
    else:
        free = [k for k, ok in clean.items() if ok]
        verdict = f"Free of spikes and falls, and perfect at the end: {' and '.join(free) if free else 'no setting'}."
    return f"Loss spikes (evaluations whose loss is over {analysis.SPIKE}× the lowest before them), per setting: {counts}. {verdict}"


# ----------------------------------------------------------------------------------------------------------------
# Per notebook


def leaks(table: pd.DataFrame) -> str:
    """02: how much of the seed protocol's val and test already sits in train, per prime, against the leak-free
    protocol (a `analysis.leakage` table per protocol and prime, indexed protocol, p, split)."""
    seed = table.loc["seed"].reset_index()
    heldout = seed[seed["split"] != "train"]
    lines = [
        f"- p = {p}: {g.in_train.sum():,} of {g.rows.sum():,} val and test rows ({g.in_train.sum() / g.rows.sum():.1%}) "
        f"also occur in train; {g.repeats.sum():,} repeat within their split; of all "
        f"{seed[seed.p == p].rows.sum():,} rows, {seed[seed.p == p].operand_ge_p.sum():,} use the operand {p}."
        for p, g in heldout.groupby("p")
    ]
    clean = table.loc["leak-free"]
    sizes = ", ".join(f"{int(clean.loc[p].rows.sum()):,} equations for p = {p}" for p in clean.index.unique("p"))
    return (
        "**The seed's protocol leaks** (one draw of it, with seed 0; the seed report's own files are not part of this project).\n"
        + "\n".join(lines)
        + "\n\nA model that memorised train gets those rows "
        f"right without generalising. **The leak-free protocol** has {int(clean.in_train.sum())} shared rows and "
        f"{int(clean.repeats.sum())} repeats, and covers the whole table: {sizes}."
    )


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


def shapes(test: pd.DataFrame) -> str:
    """03: per model shape, the runs that reached 99% test accuracy, and those that did not."""
    parts = []
    for (layers, width), g in test.groupby(["n_layer", "n_embd"]):
        below = g[g["acc"] < THRESHOLD_TEST]
        parts.append(
            f"{layers} layer{'s' if layers > 1 else ''}, {width} wide: test accuracy ≥ 0.99 in "
            f"{count(len(g) - len(below), len(g))}"
            + (
                " (below: " + ", ".join(f"p = {r.p} seed {r.seed}, {r.acc:.3f}" for r in below.itertuples()) + ")"
                if len(below)
                else ""
            )
        )
    return "; ".join(parts) + "."


THRESHOLD_TEST = analysis.THRESHOLD


def seed_size(table: pd.DataFrame, n_train: int, p: int, seed_accuracy: float | None = None) -> str:
    """03: the seed report's training-set size, trained long on the leak-free split, beside the seed report's test
    accuracy at that size (`seed_accuracy`, when it has one for p). Whether the size explains the seed's numbers
    is said only as far as these runs show it."""
    held = table[~table["censored"]]
    text = (
        f"With {n_train:,} training equations, train accuracy reached 99% in {count(int(table.train_reached.notna().sum()), len(table))}"
        f" (step {span(table['train_reached'])}); validation accuracy held 99% in {count(len(held), len(table))}"
        + (f" (from step {span(held['val_held'])})" if len(held) else "")
        + f" within {table['budget'].max():,} steps, and ended at {span(table['val_final'], accuracy)} (chance: {1 / p:.3f})."
    )  # fmt: skip
    rising = table[table["censored"] & (table["val_gain"] > analysis.RISING)]
    if len(rising):
        text += (f" Validation accuracy was still rising at the end in {count(len(rising), len(table))} (by up to "
                 f"{rising['val_gain'].max():.3f} over the last quarter of the run): a longer budget may yet see it "
                 "grok.")  # fmt: skip
    if len(held):
        return text + " A model of this size generalises from the seed's amount of data when trained long enough."
    if seed_accuracy is not None and table["val_final"].max() < seed_accuracy:
        text += (
            f" That is below the seed report's {seed_accuracy:.3f} at this size: these runs do not show that the seed's "
            "accuracies were low because its training set was small (its split leaks, 02_data, and its model and "
            "measure differ), and this report does not claim it."
        )
    return text


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


REBOUND = 1.2  # the weight norm "rose again" when it climbed 20% above its lowest point


def loss_peak(metrics: pd.DataFrame, p: int, by: str = "train_frac", name: str = "training fraction") -> str:
    """04: the loss view of memorisation, per setting: validation loss from its start up to its highest point
    after train accuracy first reached 99% (and the train loss there), then where it ended; uniform guessing over
    the p residues has loss ln p."""
    rows = []
    for _, m in metrics.groupby("run", sort=False):
        val, train = (analysis._series(m, split).set_index("step")["loss"] for split in ("val", "train"))
        fitted = analysis.reached(m, "train")
        after = val[val.index >= fitted] if fitted is not None else val.iloc[:0]
        peak = after.idxmax() if len(after) else math.nan
        rows.append({by: m[by].iloc[0], "start": val.iloc[0], "peak": after.max(), "step": peak,
                     "train": train.get(peak, math.nan), "end": val.iloc[-1]})  # fmt: skip
    loss = lambda v: f"{v:.3g}"  # noqa: E731
    lines = [
        f"- **{label(value)}**: validation loss started at {span(t['start'], loss)}; after train accuracy reached "
        f"99% it stood highest at {span(t['peak'], loss)} (step {span(t['step'])}; train loss there "
        f"{span(t['train'], loss)}), and it ended at {span(t['end'], loss)}."
        for value, t in pd.DataFrame(rows).groupby(by, sort=False)
    ]
    return (
        f"Loss (cross-entropy; guessing uniformly among the {p} residues gives ln {p} = {math.log(p):.3g}), per "
        f"{name}:\n" + "\n".join(lines)
    )


def progress(table: pd.DataFrame, metrics: pd.DataFrame, measures: pd.DataFrame, by: str = "train_frac") -> str:
    """04: Nanda et al.'s progress measures read off every run, per value of `by`: where the total weight norm had its
    lowest point against the step at which validation held, what it did after, and the key-frequency share at train
    99%, at val held and at the end (ranges over the runs)."""
    rows = []
    for r in table.itertuples():
        norm = _series_of(metrics, r.run, "weight_norm")
        share = measures[measures["run"] == r.run].set_index("step")["key_share"]
        later = norm.loc[norm.idxmin() :]
        rows.append({by: getattr(r, by), "start": norm.iloc[0], "lowest": norm.min(), "lowest_at": norm.idxmin(),
                     "peak": later.max(), "peak_at": later.idxmax(), "end": norm.iloc[-1], "before_held": not pd.isna(r.val_held) and norm.idxmin() < r.val_held,
                     "share_train": _at(share, r.train_reached), "share_held": _at(share, r.val_held), "share_end": share.iloc[-1]})  # fmt: skip
    lines = []
    for value, g in pd.DataFrame(rows).groupby(by, sort=False):
        rebound = g[g["peak"] > REBOUND * g["lowest"]]
        fell = rebound[rebound["end"] < rebound["peak"] / REBOUND]
        lines.append(
            f"- **{label(value)}**: the weight norm fell from {span(g['start'], '{:.0f}'.format)} to its lowest, "
            f"{span(g['lowest'], '{:.0f}'.format)}, at step {span(g['lowest_at'])}, {_before(g['before_held'])}"
            + (
                f"; it then rose again in {count(len(rebound), len(g))}, to {span(rebound['peak'], '{:.0f}'.format)} "
                f"at step {span(rebound['peak_at'])}"
                + (f", and fell back by the end in {count(len(fell), len(rebound))}" if len(fell) else "")
                if len(rebound)
                else ""
            )
            + f"; it ended at {span(g['end'], '{:.0f}'.format)}"
            + f". The key-frequency share was {span(g['share_train'], '{:.0%}'.format)} at train 99%, {span(g['share_held'], '{:.0%}'.format)} "
            f"when validation held and {span(g['share_end'], '{:.0%}'.format)} at the end."
        )
    return "\n".join(lines)


def _before(before: pd.Series) -> str:
    """Where the weight norm's lowest point came, against the step at which validation held."""
    if before.all():
        return "before validation held, in every run"
    if not before.any():
        return "at or after the step at which validation held, in every run"
    return f"before validation held in {count(int(before.sum()), len(before))}"


def _at(series: pd.Series, step) -> float:
    """series at a step, NaN for no step (a censored crossing) or a step it lacks."""
    return math.nan if pd.isna(step) else float(series.get(int(step), math.nan))


def _series_of(metrics: pd.DataFrame, run: str, column: str) -> pd.Series:
    """One run's train-split `column` by step."""
    m = metrics[(metrics["run"] == run) & (metrics["split"] == "train")]
    return m.set_index("step")[column].sort_index()


def still_wrong(answers: pd.DataFrame) -> str:
    """04: the equations a run still answers wrong (a `sample.right_or_wrong` table), per split, and the true answer
    most of them share, with how many of that answer's equations are wrong in each split."""
    wrong = answers[~answers["right"]]
    if wrong.empty:
        return f"At the end the run answers all {len(answers):,} equations of the table right."
    splits = ", ".join(f"{n} {split}" for split, n in wrong["split"].value_counts().items())
    top, n = wrong["c"].value_counts().index[0], int(wrong["c"].value_counts().iloc[0])
    same = answers[answers["c"] == top]
    line = " (the diagonal a = b of the figure)" if (same["a"] == same["b"]).all() else ""
    per_split = ", ".join(f"{int((~g['right']).sum())} of its {len(g)} {split}" for split, g in same.groupby("split"))
    return (
        f"At the end the run answers {len(wrong)} of the table's {len(answers):,} equations wrong ({splits}); {n} of them have "
        f"the true answer {top}{line}: {per_split} equations are wrong."
    )


def fourier_keys(runs: list) -> str:
    """04: per run, the key frequencies of the final embedding and the share of the squared norm they hold at the
    end, against the share the same frequencies held when train accuracy, then validation accuracy, first reached
    99%."""
    from grokgpt import fourier

    lines = []
    for run in runs:
        spectra = run.fourier
        end = spectra[spectra["step"] == spectra["step"].max()]
        keys = fourier.key_frequencies(end)
        earlier = [
            f"{fourier.key_share(spectra[spectra['step'] == step], keys):.0%} at {split} 99% (step {step:,})"
            for split in ("train", "val")
            if (step := analysis.reached(run.metrics, split)) is not None
        ]
        lines.append(
            f"- train fraction {run.config['data']['fractions'][0]:g}, seed {run.config['train']['seed']}: "
            f"{len(keys)} of {len(end) - 1} frequencies (k = {', '.join(map(str, keys)) or 'none'}) hold "
            f"**{fourier.key_share(end, keys):.0%}** of the non-constant squared norm at the end"
            + (f", against {' and '.join(earlier)}." if earlier else ".")
        )
    return (
        "Key frequencies: those above twice an even share of the final embedding's squared norm. They are chosen at "
        "the end, so their share there is high by construction; the same frequencies' share when train, then "
        "validation, accuracy first reached 99% is the comparison. The runs stop soon after validation held, so "
        "the end is not a finished clean-up: Nanda et al. count about five key frequencies after much longer "
        "training.\n" + "\n".join(lines)
    )


def baseline(base: pd.DataFrame, median: float, reference: pd.DataFrame | None = None) -> str:
    """05: the baseline cell and what its median makes of the budgets, beside `reference` (04's crossings at the
    same training fraction, on the paper preset) when given."""
    if base.empty:
        return "**Baseline**: its runs are not computed yet, so no setting can be called 'did not grok'."
    budget = int(base["budget"].max())
    times = lambda d: f"{d:.3g}×"  # noqa: E731
    beside = (
        f" On 04's 2-layer preset at the same fraction ({len(reference)} runs), train reached 99% at "
        f"step {span(reference['train_reached'])} and validation held from {span(reference['val_held'])}, a delay of "
        f"{span(reference['delay'], times)}."
        if reference is not None and len(reference)
        else ""
    )
    return (
        f"**Baseline** ({len(base)} runs): validation held 99% in {count(int((~base.censored).sum()), len(base))}, "
        f"from step {steps(median, budget)} (Kaplan–Meier median; {span(base['val_held'])}); train reached 99% at step "
        f"{span(base['train_reached'])}, a delay of {span(base['delay'], times)}.{beside} Every run's budget is "
        f"{budget:,} steps" + (f", {budget / median:.3g}× the baseline's median." if not math.isnan(median) else ".")
    )  # fmt: skip


def fit(summary: pd.DataFrame, params: tuple[float, float]) -> str:
    """The power law fitted through a summary's medians (by training fraction), the fractions it rests on, and how
    well it fits them (R² of log steps)."""
    a, b = params
    known = analysis.trend_points(summary)
    return (
        f"Fitted through the medians of the {len(known)} fractions where most of at least {analysis.MIN_SEEDS} runs "
        f"held ({span(pd.Series(known.index), label)}): "
        f"steps to val held ≈ {a:,.4g} · fraction^{b:.3g}, R² {analysis.log_r2(known.index, known, a, b):.2f} on log–log axes."
    )


def fit_caption(summary: pd.DataFrame, fraction: float) -> str:
    """The caption of `plots.fraction_fit`."""
    return (
        f"**Figure.** Kaplan–Meier median steps to val held per training fraction (dots; bars: the range over the seeds "
        f"that held), {int(summary['runs'].sum())} runs on log–log axes; open triangles: fractions without a median (most "
        f"runs did not hold), drawn at their budget; crosses: fractions where most runs reached 99% but did not stay "
        f"there, drawn at the median step they first did; dashed: the power law fitted through the medians; star: "
        f"where it puts the seed report's fraction, {fraction:.3g}."
    )


def phase_caption(summary: pd.DataFrame) -> str:
    """The caption of `plots.phase`, with the runs and seeds per cell."""
    return (
        f"**Figure.** {int(summary['runs'].sum())} runs, {span(summary['runs'], '{:.0f}'.format)} seeds a cell: each "
        "cell gives the runs that held of those run and the Kaplan–Meier median step to val held (colour, log scale); "
        "grey cells have no median (most runs did not hold within the budget: `> budget`), hatched ones never fitted "
        "their training set (train accuracy below 99% throughout)."
    )


def phase(summary: pd.DataFrame, baseline_median: float, expected: pd.Series | None = None) -> str:
    """05: the phase diagram in words: where every run held, where some, where none (and whether that is decided,
    by `analysis.decided`: `expected` holds what the fraction trend predicts per cell, or None)."""
    decided = analysis.decided(summary, baseline_median, expected)
    by_trend = (
        "" if expected is None else f" and ≥ {analysis.DECIDING_FACTOR}× what (c)'s trend predicts at its fraction"
    )

    def cells(rows: pd.DataFrame) -> str:
        return ", ".join(f"({f:g}, {wd:g})" for f, wd in rows.index)

    every = summary[summary["held"] == summary["runs"]]
    some = summary[(summary["held"] > 0) & (summary["held"] < summary["runs"])]
    none = summary[summary["held"] == 0]
    parts = []
    if len(every):
        fastest = every["median_held"].idxmin()
        parts.append(f"every run held grokking in {cells(every)}; fastest in {cells(every.loc[[fastest]])}, median "
                     f"{steps(every.at[fastest, 'median_held'])} steps")  # fmt: skip
    if len(some):
        parts.append(f"some runs held in {cells(some)}")
    unfit, none = none[none["fitted"] == 0], none[none["fitted"] > 0]
    found, open_ = none[decided.loc[none.index]], none[~decided.loc[none.index]]
    if len(found):
        parts.append(f"no run held in {cells(found)}, a finding (≥ {analysis.MIN_SEEDS} seeds, a budget ≥ "
                     f"{analysis.DECIDING_FACTOR}× the baseline's median{by_trend}, no run still rising)")  # fmt: skip
    rising, short = open_[open_["rising"] > 0], open_[open_["rising"] == 0]
    if len(rising):
        parts.append(f"no run held in {cells(rising)} within {rising['min_budget'].min():,} steps, but validation "
                     "accuracy was still rising at the end in some run, so that is not decided")  # fmt: skip
    if len(short):
        at = (
            ""
            if expected is None
            else "; (c)'s trend, measured at the baseline's weight decay only, predicts "
            f"{_predictions(expected.loc[short.index].groupby(level=0).first())}"
        )
        parts.append(f"no run held in {cells(short)} within {short['min_budget'].min():,} steps, which does not "
                     f"decide them (that needs ≥ {analysis.MIN_SEEDS} seeds and a budget ≥ "
                     f"{analysis.DECIDING_FACTOR}× the baseline's median{by_trend}{at})")  # fmt: skip
    if len(unfit):
        parts.append(f"no run fitted its training set in {cells(unfit)} (train accuracy stayed below 99%: the model "
                     "underfits there, so there is no memorisation to grok from)")  # fmt: skip
    return "Cells are (training fraction, weight decay): " + ("; ".join(parts) or "no runs yet") + "."


def seed_question(
    table: pd.DataFrame,
    fitted: tuple[float, float] | None,
    fraction: float,
    baseline_median: float,
    fractions: pd.DataFrame | None = None,
) -> str:
    """05 (f): did the seed report's setting grok when trained long, and what the fraction trend of (c) predicts
    (`fractions`: (c)'s summary, to check the trend below the fractions it was fitted on). "Did not grok" is a
    finding only when the budget is at least DECIDING_FACTOR × the baseline's median held step and, when there is a
    trend, DECIDING_FACTOR × its prediction, and no fraction below its range contradicts it (no run held within a
    budget longer than the fit predicts there)."""
    s = analysis.summarise(table.assign(_all=0), "_all")
    held, budget = table[~table["censored"]], int(table["budget"].min())
    a, b = fitted if fitted else (math.nan, math.nan)
    predicted = a * fraction**b if fitted else None
    contradicted = pd.DataFrame()
    if fitted and fractions is not None and fractions["median_held"].notna().any():
        lowest_fitted = fractions["median_held"].dropna().index.min()
        below = fractions[(fractions.index < lowest_fitted) & fractions["median_held"].isna()]
        contradicted = below[a * below.index.to_numpy(dtype=float) ** b < below["min_budget"]]
    sentence = (
        f"Trained for up to {budget:,} steps, the seed's setting reached 99% train accuracy in "
        f"{count(int(table.train_reached.notna().sum()), len(table))} (step {span(table['train_reached'])}) and held "
        f"99% validation accuracy in **{count(len(held), len(table))}**"
    )
    trend = (
        f"the training-fraction trend of (c), extrapolated to {fraction:.3g} of the table, predicts about {rounded(predicted)} "
        "steps (for (c)'s preset: 1 layer and batch 512 against the seed's 2 layers and batch 250, and beyond the "
        "fractions it was fitted on)"
        + (
            "; but below its range it is not borne out: at "
            + ", ".join(f"fraction {label(f)} it predicts {rounded(a * f**b)}" for f in contradicted.index)
            + f" steps, and no run there held within {int(contradicted['min_budget'].min()):,}, so the steps needed "
            "at the seed's size are likely more than it predicts"
            if len(contradicted)
            else ""
        )
    )
    if len(held):
        sentence += f", from step {span(held['val_held'])}: trained this long, it groks"
        return sentence + (f"; {trend}." if fitted else ".")
    sentence += f" (final {span(table['val_final'], accuracy)})"
    by_rule = bool(analysis.decided(s, baseline_median).iloc[0])
    trusted = fitted is not None and contradicted.empty
    if by_rule and trusted and budget >= analysis.DECIDING_FACTOR * predicted:
        return sentence + (
            f": **it did not grok** within {budget:,} steps, {budget / baseline_median:.3g}× the baseline's median"
            + (f", and {trend}" if fitted else "")
            + ": a finding, not the budget."
        )
    if by_rule:
        return sentence + (
            f": it did not grok within {budget:,} steps, {budget / baseline_median:.3g}× the baseline's median; but "
            + (f"{trend}. So" if fitted else "without a trend of (c) to say how long this size needs,")
            + f" a budget of {budget:,} steps cannot decide whether it would grok later: **the seed's question stays "
            f"open beyond {budget:,} steps**."
        )
    return sentence + (
        f" within {budget:,} steps; with the baseline's median unknown or too few seeds, that does not yet make "
        "'did not grok' a finding" + (f"; {trend}." if fitted else ".")
    )


SEED_EPOCHS = 60_000  # quoted from the seed report's division run (500 equations, batch 250)


def speedup(table: pd.DataFrame) -> str:
    """05 (e): per weight decay, Grokfast's speed-up: the median step to val held without it over the median with it
    (Kaplan–Meier medians, so censored runs count), whether the ranges over seeds overlap, or, where an arm has no
    median, where validation accuracy ended and whether it was still rising. Whether a weight decay groks at all
    without Grokfast is (b)'s question, not decided here."""

    def ended(r) -> str:
        rising = f" (still rising in {count(r.rising, r.runs)})" if r.rising else ""
        return f"{span(pd.Series([r.val_final_min, r.val_final_max]), accuracy)}{rising}"

    s = analysis.summarise(table, ["weight_decay", "grokfast_lamb"])
    parts = []
    for wd, g in s.groupby(level="weight_decay"):
        if len(g) < 2:
            continue
        off, on = g.iloc[0], g.iloc[-1]  # grokfast_lamb 0 sorts first
        if math.isnan(off.median_held) and math.isnan(on.median_held):
            held_any = "no run held in either arm" if off.held + on.held == 0 else "most runs held in neither arm"
            apart = (
                ": the ranges do not overlap, so Grokfast had validation further ahead in every run, though not held"
                if on.val_final_min > off.val_final_max
                else ""
            )
            parts.append(
                f"at weight decay {wd:g} {held_any} within {int(g['min_budget'].min()):,} steps; validation "
                f"accuracy ended without Grokfast at {ended(off)}, with it at {ended(on)}{apart}"
            )
        elif math.isnan(on.median_held) or math.isnan(off.median_held):
            held_, other = (on, off) if math.isnan(off.median_held) else (off, on)
            parts.append(
                f"at weight decay {wd:g} most runs held only {'with' if held_ is on else 'without'} Grokfast "
                f"({held_range(held_)}); {'without' if held_ is on else 'with'} it validation accuracy ended at "
                f"{ended(other)}"
            )
        else:
            overlap = on.min_held <= off.max_held and off.min_held <= on.max_held
            parts.append(
                f"at weight decay {wd:g} median {steps(off.median_held)} steps without and {steps(on.median_held)} with "
                f"Grokfast: {off.median_held / on.median_held:.2g}×"
                + (
                    f" (the ranges over seeds overlap: {held_range(off)} without, {held_range(on)} with)"
                    if overlap
                    else ""
                )
            )
    text = "; ".join(parts)
    return f"Grokfast's speed-up (median steps to val held without ÷ with): {text}." if text else ""


def limitations(table: pd.DataFrame, params: dict) -> str:
    """05: what this study cannot say, with its own numbers."""
    per_setting = table.groupby(["train_frac", "weight_decay", "warmup_steps", "grokfast_lamb"])["seed"].nunique()
    held = table[~table["censored"]]
    budgets = span(table["budget"])
    fits = table.groupby("weight_decay")["train_reached"].count()
    underfit = fits.index[fits == 0]
    return "\n".join(
        [
            f"- **Seeds.** {span(per_setting)} seed(s) a setting: medians and ranges over so few runs are coarse"
            + (
                f"; among the runs that held, the steps to val held span {span(held['val_held'])}."
                if len(held)
                else "."
            ),
            f"- **Resolution.** Accuracy is evaluated every {params['eval_every']} steps (the seed question's runs every "
            f"{params['seed_eval_every']}); every step count here is a multiple of that, and a dip between two "
            "evaluations is not seen.",
            f"- **Held.** 'Held' means 99% at every evaluation for at least {params['stop_after']:,} steps to the end of "
            f"the run ({params['seed_stop_after']:,} for the seed question's runs), which then stops: a dip after that "
            "would not be seen.",
            f"- **Preset.** The ablations use {params['n_layer']} block(s) at lr {params['lr']:g}, 04 uses the paper "
            "preset; the two are compared only through the baseline above"
            + (
                f". At weight decay {', '.join(map(label, underfit))} this preset never fitted its training set in any "
                "run: it cannot say what such heavy weight decay does to grokking, and whether the paper preset would "
                "fit there is not measured."
                if len(underfit)
                else "."
            ),
            f"- **Budget.** {count(int(table['censored'].sum()), len(table))} are censored at their budget of {budgets} "
            "steps; what they would do later is not known.",
            f"- **The seed's question.** The seed report says it trained {SEED_EPOCHS:,} epochs; at batch "
            f"{params['seed_batch_size']} of {params['seed_train_size']} equations that is "
            f"{SEED_EPOCHS * params['seed_train_size'] // params['seed_batch_size']:,} steps if an epoch is one pass over "
            f"its data. The runs of (f) go to {params['seed_max_steps']:,} steps, "
            f"{params['seed_max_steps'] * params['seed_batch_size'] // params['seed_train_size']:,} such epochs.",
        ]
    )


# ----------------------------------------------------------------------------------------------------------------
# Settings tables and captions

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


def sweep_caption(table: pd.DataFrame, name: str) -> str:
    """The caption of a `plots.sweep` figure, with its counts."""
    censored = int(table["censored"].sum())
    return (
        f"**Figure.** Steps to val held 99% (filled, one marker per seed; the line joins their medians over the runs "
        f"that held) and to train 99% (crosses; none where train never reached 99%) for each {name}, {len(table)} runs; "
        + (
            f"open red triangles are the {censored} censored runs, drawn at their last step: they had not held by then."
            if censored
            else "no run was censored."
        )
    )


STEADY = 1.2  # per-step times whose runs spread by at most this factor are taken as measured under one load


def cost_ratio(cheap: list, reference: list) -> str:
    """05: the seconds per training step of its preset against 04's paper preset, as the runs logged them
    (evaluation included). Wall-clock times depend on what else shared the cores: the ratio of the medians is
    given only when each preset's runs agree within STEADY; otherwise only what the ranges show."""

    def per_step(runs: list) -> pd.Series:
        return pd.Series([r.metrics["elapsed_s"].max() / max(r.metrics["step"].max(), 1) for r in runs]) * 1000

    if not cheap or not reference:
        return "(04's runs are not all computed yet: no cost comparison.)"
    a, b = per_step(cheap), per_step(reference)
    ms = "{:.3g}".format
    text = (
        f"A step of this preset took {span(a, ms)} ms ({len(a)} runs) against {span(b, ms)} ms for 04's 2-layer "
        f"preset ({len(b)} runs), evaluation included, in wall-clock time as logged"
    )
    if max(a.max() / a.min(), b.max() / b.min()) <= STEADY:
        return text + f": about **{b.median() / a.median():.2g}× cheaper** (ratio of the medians)."
    verdict = (
        "so this preset is cheaper, but the logs cannot say by how much"
        if a.max() < b.min()
        else "so the logs do not resolve which preset is cheaper"
    )
    return (
        text + f". Each preset's runs shared the cores with other work to different degrees (their times spread by "
        f"up to {max(a.max() / a.min(), b.max() / b.min()):.2g}×), {verdict}: `python benchmarks/grok_speed.py` "
        "measures both on an idle machine."
    )
