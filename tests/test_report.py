"""The sentences the notebooks display: built from tables, so they can be checked here."""

import math

import pandas as pd
from test_analysis import long_metrics

from grokgpt import analysis, claims, report


def table(**cells):
    """A crossings table from named cells: name -> (setting value, list of val accuracies per run)."""
    frames = []
    for name, (value, vals) in cells.items():
        for i, val in enumerate(vals):
            m = long_metrics(
                f"{name}{i}", [0.1] + [1.0] * (len(val) - 1), val, stop_after=100, max_steps=100 * (len(val) - 1)
            )
            frames.append(m.assign(wd=value, seed=i))
    return analysis.crossings(pd.concat(frames), keep=["wd", "seed"])


GROKS = [0.0, 0.2, 0.995, 1.0]  # held from step 200, with a window of 100
NEVER = [0.0, 0.1, 0.1, 0.1]


def test_steps_and_spans_print_integers_and_censoring():
    assert report.steps(1900.0) == "1,900" and report.steps(float("nan"), 12000) == "> 12,000"
    assert report.steps(None) == "–" and report.span(pd.Series([1800.0, 2200.0, None])) == "1,800–2,200"
    assert report.span(pd.Series([0.0121, 0.0124]), report.accuracy) == "0.012"  # never "0.012–0.012"


def test_verdict_calls_did_not_grok_a_finding_only_with_a_long_enough_budget():
    t = table(a=(1.0, [GROKS, GROKS, GROKS]), b=(0.0, [NEVER, NEVER, NEVER]))
    s = analysis.summarise(t, "wd")
    decided = report.verdict(s, "weight decay", baseline_median=50)
    assert "Every run held grokking with weight decay = 1 (200)" in decided
    assert "none did with weight decay = 0 within 300 steps" in decided
    undecided = report.verdict(s, "weight decay", baseline_median=200)
    assert "does not make 'did not grok' a finding" in undecided and "none did" not in undecided
    two_seeds = analysis.summarise(table(b=(0.0, [NEVER, NEVER])), "wd")
    assert "none did" not in report.verdict(two_seeds, "weight decay", baseline_median=50)


def test_verdict_and_phase_decide_nothing_a_trend_says_the_budget_was_too_short_for():
    t = table(a=(0.5, [GROKS, GROKS, GROKS]), b=(0.1, [NEVER, NEVER, NEVER])).rename(columns={"wd": "train_frac"})
    s = analysis.summarise(t, "train_frac")
    assert "none did with training fraction = 0.1" in report.verdict(s, "training fraction", 50)
    slow = analysis.predicted(s, (10.0, -1.0))  # 100 steps at 0.1: a 300-step budget is under 4× that
    text = report.verdict(s, "training fraction", 50, slow)
    assert "none did" not in text and "does not make 'did not grok' a finding" in text
    assert "the trend predicts 100 steps at 0.1 (so 400 needed))" in text
    fast = analysis.predicted(s, (1.0, -1.0))  # 10 steps at 0.1: the baseline's median is the longer need
    assert "none did with training fraction = 0.1 within 300 steps" in report.verdict(s, "training fraction", 50, fast)
    cells = analysis.summarise(t.assign(wd=1.0), ["train_frac", "wd"])
    assert "no run held in (0.1, 1), a finding" in report.phase(cells, 50, analysis.predicted(cells, (1.0, -1.0)))
    text = report.phase(cells, 50, analysis.predicted(cells, (10.0, -1.0)))
    assert "no run held in (0.1, 1) within 300 steps, which does not decide them" in text
    assert (
        "what (c)'s trend predicts at its fraction; (c)'s trend, measured at the baseline's weight decay only, predicts 100 steps at 0.1 (so 400 needed))"
        in text
    )


def test_verdict_counts_partial_cells_with_censoring():
    s = analysis.summarise(table(a=(0.3, [GROKS, NEVER, NEVER])), "wd")
    assert "Some did with weight decay = 0.3 (1 of 3, held from 200; Kaplan–Meier median > 300)" in report.verdict(
        s, "weight decay", 50
    )


def test_harder_needs_fewer_held_runs_or_separate_ranges():
    overlap = table(a=(97, [GROKS, GROKS]), b=(113, [GROKS, GROKS])).rename(columns={"wd": "p"})
    assert "**not clearly harder**" in report.harder(overlap)
    fewer = table(a=(97, [GROKS, GROKS]), b=(113, [GROKS, NEVER])).rename(columns={"wd": "p"})
    assert "p = 113 is **harder** than p = 97" in report.harder(fewer)
    assert "in 1 of 2 runs with p = 113, from step 200 (200), against 2 of 2 runs with p = 97" in report.harder(fewer)


def test_grokking_sentence_reports_medians_ranges_and_no_grokking():
    t = table(a=(0.5, [GROKS, GROKS]), b=(0.3, [NEVER])).rename(columns={"wd": "train_frac"})
    text = report.grokking(t)
    assert "validation held 99% in 2 of 2 runs, from step 200" in text and "**2× later**" in text
    assert (
        "**Training fraction 0.3** (1 of 1 run): train accuracy reached 99% at step 100; validation held 99% in none"
        in text
    )


def test_summary_table_keeps_censored_cells_and_prints_integers():
    s = analysis.summarise(table(a=(1.0, [GROKS]), b=(0.0, [NEVER])), "wd")
    out = report.summary_table(s)
    assert out.loc[0.0, "median held step"] == "> 300" and out.loc[1.0, "median held step"] == "200"
    assert out.loc[0.0, "val held"] == "0 of 1" and out.loc[1.0, "budget"] == "300"


def test_grokking_claims_say_groks_only_when_most_runs_held():
    t = table(a=(0.5, [GROKS, NEVER, NEVER])).rename(columns={"wd": "train_frac"})
    (only,) = claims.grokking(t, 100, "section")
    assert only["claim"].startswith("At training fraction 0.5, val held 99% in 1 of 3 runs") and only["censored"] == 2
    t = table(a=(0.5, [GROKS, GROKS, NEVER])).rename(columns={"wd": "train_frac"})
    assert claims.grokking(t, 100, "s")[0]["claim"].startswith("a / b mod p groks at training fraction 0.5")
    assert "train accuracy fell" not in claims.grokking(t, 100, "s")[0]["claim"]
    relapse = long_metrics(
        "r", [0.1, 1.0, 0.2, 1.0, 1.0, 1.0], [0.0, 0.0, 0.1, 1.0, 1.0, 1.0], stop_after=100, max_steps=500
    )
    t = analysis.crossings(relapse.assign(train_frac=0.5, seed=0), keep=["train_frac", "seed"])
    assert claims.grokking(t, 100, "s")[0]["claim"].endswith(
        "; but train accuracy fell below 50% again in 1 of 1 run and held 99% only from step 300"
    )


def test_harder_needs_two_settings():
    one = table(a=(97, [GROKS])).rename(columns={"wd": "p"})
    assert report.harder(one) == "Only p = 97 has runs yet: no comparison."


def test_phase_names_only_the_cells_it_has():
    t = table(a=(1.0, [GROKS, GROKS, GROKS]), b=(0.0, [NEVER, NEVER, NEVER])).assign(train_frac=0.5)
    text = report.phase(analysis.summarise(t, ["train_frac", "wd"]), baseline_median=50)
    assert text.startswith("Cells are (training fraction, weight decay): every run held grokking in (0.5, 1)")
    assert "no run held in (0.5, 0), a finding" in text and "no cell" not in text


def test_missing_names_the_runs_and_the_command():
    assert report.missing([]) == ""
    assert report.missing(["a"]).startswith("**1 run of this notebook is not computed yet**")
    text = report.missing(["a", "b", "c", "d"])
    assert "4 runs" in text and "`a`" in text and "1 more" in text and "make runs" in text


def test_verdict_gives_each_settings_median_and_range_over_seeds():
    late = [0.0, 0.2, 0.5, 0.995, 1.0]  # held from step 300
    s = analysis.summarise(table(a=(1.0, [GROKS, late, late])), "wd")
    assert "weight decay = 1 (300; 200–300) (steps to val held: median; range)" in report.verdict(s, "weight decay", 50)


def test_spikes_name_the_settings_free_of_them():
    calm = long_metrics("calm", [0.5, 0.99, 1.0, 1.0], [])
    spiky = long_metrics("spiky", [0.5, 1.0, 0.99, 0.5], [])  # a first perfect recital, then a fall and a spike
    m = pd.concat([calm.assign(setting="constant, lr 0.003", lr=0.003, seed=0),
                   spiky.assign(setting="constant, lr 0.01", lr=0.01, seed=0)])  # fmt: skip
    t = analysis.recitals(m, keep=["setting", "lr", "seed"])
    text = report.spikes(t, 0.003, 0.01)
    assert "per setting: constant, lr 0.003: 0; constant, lr 0.01: 2." in text
    assert text.endswith("at lr 0.003 none does: the lower learning rate removes them, with either schedule.")
    mixed = report.spikes(t, 0.01, 0.003)  # the other way round: the verdict lists what is clean
    assert mixed.endswith("Free of spikes and falls, and perfect at the end: constant, lr 0.003.")
    first, second = claims.overfit(t, 0.003, 1, "I", 100)
    assert "in 1 of 1 run" in first["claim"] and first["runs"] == 1
    assert "constant, lr 0.01: 2 and 2" in second["claim"] and second["runs"] == 2


def test_seed_size_claims_no_explanation_its_runs_contradict():
    t = table(a=(0, [NEVER, NEVER, NEVER]))
    text = report.seed_size(t, 2000, 97, seed_accuracy=0.756)
    assert "held 99% in 0 of 3 runs within 300 steps" in text and "ended at 0.100 (chance: 0.010)" in text
    assert "below the seed report's 0.756 at this size" in text and "does not claim it" in text
    assert "below" not in report.seed_size(t, 2000, 97, seed_accuracy=0.05)
    assert "generalises from the seed's amount" in report.seed_size(table(a=(0, [GROKS])), 2000, 97)
    assert "still rising" not in text
    rising = report.seed_size(table(a=(0, [[0.0, 0.1, 0.2, 0.3], NEVER])), 2000, 97)
    assert "still rising at the end in 1 of 2 runs (by up to 0.100 over the last quarter" in rising
    assert claims.seed_size(t, 2000, 100)["claim"].endswith("held 99% in 0 of 3 runs within 300 steps")
    assert claims.seed_size(table(a=(0, [[0.0, 0.1, 0.2, 0.3], NEVER])), 2000, 100)["claim"].endswith(
        "within 300 steps; validation accuracy was still rising at the end in 1 of them"
    )


def test_the_seed_question_is_a_finding_only_beyond_the_trends_prediction():
    never = table(a=(0, [NEVER, NEVER, NEVER]))  # censored at 300 steps
    no_trend = report.seed_question(never, None, 0.05, baseline_median=50)
    assert "without a trend of (c)" in no_trend and "**the seed's question stays open beyond 300 steps**" in no_trend
    predicted_far = report.seed_question(never, (10.0, -1.0), 0.05, baseline_median=50)  # 10 / 0.05 = 200 steps
    assert (
        "predicts about 200 steps" in predicted_far
        and "**the seed's question stays open beyond 300 steps**" in predicted_far
    )
    predicted_near = report.seed_question(never, (1.0, -1.0), 0.05, baseline_median=50)  # 20 steps: 300 ≥ 4 × 20
    assert (
        "predicts about 20 steps" in predicted_near
        and "**it did not grok** within 300 steps, 6× the baseline's median" in predicted_near
    )
    assert "a finding, not the budget" in predicted_near
    assert "not yet make 'did not grok' a finding" in report.seed_question(never, None, 0.05, baseline_median=100)
    assert "it groks" in report.seed_question(table(a=(0, [GROKS, GROKS, GROKS])), None, 0.05, 50)
    fractions = pd.DataFrame({"median_held": [math.nan, 20.0], "min_budget": [300, 300]}, index=[0.1, 1.0])
    below = report.seed_question(never, (1.0, -1.0), 0.05, baseline_median=50, fractions=fractions)  # 10 at 0.1
    assert "at fraction 0.1 it predicts 10 steps, and no run there held within 300" in below
    assert "**the seed's question stays open beyond 300 steps**" in below and "a finding" not in below


def test_overfit_counts_runs_that_never_recited_and_where_the_falls_were():
    m = pd.concat([
        long_metrics("a", [0.5, 1.0, 0.8, 1.0], []).assign(setting="s", seed=0),
        long_metrics("b", [0.5, 1.0, 1.0, 1.0], []).assign(setting="s", seed=1),
        long_metrics("c", [0.5, 0.6, 0.7, 0.8], []).assign(setting="s", seed=2),
    ])  # fmt: skip
    text = report.overfit(analysis.recitals(m, keep=["setting", "seed"]))
    assert "first all right at step 100 (never in 1 of 3 runs)" in text
    assert "fell below 100% in 1 evaluation, in 1 of 3 runs, down to 0.800." in text


def test_progress_reads_the_weight_norm_and_key_share_against_val_held():
    m = long_metrics("a", [0.1, 1.0, 1.0, 1.0, 1.0], [0.0, 0.2, 0.995, 1.0, 1.0], stop_after=200, max_steps=400)
    m["weight_norm"] = [100.0, 60.0, 40.0, 45.0, 50.0] * 2  # lowest at step 200, where val held
    t = analysis.crossings(m.assign(train_frac=0.5), keep=["train_frac"])
    measures = pd.DataFrame({"run": "a", "step": [0, 100, 200, 300, 400], "key_share": [0.2, 0.25, 0.6, 0.7, 0.8]})
    text = report.progress(t, m, measures)
    assert "fell from 100 to its lowest, 40, at step 200, at or after the step at which validation held" in text
    assert "; it then rose again in 1 of 1 run, to 50 at step 400; it ended at 50" in text
    m["weight_norm"] = [100.0, 40.0, 60.0, 45.0, 44.0] * 2  # up 50% after its lowest, then back down
    assert "rose again in 1 of 1 run, to 60 at step 200, and fell back by the end in 1 of 1 run" in report.progress(
        t, m, measures
    )
    assert "25% at train 99%, 60% when validation held and 80% at the end" in text


def test_speedup_divides_medians_or_says_why_it_cannot():
    late = [0.0, 0.2, 0.5, 0.995, 1.0]  # held from step 300
    t = pd.concat([
        table(a=(1.0, [late, late, late])).assign(grokfast_lamb=0.0),
        table(b=(1.0, [GROKS, GROKS, GROKS])).assign(grokfast_lamb=2.0),
        table(c=(0.0, [NEVER, NEVER, NEVER])).assign(grokfast_lamb=0.0),
        table(d=(0.0, [NEVER, NEVER, NEVER])).assign(grokfast_lamb=2.0),
    ]).rename(columns={"wd": "weight_decay"})  # fmt: skip
    text = report.speedup(t)
    assert "at weight decay 1 median 300 steps without and 200 with Grokfast: 1.5×" in text
    assert "at weight decay 0 no run held in either arm within 300 steps" in text and "do not overlap" not in text


def test_fit_names_the_fractions_it_rests_on_and_its_r2():
    s = pd.DataFrame({"median_held": [float("nan"), 3 * 0.4**-2, 3 * 0.8**-2], "runs": 3}, index=[0.1, 0.4, 0.8])
    text = report.fit(s, (3.0, -2.0))
    assert text.startswith("Fitted through the medians of the 2 fractions where most of at least 3 runs held (0.4–0.8)")
    assert "≈ 3 · fraction^-2, R² 1.00 on log–log axes." in text


def test_speedup_reports_where_validation_ended_when_neither_arm_held():
    t = pd.concat([
        table(c=(0.0, [NEVER, NEVER, NEVER])).assign(grokfast_lamb=0.0),
        table(d=(0.0, [[0.0, 0.2, 0.5, 0.9]] * 3)).assign(grokfast_lamb=2.0),
    ]).rename(columns={"wd": "weight_decay"})  # fmt: skip
    assert (
        "ended without Grokfast at 0.100, with it at 0.9 (still rising in 3 of 3 runs): the ranges do not overlap"
        in (report.speedup(t))
    )
    more = pd.concat([table(e=(0.3, [NEVER] * 3)).assign(grokfast_lamb=0.0),
                      table(f=(0.3, [GROKS] * 3)).assign(grokfast_lamb=2.0)]).rename(columns={"wd": "weight_decay"})  # fmt: skip
    text = report.speedup(pd.concat([t, more]))
    assert (
        "at weight decay 0.3 most runs held only with Grokfast (200); without it validation accuracy ended at 0.100"
        in text
    )


def test_verdict_flags_overlapping_ranges_and_too_few_seeds():
    late = [0.0, 0.2, 0.5, 0.995, 1.0]  # held from step 300
    s = analysis.summarise(table(a=(1.0, [GROKS, late, late]), b=(0.3, [late, GROKS, GROKS]), c=(3.0, [GROKS])), "wd")
    text = report.verdict(s, "weight decay", 50)
    assert "the ranges all overlap, so no difference between them is resolved" in text
    assert "3 (200; 1 run, too few seeds)" in text


def test_verdict_leaves_undecided_a_setting_beyond_an_undecided_one():
    rises = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]  # no run held, still rising at the end
    never = [0.0] + [0.1] * 7
    t = table(a=(1.0, [GROKS] * 3), b=(0.1, [rises] * 3), c=(0.0, [never] * 3))
    s = analysis.summarise(t, "wd")
    assert "none did with weight decay = 0 within 700 steps" in report.verdict(s, "weight decay", 50)
    text = report.verdict(s, "weight decay", 50, at=1.0)
    assert "none did" not in text and "still rising at the end in 3 of 3 runs" in text
    assert "weight decay = 0 no run held within 700 steps either, but weight decay = 0.1 lies between it" in text
    assert analysis.decided(s, 50).tolist() == [True, False, False]
    assert analysis.decided(s, 50, at=1.0).tolist() == [False, False, False]
    assert analysis.decided(s, 50, at=0.05).tolist() == [True, False, False]  # nothing undecided in between


def test_verdict_names_underfitting_and_runs_that_reached_99_percent_without_holding_it():
    unfit = [
        long_metrics(f"u{i}", [0.1, 0.4, 0.6, 0.65], [0.0, 0.3, 0.4, 0.45], stop_after=100, max_steps=300)
        for i in range(3)
    ]
    fell = [long_metrics(f"f{i}", [0.1] + [1.0] * 3, [0.0, 0.995, 0.2, 0.5], stop_after=100, max_steps=300)
            for i in range(2)]  # fmt: skip
    frames = [m.assign(wd=3.0) for m in unfit] + [m.assign(wd=0.3) for m in fell]
    s = analysis.summarise(analysis.crossings(pd.concat(frames), keep=["wd"]), "wd")
    assert s.loc[3.0, "train_final_max"] == 0.65 and s.loc[0.3, ["reached", "dips"]].tolist() == [2, 2]
    text = report.verdict(s, "weight decay", 50)
    assert "with weight decay = 3 no run fitted its training set" in text
    assert (
        "(over these runs, final train accuracy at most 0.65 and final validation accuracy at most 0.45): the model underfits"
        in text
    )
    assert "validation reached 99% without staying there to the end in 2 of 2 runs with weight decay = 0.3" in text
    assert "(in those runs: first at step 100, median; lowest after: 0.2; 2 dips below 99% in all)" in text


def test_fourier_keys_compares_the_end_with_the_steps_train_and_val_first_reached_99_percent():
    from types import SimpleNamespace

    def spectrum(step, key):  # frequency 0 (left out of every share) and four waves, k = 1 holding `key` of them
        rest = (1 - key) / 3
        return pd.DataFrame({"frequency": range(5), "share": [0.5] + [x / 2 for x in (key, rest, rest, rest)]}).assign(
            step=step
        )

    run = SimpleNamespace(
        fourier=pd.concat([spectrum(0, 0.25), spectrum(100, 0.4), spectrum(200, 0.8), spectrum(300, 0.9)]),
        metrics=long_metrics("r", [0.1, 1.0, 1.0, 1.0], [0.0, 0.1, 1.0, 1.0]),
        config={"data": {"fractions": [0.5, 0.5]}, "train": {"seed": 0}},
    )
    line = report.fourier_keys([run]).splitlines()[-1]
    assert line == (
        "- train fraction 0.5, seed 0: 1 of 4 frequencies (k = 1) hold **90%** of the non-constant squared norm at "
        "the end, against 40% at train 99% (step 100) and 80% at val 99% (step 200)."
    )


def test_loss_peak_finds_the_highest_validation_loss_after_train_reached_99_percent():
    m = long_metrics("r", [0.1, 1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.5, 1.0]).assign(train_frac=0.5)
    m.loc[m["split"] == "val", "loss"] = [4.6, 4.0, 6.0, 2.0, 0.01]  # 4.0 is before train reached 99% (step 100)
    m.loc[m["split"] == "train", "loss"] = [4.6, 0.5, 0.2, 0.1, 0.05]
    text = report.loss_peak(m, 97)
    assert text.startswith("Loss (cross-entropy; guessing uniformly among the 97 residues gives ln 97 = 4.57)")
    assert text.endswith("- **0.5**: validation loss started at 4.6; after train accuracy reached 99% it stood "
                         "highest at 6 (step 200; train loss there 0.2), and it ended at 0.01.")  # fmt: skip


def test_cost_ratio_divides_medians_only_when_each_presets_runs_agree():
    from types import SimpleNamespace

    def runs_at(*ms_per_step):
        return [SimpleNamespace(metrics=pd.DataFrame({"step": [0, 1000], "elapsed_s": [0, ms]})) for ms in ms_per_step]

    steady = report.cost_ratio(runs_at(10, 11), runs_at(20, 21))
    assert "10–11 ms (2 runs) against 20–21 ms" in steady and "about **2× cheaper**" in steady  # 20.5 ÷ 10.5
    assert "cannot say by how much" in report.cost_ratio(runs_at(10, 11), runs_at(20, 40))
    assert "do not resolve which" in report.cost_ratio(runs_at(10, 30), runs_at(20, 21))
    assert "not all computed" in report.cost_ratio([], runs_at(20))


def test_limitations_state_seeds_censoring_the_seed_epochs_and_where_the_preset_underfits():
    frames = [
        long_metrics(f"r{wd}{i}", train, val, stop_after=100, max_steps=300).assign(weight_decay=wd, seed=i)
        for wd, train, val in [(1.0, [0.1] + [1.0] * 3, GROKS), (3.0, [0.1, 0.2, 0.3, 0.4], NEVER)]
        for i in range(3)
    ]
    t = analysis.crossings(pd.concat(frames), keep=["weight_decay", "seed"]).assign(
        train_frac=0.5, warmup_steps=10, grokfast_lamb=0.0
    )
    params = dict(eval_every=100, seed_eval_every=500, stop_after=100, seed_stop_after=5000, n_layer=1, lr=1e-3,
                  seed_batch_size=250, seed_train_size=500, seed_max_steps=50000)  # fmt: skip
    text = report.limitations(t, params)
    assert "- **Seeds.** 3 seed(s) a setting" in text and "3 of 6 runs are censored at their budget of 300" in text
    assert "At weight decay 3 this preset never fitted its training set in any run" in text
    assert f"trained {report.SEED_EPOCHS:,} epochs; at batch 250 of 500 equations that is 120,000 steps" in text


def test_baseline_gives_its_median_delay_budget_and_04s_preset_beside_it():
    t = table(a=(1.0, [GROKS, GROKS, GROKS]))
    text = report.baseline(t, 200.0, reference=t.iloc[:2])
    assert text.startswith("**Baseline** (3 runs): validation held 99% in 3 of 3 runs, from step 200 (Kaplan–Meier")
    assert "train reached 99% at step 100, a delay of 2×." in text
    assert "On 04's 2-layer preset at the same fraction (2 runs), train reached 99% at step 100" in text
    assert text.endswith("Every run's budget is 300 steps, 1.5× the baseline's median.")
    assert "04's" not in report.baseline(t, 200.0) and "not computed yet" in report.baseline(t.iloc[:0], math.nan)


def test_still_wrong_names_the_answer_most_wrong_equations_share():
    answers = pd.DataFrame(
        {"a": [1, 2, 3, 1, 2], "b": [1, 2, 3, 2, 1], "c": [1, 1, 1, 4, 2], "split": ["train", "val", "val", "val", "train"],
         "right": [True, False, False, False, True]}
    )  # fmt: skip
    assert report.still_wrong(answers) == (
        "At the end the run answers 3 of the table's 5 equations wrong (3 val); 2 of them have the true answer 1 (the "
        "diagonal a = b of the figure): 0 of its 1 train, 2 of its 2 val equations are wrong."
    )
    assert report.still_wrong(answers.assign(right=True)).startswith("At the end the run answers all 5 equations")


def test_stability_tells_settings_apart_only_by_more_than_one_collapse():
    s = pd.DataFrame({"collapses": [1, 0, 1], "lowest_after": [0.02, 0.77, 0.01], "runs": 3}, index=[0, 10, 100])
    text = report.stability(s, "warmup")
    assert text.startswith("After validation first reached 99%: warmup = 0: 1 collapse below 50%, lowest 0.020;")
    assert text.endswith(
        "differ by at most one collapse over 3 runs a setting: too few to tell the settings' stability apart."
    )
    apart = report.stability(s.assign(collapses=[3, 0, 1]), "warmup")
    assert apart.endswith("Most collapses with warmup = 0, fewest with warmup = 10.")
