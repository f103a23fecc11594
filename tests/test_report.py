"""Outcomes, checks, formats and the document's assembly: facts the notebooks' hand-written text rests on."""

import math

import nbformat
import pandas as pd
import pytest
from test_analysis import long_metrics

from grokgpt import analysis, claims, document, experiments, frontmatter, report


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
    assert [report.accuracy(a) for a in (0.0031, 0.39634, 0.99964, 0.999996, 1.0)] == [
        "0.003", "0.396", "0.9996", "0.999996", "1.000"
    ]  # fmt: skip
    assert report.rounded(123_336.1) == "123,000"


def test_did_not_grok_is_an_outcome_only_with_a_long_enough_budget_and_three_seeds():
    s = analysis.summarise(table(a=(1.0, [GROKS] * 3), b=(0.0, [NEVER] * 3)), "wd")
    assert analysis.outcomes(s, 50).outcome.to_dict() == {0.0: "did not grok", 1.0: "held"}
    short = analysis.outcomes(s, 200)  # 300 steps < 4 × 200
    assert short.at[0.0, "outcome"] == "beyond" and short.at[0.0, "needed"] == 800
    two = analysis.summarise(table(b=(0.0, [NEVER] * 2)), "wd")
    assert analysis.outcomes(two, 50).at[0.0, "outcome"] == "beyond"


def test_a_trends_prediction_raises_the_budget_a_finding_needs():
    s = analysis.summarise(table(a=(0.1, [NEVER] * 3)), "wd")
    assert analysis.outcomes(s, 50, pd.Series({0.1: 20.0})).at[0.1, "outcome"] == "did not grok"
    slow = analysis.outcomes(s, 50, pd.Series({0.1: 1000.0}))
    assert slow.at[0.1, "outcome"] == "beyond" and slow.at[0.1, "needed"] == 4000
    unknown = analysis.outcomes(s, 50, pd.Series({0.1: math.nan}))  # nothing predicts it: never a finding
    assert unknown.at[0.1, "outcome"] == "beyond" and math.isnan(unknown.at[0.1, "needed"])


def test_outcomes_name_underfitting_partial_and_rising_settings():
    unfit = [long_metrics(f"u{i}", [0.1, 0.4, 0.6, 0.65], [0.0, 0.3, 0.4, 0.45], stop_after=100, max_steps=300)
             for i in range(3)]  # fmt: skip
    rises = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    t = pd.concat([analysis.crossings(pd.concat(unfit)).assign(wd=3.0, seed=range(3)),
                   table(a=(1.0, [GROKS, NEVER, GROKS]), b=(0.1, [rises] * 3))])  # fmt: skip
    d = analysis.outcomes(analysis.summarise(t, "wd"), 50)
    assert d.outcome.to_dict() == {0.1: "rising", 1.0: "some", 3.0: "underfit"}


def test_a_setting_beyond_an_undecided_one_is_not_a_finding():
    rises, never = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], [0.0] + [0.1] * 7
    s = analysis.summarise(table(a=(1.0, [GROKS] * 3), b=(0.1, [rises] * 3), c=(0.0, [never] * 3)), "wd")
    assert analysis.outcomes(s, 50).at[0.0, "outcome"] == "did not grok"
    along = analysis.outcomes(s, 50, at=1.0)
    assert along.at[0.0, "outcome"] == "beyond" and math.isnan(along.at[0.0, "needed"])


def test_the_separable_model_scales_the_trend_by_the_weight_decays_slow_down():
    index = pd.MultiIndex.from_tuples(
        [(0.5, 1.0), (0.25, 1.0), (0.5, 0.3), (0.5, 0.0)], names=["train_frac", "weight_decay"]
    )
    slow = pd.Series({1.0: 1.0, 0.3: 4.0, 0.0: math.nan})
    got = analysis.separable((100.0, -1.0), slow, index)
    assert got.iloc[:3].tolist() == [200.0, 400.0, 800.0] and math.isnan(got.iloc[3])


def test_an_arm_comparison_is_decided_once_one_arm_holds():
    """Grokfast off and on: the arm that never holds is "did not grok" only with a budget of 4× the other arm's
    median; while neither arm holds, nothing decides either, however long the budget."""

    def arms(on, off):
        frames = [long_metrics(f"{lamb}{i}", [0.1] + [1.0] * (len(v) - 1), v, stop_after=100,
                               max_steps=100 * (len(v) - 1)).assign(wd=0.0, lamb=lamb, seed=i)
                  for lamb, v in ((2.0, on), (0.0, off)) for i in range(3)]  # fmt: skip
        s = analysis.summarise(analysis.crossings(pd.concat(frames), keep=["wd", "lamb", "seed"]), ["wd", "lamb"])
        return analysis.outcomes(s, 50, analysis.compared(s, "lamb")).outcome.to_dict()

    flat = [0.0] + [0.1] * 9  # 900 steps, never held
    assert arms(GROKS, flat) == {(0.0, 0.0): "did not grok", (0.0, 2.0): "held"}  # 900 >= 4 × 200
    assert arms(GROKS, NEVER) == {(0.0, 0.0): "beyond", (0.0, 2.0): "held"}  # 300 < 4 × 200
    assert arms(flat, flat) == {(0.0, 0.0): "beyond", (0.0, 2.0): "beyond"}  # neither holds: nothing decides


def test_summary_table_keeps_censored_cells_and_shows_the_outcome():
    s = analysis.summarise(table(a=(1.0, [GROKS]), b=(0.0, [NEVER])), "wd")
    out = report.summary_table(s, analysis.outcomes(s, 200))
    assert out.loc[0.0, "median held step"] == "> 300" and out.loc[1.0, "median held step"] == "200"
    assert out.loc[0.0, "val held"] == "0 of 1" and out.loc[1.0, "budget"] == "300"
    assert out.loc[0.0, "outcome"] == "beyond" and out.loc[0.0, "needs"] == "800" and out.loc[1.0, "needs"] == ""


def test_ranges_overlap_or_not():
    assert analysis.overlap(pd.Series([1, 3]), pd.Series([2, 5])) and not analysis.overlap(
        pd.Series([1, 2]), pd.Series([3])
    )
    assert not analysis.overlap(pd.Series([1.0]), pd.Series([math.nan]))


def test_a_notebooks_stop_acc_reaches_the_analysis():
    val = [0.0, 0.5, 0.96, 0.97, 0.96]
    at_95 = analysis.crossings(long_metrics("a", [1.0] * 5, val, stop_acc=0.95, stop_after=100)).iloc[0]
    assert at_95.threshold == 0.95 and at_95.val_held == 200 and not at_95.censored
    default = analysis.crossings(long_metrics("b", [1.0] * 5, val, stop_acc=None, stop_after=100)).iloc[0]
    assert default.threshold == analysis.THRESHOLD and default.censored


def test_the_trend_refits_bracket_an_exact_power_law():
    frames = [long_metrics(f"f{f}s{i}", [1.0] * 2, [0.0] * int(round(2 / f)) + [1.0] * 3, stop_after=100,
                           max_steps=100_000).assign(train_frac=f, seed=i) for f in (0.2, 0.4, 0.8) for i in range(3)]  # fmt: skip
    t = analysis.crossings(pd.concat(frames), keep=["train_frac", "seed"])
    fits = analysis.trend_fits(t, n=20)
    a, b = analysis.trend(analysis.summarise(t, "train_frac"))
    lo, hi = analysis.interval(fits["bootstrap"], 0.1)
    assert lo <= a * 0.1**b <= hi and len(fits["leave one out"]) == 3
    assert all(f is None for f in fits["leave one out"])  # two fractions left: no trend


def test_the_bootstrap_resamples_only_the_fractions_the_trend_rests_on():
    """A fraction without a median (1 of 3 runs held, far off the law) is left out of the fit, so it is left out of
    every refit too, even a resample that draws its one held run three times."""
    law = [long_metrics(f"f{f}s{i}", [1.0] * 2, [0.0] * int(round(2 / f)) + [1.0] * 3, stop_after=100,
                        max_steps=100_000).assign(train_frac=f, seed=i) for f in (0.2, 0.4, 0.8) for i in range(3)]  # fmt: skip
    off = [long_metrics(f"f0.9s{i}", [1.0] * 2, [0.0] * 20 + [1.0] * 3 if i == 0 else [0.0] * 25, stop_after=100,
                        max_steps=100_000).assign(train_frac=0.9, seed=i) for i in range(3)]  # fmt: skip
    t = analysis.crossings(pd.concat(law + off), keep=["train_frac", "seed"])
    a, b = analysis.trend(analysis.summarise(t, "train_frac"))
    fits = analysis.trend_fits(t, n=40)
    assert all(f == pytest.approx((a, b)) for f in fits["bootstrap"])


def test_a_doctored_run_table_fails_the_check_when_publishing():
    """04's check "every run held" passes on grokked runs and fails, under make report's mode, once the run
    table says otherwise; with other parameters it only records the statement."""
    statement = "every run held 99% validation accuracy"
    s = analysis.summarise(table(a=(0.5, [GROKS] * 3)), "wd")
    assert claims.Checks(publishing=True)((s.held == s.runs).all(), statement)
    doctored = analysis.summarise(table(a=(0.5, [GROKS, GROKS, NEVER])), "wd")
    with pytest.raises(claims.CheckFailed, match=statement):
        claims.Checks(publishing=True)((doctored.held == doctored.runs).all(), statement)
    exploring = claims.Checks(publishing=False)
    with pytest.warns(UserWarning):
        assert not exploring((doctored.held == doctored.runs).all(), statement)
    assert exploring.failed == [statement] and statement in exploring.shown()


def test_publishing_means_the_registrys_parameters():
    params = dict(experiments.PARAMETERS["04_grokking"])
    assert claims.publishing("04_grokking", params)
    assert not claims.publishing("04_grokking", {**params, "stop_acc": 0.95})


def test_a_claim_is_one_short_sentence():
    assert claims.claim("x" * 200, 1, 1, "c", 0, "s")["claim"] == "x" * 200
    with pytest.raises(ValueError, match="at most 200"):
        claims.claim("x" * 201, 1, 1, "c", 0, "s")


def test_missing_names_the_runs_and_the_command():
    assert report.missing([]) == ""
    assert report.missing(["a"]).startswith("**1 run of this notebook is not computed yet**")
    assert "and 1 more" in report.missing(["a", "b", "c", "d"])


def test_figures_are_numbered_in_reading_order_and_cited_by_number():
    cite = nbformat.v4.new_markdown_cell("As Figure (b) shows, and Figure (nope) does not exist.")
    fig = nbformat.v4.new_code_cell("")
    fig.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "AAAA"}),
                   nbformat.v4.new_output("display_data", data={"text/markdown": "**Figure (b).** A caption."})]  # fmt: skip
    first = nbformat.v4.new_code_cell("")
    first.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": "**Figure.** Another."})]
    cells = document._numbered([first, cite, fig])
    assert cells[0].outputs[0]["data"]["text/markdown"].startswith("**Figure 1.**")
    assert cells[1].source == "As Figure 2 shows, and Figure (nope) does not exist."
    (joined,) = cells[2].outputs  # the image and its caption, one <figure>
    assert "<figure>" in joined["data"]["text/html"] and "Figure 2." in joined["data"]["text/html"]


def test_the_abstract_quotes_the_facts_and_leaves_out_what_is_missing():
    facts = {"04_grokking": dict(fraction_big=0.5, runs_big=3, median_big=2300.0, delay_big=4.6, fraction_small=0.3,
                                 median_small=6700.0, delay_small=22.3, n_layer=2, task="a / b mod 97"),
             "05_ablations": dict(wd_held=[0.3, 1.0], wd_fraction=0.5, wd_budget=12000)}  # fmt: skip
    text = frontmatter.abstract(facts)
    assert "2,300" in text and "6,700" in text and "22×" in text and "leak" not in text
    assert (
        "A 2-layer GPT memorises a / b mod 97" in text
        and "fraction 0.5, grokking" in text
        and "0.3 and 1 within 12,000 steps; heavier decay underfits." in text
    )
    later = dict(wd_slower=[[0.1, 13900.0]], wd_long_budget=100000, wd_open=[0.0])
    assert (
        "and at 0.1 from step 13,900 (median) given 100,000; heavier decay underfits, and weight decay 0 had not"
        in (frontmatter.abstract({**facts, "05_ablations": {**facts["05_ablations"], **later}}))
    )
    assert "Ungrokking" not in text  # no critical size among the facts: no sentence about it
    facts["05_ablations"] |= dict(critical_below=750, critical_val="0.003–0.25", seed_size=500)
    assert "trained on 750 or fewer of its own equations" in frontmatter.abstract(facts)
    assert "from scratch" not in frontmatter.abstract(facts)  # the curve from scratch is not among the facts yet
    facts["05_ablations"] |= dict(critical_scratch_open=2000, critical_scratch_steps=30000)
    assert "no run from scratch on 2,000 or fewer held within 30,000 steps" in frontmatter.abstract(facts)
    assert frontmatter.abstract(facts).count("\n- ") == 3  # one bullet a finding
    assert len(text.split()) <= 200
    assert "No runs yet" in frontmatter.abstract({})
