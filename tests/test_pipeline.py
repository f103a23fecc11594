"""The report pipeline: a failing notebook changes nothing; a good one is exported to HTML and PDF."""

import base64
import errno
import os
from pathlib import Path

import nbformat
import pytest

from grokgpt import claims, document, experiments, pipeline, store

ROOT = Path(__file__).resolve().parents[1]


def notebook(path, *sources):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A title")])
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    nb.cells[1].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_a_failing_notebook_leaves_the_previous_output(tmp_path):
    src = notebook(tmp_path / "bad.ipynb", "x = 1  # a knob", "raise ValueError('boom')")
    out = tmp_path / "reports" / "bad.ipynb"
    out.parent.mkdir()
    out.write_text("previous")
    assert pipeline.execute(src, out, ["-p", "x", "2"], cwd=tmp_path) == 1
    assert out.read_text() == "previous"
    assert "boom" in (out.parent / ".failed-bad.ipynb").read_text()  # kept for reading, beside the report


def test_a_good_notebook_is_executed_tidied_and_exported(tmp_path):
    src = notebook(
        tmp_path / "good.ipynb",
        "x = 1  # a knob",
        "import sys\nfor i in range(3): print(f'\\r{i}', end='', file=sys.stderr)\nprint('x is', x)",
    )
    out = tmp_path / "reports" / "good.ipynb"
    assert pipeline.execute(src, out, ["-p", "x", "7"], cwd=tmp_path) == 0
    outputs = nbformat.read(out, as_version=4).cells[-1].outputs
    assert [o.text for o in outputs if o.name == "stderr"] == ["2"]  # progress collapsed to its last state
    assert any("x is 7" in o.text for o in outputs if o.name == "stdout")
    pipeline.export_html([out], tmp_path / "report.html")
    html = (tmp_path / "report.html").read_text()
    assert "x is 7" in html and document.TITLE in html and "print(" not in html  # code hidden
    pipeline.export_pdf(tmp_path / "report.html", tmp_path / "report.pdf")
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")


# ----------------------------------------------------------------------------------------------------------------
# Bad input: one line and exit 2 before any cell runs; what killed notebooks left is cleaned (issue 13)


def _one_line(capsys, *needles):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err


def test_row6_unknown_parameters_are_named(tmp_path, capsys):
    src = notebook(tmp_path / "nb.ipynb", "max_iters = 1  # a knob", "print(max_iters)")
    out = tmp_path / "out.ipynb"
    assert pipeline.main(["run", str(src), str(out), "-p", "max_itres", "5", "-p", "nonexistent", "1"]) == 2
    _one_line(capsys, "max_itres", "nonexistent", "max_iters")
    assert not out.exists()


def test_row13_missing_notebooks_and_unwritable_outputs_are_one_line(tmp_path, capsys, monkeypatch):
    src = notebook(tmp_path / "nb.ipynb", "x = 1  # a knob")
    assert pipeline.main(["html", str(tmp_path / "out.html"), str(src), str(tmp_path / "missing.ipynb")]) == 2
    _one_line(capsys, "missing.ipynb")
    assert pipeline.main(["run", str(tmp_path / "missing.ipynb"), str(tmp_path / "out.ipynb")]) == 2
    _one_line(capsys, "missing.ipynb")
    if Path("/sys/kernel").is_dir():  # read-only even for root
        assert pipeline.main(["run", str(src), "/sys/kernel/out.ipynb"]) == 2
        _one_line(capsys, "cannot write in /sys/kernel")

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(store.tempfile, "TemporaryDirectory", denied)  # a folder where nothing can be created
    assert pipeline.main(["run", str(src), str(tmp_path / "ro" / "out.ipynb")]) == 2
    _one_line(capsys, "cannot write in", "Permission denied")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nb.ipynb"]  # no .failed-* named, none left


def test_row14_partial_outputs_of_killed_notebooks_are_cleaned_at_the_next_start(tmp_path):
    src = notebook(tmp_path / "good.ipynb", "x = 1  # a knob", "print(x)")
    reports = tmp_path / "reports"
    reports.mkdir()
    killed = reports / ".running-999999999-other.ipynb"  # no such process
    alive = reports / f".running-{os.getppid()}-busy.ipynb"  # a notebook still running beside this one
    for path in (killed, alive):
        path.write_text("{}")
    assert pipeline.execute(src, reports / "good.ipynb", ["-p", "x", "2"], cwd=tmp_path) == 0
    assert sorted(p.name for p in reports.iterdir()) == [alive.name, "good.ipynb"]


WRITES_A_FIGURE = "from grokgpt import store\nstore.atomic_write(store.output() / 'figures' / 'x.png', lambda t: t.write_text(str(x)))"


def project(tmp_path, monkeypatch, **registry):
    """tmp_path as a project whose registry has the given notebooks' parameters."""
    monkeypatch.setenv("GROKGPT_ROOT", str(tmp_path))
    (tmp_path / "data" / "runs").mkdir(parents=True, exist_ok=True)
    (tmp_path / "notebooks").mkdir(exist_ok=True)
    monkeypatch.setattr(experiments, "PARAMETERS", {**experiments.PARAMETERS, **registry})
    return tmp_path / "notebooks"


def test_registry_parameters_publish_only_after_every_cell_succeeded(tmp_path, monkeypatch):
    notebooks = project(tmp_path, monkeypatch, **{"90_good": {"x": 1}, "91_bad": {"x": 2}})
    good = notebook(notebooks / "90_good.ipynb", "x = 1  # a knob", WRITES_A_FIGURE)
    assert pipeline.execute(good, tmp_path / "reports" / "90_good.ipynb", [], cwd=tmp_path) == 0
    assert (tmp_path / "figures" / "x.png").read_text() == "1"
    bad = notebook(notebooks / "91_bad.ipynb", "x = 2  # a knob", WRITES_A_FIGURE, "raise ValueError('boom')")
    assert pipeline.execute(bad, tmp_path / "reports" / "91_bad.ipynb", [], cwd=tmp_path) == 1
    assert (tmp_path / "figures" / "x.png").read_text() == "1"  # a failed notebook publishes nothing
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".publish")]  # and leaves no staging folder


def test_other_parameters_write_to_scratch_and_unknown_ones_are_refused(tmp_path, monkeypatch, capsys):
    project(tmp_path, monkeypatch)
    src = notebook(tmp_path / "nb.ipynb", "x = 1  # a knob", WRITES_A_FIGURE)
    assert pipeline.execute(src, tmp_path / "out.ipynb", ["-p", "x", "5"], cwd=tmp_path) == 0
    assert (tmp_path / "scratch" / "nb" / "figures" / "x.png").read_text() == "5"
    assert not (tmp_path / "figures").exists()
    assert pipeline.execute(src, tmp_path / "out2.ipynb", ["-p", "max_itres", "5"], cwd=tmp_path) == 2
    assert "max_itres" in capsys.readouterr().err and not (tmp_path / "out2.ipynb").exists()


def test_the_readme_gets_the_claims_of_notebooks_run_with_the_registrys_parameters(tmp_path, monkeypatch, capsys):
    item = claims.claim("It groks", 3, 3, "val held", 0, "A title")
    src = notebook(
        project(tmp_path, monkeypatch, nb={"x": 1}) / "nb.ipynb",
        "x = 1  # a knob",
        f"display({claims.bundle([item])!r}, raw=True)",
    )
    readme = tmp_path / "README.md"
    readme.write_text(f"# Project\n\n{document.README_START}\nold\n{document.README_END}\n\nMore.\n")
    out = tmp_path / "reports" / "nb.ipynb"
    assert pipeline.execute(src, out, ["-p", "x", "2"], cwd=tmp_path) == 0
    capsys.readouterr()
    assert pipeline.main(["readme", str(readme), str(out)]) == 0 and "old" in readme.read_text()
    _one_line(capsys, "did not publish")
    src = src.rename(src.with_name("90_nb.ipynb"))
    monkeypatch.setitem(experiments.PARAMETERS, "90_nb", {"x": 1})
    assert pipeline.execute(src, out, [], cwd=tmp_path) == 0
    capsys.readouterr()
    assert pipeline.main(["readme", str(readme), str(out)]) == 0
    text = readme.read_text()
    assert (
        "| It groks | 3 | 3 | val held | 0 | [nb](reports/nb.ipynb) |" in text and "old" not in text and "More." in text
    )
    readme.write_text("# No markers\n")
    assert pipeline.main(["readme", str(readme), str(out)]) == 2
    _one_line(capsys, "no claims block")


def test_the_title_page_says_how_many_registry_runs_are_missing(in_tmp):
    text = document.title_page([], [])
    total = len(experiments.every_spec())
    assert f"**{total} of the registry's {total} runs are not computed yet**" in text and "0 runs" in text


# ----------------------------------------------------------------------------------------------------------------
# Publishing is the notebook's, not the flags'; bad input is one line before any cell runs


def test_an_edited_parameters_cell_or_a_notebook_elsewhere_never_publishes(tmp_path, monkeypatch):
    notebooks = project(tmp_path, monkeypatch, **{"90_nb": {"x": 1}})
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "90_nb_shipped.png").write_text("shipped")
    edited = notebook(notebooks / "90_nb.ipynb", "x = 7  # edited in JupyterLab", WRITES_A_FIGURE)
    assert not pipeline.publishes(edited, [])
    assert pipeline.execute(edited, tmp_path / "reports" / "90_nb.ipynb", [], cwd=tmp_path) == 0
    assert (tmp_path / "scratch" / "90_nb" / "figures" / "x.png").read_text() == "7"
    assert [p.name for p in (tmp_path / "figures").iterdir()] == ["90_nb_shipped.png"]  # nothing deleted
    elsewhere = notebook(tmp_path / "90_nb.ipynb", "x = 1  # a knob", WRITES_A_FIGURE)
    assert not pipeline.publishes(elsewhere, []) and not pipeline.publishes(elsewhere, ["-p", "x", "1"])
    assert pipeline.publishes(notebook(notebooks / "90_nb.ipynb", "x = 1  # a knob"), [])
    assert not pipeline.publishes(notebooks / "90_nb.ipynb", ["-p", "x", "1"])  # it ran with parameters


def test_bad_papermill_arguments_and_roots_are_one_line(tmp_path, monkeypatch, capsys):
    src = notebook(tmp_path / "nb.ipynb", "seeds = [0]  # a knob", "print(seeds)")
    out = tmp_path / "out.ipynb"
    for args, needle in [
        (["-y", "seeds: [0"], "not YAML"),
        (["-y", "5"], "not a mapping"),
        (["-y", "seeds: []"], "empty"),
        (["-p", "seeds"], "NAME VALUE"),
    ]:
        assert pipeline.main(["run", str(src), str(out), *args]) == 2, args
        _one_line(capsys, needle)
    before = src.read_bytes()
    assert pipeline.main(["run", str(src), str(src)]) == 2
    _one_line(capsys, "the notebook itself")
    assert src.read_bytes() == before
    bare = notebook(tmp_path / "bare.ipynb", "y = 1")
    nb = nbformat.read(bare, as_version=4)
    nb.cells[1].metadata["tags"] = []
    nbformat.write(nb, bare)
    assert pipeline.main(["run", str(bare), str(out), "-p", "y", "2"]) == 2
    _one_line(capsys, "no parameters cell")
    monkeypatch.setenv("GROKGPT_ROOT", str(tmp_path / "missing"))
    assert pipeline.main(["run", str(src), str(out)]) == 2
    _one_line(capsys, "missing", "not a folder")
    assert not out.exists()


@pytest.fixture
def no_cell_runs(monkeypatch):
    from papermill.cli import papermill as papermill_cli

    monkeypatch.setattr(papermill_cli, "main", lambda *a, **k: pytest.fail("a cell ran before the check"))


@pytest.mark.parametrize(
    "args, needle",
    [
        (["-y", "seeds: abc"], "parameter seeds must be list of int, got 'abc'"),
        (["-y", "fracs: [a]"], "parameter fracs must be list of float, got ['a']"),
        (["-y", "pairs: [[0.2, a]]"], "pairs must be list of list of float"),
        (["-y", "seeds: [0"], "not YAML"),
        (["-y", "5"], "not a mapping"),
        (["-p", "steps", "1e4"], "parameter steps must be int, got 10000.0"),
        (["-p", "force", "1"], "parameter force must be bool"),
        (["-r", "steps", "5"], "parameter steps must be int, got '5'"),  # -r passes a string
        (["-p", "steps", "5", "-r", "steps", "5"], "got '5'"),  # -r wins over -p, as in papermill
        (["-b", base64.b64encode(b"steps: 1.5").decode()], "parameter steps must be int, got 1.5"),
        (["-b", "not base64!"], "is not base64-encoded YAML"),
        (["-f", "/nonexistent/params.yaml"], "cannot read it"),
        (["-y", "steps: 5", "-p", "steps"], "-p needs a name and a value"),
    ],
)
def test_wrong_types_are_one_line_before_any_cell_runs(tmp_path, capsys, no_cell_runs, args, needle):
    knobs = "seeds = [0]  # a knob\nfracs = [0.5]\npairs = [[0.2, 0.1]]\nsteps = 10\nforce = False"
    src = notebook(tmp_path / "nb.ipynb", knobs, "print(seeds)")
    assert pipeline.main(["run", str(src), str(tmp_path / "out.ipynb"), *args]) == 2
    _one_line(capsys, needle)


def test_right_types_pass_the_check(tmp_path):
    src = notebook(tmp_path / "nb.ipynb", "fracs = [0.5]  # a knob\nsteps = 10", "print(fracs, steps)")
    assert pipeline.given_parameters(["-y", "fracs: [1, 0.5]", "-p", "steps", "3"]) == {"fracs": [1, 0.5], "steps": 3}
    (tmp_path / "p.yaml").write_text("steps: 4\nfracs: [0.25]")
    b = base64.b64encode(b"steps: 5").decode()
    # papermill's order whatever the command line's: -b, then -f, -y, -p and -r
    args = ["-p", "steps", "6", "-f", str(tmp_path / "p.yaml"), "-b", b]
    assert pipeline.given_parameters(args) == {"steps": 6, "fracs": [0.25]}
    assert pipeline.given_parameters(["-f", str(tmp_path / "p.yaml"), "-b", b]) == {"steps": 4, "fracs": [0.25]}
    pipeline.check_parameters(src, {"fracs": [1, 0.5], "steps": 3})  # an int is taken for a float


@pytest.mark.parametrize(
    "name, args, needle",
    [
        ("05_ablations", ["-p", "train_frac", "1.5"], "parameter train_frac = 1.5 is refused"),
        ("05_ablations", ["-y", "train_fracs: [0.5, 1.5]"], "parameter train_fracs = [0.5, 1.5] is refused"),
        ("05_ablations", ["-p", "train_frac", "0.5", "-p", "critical_fraction", "0"], "critical_fraction = 0 is"),
        ("04_grokking", ["-y", "fractions: [1.5, 0.3]"], "parameter fractions = [1.5, 0.3] is refused"),
        ("04_grokking", ["-p", "p", "4"], "parameter p = 4 is refused: division needs a prime"),
        ("03_warmup", ["-y", "fractions: [0.5, 0.6]"], "parameter fractions = [0.5, 0.6] is refused"),
        ("02_data", ["-y", "fractions: [0.5, 0.6]"], "parameter fractions = [0.5, 0.6] is refused"),
        ("02_data", ["-p", "samples", "0"], "parameter samples = 0 is refused"),
        ("02_data", ["-y", "primes: [97, 4]"], "parameter primes = [97, 4] is refused"),
    ],
)
def test_values_the_runs_refuse_name_the_parameter_as_given(in_tmp, capsys, no_cell_runs, name, args, needle):
    (in_tmp / "data" / "runs").mkdir(parents=True)
    source = ROOT / "notebooks" / f"{name}.ipynb"
    assert pipeline.main(["run", str(source), str(in_tmp / "out.ipynb"), *args]) == 2
    _one_line(capsys, needle)


def test_the_readme_keeps_a_notebooks_claims_when_it_produced_none(tmp_path, monkeypatch, capsys):
    src = notebook(project(tmp_path, monkeypatch, **{"90_nb": {"x": 1}}) / "90_nb.ipynb", "x = 1  # a knob")
    out = tmp_path / "reports" / "90_nb.ipynb"
    assert pipeline.execute(src, out, [], cwd=tmp_path) == 0
    readme = tmp_path / "README.md"
    text = f"{document.README_START}\n| It groks | [90_nb](reports/90_nb.ipynb) |\n{document.README_END}\n"
    readme.write_text(text)
    capsys.readouterr()
    assert pipeline.main(["readme", str(readme), str(out)]) == 2
    _one_line(capsys, "90_nb", "no claims")
    assert readme.read_text() == text


def test_the_shipped_notebooks_publish_with_their_own_parameters(monkeypatch):
    """Their parameters cells are typed literals (`p: int = 97`): read as the registry's values, they publish."""
    monkeypatch.setenv("GROKGPT_ROOT", str(ROOT))
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert pipeline.publishes(path.resolve(), []), path.name
        assert not pipeline.publishes(path.resolve(), ["-p", "seeds", "[0]"]), path.name
