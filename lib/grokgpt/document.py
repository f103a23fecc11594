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


QUESTION = (
    "**The question.** Can a GPT small enough for a laptop CPU *grok* modular division (fit its training equations "
    "early, generalise to the unseen ones thousands of steps later), where the seed report failed? And what makes "
    "grokking happen, and how fast: weight decay, the amount of data, warmup, or a gradient filter?"
)


def abstract(facts: dict[str, dict]) -> str:
    """The abstract: hand-written sentences, one bullet each, with the headline numbers of the notebook it
    summarises; a sentence whose notebook has no numbers yet is left out."""
    f1, f2, f3, f4, f5 = (
        facts.get(k, {}) for k in ("01_overfit", "02_data", "03_warmup", "04_grokking", "05_ablations")
    )
    said = []
    numeric = lambda f, *keys: all(isinstance(f.get(k), int | float) and f[k] == f[k] for k in keys)  # noqa: E731
    f4 = f4 if numeric(f4, "median_big", "delay_big", "median_small", "delay_small") else {}
    f5 = (
        f5
        if numeric(f5, "exponent", "seed_prediction")
        else {k: v for k, v in f5.items() if k.startswith(("wd_", "critical_")) or k == "seed_size"}
    )
    if f4:
        said.append(
            f"A {f4['n_layer']}-layer GPT memorises {f4['task']} within a few hundred steps and generalises much "
            f"later: at training fraction {f4['fraction_big']:g} validation held 99% from step "
            f"{f4['median_big']:,.0f} (median of {f4['runs_big']} seeds), {f4['delay_big']:.2g}× after train reached "
            f"99%; at {f4['fraction_small']:g}, from step {f4['median_small']:,.0f}, {f4['delay_small']:.2g}× later. "
            "Its embedding ends on a few Fourier frequencies (Nanda et al. 2023)."
        )
    if f5.get("wd_held"):
        at = f" at training fraction {f5['wd_fraction']:g}" if "wd_fraction" in f5 else ""
        later = "".join(f", and at {w:g} from step {m:,.0f} (median) given {f5['wd_long_budget']:,}"
                        for w, m in f5.get("wd_slower", []))  # fmt: skip
        still = " and ".join(f"{w:g}" for w in f5.get("wd_open", []))
        opened = f", and weight decay {still} had not grokked within {f5['wd_budget']:,} steps" if still else ""
        said.append(
            f"With one layer{at}, grokking held in every run at weight decay "
            f"{' and '.join(f'{w:g}' for w in f5['wd_held'])} within {f5['wd_budget']:,} steps{later}; heavier decay "
            f"underfits{opened}."
        )
    if f5.get("seed_prediction"):
        lo, hi = f5["seed_interval"]
        said.append(
            f"The steps to grok grow as fraction^{f5['exponent']:.2g}; extrapolated to the seed report's "
            f"{f5['seed_size']} equations that is about {report.rounded(f5['seed_prediction'])} steps (95% bootstrap "
            f"{report.rounded(lo)}–{report.rounded(hi)}): too wide to answer its question."
        )
    if numeric(f5, "critical_below", "seed_size"):
        scratch = (
            f", and no run from scratch on {f5['critical_scratch_open']:,} or fewer held within "
            f"{f5['critical_scratch_steps']:,} steps"
            if numeric(f5, "critical_scratch_open", "critical_scratch_steps")
            else ""
        )
        said.append(
            f"Ungrokking points to the answer: a grokked network trained on {f5['critical_below']:,} or fewer of "
            f"its own equations loses its general solution (validation ends at {f5['critical_val']}){scratch}: by "
            f"Varma et al. (2023), the seed report's run on {f5['seed_size']} equations needed more equations, not "
            "more steps."
        )
    if f2 and f3:
        said.append(
            f"The seed report's sampling puts {f2['leak']} of its held-out rows in train; on a leak-free split "
            f"a ± b mod p reaches 99% test accuracy in {f3['good']} of {f3['runs']} runs (the seed report: {f3['theirs']})."
        )
    if f1.get("recited"):
        said.append('A 1-layer GPT recites "I love machine learning" from "I".')
    bullets = "\n".join(f"- {sentence}" for sentence in said)
    return "**Abstract.**\n\n" + (bullets or "No runs yet: `make runs` computes them.")


INTRODUCTION = """# Introduction

This report redoes, and completes, a course report on a tiny GPT: **the seed report**
(`seed/000_3330def70f78d4a1.txt`), which overfitted one sentence, learned modular addition and subtraction, and
tried, without success, to make a 2-layer GPT grok modular division. Where this text says "seed" alone it means a
*random seed* (the integer that fixes a run's data shuffle, initialisation and batch order); "the seed report" is
always the course report. Every experiment of the seed report has a section here, and every number is computed
from runs stored in `data/runs/`.

Terms used throughout:

- **The paper preset**: the setting in which grokking was reported (Power et al. 2022; Nanda et al. 2023): 2
  layers, 4 heads, width 128, AdamW at learning rate 10⁻³ with weight decay 1 and betas (0.9, 0.98), batch 512,
  10 warmup steps. The model follows Karpathy's nanoGPT.
- **Reached**: the first evaluation at ≥ 99% accuracy on a split. **Held**: the first evaluation from which
  accuracy stays ≥ 99% to the end of the run, with the run going on for at least `stop_after` steps after it.
- **Delay**: the held validation step ÷ the step at which train accuracy reached 99%.
- **Censored**: a run that ended without validation holding; it stays in every count as "> its last step".
- **Kaplan–Meier median**: the median over runs that counts a censored run as "not yet" up to its last step; there
  is none when more than half of the runs are censored.
- **Outcome** of a setting: held (every run), some, underfit (train never reached 99%), rising (validation still
  climbing at the end), did not grok (a finding, under the rule of Section 5) or beyond its budget.

Grokking was found by Power et al. (2022); Nanda et al. (2023) explained the mechanism with Fourier features and
progress measures; Liu et al. (2022) tied it to weight decay and the weight norm; Thilak et al. (2022) described
the late "slingshot" spikes of Adam; Lee et al. (2024) proposed the Grokfast filter; Varma et al. (2023) explained
it by a critical training-set size; Prieto et al. (2025) tied late failures to floating-point precision."""

REFERENCES = """# References

- Power, A., Burda, Y., Edwards, H., Babuschkin, I., Misra, V. (2022). *Grokking: generalization beyond overfitting
  on small algorithmic datasets.* arXiv:2201.02177.
- Nanda, N., Chan, L., Lieberum, T., Smith, J., Steinhardt, J. (2023). *Progress measures for grokking via
  mechanistic interpretability.* ICLR 2023, arXiv:2301.05217.
- Liu, Z., Michaud, E. J., Tegmark, M. (2022). *Omnigrok: grokking beyond algorithmic data.* arXiv:2210.01117.
- Lee, J., Kang, B. G., Kim, K., Lee, K. M. (2024). *Grokfast: accelerated grokking by amplifying slow
  gradients.* arXiv:2405.20233.
- Varma, V., Shah, R., Kenton, Z., Kramár, J., Kumar, R. (2023). *Explaining grokking through circuit
  efficiency.* arXiv:2309.02390.
- Thilak, V., Littwin, E., Zhai, S., Saremi, O., Paiss, R., Susskind, J. (2022). *The slingshot mechanism: an
  empirical study of adaptive optimizers and the grokking phenomenon.* arXiv:2206.04817.
- Prieto, L., Barsbey, M., Mediano, P., Birdal, T. (2025). *Grokking at the edge of numerical stability.*
  arXiv:2501.04697.
- Karpathy, A. *nanoGPT.* https://github.com/karpathy/nanoGPT."""


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
