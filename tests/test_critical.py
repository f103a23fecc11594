"""The critical training-set size: the bracket, the ungrokking outcomes."""

import math

import pandas as pd

from grokgpt import critical


def test_the_bracket_lies_between_the_sizes_where_the_median_crosses_half():
    final = pd.DataFrame(
        {
            "curve": ["ungrok"] * 9 + ["scratch"] * 6,
            "D": [250] * 3 + [500] * 3 + [1000] * 3 + [500] * 3 + [1000] * 3,
            "acc": [0.01, 0.02, 0.9, 0.1, 0.6, 0.7, 1.0, 1.0, 0.99] + [0.01] * 3 + [0.02, 0.03, 0.2],
        }
    )
    b = critical.bracket(final)
    assert (b.loc["ungrok", "below"], b.loc["ungrok", "above"]) == (250, 500)
    assert b.loc["ungrok", "seeds disagree at"] == "250, 500"
    assert b.loc["scratch", "below"] == 1000 and math.isnan(b.loc["scratch", "above"])  # beyond the sizes tried
    assert b.loc["scratch", "runs"] == 6 and b.loc["scratch", "seeds disagree at"] == "none"


def test_a_size_ungroks_only_when_every_run_falls_under_half_and_still_fits_its_equations():
    final = pd.DataFrame(
        {
            "D": [250] * 3 + [500] * 3 + [750] * 3 + [1000] * 3 + [1500] * 3,
            "acc": [0.01, 0.02, 0.3] + [0.01, 0.02, 0.3] + [0.2, 0.6, 0.9] + [0.6, 0.99, 1.0] + [0.6, 0.99, 1.0],
            "train": [1.0] * 3 + [1.0, 1.0, 0.8] + [1.0] * 9,
            "val_gain": [-0.5] * 3 + [0.0] * 6 + [-0.1, 0.0, 0.0] + [-0.01, 0.0, 0.0],
        }
    )
    u = critical.ungrokking(final)
    # 500: one run no longer fits its equations; 1000: one run still falls at the end, a longer run may ungrok
    assert list(u.outcome) == ["ungrokked", "split", "split", "falling", "kept"]
    assert (
        u.loc[750, "val_final_min"] == 0.2
        and u.loc[750, "val_final_max"] == 0.9
        and u.loc[500, "train_final_min"] == 0.8
    )
    assert u.loc[1000, "late_change"] == -0.1


def test_a_run_ungroks_for_good_from_the_evaluation_after_its_last_one_at_half_or_more():
    rows = [{"run": run, "split": split, "step": 100 * i, "acc": acc}
            for run, accs in {"a": [1.0, 0.4, 0.6, 0.3, 0.1], "b": [1.0, 0.9, 0.8, 0.6, 0.55], "c": [0.2, 0.1]}.items()
            for i, acc in enumerate(accs) for split in ("train", "val")]  # fmt: skip
    got = critical.under_from(pd.DataFrame(rows))
    assert got["a"] == 300 and math.isnan(got["b"]) and got["c"] == 0  # a dipped under at 100, came back at 200
