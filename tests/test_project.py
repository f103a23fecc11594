"""The project's promises about itself: committed notebooks are clean, the environments agree, lint passes."""

import ast
import json
import subprocess
import sys
import tomllib

import papermill
import pytest
import yaml
from conftest import ROOT

from grokgpt import document, experiments

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_has_no_outputs_and_one_literal_parameters_cell(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code), "strip outputs (nbstripout)"
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    source = "".join(tagged[0]["source"])
    for node in ast.parse(source).body:  # one typed literal a line: no imports, no arithmetic, no derived values
        assert isinstance(node, ast.AnnAssign), ast.unparse(node)
        assert isinstance(ast.literal_eval(node.value), eval(ast.unparse(node.annotation))), ast.unparse(node)
    assert all("#" in line for line in source.splitlines() if line.strip()), "comment every knob"
    assert nb["cells"][0]["cell_type"] == "markdown" and nb["cells"][0]["source"][0].startswith("# ")
    names = {node.target.id for node in ast.parse(source).body}
    assert set(papermill.inspect_notebook(str(path))) == names, "papermill cannot parse some parameter lines"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_parameters_are_the_registrys(path):
    """Every default of the study lives in experiments.PARAMETERS; a notebook's parameters cell must not drift."""
    inspected = papermill.inspect_notebook(str(path))
    defaults = {name: ast.literal_eval(p["default"]) for name, p in inspected.items()}
    assert defaults == experiments.PARAMETERS[path.stem]
    assert all(p["inferred_type_name"] != "None" for p in inspected.values()), "papermill lists a type for each"


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert sorted(d for d in pip if not d.startswith("-e")) == sorted(wanted)
    assert "torch==2.13.0" in wanted


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make report" in readme and "make test" in readme


def test_lint():
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "lib", "tests", "benchmarks"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout


def test_the_readmes_results_table_is_the_committed_reports_claims():
    """`make report` writes the README's results table from reports/*.ipynb; a hand edit or a stale table fails."""
    readme = (ROOT / "README.md").read_text()
    table = document.readme_claims(sorted((ROOT / "reports").glob("[0-9][0-9]_*.ipynb")), ROOT)
    assert document.with_claims(readme, table) == readme, "run make report (or pipeline readme) to refresh it"
