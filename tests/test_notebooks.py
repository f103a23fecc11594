"""Every notebook through papermill with tiny parameters, in a temporary project root.

The canary (jax-ai-stack's idea): the executed notebook records the parameters papermill injected, so a test
that silently ran the full-size defaults would fail here, and the figures must appear in the temporary root,
never in the committed figures/.
"""

import os
import re

import papermill as pm
import pytest
from conftest import ROOT

from grokgpt import document, experiments, pipeline, sweeps

TINY = dict(n_embd=16, eval_every=10, jobs=1)
SMOKE = {
    "01_overfit": dict(max_iters=30, eval_every=10, seeds=[0], jobs=1),
    "02_data": dict(primes=[7, 11], samples=200),
    "03_warmup": dict(
        primes=[5, 7], seeds=[0], max_steps=20, seed_size_train=10, seed_size_steps=20, narrow_n_embd=8, **TINY
    ),
    "04_grokking": dict(
        p=11,
        fractions=[0.5, 0.3],
        seeds=[0, 1],
        max_steps=30,
        stop_after=10,
        lasting_steps=40,
        float64_fractions=[0.5],
        bfloat16_fractions=[],
        **TINY,
    ),
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
        long_steps=30,
        long_steps_wd0=40,
        long_weight_decays=[0.0],
        long_fracs=[0.3],
        long_phase=[[0.3, 0.3]],
        long_grokfast_weight_decays=[],
        critical_start_steps=40,
        critical_sizes=[20, 30],
        critical_steps=20,
        scratch_steps=20,
        **TINY,
    ),
}


def test_every_notebook_has_a_smoke_setting():
    assert sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) == sorted(SMOKE)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Every notebook executed once with its smoke parameters, each in a temporary project root of its own."""
    out, before = {}, os.environ.get("GROKGPT_ROOT")
    committed = {p: p.stat().st_mtime_ns for p in (ROOT / "figures").glob("*.png")}
    try:
        for name, params in SMOKE.items():
            root = tmp_path_factory.mktemp(name)
            os.environ["GROKGPT_ROOT"] = str(root)
            nb = pm.execute_notebook(
                ROOT / "notebooks" / f"{name}.ipynb", root / f"{name}.ipynb",
                parameters=params, cwd=root, kernel_name="python3", progress_bar=False,
            )  # fmt: skip
            out[name] = (nb, root)
    finally:
        os.environ.pop("GROKGPT_ROOT") if before is None else os.environ.update(GROKGPT_ROOT=before)
    assert {p: p.stat().st_mtime_ns for p in (ROOT / "figures").glob("*.png")} == committed
    return out


@pytest.mark.parametrize("name", sorted(SMOKE))
def test_notebook_runs(name, executed):
    out, root = executed[name]
    assert out.metadata.papermill.parameters == SMOKE[name]
    assert list((root / "scratch" / "figures").glob(f"{name}_*.png"))  # exploration writes to scratch/ ...
    if name != "02_data":  # 02 makes data sets, not runs
        assert list((root / "scratch" / "data" / "runs").iterdir())
    assert not (root / "figures").exists() and not (root / "checkpoints").exists()  # ... never to figures/
    errors = [o for c in out.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    small = [o.text for c in out.cells for o in c.get("outputs", []) if "prints at" in o.get("text", "")]
    assert not small, small  # plots.save_figure: no figure's text prints below 7 pt in the report


def test_the_report_reads_well(executed, tmp_path):
    """What a reader's eye checks, in text: the title, unique anchors, numbered and captioned figures, a settings
    table for every notebook with runs, a summary of claims, and no number printed with more than 4 significant
    digits."""
    paths = [root / f"{name}.ipynb" for name, (_, root) in sorted(executed.items())]
    pipeline.export_html(paths, tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text()
    text = re.sub(r"<style.*?</style>|<script.*?</script>|<[^>]+>", " ", page, flags=re.S)
    text = re.sub(r"data:image/png;base64,\S+", "", text)
    assert f"<title>{document.TITLE}</title>" in page and "Summary of claims" in text
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    images = page.count("<img ")
    captions = re.findall(r"Figure (\d+)\.", text)
    assert images >= len(SMOKE) and [int(c) for c in captions] == list(range(1, images + 1))
    assert text.count("environment") >= len(SMOKE) - 1  # a settings table per notebook with runs (not 02)
    body = text[text.index("Summary of claims") :]  # the title page names package versions
    body = re.sub(r"arXiv:\s*\d+\.\d+", "", body)  # the references' identifiers are not measurements
    long = [n for n in re.findall(r"\d*\.\d+", body) if len(n.replace(".", "").lstrip("0")) > 4]
    assert not long, [body[max(0, body.index(n) - 300) : body.index(n) + 20] for n in long[:2]]


def test_ablations_report_a_partial_sweep(tmp_path, monkeypatch):
    """While `make runs` is under way, make report sees some groups with runs and others without (here: no
    baseline, one warmup run, one phase cell); 05 must say what is missing and still run every cell."""
    monkeypatch.setenv("GROKGPT_ROOT", str(tmp_path))
    params = SMOKE["05_ablations"]
    groups = experiments.plan("05_ablations", params)
    some = groups["warmup_steps"][:1] + groups["phase"][:1]
    sweeps.sweep(some, jobs=1, into=tmp_path / "data" / "runs", progress=False)
    monkeypatch.setenv("GROKGPT_OUTPUT", str(tmp_path / "staging"))  # as make report: nothing is trained
    out = pm.execute_notebook(
        ROOT / "notebooks" / "05_ablations.ipynb", tmp_path / "05.ipynb",
        parameters=params, cwd=tmp_path, kernel_name="python3", progress_bar=False,
    )  # fmt: skip
    shown = "".join(
        o.get("data", {}).get("text/markdown", "") for c in out.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "runs of this notebook are not computed yet" in shown and "its runs are not computed yet" in shown
    assert sorted(p.name for p in (tmp_path / "data" / "runs").iterdir()) == sorted(s.name for s in some)
