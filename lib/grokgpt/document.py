"""The report as one document: the executed notebooks merged under a title page, a summary of the study's claims,
linked contents, numbered sections and figures, and a closing section on reproducing it. Its hand-written text (title,
question, abstract, introduction, references) lives in `frontmatter`.

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
from grokgpt.frontmatter import INTRODUCTION, QUESTION, REFERENCES, REPRODUCE, TITLE, abstract

PACKAGES = ("torch", "numpy", "pandas", "matplotlib", "papermill", "nbconvert")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
STYLE = """<style>  /* added to the exported page's head by pipeline.export_html */
table { font-size: 0.8em; max-width: 100%; border-collapse: collapse; }
td, th { padding: 2px 6px; overflow-wrap: break-word; }
th { white-space: nowrap; }
img { max-width: 100%; height: auto; }
h1 { break-before: page; }
h1, h2, h3 { break-after: avoid; page-break-after: avoid; }
figure { break-inside: avoid; page-break-inside: avoid; margin: 0.6em 0; }
figcaption { font-size: 0.9em; }
@media print {  /* JupyterLab lays a cell out as flex rows and CSS tables, inside which print ignores page breaks */
  .jp-Cell-inputWrapper, .jp-Cell-outputWrapper, .jp-InputArea, .jp-OutputArea, .jp-OutputArea-child,
  .jp-MarkdownOutput, .jp-OutputArea-output { display: block; }
  .jp-Collapser, .jp-InputPrompt, .jp-OutputPrompt { display: none; }
  .jp-OutputArea-child { break-inside: auto; }  /* a long table goes on over the page; a figure stays whole */
  .jp-RenderedHTMLCommon table { font-size: 7.5pt; }  /* JupyterLab's 13 px and 0.5em padding overflow A4 */
  .jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { padding: 0.2em 0.3em; }
}
</style>"""
FIGURE = re.compile(r"^\*\*Figure(?: \(([\w -]+)\))?\.\*\*")  # a caption: **Figure.** or **Figure (name).**
NUMBERED = re.compile(r"^\*\*Figure \d+\.\*\*")  # a caption, once numbered
CITED = re.compile(r"Figure \(([\w -]+)\)")  # a reference to a named figure in any text


def _anchor(*numbers: int) -> str:
    return "s" + "-".join(map(str, numbers))


def _keep(output: dict) -> bool:
    if output.get("output_type") == "stream":
        return output.get("name") != "stderr"
    data = output.get("data", {})
    return not {WIDGET_MIME, claims.CLAIMS_MIME, claims.FACTS_MIME} & set(data)


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
    """The commit the report was made from, "+ uncommitted changes" when the sources differed from it (what
    `make report` itself writes, reports/, figures/ and the README's claims, and the runs' folder aside)."""
    git = lambda *args: subprocess.run(["git", *args], capture_output=True, text=True, cwd=store.root()).stdout  # noqa: E731
    try:
        commit = git("rev-parse", "--short", "HEAD").strip() or "unknown"
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!reports", ":!figures",
                    ":!README.md", ":!data/runs", ":!checkpoints").strip()  # fmt: skip
        return commit + (" + uncommitted changes" if dirty else "")
    except OSError:
        return "unknown"


def _run_hours() -> tuple[int, float]:
    """The runs in data/runs/ and the hours their training took, from each metrics.csv's last elapsed_s."""
    folder = store.root() / store.RUNS
    finished = [p for p in folder.glob("[!.]*/") if runs.problem(p) is None]  # hidden folders are temporaries
    seconds = [runs.load(p).metrics["elapsed_s"].max() for p in finished]
    return len(seconds), sum(seconds) / 3600


def stamp(notebooks: list[nbformat.NotebookNode], paths: list[Path]) -> str:
    """How the report was made: the commit, the packages, the notebooks' times and the runs they read."""
    durations = [nb.metadata.get("papermill", {}).get("duration") or 0 for nb in notebooks]
    versions = ", ".join(f"{name} {importlib.metadata.version(name)}" for name in PACKAGES)
    n_runs, hours = _run_hours()
    registry = experiments.every_spec()
    absent = sum(runs.find(spec.name) is None for spec in registry)
    complete = (
        f"All {len(registry)} runs of the registry are in."
        if not absent
        else f"**{absent} of the registry's {len(registry)} runs are not computed yet** (`make runs`): the sections that "
        "lack runs name them, and their claims rest on the runs they have."
    )
    return (
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `make report` from commit `{_commit()}`, with {versions}. "
        f"The {len(paths)} notebooks ran in {sum(durations):.0f} s; they analyse {n_runs} runs from `data/runs/`, "
        f"whose training took {hours:.1f} hours in all. {complete}"
    )


title_page = stamp  # the name the pipeline's tests know it by


def _facts(nb: nbformat.NotebookNode) -> dict:
    """The headline numbers a notebook displayed for the abstract (claims.facts), merged."""
    return {k: v for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs
            for k, v in output.get("data", {}).get(claims.FACTS_MIME, {}).items()}  # fmt: skip


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
        "## Summary of claims\n\nEach claim is one sentence computed from the runs of its section. Runs: how many runs it rests on; "
        "censored: runs that ended without meeting the criterion (they stay in every count).\n\n"
        + report.markdown_table(pd.DataFrame(rows))
    )


def _figure(image: dict, caption: dict) -> dict:
    """An image output and its caption output as one HTML <figure>, so that print keeps them on one page."""
    from nbconvert.filters import markdown2html

    html = (f'<figure><img src="data:image/png;base64,{image["data"]["image/png"]}"/>'
            f"<figcaption>{markdown2html(caption['data']['text/markdown'])}</figcaption></figure>")  # fmt: skip
    return nbformat.v4.new_output("display_data", data={"text/html": html})


def _numbered(cells: list) -> list:
    """Number the figures in reading order (captions `**Figure.**` or `**Figure (name).**`), join each to its
    image, and turn every "Figure (name)" in the text into "Figure N"."""
    names, n = {}, 0
    for cell in cells:
        for output in cell.get("outputs", []):
            match = FIGURE.match(output.get("data", {}).get("text/markdown", ""))
            if match:
                n += 1
                names[match[1]] = n
                output["data"]["text/markdown"] = FIGURE.sub(f"**Figure {n}.**", output["data"]["text/markdown"])
    cite = lambda text: CITED.sub(lambda m: f"Figure {names[m[1]]}" if m[1] in names else m[0], text)  # noqa: E731
    for cell in cells:
        if cell.cell_type == "markdown":
            cell.source = cite(cell.source)
            continue
        outputs = []
        for output in cell.outputs:
            data = output.get("data", {})
            if "text/markdown" in data:
                data["text/markdown"] = cite(data["text/markdown"])
            if outputs and "image/png" in outputs[-1].get("data", {}) and NUMBERED.match(data.get("text/markdown", "")):
                outputs[-1] = _figure(outputs[-1], output)
            else:
                outputs.append(output)
        cell.outputs = outputs
    return cells


def build(paths: list[Path]) -> nbformat.NotebookNode:
    """One notebook of the report: page 1 (title, question, abstract, the headline figure: the cell tagged
    `headline`, contents), the introduction, the summary of claims, the notebooks, reproducibility, references."""
    notebooks = [nbformat.read(p, as_version=4) for p in paths]
    merged = copy.deepcopy(notebooks[0])
    merged.metadata["title"] = TITLE
    facts = {p.stem: _facts(nb) for p, nb in zip(paths, notebooks, strict=True)}
    made = stamp(notebooks, paths)
    contents, gathered, body, headline = [], [], [], []
    for number, nb in enumerate(notebooks, start=1):
        headings = _headings(nb, number)
        contents += headings
        for item in _claims(nb):
            section = next((h for h in headings if h[1] == item["section"]), None)
            section = section or next((h for h in headings if h[1].startswith(item["section"])), headings[0])
            label = section[2][1:].replace("-", ".")  # anchor s2-1 is section 2.1
            gathered.append({**item, "anchor": section[2], "label": label})
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [o for o in cell.outputs if _keep(o)]
            (headline if "headline" in cell.metadata.get("tags", []) else body).append(cell)
    toc = "\n".join(("" if level == 1 else "    ") + f"- [{text}](#{anchor})" for level, text, anchor in contents)
    cells = [
        nbformat.v4.new_markdown_cell(f"# {TITLE}\n\n{QUESTION}\n\n{abstract(facts)}"),
        *headline[:1],
        nbformat.v4.new_markdown_cell(f"<small>{made}</small>\n\n## Contents\n\n" + toc),
        nbformat.v4.new_markdown_cell(INTRODUCTION),
        nbformat.v4.new_markdown_cell(summary(gathered)),
        *body,
        nbformat.v4.new_markdown_cell(REPRODUCE),
        nbformat.v4.new_markdown_cell(REFERENCES),
    ]
    merged.cells = _numbered(cells)
    return merged
