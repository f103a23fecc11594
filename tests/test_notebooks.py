"""Every notebook through papermill with tiny parameters, in a temporary project root.

The canary (jax-ai-stack's idea): the executed notebook records the parameters papermill injected, so a test
that silently ran the full-size defaults would fail here, and the figures must appear in the temporary root,
never in the committed figures/.
"""

import papermill as pm
import pytest
from conftest import ROOT

SMOKE = {
    "01_overfit": dict(max_iters=30, eval_every=10),
}


def test_every_notebook_has_a_smoke_setting():
    assert sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) == sorted(SMOKE)


@pytest.mark.parametrize("name", sorted(SMOKE))
def test_notebook_runs(name, tmp_path, monkeypatch):
    monkeypatch.setenv("GROKGPT_ROOT", str(tmp_path))
    committed = {p: p.stat().st_mtime_ns for p in (ROOT / "figures").glob(f"{name}_*.png")}
    out = pm.execute_notebook(
        ROOT / "notebooks" / f"{name}.ipynb", tmp_path / f"{name}.ipynb",
        parameters=SMOKE[name], cwd=tmp_path, kernel_name="python3", progress_bar=False,
    )  # fmt: skip
    assert out.metadata.papermill.parameters == SMOKE[name]
    assert list((tmp_path / "figures").glob(f"{name}_*.png"))
    assert list((tmp_path / "data" / "runs").iterdir())
    assert {p: p.stat().st_mtime_ns for p in (ROOT / "figures").glob(f"{name}_*.png")} == committed
