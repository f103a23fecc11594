"""Every notebook through papermill with tiny parameters, in a temporary project root.

The canary (jax-ai-stack's idea): the executed notebook records the parameters papermill injected, so a test
that silently ran the full-size defaults would fail here, and the figures must appear in the temporary root,
never in the committed figures/.
"""

import papermill as pm
import pytest
from conftest import ROOT

TINY = dict(n_embd=16, eval_every=10, jobs=1)
SMOKE = {
    "01_overfit": dict(max_iters=30, eval_every=10, seeds=[0], jobs=1),
    "02_data": dict(primes=[7, 11], samples=200),
    "03_warmup": dict(
        primes=[5, 7], seeds=[0], max_steps=20, seed_size_train=10, seed_size_steps=20, narrow_n_embd=8, **TINY
    ),
    "04_grokking": dict(p=11, fractions=[0.5, 0.3], seeds=[0, 1], max_steps=30, stop_after=10, **TINY),
    "05_ablations": dict(
        p=11,
        seeds=[0],
        max_steps=20,
        warmups=[0, 10],
        weight_decays=[0.0, 1.0],
        train_fracs=[0.3, 0.5],
        phase_fracs=[0.3, 0.5],
        phase_weight_decays=[0.3, 1.0],
        grokfast_weight_decays=[1.0],
        seed_train_size=20,
        seed_max_steps=20,
        seed_eval_every=10,
        **TINY,
    ),
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
    assert list((tmp_path / "scratch" / "figures").glob(f"{name}_*.png"))  # exploration writes to scratch/ ...
    if name != "02_data":  # 02 makes data sets, not runs
        assert list((tmp_path / "scratch" / "data" / "runs").iterdir())
    assert not (tmp_path / "figures").exists() and not (tmp_path / "checkpoints").exists()  # ... never to figures/
    assert {p: p.stat().st_mtime_ns for p in (ROOT / "figures").glob(f"{name}_*.png")} == committed
    errors = [o for c in out.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
