import json
from dataclasses import replace

import pytest

from grokgpt import analysis, data, paths, runs
from grokgpt.data import ModularConfig, SentenceConfig
from grokgpt.model import GPTConfig
from grokgpt.train import TrainConfig


def setup(max_steps=20):
    ds = data.modular(ModularConfig(p=11, ops="/", fractions=(0.5, 0.5)))
    model_cfg = GPTConfig(n_layer=1, n_head=2, n_embd=16, block_size=ds.block_size, vocab_size=ds.vocab_size)
    return model_cfg, TrainConfig(max_steps=max_steps, batch_size=16, eval_every=10, device="cpu"), ds


def test_a_run_is_saved_and_then_reused(in_tmp, monkeypatch):
    run = runs.run_or_load(*setup())
    assert run.path.parent == in_tmp / "data" / "runs" and run.name.startswith("div_p11_f0.5_s0_")
    assert {p.name for p in run.path.iterdir()} >= {"config.json", "metrics.csv", "model.pt"}
    config = json.loads((run.path / "config.json").read_text())
    assert config["data"]["p"] == 11 and config["train"]["max_steps"] == 20 and config["env"]["torch"]
    assert run.model.config.n_embd == 16

    monkeypatch.setattr(runs, "train", lambda *a, **k: pytest.fail("a finished run was retrained"))
    again = runs.run_or_load(*setup())
    assert again.path == run.path and again.metrics.equals(run.metrics)


def test_another_config_is_another_run(in_tmp):
    a = runs.run_or_load(*setup(20))
    b = runs.run_or_load(*setup(30))
    assert a.path != b.path and b.metrics.step.max() == 30


def test_force_retrains_in_place(in_tmp):
    run = runs.run_or_load(*setup())
    stamp = (run.path / "model.pt").stat().st_mtime_ns
    again = runs.run_or_load(*setup(), force=True)
    assert again.path == run.path and (run.path / "model.pt").stat().st_mtime_ns != stamp
    assert [p.name for p in run.path.parent.iterdir()] == [run.name]  # no temporary directory left behind


def test_an_interrupted_run_leaves_nothing_to_reuse_and_keeps_the_old_one(in_tmp, monkeypatch):
    run = runs.run_or_load(*setup())
    before = (run.path / "metrics.csv").read_text()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runs, "train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        runs.run_or_load(*setup(), force=True)
    with pytest.raises(KeyboardInterrupt):
        runs.run_or_load(*setup(40))
    assert [p.name for p in run.path.parent.iterdir()] == [run.name]
    assert (run.path / "metrics.csv").read_text() == before


def test_memorised_snapshot_and_publish(in_tmp):
    ds = data.sentence(SentenceConfig())
    model_cfg = GPTConfig(n_layer=1, n_head=2, n_embd=32, block_size=ds.block_size, vocab_size=ds.vocab_size)
    train_cfg = TrainConfig(max_steps=600, batch_size=1, lr=3e-3, weight_decay=0, eval_every=50, device="cpu")
    run = runs.run_or_load(model_cfg, train_cfg, ds)
    first = runs_steps_to(run)
    assert run.checkpoint("model_memorised").info["step"] == first < 600
    target = runs.publish(run, "example")
    assert (
        target == in_tmp / "checkpoints" / "example.pt" and target.read_bytes() == (run.path / "model.pt").read_bytes()
    )


def runs_steps_to(run):
    return analysis.steps_to(run.metrics, "train", runs.MEMORISED_ACC)


def test_root_is_the_project_when_started_in_notebooks(tmp_path, monkeypatch):
    monkeypatch.delenv("GROKGPT_ROOT", raising=False)
    (tmp_path / "lib" / "grokgpt").mkdir(parents=True)
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    assert paths.root() == tmp_path
    monkeypatch.chdir(tmp_path / "lib")
    assert paths.root() == tmp_path / "lib"


def test_sweep_reuses_finished_runs_and_runs_in_parallel(in_tmp, monkeypatch):
    model_cfg, train_cfg, ds = setup()
    arch = GPTConfig(n_layer=1, n_head=2, n_embd=16)
    specs = [runs.Spec(ds.config, replace(train_cfg, seed=s), arch) for s in (0, 1)]
    parallel = runs.sweep(specs, jobs=2)
    assert [r.config["train"]["seed"] for r in parallel] == [0, 1]
    assert all(r.config["env"]["threads"] >= 1 for r in parallel)
    monkeypatch.setattr(runs, "train", lambda *a, **k: pytest.fail("a finished run was retrained"))
    again = runs.sweep(specs + specs[:1])
    assert [r.path for r in again] == [r.path for r in parallel] + [parallel[0].path]
    table = runs.collect(again)
    assert {"seed", "p", "train_frac", "weight_decay", "run", "step", "acc"} <= set(table.columns)
    with pytest.raises(ValueError, match="jobs"):
        runs.sweep(specs, jobs=0)
