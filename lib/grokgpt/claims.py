"""What each notebook concludes, as data: its claims, the checks that guard its hand-written text, and its facts.

- A claim is one line of the report's summary (and of the README's results): one sentence of at most MAX_CHARS
  characters, written in the notebook with its numbers as f-strings, over how many runs and seeds, by which
  criterion, how many runs were censored, and the section (a heading of the notebook, named exactly) that shows it.
  A notebook displays its claims with `bundle`; `document` collects them (by CLAIMS_MIME).
- A check guards one qualitative statement of a notebook's text: `Checks(publishing)` is called with the condition
  that makes the statement true. When the notebook runs with the registry's parameters (`publishing`, as
  `make report` runs it) a condition that fails raises CheckFailed, so the report is not written; with other
  parameters the failed statements are collected and shown (`Checks.shown`).
- Facts are the headline numbers the report's abstract quotes (`facts`, gathered by FACTS_MIME).
"""

from __future__ import annotations

import warnings

import pandas as pd

from grokgpt import experiments, report
from grokgpt.analysis import THRESHOLD

CLAIMS_MIME = "application/vnd.grokgpt.claims+json"
FACTS_MIME = "application/vnd.grokgpt.facts+json"
MAX_CHARS = 200  # a claim is one short sentence


def claim(text: str, n: int, seeds: int, criterion: str, censored: int, section: str) -> dict:
    """One line of the report's summary of claims: what (at most MAX_CHARS characters), over how many runs and
    seeds, by which criterion, how many runs were censored, and the heading of the section that shows it."""
    if len(text) > MAX_CHARS:
        raise ValueError(f"a claim is at most {MAX_CHARS} characters, this one {len(text)}: {text[:60]}...")
    return {"claim": text, "runs": int(n), "seeds": int(seeds), "criterion": criterion, "censored": int(censored),
            "section": section}  # fmt: skip


def about(text: str, table: pd.DataFrame, criterion: str, section: str) -> dict:
    """A claim over the runs of a crossings table: their count, seeds and censored runs."""
    return claim(text, len(table), table["seed"].nunique(), criterion, int(table["censored"].sum()), section)


def held_criterion(window: int, acc: float = THRESHOLD) -> str:
    return f"val ≥ {acc:.0%} at every evaluation to the end, for ≥ {window:,} steps"


def bundle(items: list[dict]) -> dict:
    """A display bundle of a notebook's claims: a table in the notebook, and data the pipeline gathers."""
    table = pd.DataFrame(items).drop(columns="section").replace({"runs": {0: "–"}}) if items else None
    shown = report.markdown_table(table) if items else "No claims: no runs yet."
    return {CLAIMS_MIME: items, "text/markdown": "**What this notebook claims**\n\n" + shown}


def facts(**values) -> dict:
    """A display bundle of headline numbers for the abstract (plain numbers and strings); shows nothing itself."""
    return {FACTS_MIME: values, "text/plain": ""}


# ----------------------------------------------------------------------------------------------------------------
# Checks


class CheckFailed(AssertionError):
    """The registry's runs no longer support a statement of the notebook's text."""


def publishing(notebook: str, params: dict) -> bool:
    """Whether a notebook runs with the registry's parameters: then its text is published and its checks fail hard."""
    return params == experiments.PARAMETERS[notebook]


class Checks:
    """`check(condition, statement)`: raises CheckFailed when publishing and the condition is false; otherwise
    records the statement (and warns), so that exploration shows which statements do not hold for its runs."""

    def __init__(self, publishing: bool):
        self.publishing, self.failed, self.passed = publishing, [], 0

    def __call__(self, condition, statement: str) -> bool:
        if bool(condition):
            self.passed += 1
            return True
        if self.publishing:
            raise CheckFailed(f"the runs no longer support: {statement}")
        self.failed.append(statement)
        warnings.warn(f"does not hold for these runs: {statement}", stacklevel=2)
        return False

    def shown(self) -> str:
        """Markdown: which checked statements do not hold (empty when all hold)."""
        if not self.failed:
            return ""
        return "**Statements of the text that do not hold for these runs:**\n\n" + "\n".join(
            f"- {s}" for s in self.failed
        )
