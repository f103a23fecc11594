"""The study's words on hand-made metric tables: reached, held, delay, collapse, censoring, Kaplan–Meier medians."""

import math

import pandas as pd
import pytest

from grokgpt import analysis, data


def long_metrics(run, train, val, every=100, **settings):
    rows = [dict(step=i * every, split="train", loss=1 - a, acc=a, elapsed_s=i) for i, a in enumerate(train)]
    rows += [dict(step=i * every, split="val", loss=1 - a, acc=a, elapsed_s=i) for i, a in enumerate(val)]
    return pd.DataFrame(rows).assign(run=run, **settings)


def test_reached_is_the_first_evaluation_at_99_percent():
    m = long_metrics("a", [0.1, 0.995, 0.5, 1.0], [0.0, 0.2, 0.99, 0.3])
    assert analysis.reached(m, "train") == 100 and analysis.reached(m, "val") == 200
    assert analysis.reached(long_metrics("b", [0.1, 0.98], [0.0, 0.0]), "train") is None


def test_held_needs_every_later_evaluation_and_the_window():
    touched_and_fell = long_metrics("a", [1.0] * 6, [0.0, 0.995, 0.4, 0.5, 0.6, 0.7])
    assert analysis.reached(touched_and_fell, "val") == 100 and analysis.held(touched_and_fell, "val", 0) is None
    dipped = long_metrics("b", [1.0] * 7, [0.0, 0.995, 0.97, 0.995, 1.0, 1.0, 1.0])
    assert analysis.held(dipped, "val", window=300) == 300  # the held streak starts after the dip ...
    assert analysis.held(dipped, "val", window=301) is None  # ... and must last the window to count
    late = long_metrics("c", [1.0] * 4, [0.0, 0.1, 0.2, 0.995])
    assert analysis.held(late, "val", window=0) == 300 and analysis.held(late, "val", window=100) is None


def test_collapses_count_each_fall_below_half_once():
    m = long_metrics("a", [0.2, 0.995, 0.4, 0.3, 1.0, 1.0, 0.3, 1.0], [0.0] * 8)
    assert analysis.collapses(m, "train") == [200, 600]
    assert analysis.collapses(long_metrics("b", [0.2, 0.45], [0.0, 0.0]), "train") == []  # never reached 99%


def test_crossings_keep_censored_runs_and_compute_the_delay():
    m = pd.concat(
        [
            long_metrics("a", [0.1, 1.0, 1.0, 1.0, 1.0], [0.0, 0.2, 0.995, 1.0, 1.0], weight_decay=1.0, stop_after=200,
                         max_steps=400),
            long_metrics("b", [0.1, 1.0, 1.0, 1.0, 1.0], [0.0, 0.995, 0.1, 0.2, 0.3], weight_decay=0.0, stop_after=200,
                         max_steps=400),
        ]
    )  # fmt: skip
    t = analysis.crossings(m, keep=["weight_decay"]).set_index("run")
    assert t.at["a", "train_reached"] == 100 and t.at["a", "val_held"] == 200 and t.at["a", "delay"] == 2.0
    assert not t.at["a", "censored"] and t.at["a", "collapses"] == 0
    assert t.at["b", "censored"] and pd.isna(t.at["b", "val_held"]) and t.at["b", "val_reached"] == 100
    assert t.at["b", "collapses"] == 1 and t.at["b", "lowest_after"] == 0.1 and t.at["b", "budget"] == 400
    s = analysis.summarise(t, "weight_decay")
    assert s.at[0.0, "runs"] == 1 and s.at[0.0, "censored"] == 1 and math.isnan(s.at[0.0, "median_held"])
    assert s.at[1.0, "held"] == 1 and s.at[1.0, "median_held"] == 200


def test_kaplan_meier_median_accounts_for_censored_runs():
    steps = pd.Series([100.0, 300.0, math.nan, math.nan])
    censored = pd.Series([False, False, True, True])
    # two of four held: the survival curve reaches one half at the second event
    assert analysis.km_median(steps, censored, pd.Series([100, 300, 500, 500])) == 300
    # a run censored at step 50 leaves the risk set: 2/3 at step 100, then 2/3 · 1/2 at step 300
    assert analysis.km_median(steps, censored, pd.Series([100, 300, 50, 500])) == 300
    # three of four censored: no median, never the median of the one that held
    assert math.isnan(analysis.km_median(pd.Series([100.0, math.nan, math.nan, math.nan]),
                                         pd.Series([False, True, True, True]), pd.Series([100, 900, 900, 900])))  # fmt: skip
    # nothing censored: the ordinary lower median
    assert analysis.km_median(pd.Series([1.0, 2.0, 3.0]), pd.Series([False] * 3), pd.Series([1, 2, 3])) == 2


def test_decided_needs_every_run_censored_three_seeds_four_times_the_baselines_median_and_none_rising():
    s = pd.DataFrame(
        {"held": [0, 0, 1, 0, 0, 0], "runs": [3, 3, 3, 2, 3, 3], "min_budget": [4000, 3999, 9999, 9999, 9999, 9999],
         "rising": [0, 0, 0, 0, 0, 1]},
        index=["long", "short", "some held", "two seeds", "long", "still rising"],
    )  # fmt: skip
    assert analysis.decided(s, 1000).tolist() == [True, False, False, False, True, False]
    assert not analysis.decided(s, math.nan).any()  # no baseline median: nothing is decided
    trend = analysis.predicted(s.assign(train_frac=[0.5, 0.5, 0.5, 0.5, 0.1, 0.5]).set_index("train_frac"), (500, -1))
    slow = pd.Series(trend.to_numpy(), index=s.index)  # 1,000 steps at 0.5 (no more than the baseline), 5,000 at 0.1
    assert analysis.decided(s, 1000, slow).tolist() == [True, False, False, False, False, False]
    # where nothing predicts a row (NaN: a weight decay without a slow-down), nothing decides it
    assert analysis.decided(s, 1000, slow.where(slow < 2000)).tolist() == [True, False, False, False, False, False]
    assert analysis.predicted(s, None) is None


def test_late_gain_is_the_rise_over_the_last_quarter():
    m = long_metrics("a", [1.0] * 9, [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.3, 0.6])  # steps 0..800: 0.1 at step 600
    assert analysis.late_gain(m, "val") == pytest.approx(0.5)
    t = analysis.crossings(m.assign(max_steps=800, seed=0), keep=["seed"])
    assert analysis.summarise(t, "seed").at[0, "rising"] == 1


def test_power_law_recovers_a_known_fit():
    a, b = analysis.power_law([0.2, 0.4, 0.8], [3 * 0.2**-2, 3 * 0.4**-2, 3 * 0.8**-2])
    assert a == pytest.approx(3) and b == pytest.approx(-2)
    assert analysis.log_r2([0.2, 0.4, 0.8], [3 * 0.2**-2, 3 * 0.4**-2, 3 * 0.8**-2], a, b) == pytest.approx(1)
    assert analysis.log_r2([0.2, 0.4, 0.8], [10, 40, 10], 20, 0) < 0.1  # a flat line explains little of a peak


def test_recitals_count_the_falls_after_the_first_exact_recital():
    m = pd.concat([long_metrics("a", [0.2, 1.0, 0.9, 1.0], []), long_metrics("b", [0.2, 0.5], [])])
    t = analysis.recitals(m).set_index("run")
    assert t.at["a", "first_exact"] == 100 and t.at["a", "falls"] == 1 and t.at["a", "lowest_after"] == 0.9
    assert pd.isna(t.at["b", "first_exact"]) and t.at["b", "final_acc"] == 0.5


def test_a_loss_spike_is_ten_times_the_lowest_loss_before_it():
    m = long_metrics("a", [0.5, 0.99, 0.999, 0.95, 0.999, 0.98], [])  # losses 0.5, 0.01, 0.001, 0.05, 0.001, 0.02
    assert analysis.recitals(m).at[0, "spikes"] == 2  # 0.05 and 0.02 against the lowest before them, 0.001
    assert analysis.recitals(long_metrics("b", [0.5, 0.9, 0.99, 0.95], [])).at[0, "spikes"] == 0  # 0.05 < 10 × 0.01


def test_leakage_counts_shared_and_repeated_lines():
    splits = {
        "train": [(1, "+", 2, 3), (1, "+", 2, 3)],
        "val": [(1, "+", 2, 3), (7, "+", 1, 1)],
        "test": [(0, "-", 1, 6)],
    }
    t = data.leakage(splits, p=7).set_index("split")
    assert t.at["train", "repeats"] == 1 and t.at["val", "in_train"] == 1 and t.at["val", "in_train_share"] == 0.5
    assert t.at["val", "operand_ge_p"] == 1 and t.at["test", "in_train"] == 0
    clean = data.leakage(data.split_leak_free(data.table(11, "+-"), (0.4, 0.4, 0.2), 0), p=11)
    assert clean.in_train.sum() == 0 and clean.repeats.sum() == 0


def test_last_evaluation_takes_each_runs_own_last_step():
    short = long_metrics("short", [0.1, 1.0], [0.0, 0.5])
    long = long_metrics("long", [0.1, 1.0, 1.0, 1.0], [0.0, 0.2, 0.6, 0.9])
    last = analysis.last_evaluation(pd.concat([short, long]))
    assert sorted(last.groupby("run").step.unique().map(list).to_dict().items()) == [("long", [300]), ("short", [100])]
    assert last.set_index(["run", "split"]).at[("long", "val"), "acc"] == 0.9


def test_train_accuracy_that_falls_back_is_counted_and_held_later():
    m = long_metrics("a", [0.1, 1.0, 0.3, 1.0, 1.0, 1.0], [0.0, 0.1, 0.2, 0.995, 1.0, 1.0], stop_after=200,
                     max_steps=500, eval_every=100)  # fmt: skip
    t = analysis.crossings(m).set_index("run")
    assert t.at["a", "train_reached"] == 100 and t.at["a", "train_collapses"] == 1 and t.at["a", "train_held"] == 300
    assert t.at["a", "eval_every"] == 100 and t.at["a", "delay"] == 3.0  # val held 300 ÷ train reached 100


def test_a_trend_needs_three_medians_each_over_three_runs():
    s = pd.DataFrame({"median_held": [math.nan, 100.0, 25.0, 6.25, 5.0], "runs": [3, 3, 3, 3, 1]},
                     index=[0.1, 0.2, 0.4, 0.8, 0.9])  # fmt: skip
    assert list(analysis.trend_points(s).index) == [0.2, 0.4, 0.8]
    a, b = analysis.trend(s)
    assert b == pytest.approx(-2)
    assert analysis.trend(s.iloc[:3]) is None  # two points always fit


def test_summarise_describes_the_runs_that_reached_99_percent_without_holding_it_apart():
    held_after_a_dip = long_metrics("h", [1.0] * 6, [0.0, 0.995, 0.5, 0.995, 1.0, 1.0], stop_after=100, max_steps=500)
    fell = long_metrics("f", [1.0] * 6, [0.0, 0.0, 0.995, 0.3, 0.6, 0.7], stop_after=100, max_steps=500)
    s = analysis.summarise(analysis.crossings(pd.concat([held_after_a_dip, fell]).assign(k=1), keep=["k"]), "k")
    assert s.loc[1, ["reached", "held", "dips", "fell_dips"]].tolist() == [2, 1, 2, 1]
    assert s.loc[1, "fell_reached"] == 200 and s.loc[1, "fell_lowest"] == 0.3 and s.loc[1, "val_reached"] == 150
