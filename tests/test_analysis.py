import pandas as pd

from grokgpt import analysis, data


def long_metrics(run, train, val, every=100):
    rows = [dict(step=i * every, split="train", loss=1 - a, acc=a, elapsed_s=i) for i, a in enumerate(train)]
    rows += [dict(step=i * every, split="val", loss=1 - a, acc=a, elapsed_s=i) for i, a in enumerate(val)]
    return pd.DataFrame(rows).assign(run=run)


def test_crossings_mark_censored_runs_without_inventing_a_step():
    m = pd.concat(
        [
            long_metrics("a", [0.1, 1.0, 1.0, 1.0], [0.0, 0.2, 0.995, 1.0]).assign(weight_decay=1.0),
            long_metrics("b", [0.1, 1.0, 1.0, 1.0], [0.0, 0.1, 0.2, 0.3]).assign(weight_decay=0.0),
        ]
    )
    t = analysis.crossings(m, keep=["weight_decay"]).set_index("run")
    assert t.at["a", "train_step"] == 100 and t.at["a", "val_step"] == 200 and t.at["a", "grokked"]
    assert pd.isna(t.at["b", "val_step"]) and not t.at["b", "grokked"] and t.at["b", "last_step"] == 300
    s = analysis.summarise(t, "weight_decay")
    assert s.at[0.0, "grokked"] == 0 and pd.isna(s.at[0.0, "val_step"]) and s.at[1.0, "val_step"] == 200
    sentence = analysis.verdict(s, "weight_decay")
    assert (
        "fastest at weight_decay = 1" in sentence and "none grokked within 300 steps with weight_decay = 0" in sentence
    )


def test_verdict_names_a_tie_as_a_tie():
    m = pd.concat(
        [
            long_metrics(f"{w}{s}", [0.1, 1.0, 1.0], [0.0, 0.995, 1.0]).assign(warmup_steps=w, seed=s)
            for w in (0, 10)
            for s in (0, 1)
        ]
    )
    sentence = analysis.verdict(
        analysis.summarise(analysis.crossings(m, keep=["warmup_steps"]), "warmup_steps"), "warmup_steps"
    )
    assert "all at the same median of 100 steps" in sentence and "fastest" not in sentence


def test_collapses_count_each_fall_once():
    m = long_metrics("a", [0.2, 0.995, 0.5, 0.4, 1.0, 1.0, 0.3, 1.0], [0.0] * 8)
    assert analysis.collapses(m) == [200, 600]
    assert analysis.collapses(long_metrics("b", [0.2, 0.5], [0.0, 0.0])) == []


def test_leakage_counts_shared_and_repeated_lines():
    splits = {
        "train": [(1, "+", 2, 3), (1, "+", 2, 3)],
        "val": [(1, "+", 2, 3), (7, "+", 1, 1)],
        "test": [(0, "-", 1, 6)],
    }
    t = analysis.leakage(splits, p=7).set_index("split")
    assert t.at["train", "repeats"] == 1 and t.at["val", "in_train"] == 1 and t.at["val", "in_train_share"] == 0.5
    assert t.at["val", "operand_ge_p"] == 1 and t.at["test", "in_train"] == 0
    clean = analysis.leakage(data.split_leak_free(data.table(11, "+-"), (0.4, 0.4, 0.2), 0), p=11)
    assert clean.in_train.sum() == 0 and clean.repeats.sum() == 0


def test_last_evaluation_takes_each_runs_own_last_step():
    short = long_metrics("short", [0.1, 1.0], [0.0, 0.5])
    long = long_metrics("long", [0.1, 1.0, 1.0, 1.0], [0.0, 0.2, 0.6, 0.9])
    last = analysis.last_evaluation(pd.concat([short, long]))
    assert sorted(last.groupby("run").step.unique().map(list).to_dict().items()) == [("long", [300]), ("short", [100])]
    assert len(last) == 2 * last.split.nunique()
    assert last.set_index(["run", "split"]).at[("long", "val"), "acc"] == 0.9
