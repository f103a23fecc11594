"""What each notebook concludes, as data: claims that a notebook displays and the report's summary gathers.

A claim is one line of the report's summary of claims: what, over how many runs and seeds, by which criterion,
how many runs were censored, and the heading of the section that shows it. A notebook displays its claims with
`bundle`, which the notebook shows as a table and `document` collects (by CLAIMS_MIME) into the summary at the front.
"""

from __future__ import annotations

import math

import pandas as pd

from grokgpt import analysis, data, report

CLAIMS_MIME = "application/vnd.grokgpt.claims+json"


def claim(text: str, n: int, seeds: int, criterion: str, censored: int, section: str) -> dict:
    """One line of the report's summary of claims: what, over how many runs and seeds, by which criterion, how
    many runs were censored, and the heading of the section that shows it."""
    return {"claim": text, "runs": int(n), "seeds": int(seeds), "criterion": criterion, "censored": int(censored),
            "section": section}  # fmt: skip


def bundle(items: list[dict]) -> dict:
    """A display bundle of a notebook's claims: a table in the notebook, and data the pipeline gathers."""
    table = pd.DataFrame(items).drop(columns="section").replace({"runs": {0: "–"}}) if items else None
    shown = report.markdown_table(table) if items else "No claims: no runs yet."
    return {CLAIMS_MIME: items, "text/markdown": "**What this notebook claims**\n\n" + shown}


def held_criterion(window: int) -> str:
    return f"val ≥ 99% at every evaluation to the end, for ≥ {window:,} steps"


def grokking(table: pd.DataFrame, window: int, section: str, by: str = "train_frac") -> list[dict]:
    """04: one claim per training fraction. "Groks" only when most runs held (a Kaplan–Meier median exists)."""
    out = []
    for value, g in table.groupby(by):
        s = analysis.summarise(g.assign(_all=0), "_all").iloc[0]
        held = g[~g["censored"]]
        if not math.isnan(s.median_held):
            text = (
                f"a / b mod p groks at training fraction {report.label(value)}: val held 99% in {report.count(s.held, s.runs)}, "
                f"from step {report.steps(s.median_held)} (median; {report.span(held['val_held'])}), {report.delay(held, len(g))}"
            )
            relapsed = g[g["train_collapses"] > 0]
            if len(relapsed):
                text += (
                    f"; but train accuracy fell below 50% again in {report.count(len(relapsed), len(g))} and held 99% "
                    f"only from step {report.span(g['train_held'])}"
                )
        else:
            text = (
                f"At training fraction {report.label(value)}, val held 99% in {report.count(s.held, s.runs)} within "
                f"{int(s.min_budget):,} steps: most runs did not grok in this budget"
            )
        out.append(
            claim(text.replace("**", ""), s.runs, g["seed"].nunique(), held_criterion(window), s.censored, section)
        )
    return out


def overfit(recitals: pd.DataFrame, lr: float, n_layer: int, recited: str | None, eval_every: int) -> list[dict]:
    """01: at learning rate lr the sentence is memorised (and recited, if `recited` names the prompt it was recited
    from); and, per setting, the loss spikes and how often accuracy fell back after the first perfect recital."""
    base = recitals[recitals["lr"] == lr]
    exact = base[base["final_acc"] == 1]
    n, seeds = len(recitals), recitals["seed"].nunique()
    each = "; ".join(
        f"{k}: {int(g.spikes.sum())} and {int(g.falls.sum())}" for k, g in recitals.groupby("setting", sort=False)
    )
    return [
        claim(
            f"At lr {lr:g} a {n_layer}-layer GPT predicts every character of the sentence at the end of training in "
            f"{report.count(len(exact), len(base))}" + (f"; the checkpoint recites it from {recited!r}" if recited else ""),
            len(base), base["seed"].nunique(), "accuracy 1.0 at the last evaluation", len(base) - len(exact), "Training",
        ),
        claim(
            f"Loss spikes (over {analysis.SPIKE}× the lowest loss before) and falls below 100% after the first "
            f"perfect recital, per setting: {each}",
            n, seeds, f"every evaluation, {eval_every} steps apart", 0, "Loss spikes",
        ),
    ]  # fmt: skip


def leak(table: pd.DataFrame) -> dict:
    """02: the seed protocol's leak, per prime, against the leak-free split's."""
    heldout = table.loc["seed"].query("split != 'train'")
    shares = [f"{g.in_train.sum() / g.rows.sum():.1%} (p = {p})" for p, g in heldout.groupby("p")]
    return claim(
        f"A draw of the seed report's sampling puts {' and '.join(shares)} of its val and test rows in train too; "
        f"the leak-free split has {int(table.loc['leak-free'].in_train.sum())}",
        0, 1, "a row is leaked when the same line is in train", 0, "How much of val and test is already in train?",
    )  # fmt: skip


def warmup(
    test: pd.DataFrame, table: pd.DataFrame, seed_report: dict[int, tuple[float, float]], seed_n_train: int
) -> list[dict]:
    """03: test accuracy of every run against the seed report's, with the training-set sizes of both."""
    good = test[test["acc"] >= analysis.THRESHOLD]
    primes = sorted(test["p"].unique())
    theirs = " and ".join(f"{seed_report[p][1]:.3f}" for p in primes if p in seed_report)
    sizes = test.drop_duplicates("p").sort_values("p")
    trained = " and ".join(f"{data.train_size(r.p, r.ops, r.train_frac):,}" for r in sizes.itertuples())
    return [
        claim(
            f"a ± b mod p on the leak-free split: test accuracy ≥ 0.99 in {report.count(len(good), len(test))} "
            f"(p = {', '.join(map(str, primes))}, trained on {trained} equations; the seed report: {theirs}, "
            f"trained on {seed_n_train:,})",
            len(test), test["seed"].nunique(), "test accuracy at the last evaluation", int(table["censored"].sum()),
            "Final test loss and accuracy",
        )
    ]  # fmt: skip


def seed_size(table: pd.DataFrame, n_train: int, window: int) -> dict:
    """03: the seed report's training-set size, trained long."""
    held = int((~table["censored"]).sum())
    rising = int((table["censored"] & (table["val_gain"] > analysis.RISING)).sum())
    return claim(
        f"At the seed report's size ({n_train:,} training equations) validation held 99% in {report.count(held, len(table))} "
        f"within {table['budget'].max():,} steps" + (f"; validation accuracy was still rising at the end in {rising} of them" if rising else ""),
        len(table), table["seed"].nunique(), held_criterion(window), int(table["censored"].sum()),
        "Was the seed's training set too small?",
    )  # fmt: skip


def cell(text: str, table: pd.DataFrame, window: int, section: str) -> dict:
    """A claim about the runs of a crossings table (05's ablations): their count, seeds and censored runs."""
    return claim(
        text, len(table), table["seed"].nunique(), held_criterion(window), int(table["censored"].sum()), section
    )
