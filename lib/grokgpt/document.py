"""The report as one document: the executed notebooks merged under a title page, a summary of the study's claims,
linked contents, numbered sections and figures, and a closing section on reproducing it.

Notebooks mark what the document gathers: a figure's caption is a Markdown output that starts with
`**Figure.**` (numbered here in reading order), and a notebook's claims are an output of type
`claims.CLAIMS_MIME` (collected into the summary, each linked to its section). Progress bars (stderr) and
widgets, which mean nothing on paper, are dropped.
"""

from __future__ import annotations

import copy
import importlib.metadata
import os
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pandas as pd

from grokgpt import claims, experiments, report, runs, store

TITLE = "grokgpt: a tiny GPT that overfits, learns modular arithmetic, and groks modular division"
PACKAGES = ("torch", "numpy", "pandas", "matplotlib", "papermill", "nbconvert")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
STYLE = """<style>  /* added to the exported page's head by pipeline.export_html */
table { font-size: 0.8em; max-width: 100%; border-collapse: collapse; }
td, th { padding: 2px 6px; overflow-wrap: break-word; }
th { white-space: nowrap; }
img { max-width: 100%; height: auto; }
h1 { break-before: page; }
</style>"""
FIGURE = re.compile(r"^\*\*Figure\.\*\*")


def _anchor(*numbers: int) -> str:
    return "s" + "-".join(map(str, numbers))


def _keep(output: dict) -> bool:
    if output.get("output_type") == "stream":
        return output.get("name") != "stderr"
    data = output.get("data", {})
    return WIDGET_MIME not in data and claims.CLAIMS_MIME not in data


def _headings(nb: nbformat.NotebookNode, number: int) -> list[tuple[int, str, str]]:
    """Number the notebook's headings in place (# -> `number`, ## -> `number.k`), each with an anchor; returns
    (level, text, anchor) for the contents."""
    found, sub = [], 0
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        for i, line in enumerate(lines):
            match = re.match(r"^(#{1,2}) (.*)$", line)
            if not match:
                continue
            level, text = len(match[1]), re.sub(r"^\d+ · ", "", match[2])
            sub = 0 if level == 1 else sub + 1
            anchor = _anchor(number) if level == 1 else _anchor(number, sub)
            label = f"{number}" if level == 1 else f"{number}.{sub}"
            lines[i] = (
                f'{match[1]} <a id="{anchor}"></a>{label} · {text}'
                if level == 1
                else f'{match[1]} <a id="{anchor}"></a>{label} {text}'
            )
            found.append((level, text, anchor))
        cell.source = "\n".join(lines)
    return found


def _commit() -> str:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=store.root())
        return done.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def _run_hours() -> tuple[int, float]:
    """The runs in data/runs/ and the hours their training took, from each metrics.csv's last elapsed_s."""
    folder = store.root() / store.RUNS
    finished = [p for p in folder.glob("[!.]*/") if runs.problem(p) is None]  # hidden folders are temporaries
    seconds = [runs.load(p).metrics["elapsed_s"].max() for p in finished]
    return len(seconds), sum(seconds) / 3600


def title_page(notebooks: list[nbformat.NotebookNode], paths: list[Path]) -> str:
    durations = [nb.metadata.get("papermill", {}).get("duration") or 0 for nb in notebooks]
    versions = ", ".join(f"{name} {importlib.metadata.version(name)}" for name in PACKAGES)
    n_runs, hours = _run_hours()
    registry = experiments.every_spec()
    absent = sum(runs.find(spec.name) is None for spec in registry)
    complete = (
        f"All {len(registry)} runs of the registry are in."
        if not absent
        else f"**{absent} of the registry's {len(registry)} runs are not computed yet** (`make runs`): the sections "
        "that lack runs name them, and their claims rest on the runs they have."
    )
    return (
        f"# {TITLE}\n\n"
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `make report` from commit `{_commit()}`, with {versions}.\n\n"
        f"The {len(paths)} notebooks ran in {sum(durations):.0f} s ("
        + ", ".join(f"{p.stem} {d:.0f} s" for p, d in zip(paths, durations, strict=True))
        + f"); they analyse {n_runs} runs from `data/runs/`, whose training took {hours:.1f} hours in all "
        "(`make runs`). Every result below is computed from those runs; the seed report's numbers are quoted from it. "
        + complete
    )


def _claims(nb: nbformat.NotebookNode) -> list[dict]:
    """The claims an executed notebook displayed, in order."""
    return [
        item
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        for item in output.get("data", {}).get(claims.CLAIMS_MIME, [])
    ]


README_START, README_END = "<!-- claims: written by make report from reports/*.ipynb -->", "<!-- /claims -->"


def readme_claims(paths: list[Path], base: Path) -> str:
    """The README's results table: every claim of the executed notebooks, linked to its notebook (relative to
    base, the README's folder)."""
    rows = [
        {
            "claim": c["claim"],
            "runs": c["runs"] or "–",
            "seeds": c["seeds"],
            "criterion": c["criterion"],
            "censored": c["censored"],
            "notebook": f"[{p.stem}]({Path(os.path.relpath(p, base)).as_posix()})",
        }
        for p in paths
        for c in _claims(nbformat.read(p, as_version=4))
    ]
    if not rows:
        return "No claims yet: the runs are not computed (`make runs`)."
    return report.markdown_table(pd.DataFrame(rows))


def with_claims(readme: str, table: str) -> str:
    """The README's text with the block between its claims markers replaced by table."""
    start, end = readme.find(README_START), readme.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no claims block ({README_START} ... {README_END})")
    return readme[: start + len(README_START)] + "\n\n" + table + "\n\n" + readme[end:]


def summary(gathered: list[dict]) -> str:
    if not gathered:
        return "## Summary of claims\n\nNo claims yet: the runs are not computed (`make runs`)."
    rows = [
        {
            "#": i,
            "claim": c["claim"],
            "runs": c["runs"] or "–",
            "seeds": c["seeds"],
            "criterion": c["criterion"],
            "censored": c["censored"],
            "section": f'<a href="#{c["anchor"]}">{c["label"]}</a>',
        }
        for i, c in enumerate(gathered, start=1)
    ]
    return (
        "## Summary of claims\n\nEach claim is computed from the runs of its section. Runs: how many runs it rests on; "
        "censored: runs that ended without meeting the criterion (they stay in every count).\n\n"
        + report.markdown_table(pd.DataFrame(rows))
    )


def build(paths: list[Path]) -> nbformat.NotebookNode:
    """One notebook of the report: title page, summary of claims, contents, the notebooks, reproducibility."""
    notebooks = [nbformat.read(p, as_version=4) for p in paths]
    merged = copy.deepcopy(notebooks[0])
    merged.metadata["title"] = TITLE
    contents, gathered, body, figures = [], [], [], 0
    for number, nb in enumerate(notebooks, start=1):
        headings = _headings(nb, number)
        contents += headings
        for item in _claims(nb):
            section = next((h for h in headings if h[1].startswith(item["section"])), headings[0])
            label = section[2][1:].replace("-", ".")  # anchor s2-1 is section 2.1
            gathered.append({**item, "anchor": section[2], "label": label})
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [o for o in cell.outputs if _keep(o)]
                for output in cell.outputs:
                    text = output.get("data", {}).get("text/markdown", "")
                    if FIGURE.match(text):
                        figures += 1
                        output["data"]["text/markdown"] = FIGURE.sub(f"**Figure {figures}.**", text)
            body.append(cell)
    toc = "\n".join(("" if level == 1 else "    ") + f"- [{text}](#{anchor})" for level, text, anchor in contents)
    merged.cells = [
        nbformat.v4.new_markdown_cell(title_page(notebooks, paths)),
        nbformat.v4.new_markdown_cell(summary(gathered)),
        nbformat.v4.new_markdown_cell("## Contents\n\n" + toc),
        *body,
        nbformat.v4.new_markdown_cell(REPRODUCE),
    ]
    return merged


REPRODUCE = """# Reproducing this report

```bash
make report        # a fresh clone: install, run the five notebooks on the committed runs, export this report
make runs          # compute every run of the registry that data/runs/ lacks (FORCE=1: all of them again)
make verify N=3    # retrain 3 random committed runs and compare their metrics with the committed ones, exactly
make test          # the library, the CLI, and every notebook with tiny parameters
```

Every setting lives in `lib/grokgpt/experiments.py`; each run's `config.json` records it with the torch version,
thread count and device the run used, and `make verify` retrains with that thread count (a run's trajectory
depends on it). The README gives the measured times of each command on a 2-core CPU."""
