"""Analysis of finished runs: the study's words, defined once, and the tables built from them.

The words (DESIGN.md, "Words the study uses"), for one split of one run, evaluated every `eval_every` steps:
- reached: the first evaluation at >= 99% accuracy;
- held: the first evaluation from which accuracy stays >= 99% at every later evaluation to the end of the run,
  with the run going on for at least `window` steps after it (the run's `stop_after`, which early stopping waits:
  a run is stopped only once it has shown this). No dip is tolerated: a run that falls below 99% for one
  evaluation holds only from its recovery on, and the dips are counted separately;
- delay: held val step ÷ reached train step;
- collapse: a fall below 50% after reaching 99% (each fall counted once);
- a run's threshold is its own `stop_acc` (the accuracy its early stop watched), THRESHOLD when it had none: a
  notebook that stops at 95% is analysed at 95%;
- censored: a run that ended without val held. It stays in every summary, at "> its last step"; medians over
  runs are Kaplan–Meier medians, which count a censored run as "not yet" up to its last step: the median is the
  first step at which the estimated share of runs not yet held falls to one half, so there is none when more
  than half of the runs are censored.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

THRESHOLD = 0.99  # "at 99%": reached and held
COLLAPSE = 0.5  # "a fall below 50%" after reaching 99%
DECIDING_FACTOR = 4  # a cell is "did not grok" only if tried for >= 4× the baseline's median held step ...
MIN_SEEDS = 3  # ... on at least this many seeds
RISING = 0.02  # ... and no censored run's validation accuracy rose by more than this over its last quarter


def _series(metrics: pd.DataFrame, split: str) -> pd.DataFrame:
    return metrics[metrics["split"] == split].sort_values("step")


def reached(metrics: pd.DataFrame, split: str, acc: float = THRESHOLD) -> int | None:
    """The first evaluated step at which `split` accuracy was >= acc, or None."""
    hit = metrics[(metrics["split"] == split) & (metrics["acc"] >= acc)]
    return int(hit["step"].min()) if len(hit) else None


def held(metrics: pd.DataFrame, split: str, window: int, acc: float = THRESHOLD) -> int | None:
    """The first evaluated step from which `split` accuracy stayed >= acc to the end, if the run went on for at
    least `window` steps after it; else None (not held, or not shown to hold)."""
    m = _series(metrics, split)
    return held_from(m["step"].to_numpy(), m["acc"].to_numpy(), window, acc)


def held_from(steps, accs, window: int, acc: float = THRESHOLD) -> int | None:
    """`held` on one split's evaluations in step order (sequences of steps and accuracies): the rule itself, which
    training's early stop applies to the evaluations so far (a run stops as soon as it has held)."""
    accs = np.asarray(accs, dtype=float)
    if not len(accs) or accs[-1] < acc:
        return None
    below = np.flatnonzero(accs < acc)
    start = int(steps[below[-1] + 1 if len(below) else 0])
    return start if int(steps[-1]) - start >= window else None


def collapses(metrics: pd.DataFrame, split: str, below: float = COLLAPSE, acc: float = THRESHOLD) -> list[int]:
    """The evaluated steps at which `split` accuracy fell below `below` after first reaching acc (one entry per
    fall, not per evaluation spent down)."""
    first = reached(metrics, split, acc)
    if first is None:
        return []
    after = _series(metrics, split).query("step > @first")
    down = after["acc"] < below
    return after["step"][down & ~down.shift(fill_value=False)].astype(int).tolist()


def late_gain(metrics: pd.DataFrame, split: str) -> float:
    """How much `split` accuracy rose over the last quarter of the run: the last evaluation's accuracy minus the
    accuracy at the last evaluation at or before 3/4 of the last step (NaN without evaluations)."""
    m = _series(metrics, split)
    if m.empty:
        return math.nan
    earlier = m[m["step"] <= 0.75 * m["step"].iloc[-1]]
    return float(m["acc"].iloc[-1] - (earlier["acc"].iloc[-1] if len(earlier) else m["acc"].iloc[0]))


def final(metrics: pd.DataFrame) -> pd.DataFrame:
    """The metrics at the last evaluated step of one run, one row per split."""
    return metrics[metrics["step"] == metrics["step"].max()].set_index("split")[["step", "loss", "acc"]]


def last_evaluation(metrics: pd.DataFrame) -> pd.DataFrame:
    """The rows of a `runs.collect` table at each run's last evaluated step (one per run and split)."""
    return metrics[metrics["step"] == metrics.groupby("run")["step"].transform("max")]


# ----------------------------------------------------------------------------------------------------------------
# Many runs: one row per run, then summaries that keep the censored runs


def crossings(metrics: pd.DataFrame, keep: list[str] | None = None) -> pd.DataFrame:
    """One row per run of a `runs.collect` table: train_reached, train_held, the train collapses after train first
    reached 99%, val_reached, val_held (NaN: censored), delay, last_step, budget (max_steps), eval_every, the val
    collapses and dips below 99% after val first reached it, the lowest val accuracy after that, the final train
    and val accuracy, the seconds to val held and the milliseconds per step (wall-clock, evaluation included, as
    logged). `keep` names settings to carry."""
    rows = []
    for run, m in metrics.groupby("run", sort=False):
        first = m.iloc[0]
        window = int(first["stop_after"]) if "stop_after" in m else 0
        acc = threshold(first)
        train_reached, val_reached = reached(m, "train", acc), reached(m, "val", acc)
        val_held = held(m, "val", window, acc)
        after = _series(m, "val").query("step >= @val_reached") if val_reached is not None else m.iloc[:0]
        dips = (after["acc"] < acc) & ~(after["acc"] < acc).shift(fill_value=False)
        rows.append(
            {
                **{k: first[k] for k in keep or []},
                "run": run,
                "train_reached": train_reached,
                "threshold": acc,
                "train_held": held(m, "train", window, acc),
                "train_collapses": len(collapses(m, "train", acc=acc)),
                "val_reached": val_reached,
                "val_held": val_held,
                "delay": val_held / train_reached if val_held is not None and train_reached else math.nan,
                "last_step": int(m["step"].max()),
                "budget": int(first["max_steps"]) if "max_steps" in m else int(m["step"].max()),
                "eval_every": int(first["eval_every"]) if "eval_every" in m else math.nan,
                "collapses": len(collapses(m, "val", acc=acc)),
                "dips": int(dips.sum()),
                "lowest_after": float(after["acc"].min()) if len(after) else math.nan,
                "train_final": float(_series(m, "train")["acc"].iloc[-1])
                if (m["split"] == "train").any()
                else math.nan,
                "val_final": float(_series(m, "val")["acc"].iloc[-1]) if (m["split"] == "val").any() else math.nan,
                "val_gain": late_gain(m, "val"),
                "seconds": float(m[m["step"] == val_held]["elapsed_s"].iloc[0]) if val_held is not None else math.nan,
                "ms_per_step": float(m["elapsed_s"].max() / max(int(m["step"].max()), 1) * 1000),
            }
        )
    out = pd.DataFrame(rows)
    out["censored"] = out["val_held"].isna()
    return out.astype({k: "Float64" for k in ("train_reached", "train_held", "val_reached", "val_held")})


def threshold(row) -> float:
    """A run's threshold for reached and held: its config's stop_acc, or THRESHOLD for a run without one."""
    value = row.get("stop_acc") if hasattr(row, "get") else None
    return THRESHOLD if value is None or pd.isna(value) else float(value)


def km_median(steps: pd.Series, censored: pd.Series, last: pd.Series) -> float:
    """The Kaplan–Meier median of the step at which an event happened: runs with censored True count as
    "not yet" up to their `last` step. The median is the first event step at which the estimated share still
    waiting falls to one half or below; NaN when it never does (more than half of the runs censored)."""
    times = np.where(censored, last, steps).astype(float)
    events = ~np.asarray(censored, dtype=bool)
    survival = 1.0
    for t in np.unique(times[events]):
        at_risk = (times >= t).sum()
        survival *= 1 - (events & (times == t)).sum() / at_risk
        if survival <= 0.5:
            return float(t)
    return math.nan


def summarise(table: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Per setting: runs, fitted (train reached 99%), reached (val reached 99%) and the median step it did, held
    (val held), censored, the Kaplan–Meier median and the range of val held over the runs that held, the median
    train reached, the delay's median, val collapses and dips below 99% after reaching it, the lowest val accuracy
    after that, runs still rising, the range of final val accuracy, the best final train accuracy, and the budget;
    for the runs that reached 99% without holding it (`fell_*`): the median step they first reached it, their dips
    below 99% and their lowest val accuracy after it. Censored runs are counted, never dropped."""
    groups = table.groupby(by, sort=True)
    fell = lambda g: g[g["val_reached"].notna() & g["censored"]]  # noqa: E731
    out = groups.apply(
        lambda g: pd.Series(
            {
                "runs": len(g),
                "fitted": int(g["train_reached"].notna().sum()),
                "reached": int(g["val_reached"].notna().sum()),
                "val_reached": g["val_reached"].astype(float).median(),
                "held": int((~g["censored"]).sum()),
                "censored": int(g["censored"].sum()),
                "median_held": km_median(g["val_held"].astype(float), g["censored"], g["last_step"]),
                "min_held": g["val_held"].astype(float).min(),
                "max_held": g["val_held"].astype(float).max(),
                "train_reached": g["train_reached"].astype(float).median(),
                "delay": g["delay"].median(),
                "collapses": int(g["collapses"].sum()),
                "dips": int(g["dips"].sum()),
                "rising": int((g["censored"] & (g["val_gain"] > RISING)).sum()),
                "val_final_min": g["val_final"].min(),
                "val_final_max": g["val_final"].max(),
                "train_final_max": g["train_final"].max(),
                "lowest_after": g["lowest_after"].min(),
                "budget": int(g["budget"].max()),
                "min_budget": int(g["budget"].min()),
                "fell_reached": fell(g)["val_reached"].astype(float).median(),
                "fell_dips": int(fell(g)["dips"].sum()),
                "fell_lowest": fell(g)["lowest_after"].min(),
            }
        ),
        include_groups=False,
    )
    counts = ("runs", "fitted", "reached", "held", "censored", "collapses", "dips", "budget", "min_budget", "fell_dips")
    return out.astype({k: int for k in counts})


def _need(summary: pd.DataFrame, baseline_median: float, expected: pd.Series | None) -> pd.Series:
    """Per row of a summary, the steps that a budget is measured against: the larger of the baseline's median and
    the row's predicted steps (a NaN prediction, a weight decay without a slow-down, leaves NaN: nothing decides)."""
    need = pd.Series(float(baseline_median), index=summary.index)
    if expected is not None:
        need = pd.concat([need, expected.reindex(summary.index)], axis=1).max(axis=1, skipna=False)
    return need


def decided(
    summary: pd.DataFrame, baseline_median: float, expected: pd.Series | None = None, at: float | None = None
) -> pd.Series:
    """Per row of a summary: whether "did not grok" is a finding there, not a statement about the budget: every run
    censored, at least MIN_SEEDS runs, the shortest budget at least DECIDING_FACTOR × the baseline's median held
    step (never, while the baseline has no median) and, where `expected` gives the steps a trend predicts for the
    row (`predicted`), at least DECIDING_FACTOR × those too, and no run still rising at the end (validation accuracy
    up by more than RISING over the last quarter of its run). In a sweep of one ordered setting whose baseline is
    at `at`, a row is decided only if no row between it and the baseline was left without a median and undecided:
    if grokking keeps slowing away from the baseline, a row further out needs a longer budget still."""
    need = _need(summary, baseline_median, expected)
    long_enough = summary["min_budget"] >= DECIDING_FACTOR * need  # False for a NaN median
    ok = (summary["held"] == 0) & (summary["runs"] >= MIN_SEEDS) & long_enough & (summary["rising"] == 0)
    return ok if at is None else ok & ~beyond(summary, summary["median_held"].isna() & ~ok, at)


def beyond(summary: pd.DataFrame, blocks: pd.Series, at: float) -> pd.Series:
    """Per row of a summary indexed by one ordered setting: whether a row where `blocks` is True lies strictly
    between it and the value `at`."""
    x = summary.index.to_numpy(dtype=float)
    between = (np.minimum(x[:, None], at) < x[None, :]) & (x[None, :] < np.maximum(x[:, None], at))
    return pd.Series((between & blocks.to_numpy(dtype=bool)[None, :]).any(axis=1), index=summary.index)


OUTCOMES = ("held", "some", "rising", "did not grok", "beyond", "underfit")  # the order a table sorts them in


def outcomes(
    summary: pd.DataFrame, baseline_median: float, expected: pd.Series | None = None, at: float | None = None
) -> pd.DataFrame:
    """Per row of a summary, its outcome, the one decision every table and conclusion reads:
    - held: every run held; some: some but not all did;
    - underfit: no run's train accuracy reached the threshold (nothing memorised, nothing to grok from);
    - rising: none held and some run's val accuracy was still rising at the end (a longer budget may see it);
    - did not grok: the finding rule (`decided`) holds: none held within a budget that could have shown it;
    - beyond: none held, but the budget could not decide; `needed` is the budget the rule asks for
      (DECIDING_FACTOR × the larger of the baseline's median and `expected`; NaN where nothing predicts it).
    Columns: outcome, needed (the budget a finding needs there), budget (the shortest the row was tried for)."""
    need = _need(summary, baseline_median, expected)
    found = decided(summary, baseline_median, expected, at)
    none = summary["held"] == 0
    outcome = pd.Series("beyond", index=summary.index)
    outcome[none & found] = "did not grok"
    outcome[none & (summary["rising"] > 0)] = "rising"
    outcome[none & (summary["fitted"] == 0)] = "underfit"
    outcome[summary["held"] > 0] = "some"
    outcome[summary["held"] == summary["runs"]] = "held"
    needed = (DECIDING_FACTOR * need).where(
        ~((outcome == "beyond") & (summary["min_budget"] >= DECIDING_FACTOR * need))
    )
    return pd.DataFrame({"outcome": outcome, "needed": needed, "budget": summary["min_budget"]})  # NaN: not known


def overlap(a: pd.Series, b: pd.Series) -> bool:
    """Whether two settings' ranges over seeds (of any one measure) overlap: then three seeds do not tell them
    apart, whatever their medians say."""
    a, b = a.dropna().astype(float), b.dropna().astype(float)
    return bool(len(a) and len(b) and a.min() <= b.max() and b.min() <= a.max())


def separable(fitted: tuple[float, float] | None, slowdown: pd.Series, index: pd.MultiIndex) -> pd.Series | None:
    """The phase diagram's prediction under a separable model: steps(f, w) = a · f^b × s(w), where a · f^b is the
    fraction trend fitted at the baseline's weight decay and s(w) = median(w) / median(baseline), both at the
    baseline fraction (`slowdown`, indexed by weight decay; NaN where w has no median, and then no prediction).
    `index` has levels (train_frac, weight_decay)."""
    if fitted is None:
        return None
    a, b = fitted
    f = index.get_level_values("train_frac").to_numpy(dtype=float)
    s = slowdown.reindex(index.get_level_values("weight_decay")).to_numpy(dtype=float)
    return pd.Series(a * f**b * s, index=index)


def compared(summary: pd.DataFrame, arm: str = "grokfast_lamb") -> pd.Series:
    """Per row of a summary whose rows come in arms (rows that differ only in the index level `arm`, as Grokfast off
    and on): the steps a finding there is measured against, the median of the faster arm beside it. An arm
    comparison is decided once one arm holds: the other then needs DECIDING_FACTOR × that arm's median; where no arm
    has a median, NaN (nothing decides either arm)."""
    others = [name for name in summary.index.names if name != arm]
    return summary["median_held"].groupby(level=others).transform("min")


def trend_fits(table: pd.DataFrame, n: int = 400, seed: int = 0, by: str = "train_frac") -> dict[str, list]:
    """Refits of the fraction trend, from a crossings table, both over the fractions the trend rests on
    (`trend_points`): "bootstrap", n refits with each such fraction's runs resampled with replacement (the seeds
    resampled), and "leave one out", one refit without each of them. Each refit is (a, b), or None where fewer than
    3 fractions keep a median."""
    rng = np.random.default_rng(seed)
    fitted = trend_points(summarise(table, by)).index
    groups = [g for f, g in table.groupby(by) if f in fitted]  # a fraction the fit leaves out, every refit leaves out
    boot = [trend(summarise(pd.concat([g.iloc[rng.integers(0, len(g), len(g))] for g in groups]), by))
            for _ in range(n)]  # fmt: skip
    return {"bootstrap": boot, "leave one out": [trend(summarise(table[table[by] != f], by)) for f in fitted]}


def interval(fits: list, at, q: tuple[float, float] = (2.5, 97.5)) -> tuple:
    """The q-percentiles (default: a 95% interval; (0, 100) for the extremes) of the predictions a · at^b of a
    list of refits, at a fraction or an array of them; refits that are None are left out."""
    at = np.asarray(at, dtype=float)
    values = np.array([a * at**b for a, b in (f for f in fits if f is not None)])
    if not len(values):
        return math.nan, math.nan
    lo, hi = np.percentile(values, q, axis=0)
    return (float(lo), float(hi)) if lo.ndim == 0 else (lo, hi)


def log_r2(x, y, a: float, b: float) -> float:
    """R² of log y against the power law a · x^b: how much of the spread of log y the fit explains."""
    log_y = np.log(np.asarray(y, dtype=float))
    residual = log_y - np.log(a * np.asarray(x, dtype=float) ** b)
    return float(1 - (residual**2).sum() / ((log_y - log_y.mean()) ** 2).sum())


def trend_points(summary: pd.DataFrame) -> pd.Series:
    """The medians a fraction trend rests on: settings with a Kaplan–Meier median and at least MIN_SEEDS runs."""
    return summary.loc[summary["median_held"].notna() & (summary["runs"] >= MIN_SEEDS), "median_held"]


def trend(summary: pd.DataFrame) -> tuple[float, float] | None:
    """The power law a · x^b through `trend_points` of a summary indexed by training fraction; None with fewer than
    3 points (two points always fit a line)."""
    points = trend_points(summary)
    return power_law(points.index, points) if len(points) >= 3 else None


def predicted(summary: pd.DataFrame, fitted: tuple[float, float] | None, level: str = "train_frac") -> pd.Series | None:
    """Per row of a summary, the steps to val held that a fraction trend (a, b) predicts at the row's training
    fraction (the index level `level`); None without a trend."""
    if fitted is None:
        return None
    a, b = fitted
    return pd.Series(a * summary.index.get_level_values(level).to_numpy(dtype=float) ** b, index=summary.index)


def power_law(x, y) -> tuple[float, float]:
    """Fit y = a · x^b by least squares on log–log axes; returns (a, b)."""
    b, log_a = np.polyfit(np.log(np.asarray(x, dtype=float)), np.log(np.asarray(y, dtype=float)), 1)
    return float(math.exp(log_a)), float(b)


SPIKE = 10  # a loss spike: an evaluation whose loss is this many times the lowest before it


def recitals(metrics: pd.DataFrame, keep: list[str] | None = None) -> pd.DataFrame:
    """01's table, one row per run of a sentence: the first step with every character right (first_exact), the
    final accuracy, the evaluations after first_exact that fell below 100% (falls) and the lowest of them, and the
    loss spikes: evaluations whose loss is more than SPIKE × the lowest loss evaluated before them."""
    rows = []
    for run, m in metrics.groupby("run", sort=False):
        first = reached(m, "train", 1.0)
        train = _series(m, "train")
        after = train.query("step > @first") if first is not None else m.iloc[:0]
        rows.append(
            {
                **{k: m[k].iloc[0] for k in keep or []},
                "run": run,
                "first_exact": first,
                "final_acc": float(_series(m, "train")["acc"].iloc[-1]),
                "falls": int((after["acc"] < 1).sum()),
                "lowest_after": float(after["acc"].min()) if len(after) else 1.0,
                "spikes": int((train["loss"] > SPIKE * train["loss"].cummin().shift()).sum()),
            }
        )
    return pd.DataFrame(rows)
