"""The report pipeline: execute notebooks through papermill, then export them as one HTML page and a PDF.

    python -m grokgpt.pipeline run notebooks/01_overfit.ipynb reports/01_overfit.ipynb -p max_iters 500
    python -m grokgpt.pipeline html reports/report.html reports/0*.ipynb
    python -m grokgpt.pipeline pdf reports/report.html reports/report.pdf
    python -m grokgpt.pipeline readme README.md reports/0*.ipynb

`run` passes everything after the two paths to papermill (`-p name value`, `-y yaml`, `-f file.yaml`, `-b base64`)
and replaces the output only when every cell succeeded: a failing notebook exits 1 and leaves the previous
report in place (its partial output is kept beside it as `.failed-<name>.ipynb` for reading). Bad input is one line and exit 2, before any
cell runs: a parameter the notebook does not have, or of another type than its value in the parameters cell, or
that the notebook's runs refuse; a missing notebook, an output folder that cannot be written.
The partial output of a notebook being run is `.running-<pid>-<name>.ipynb`; the next `run` removes those whose
process is gone (killed). The notebook publishes only when it is one of the project's notebooks/NN_*.ipynb, runs
with no parameters, and its parameters cell holds the registry's values (`experiments.PARAMETERS`, compared by
value: a cell edited in JupyterLab does not publish): its figures, checkpoints and new runs are staged and merged
into figures/, checkpoints/ and data/runs/ once every cell succeeded. Anything else writes under
scratch/<notebook>/. The executed notebook records which (metadata `grokgpt.published`), and `readme` writes
only the claims of published notebooks, never removing a notebook's claims because it produced none. The
Makefile chains the steps.
"""

from __future__ import annotations

import ast
import base64
import binascii
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
import papermill
import yaml

from grokgpt import claims, document, experiments, store
from grokgpt.flags import Parser
from grokgpt.store import atomic_write

RUNNING = re.compile(r"^\.running-(?P<pid>\d+)-.+\.ipynb$")  # a notebook's partial output, by its process
NOTEBOOK = re.compile(r"^\d\d_\w+\.ipynb$")  # the project's notebooks: notebooks/NN_topic.ipynb


def given_parameters(args: list[str]) -> dict:
    """The parameters in papermill arguments (-b BASE64, -f FILE, -y YAML, -p NAME VALUE, -r NAME VALUE), as
    papermill reads them (name -> value); ValueError (one line) for a flag without its values, a file that cannot
    be read, base64 or YAML that does not decode or is not a mapping, or an empty list (no cell can use it)."""
    from papermill.cli import _resolve_type  # how papermill's command line reads -p values: 1e4 is a float

    given = {flag: {} for flag in ("-b", "-f", "-y", "-p", "-r")}  # papermill applies them in this order
    long = {"--parameters": "-p", "--parameters_raw": "-r", "--parameters_yaml": "-y", "--parameters_file": "-f",
            "--parameters_base64": "-b"}  # fmt: skip
    i = 0
    while i < len(args):
        flag = long.get(args[i], args[i])
        if flag in ("-p", "-r"):
            if i + 2 >= len(args):
                raise ValueError(f"{args[i]} needs a name and a value: {args[i]} NAME VALUE")
            given[flag][args[i + 1]] = args[i + 2] if flag == "-r" else _resolve_type(args[i + 2])
            i += 3
        elif flag in ("-y", "-f", "-b"):
            if i + 1 >= len(args):
                raise ValueError(f"{args[i]} needs a value: {args[i]} {_YAML_FLAGS[flag]}")
            given[flag].update(_mapping(args[i], _yaml_text(flag, args[i], args[i + 1]), args[i + 1]))
            i += 2
        else:
            i += 1
    return {k: v for flag in given for k, v in given[flag].items()}


_YAML_FLAGS = {"-y": "'name: value'", "-f": "FILE.yaml", "-b": "BASE64"}


def _yaml_text(flag: str, typed: str, value: str) -> str:
    """The YAML that a -y, -f or -b value stands for."""
    if flag == "-f":
        try:
            return Path(value).read_text()
        except (OSError, UnicodeDecodeError) as err:
            raise ValueError(f"{typed} {value}: cannot read it ({type(err).__name__}: {err.strerror or err})") from None
    if flag == "-b":
        try:
            return base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ValueError(f"{typed} {value!r} is not base64-encoded YAML") from None
    return value


def _mapping(typed: str, text: str, value: str) -> dict:
    """The parameters of one YAML mapping, read as papermill reads it."""
    from papermill.iorw import NoDatesSafeLoader

    try:
        values = yaml.load(text, Loader=NoDatesSafeLoader)
    except yaml.YAMLError as err:
        raise ValueError(f"{typed} {value!r} is not YAML: {' '.join(str(err).split())[:120]}") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ValueError(f"{typed} {value!r} is not a mapping of parameters ('name: value')")
    if empty := [k for k, v in values.items() if v == [] or v == {}]:
        raise ValueError(f"parameter {', '.join(map(str, empty))} is empty: give at least one value")
    return values


def check_parameters(source: Path, given: dict) -> None:
    """ValueError (one line), before any cell runs, for a given parameter whose type is not its value's in the
    parameters cell (`experiments.check_value`), or one that the notebook's runs refuse (a fraction out of
    range): the error names the parameter and its value as given, not a value derived from it."""
    cell = cell_parameters(source) or {}
    typed = {name: experiments.check_value(name, v, cell[name]) if name in cell else v for name, v in given.items()}
    if source.stem not in experiments.PARAMETERS or not given:
        return

    def refused(params: dict) -> str | None:
        try:
            experiments.check(source.stem, {**cell, **params})
        except (ValueError, TypeError) as err:
            return str(err)
        return None

    if (reason := refused(typed)) is not None:
        culprits = [name for name in typed if refused({name: typed[name]}) is not None] or list(given)
        named = ", ".join(f"{name} = {given[name]!r}" for name in culprits)
        raise ValueError(f"parameter {named} is refused: {reason}")


def cell_parameters(path: Path) -> dict | None:
    """The literals of a notebook's `parameters` cell (name -> value), or None when it has no such cell or the
    cell is not all literals."""
    nb = nbformat.read(path, as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        return None
    try:
        tree = ast.parse(cell.source)
        # `p: int = 97` (the notebooks' typed literals) or `p = 97`
        return {(t.target if isinstance(t, ast.AnnAssign) else t.targets[0]).id: ast.literal_eval(t.value)
                for t in tree.body}  # fmt: skip
    except (SyntaxError, ValueError, AttributeError, IndexError):
        return None


def publishes(source: Path, papermill_args: list[str]) -> bool:
    """Whether a run of source speaks for the study: it is <root>/notebooks/NN_*.ipynb, it runs with no
    parameters, and its parameters cell holds the registry's values."""
    notebooks = (store.root() / "notebooks").resolve()
    if papermill_args or source.resolve().parent != notebooks or not NOTEBOOK.match(source.name):
        return False
    registry = experiments.PARAMETERS.get(source.stem)
    return registry is not None and cell_parameters(source) == registry


def execute(source: Path, output: Path, papermill_args: list[str], cwd: Path | None = None) -> int:
    """Run papermill's own command line on source; move the result to output only if it succeeded.

    A notebook that publishes (`publishes`) writes figures, checkpoints and new runs into a staging folder that is
    merged into the project only when every cell succeeded; any other writes under scratch/<notebook>/, so
    exploration never touches what is committed."""
    from papermill.cli import papermill as papermill_cli

    try:
        if not source.is_file():
            raise FileNotFoundError(f"no notebook {source}")
        if output.is_dir():
            raise IsADirectoryError(f"{output} is a directory")
        if output.resolve() == source.resolve():
            raise ValueError(f"the output {output} is the notebook itself: give another path (reports/...)")
        store.check_project()
        store.check_writable(output.parent)
        known, given = papermill.inspect_notebook(str(source)), given_parameters(papermill_args)
        unknown = sorted(set(given) - set(known))
        if unknown and not known:
            raise ValueError(f"{source} has no parameters cell: it takes no parameter ({', '.join(unknown)} given)")
        if unknown:
            raise ValueError(f"{source} has no parameter {', '.join(unknown)}; it has: {', '.join(known)}")
        check_parameters(source, given)
        publish = publishes(source, papermill_args)
    except (OSError, ValueError) as err:  # a notebook that is not JSON raises a ValueError
        print(f"pipeline: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    root = store.root()
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
    tidy(partial, publish)
    partial.replace(output)
    failed.unlink(missing_ok=True)
    return 0


def tidy(path: Path, published: bool = False) -> None:
    """Collapse each cell's progress-bar updates (carriage returns) to their final line, as Jupyter shows them,
    and record whether the run published (what `readme` reads)."""
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    nb = nbformat.read(path, as_version=4)
    CoalesceStreamsPreprocessor().preprocess(nb, {})
    nb.metadata["grokgpt"] = {"published": published}
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
    """Write the executed notebooks' claims into the README's results table. Only notebooks that published (the
    registry's notebooks with the registry's parameters) speak for the study: otherwise the README is left as it
    is (False). ValueError (one line) when a notebook whose claims the README shows produced none: a notebook that
    failed to say anything never erases what it said before."""
    notebooks = {p: nbformat.read(p, as_version=4) for p in paths}
    tuned = [p.stem for p, nb in notebooks.items() if not nb.metadata.get("grokgpt", {}).get("published")]
    if tuned:
        print(f"pipeline readme: {readme} left as it is: {', '.join(tuned)} did not publish", file=sys.stderr)
        return False
    old = readme.read_text(encoding="utf-8")
    block = old[old.find(document.README_START) : old.find(document.README_END)]
    silent = [p.stem for p, nb in notebooks.items() if f"[{p.stem}](" in block and not _has_claims(nb)]
    if silent:
        raise ValueError(f"{', '.join(silent)} produced no claims, but {readme} shows its claims: README left as it is")
    text = document.with_claims(old, document.readme_claims(paths, readme.parent))
    if text != old:
        atomic_write(readme, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return True


def _has_claims(nb: nbformat.NotebookNode) -> bool:
    outputs = (o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", []))
    return any(claims.CLAIMS_MIME in o.get("data", {}) for o in outputs)


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m grokgpt.pipeline", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    p = sub.add_parser("run", help="execute one notebook through papermill")
    p.add_argument("source", type=Path)
    p.add_argument("output", type=Path)
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
        return execute(args.source, args.output, rest)
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
