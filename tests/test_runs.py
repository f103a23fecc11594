"""The run store: a run is its config; finished means a valid config.json and metrics.csv; nothing half-written
is ever reused; sweeps in-process and on a real Dask LocalCluster; make verify's comparison."""

import json
import os
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import torch

from grokgpt import compute, experiments, runs, store, sweeps
from grokgpt.data import ModularConfig
from grokgpt.model import GPTConfig
from grokgpt.runs import Spec
from grokgpt.train import TrainConfig


def tiny(seed=0, max_steps=20, weights=False, p=11):
    data = ModularConfig(p=p, ops="/", fractions=(0.5, 0.5), seed=seed)
    train = TrainConfig(max_steps=max_steps, batch_size=16, lr=1e-3, weight_decay=1.0, eval_every=10, seed=seed)
    return Spec(data, train, GPTConfig(n_layer=1, n_head=2, n_embd=16, init="torch"), weights)


def one(spec, force=False):
    """One spec's finished run, found or computed, as `make runs` would."""
    return sweeps.sweep([spec], force=force, progress=False)[0]


def test_a_run_is_written_as_data_and_then_found(in_tmp, monkeypatch):
    run = one(tiny(weights=True))
    assert run.path.parent == in_tmp / "scratch" / "data" / "runs" and run.name.startswith("div_p11_f0.5_s0_")
    assert {"config.json", "metrics.csv", "fourier.csv", "model.pt"} <= {p.name for p in run.path.iterdir()}
    config = json.loads((run.path / "config.json").read_text())
    assert config["data"]["p"] == 11 and config["train"]["max_steps"] == 20 and config["env"]["threads"] >= 1
    assert run.model.config.n_embd == 16 and set(run.fourier.step) == set(run.metrics.step)
    monkeypatch.setattr(compute, "compute", lambda *a, **k: pytest.fail("a finished run was retrained"))
    again = one(tiny(weights=True))
    assert again.path == run.path and again.metrics.equals(run.metrics)


def test_weights_are_optional_and_the_device_is_not_part_of_a_runs_identity(in_tmp):
    run = one(tiny())
    assert not run.has() and {p.name for p in run.path.iterdir()} == {"config.json", "metrics.csv", "fourier.csv"}
    with pytest.raises(runs.RunError, match="weights"):
        run.checkpoint()
    assert tiny().name == replace(tiny(), train=replace(tiny().train, device="cpu")).name
    assert tiny().name != tiny(max_steps=30).name


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: (path / "metrics.csv").write_text(""),
        lambda path: (path / "metrics.csv").write_text("step,split,loss,acc\n0,train,0.5"),
        lambda path: (path / "metrics.csv").write_bytes(b"\x00\xff\x00 not a csv \n\x01"),
        lambda path: (path / "config.json").write_text('{"data": {"p": 1'),
        lambda path: (path / "config.json").unlink(),
    ],
)
def test_a_damaged_run_is_reported_and_computed_again(in_tmp, damage):
    run = one(tiny())
    good = run.metrics
    damage(run.path)
    assert runs.problem(run.path) is not None
    with pytest.warns(UserWarning, match="not a finished run"):
        again = one(tiny())
    assert again.path == run.path and sweeps.compare(good, again.metrics) == []


def test_an_interrupted_run_leaves_nothing_to_reuse_and_keeps_the_old_one(in_tmp, monkeypatch):
    run = one(tiny())
    before = (run.path / "metrics.csv").read_text()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(compute, "train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        one(tiny(), force=True)
    with pytest.raises(KeyboardInterrupt):
        one(tiny(max_steps=40))
    left = [p.name for p in run.path.parent.iterdir() if not p.name.endswith(".lock")]  # a lock file is harmless
    assert left == [run.name]
    assert (run.path / "metrics.csv").read_text() == before


def test_stale_temporaries_of_dead_processes_are_cleaned(tmp_path):
    dead = tmp_path / ".div_p11_f0.5_s0_x.tmp-999999999"
    mine = tmp_path / f".other.tmp-{os.getpid()}"
    for path in (dead, mine):
        path.mkdir()
    assert store.clean_stale(tmp_path) == [dead] and mine.exists()


def test_runs_are_found_in_the_published_store_first(in_tmp, monkeypatch):
    published = runs.write(compute.compute(tiny()), in_tmp / "data" / "runs")
    monkeypatch.setattr(compute, "compute", lambda *a, **k: pytest.fail("a published run was retrained"))
    assert one(tiny()).path == published.path


def test_publish_copies_the_final_weights_into_the_output(in_tmp):
    run = one(tiny(weights=True))
    target = runs.publish(run, "example")
    assert target == in_tmp / "scratch" / "checkpoints" / "example.pt"
    assert target.read_bytes() == (run.path / "model.pt").read_bytes()


def test_sweep_reuses_finished_runs_and_skips_missing_ones_when_told(in_tmp, monkeypatch):
    specs = [tiny(0), tiny(1)]
    first = sweeps.sweep(specs[:1], progress=False)
    assert [r and r.name for r in sweeps.sweep(specs, train=False, progress=False)] == [specs[0].name, None]
    assert sweeps.missing(specs, [first[0], None]) == [specs[1].name]
    both = sweeps.sweep(specs + specs[:1], progress=False)
    assert [r.name for r in both] == [specs[0].name, specs[1].name, specs[0].name]
    assert set(runs.collect(both[:2]).seed) == {0, 1}
    with pytest.raises(ValueError, match="jobs"):
        sweeps.sweep(specs, jobs=0)


def test_sweep_on_a_dask_local_cluster_matches_one_thread_in_process(in_tmp):
    specs = [tiny(0, max_steps=30), tiny(1, max_steps=30)]
    on_dask = sweeps.sweep(specs, jobs=2, progress=False)
    assert [r.name for r in on_dask] == [s.name for s in specs]
    assert all(r.config["env"]["threads"] == 1 for r in on_dask)
    here = compute.compute(specs[1], threads=1, progress=False)
    assert sweeps.compare(on_dask[1].metrics, here.metrics) == []


def test_a_run_flushes_subnormals_while_it_trains_and_records_it(in_tmp):
    tiny_value = torch.tensor(1e-39)  # subnormal in float32
    flushed = compute.compute(tiny(max_steps=10), threads=1, progress=False)
    assert flushed.config["env"]["flush_denormal"] is torch.set_flush_denormal(False)  # True where the CPU can
    assert (tiny_value * 1).item() != 0  # torch's default mode is back once the run is done
    kept = compute.compute(tiny(max_steps=10), threads=1, progress=False, flush_denormal=False)
    assert kept.config["env"]["flush_denormal"] is False


def test_compare_reports_differences_but_not_elapsed_time(in_tmp):
    run = one(tiny())
    again = compute.compute(tiny(), threads=run.config["env"]["threads"], progress=False).metrics
    assert sweeps.compare(run.metrics, again.assign(elapsed_s=again.elapsed_s + 1)) == []
    changed = again.copy()
    changed.loc[3, "acc"] = 0.123
    assert len(sweeps.compare(run.metrics, changed)) == 1 and "acc" in sweeps.compare(run.metrics, changed)[0]


def test_spec_of_a_config_reproduces_the_run_name(in_tmp):
    spec = experiments.PRESETS["grokking"]
    assert runs.spec_of(spec.config()).name == spec.name


def test_root_is_the_project_when_started_in_notebooks(tmp_path, monkeypatch):
    monkeypatch.delenv("GROKGPT_ROOT", raising=False)
    (tmp_path / "lib" / "grokgpt").mkdir(parents=True)
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    assert store.root() == tmp_path
    monkeypatch.chdir(tmp_path / "lib")
    assert store.root() == tmp_path / "lib"


def test_each_ablation_changes_only_the_knob_it_names():
    """05's groups differ from the baseline in their own knobs only: Grokfast is on in (e)'s arm and nowhere else
    (its parameters share TrainConfig's field names, so a careless registry would switch it on everywhere)."""
    groups = experiments.plan("05_ablations")
    base = experiments.PARAMETERS["05_ablations"]
    for name, specs in groups.items():
        lambs = {s.train.grokfast_lamb for s in specs}
        assert lambs == ({0.0, base["grokfast_lamb"]} if name in ("grokfast", "long") else {0.0}), name
        if name not in ("weight_decay", "phase", "grokfast", "long"):
            assert {s.train.weight_decay for s in specs} == {base["weight_decay"]}, name
        if name != "warmup_steps":
            assert {s.train.warmup_steps for s in specs} == {base["warmup_steps"]}, name


def test_run_groups_are_named_and_their_values_are_settings():
    """A plan's groups are named (identifiers such as `paper`, `long`), never formatted values that code parses
    back ("fraction 0.5"); the values are the runs' settings, which `runs.settings` gives for every run alike: a
    run from before loss_dtype existed has the value it ran with."""
    for notebook in experiments.PLANS:
        assert all(name.isidentifier() for name in experiments.plan(notebook)), notebook
    paper = experiments.plan("04_grokking")["paper"]
    assert [s.data.fractions[0] for s in paper[::3]] == experiments.PARAMETERS["04_grokking"]["fractions"]
    spec = paper[0]
    config = spec.config()
    del config["train"]["loss_dtype"], config["train"]["autocast"], config["data"]["train_size"]  # an old run
    flat = runs.settings(runs.Run(Path(spec.name), config, pd.DataFrame()))
    assert (flat["loss_dtype"], flat["autocast"], flat["train_size"], flat["train_frac"]) == (
        "float32",
        "none",
        None,
        0.5,
    )
