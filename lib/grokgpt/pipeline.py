"""The report pipeline: execute notebooks through papermill, then export them as one HTML page and a PDF.

    python -m grokgpt.pipeline run notebooks/01_overfit.ipynb reports/01_overfit.ipynb -p max_iters 500
    python -m grokgpt.pipeline html reports/report.html reports/0*.ipynb
    python -m grokgpt.pipeline pdf reports/report.html reports/report.pdf
    python -m grokgpt.pipeline readme README.md reports/0*.ipynb

`run` passes everything after the two paths to papermill (`-p name value`, `-y yaml`) and replaces the output
only when every cell succeeded: a failing notebook exits 1 and leaves the previous report in place (its partial
output is kept beside it as `.failed-<name>.ipynb` for reading). Bad input is one line and exit 2, before any
cell runs: a parameter the notebook does not have, a missing notebook, an output folder that cannot be written.
The partial output of a notebook being run is `.running-<pid>-<name>.ipynb`; the next `run` removes those whose
process is gone (killed). With no parameters the notebook publishes: its figures, checkpoints and new runs are staged
and merged into figures/, checkpoints/ and data/runs/ once every cell succeeded; with parameters they go to
scratch/<notebook>/ (`--publish` overrides). The Makefile chains the three steps.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
import papermill
import yaml

from grokgpt import document, store
from grokgpt.store import atomic_write

RUNNING = re.compile(r"^\.running-(?P<pid>\d+)-.+\.ipynb$")  # a notebook's partial output, by its process


def parameter_names(args: list[str]) -> list[str]:
    """The parameter names in papermill arguments (-p/-r NAME VALUE, -y YAML)."""
    names = []
    for flag, value in zip(args, args[1:], strict=False):
        if flag in ("-p", "--parameters", "-r", "--parameters_raw"):
            names.append(value)
        elif flag in ("-y", "--parameters_yaml"):
            names += list(yaml.safe_load(value) or {})
    return names


def execute(source: Path, output: Path, papermill_args: list[str], cwd: Path | None = None,
            publish: bool | None = None) -> int:  # fmt: skip
    """Run papermill's own command line on source; move the result to output only if it succeeded.

    With the registry's parameters (no -p/-y given) or publish=True the notebook writes figures, checkpoints and
    new runs into a staging folder that is merged into the project only when every cell succeeded; with other
    parameters it writes under scratch/<notebook>/, so exploration never touches what is committed."""
    from papermill.cli import papermill as papermill_cli

    try:
        if not source.is_file():
            raise FileNotFoundError(f"no notebook {source}")
        if output.is_dir():
            raise IsADirectoryError(f"{output} is a directory")
        store.check_writable(output.parent)
        known = papermill.inspect_notebook(str(source))
    except (OSError, ValueError) as err:  # a notebook that is not JSON raises a ValueError
        print(f"pipeline: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    unknown = sorted(set(parameter_names(papermill_args)) - set(known))
    if unknown:
        print(f"pipeline: {source} has no parameter {', '.join(unknown)}; it has: {', '.join(known)}", file=sys.stderr)
        return 2
    root = store.root()
    publish = not papermill_args if publish is None else publish
    staging = store.temporary(root / f"publish-{source.stem}") if publish else root / store.SCRATCH / source.stem
    store.clean_stale(root)
    output.parent.mkdir(parents=True, exist_ok=True)
    store.clean_stale(output.parent, RUNNING)  # what killed notebooks left
    partial = output.with_name(f".running-{os.getpid()}-{output.name}")
    failed = output.with_name(f".failed-{output.name}")
    args = [str(source), str(partial), "--kernel", "python3", "--cwd", str(cwd or Path.cwd()), *papermill_args]
    previous = os.environ.get(store.OUTPUT_ENV)
    os.environ[store.OUTPUT_ENV] = str(staging)
    try:
        papermill_cli.main(args=args, standalone_mode=False)
    except (Exception, SystemExit) as err:  # PapermillExecutionError carries the failing cell; a dead kernel exits
        if publish:
            shutil.rmtree(staging, ignore_errors=True)  # a failed notebook publishes nothing
        where = "nothing was published"
        if partial.exists():
            partial.replace(failed)
            where = f"partial output in {failed}; nothing was published"
        print(f"pipeline: {source} failed; {where}\n{str(err).strip()[-2000:]}", file=sys.stderr)
        return 1
    finally:
        os.environ.pop(store.OUTPUT_ENV) if previous is None else os.environ.update({store.OUTPUT_ENV: previous})
    if publish:
        fresh = {p.name for p in (staging / store.FIGURES).glob("*.png")}
        for stale in (root / store.FIGURES).glob(f"{source.stem}_*.png"):  # a figure the notebook no longer draws
            stale.unlink() if stale.name not in fresh else None
        if staging.exists():
            store.merge(staging, root)
            shutil.rmtree(staging)
    tidy(partial)
    partial.replace(output)
    failed.unlink(missing_ok=True)
    return 0


def tidy(path: Path) -> None:
    """Collapse each cell's progress-bar updates (carriage returns) to their final line, as Jupyter shows them."""
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    nb = nbformat.read(path, as_version=4)
    CoalesceStreamsPreprocessor().preprocess(nb, {})
    nbformat.write(nb, path)


def export_html(paths: list[Path], output: Path) -> None:
    """All notebooks in one HTML page, code hidden, figures embedded."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    html, _ = exporter.from_notebook_node(document.build(paths), resources={"metadata": {"name": document.TITLE}})
    html = html.replace("</head>", document.STYLE + "\n</head>", 1)
    atomic_write(output, lambda tmp: tmp.write_text(html, encoding="utf-8"))


def export_pdf(html: Path, output: Path) -> None:
    """Render the HTML report to PDF with WeasyPrint (pip-installable; no LaTeX, no browser)."""
    import logging

    from weasyprint import CSS, HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # it warns about every CSS rule it ignores
    page = CSS(
        string="@page { size: A4; margin: 14mm 14mm 18mm; @bottom-center { content: 'page ' counter(page) ' of ' "
        "counter(pages); font-size: 8pt; color: #555 } } body { font-size: 10pt } img { max-width: 100%; max-height: 120mm; object-fit: contain }"
    )
    atomic_write(output, lambda tmp: HTML(filename=str(html)).write_pdf(tmp, stylesheets=[page]))


def update_readme(readme: Path, paths: list[Path]) -> bool:
    """Write the executed notebooks' claims into the README's results table. Only notebooks that ran with the
    registry's parameters speak for the study: with any papermill parameters the README is left as it is (False)."""
    notebooks = {p: nbformat.read(p, as_version=4) for p in paths}
    tuned = [p.stem for p, nb in notebooks.items() if nb.metadata.get("papermill", {}).get("parameters")]
    if tuned:
        print(f"pipeline readme: {readme} left as it is: {', '.join(tuned)} ran with parameters", file=sys.stderr)
        return False
    text = document.with_claims(readme.read_text(encoding="utf-8"), document.readme_claims(paths, readme.parent))
    if text != readme.read_text(encoding="utf-8"):
        atomic_write(readme, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grokgpt.pipeline", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="execute one notebook through papermill")
    p.add_argument("source", type=Path)
    p.add_argument("output", type=Path)
    p.add_argument("--publish", action="store_true", default=None, help="publish figures and checkpoints even with -p")
    p = sub.add_parser("html", help="export executed notebooks as one HTML page")
    p.add_argument("output", type=Path)
    p.add_argument("notebooks", type=Path, nargs="+")
    p = sub.add_parser("pdf", help="render the HTML report to PDF")
    p.add_argument("html", type=Path)
    p.add_argument("output", type=Path)
    p = sub.add_parser("readme", help="write the executed notebooks' claims into the README's results table")
    p.add_argument("readme", type=Path)
    p.add_argument("notebooks", type=Path, nargs="+")
    args, rest = parser.parse_known_args(argv)
    if args.command == "run":
        return execute(args.source, args.output, rest, publish=args.publish)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        if args.command == "html":
            export_html(args.notebooks, args.output)
        elif args.command == "readme":
            update_readme(args.readme, args.notebooks)
        else:
            export_pdf(args.html, args.output)
    except (OSError, ValueError) as err:  # a missing or damaged notebook, an unwritable output
        print(f"pipeline {args.command}: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
