"""The report pipeline: a failing notebook changes nothing; a good one is exported to HTML and PDF."""

import nbformat

from grokgpt import document, pipeline


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


WRITES_A_FIGURE = "from grokgpt import store\nstore.atomic_write(store.output() / 'figures' / 'x.png', lambda t: t.write_text(str(x)))"


def test_registry_parameters_publish_only_after_every_cell_succeeded(tmp_path, monkeypatch):
    monkeypatch.setenv("GROKGPT_ROOT", str(tmp_path))
    good = notebook(tmp_path / "good.ipynb", "x = 1  # a knob", WRITES_A_FIGURE)
    assert pipeline.execute(good, tmp_path / "reports" / "good.ipynb", [], cwd=tmp_path) == 0
    assert (tmp_path / "figures" / "x.png").read_text() == "1"
    bad = notebook(tmp_path / "bad.ipynb", "x = 2  # a knob", WRITES_A_FIGURE, "raise ValueError('boom')")
    assert pipeline.execute(bad, tmp_path / "reports" / "bad.ipynb", [], cwd=tmp_path) == 1
    assert (tmp_path / "figures" / "x.png").read_text() == "1"  # a failed notebook publishes nothing
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".publish")]  # and leaves no staging folder


def test_other_parameters_write_to_scratch_and_unknown_ones_are_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GROKGPT_ROOT", str(tmp_path))
    src = notebook(tmp_path / "nb.ipynb", "x = 1  # a knob", WRITES_A_FIGURE)
    assert pipeline.execute(src, tmp_path / "out.ipynb", ["-p", "x", "5"], cwd=tmp_path) == 0
    assert (tmp_path / "scratch" / "nb" / "figures" / "x.png").read_text() == "5"
    assert not (tmp_path / "figures").exists()
    assert pipeline.execute(src, tmp_path / "out2.ipynb", ["-p", "max_itres", "5"], cwd=tmp_path) == 2
    assert "max_itres" in capsys.readouterr().err and not (tmp_path / "out2.ipynb").exists()
