"""Sweeps and the run store (`make runs`, `make verify`): a run is what its name says, two sweeps never compute
one run twice, a failed command loses nothing, and every command has one error line (tiny runs: p = 11, 20 steps)."""

import errno
import json
import multiprocessing
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from grokgpt import compute, runs, store, sweeps
from grokgpt.data import ModularConfig
from grokgpt.model import GPTConfig
from grokgpt.runs import Spec
from grokgpt.train import TrainConfig


def tiny(seed=0, max_steps=20):
    data = ModularConfig(p=11, ops="/", fractions=(0.5, 0.5), seed=seed)
    train = TrainConfig(max_steps=max_steps, batch_size=16, lr=1e-3, weight_decay=1.0, eval_every=10, seed=seed)
    return Spec(data, train, GPTConfig(n_layer=1, n_head=2, n_embd=16, init="torch"))


@pytest.fixture
def published(in_tmp):
    """A finished tiny run in <root>/data/runs/, and the sweep that finds it."""
    (in_tmp / "data" / "runs").mkdir(parents=True)
    return runs.write(compute.compute(tiny(), threads=1, progress=False), in_tmp / "data" / "runs")


def files(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# ----------------------------------------------------------------------------------------------------------------
# 1. A run is what its name says


def edit_config(path, change):
    config = json.loads((path / "config.json").read_text())
    change(config)
    (path / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda p: edit_config(p, lambda c: c["train"].update(lr=0.1)), "config of run"),  # edited by hand
        (lambda p: edit_config(p, lambda c: c["train"].update(bogus=1)), "does not rebuild"),  # an unknown key
        (lambda p: edit_config(p, lambda c: c["train"].update(stop_split="vall")), "does not rebuild"),
        (lambda p: (p / "config.json").write_text((p / "config.json").read_text().replace("1.0", "NaN", 1)), "NaN"),
        (lambda p: pd.read_csv(p / "metrics.csv").assign(acc="abc").to_csv(p / "metrics.csv", index=False), "numeric"),
        (lambda p: pd.read_csv(p / "metrics.csv").assign(acc=1.5).to_csv(p / "metrics.csv", index=False), "[0, 1]"),
        (lambda p: pd.read_csv(p / "metrics.csv").assign(loss=float("inf")).to_csv(p / "metrics.csv", index=False), "finite"),
        (lambda p: pd.read_csv(p / "metrics.csv").drop(columns="elapsed_s").to_csv(p / "metrics.csv", index=False), "elapsed_s"),
    ],
)  # fmt: skip
def test_a_run_folder_that_is_not_what_its_name_says_is_reported_and_computed_again(published, damage, reason):
    good = pd.read_csv(published.path / "metrics.csv")
    damage(published.path)
    assert reason in runs.problem(published.path)
    assert runs.find(published.name) is None or pytest.fail("a damaged run was reused")
    with pytest.warns(UserWarning, match="not a finished run"):
        again = sweeps.sweep([tiny()], progress=False, into=published.path.parent)[0]
    assert again.path == published.path and sweeps.compare(good, again.metrics) == []


def test_another_runs_folder_under_this_name_is_not_this_run(published):
    other = runs.write_to(compute.compute(tiny(max_steps=10), threads=1, progress=False), published.path.parent / "x")
    os.replace(published.path, published.path.with_name("gone"))
    os.replace(other.path, published.path)  # what `train --out_dir data/runs/<name>` did before
    assert "config of run" in runs.problem(published.path) and runs.find(published.name) is None


def test_every_committed_run_is_a_finished_run_under_its_name():
    folder = Path(__file__).resolve().parents[1] / "data" / "runs"
    bad = {p.name: runs.problem(p) for p in folder.glob("[!.]*/") if runs.problem(p)}
    assert bad == {}


# ----------------------------------------------------------------------------------------------------------------
# 2. A failed run replaces nothing; config.json is strict JSON


def test_a_run_that_is_not_valid_replaces_nothing(published):
    before = files(published.path)
    result = compute.compute(tiny(), threads=1, progress=False)
    result.metrics.loc[2, "loss"] = float("nan")
    with pytest.raises(runs.InvalidRun, match="not valid"):
        runs.write(result, published.path.parent)
    result = compute.compute(tiny(), threads=1, progress=False)
    result.config["train"]["grokfast_lamb"] = float("nan")
    with pytest.raises(runs.InvalidRun, match="not finite"):
        runs.write(result, published.path.parent)
    assert files(published.path) == before and [p.name for p in published.path.parent.iterdir()] == [published.name]


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(lr=float("inf")), "finite"),
        (dict(weight_decay=float("inf")), "finite"),
        (dict(grokfast_lamb=float("nan")), "finite"),
        (dict(grokfast_lamb=-5.0), ">= 0"),
        (dict(stop_split="vall"), "stop_split"),
        (dict(max_steps=10**11), "max_steps"),
        (dict(seed=2**64), "seed"),
    ],
)
def test_configs_refuse_values_outside_their_range(change, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{**dict(max_steps=1, batch_size=1, lr=1e-3, weight_decay=0.0, eval_every=1), **change})


def test_division_needs_p_of_at_least_3():
    with pytest.raises(ValueError, match="at least 3"):
        ModularConfig(p=2, ops="/")


# ----------------------------------------------------------------------------------------------------------------
# 6, 7. A name stands for one trajectory; two sweeps at once never raise


def test_a_sweep_with_one_job_trains_on_one_thread_as_the_registry_did(in_tmp):
    run = sweeps.sweep([tiny()], jobs=1, progress=False)[0]
    assert run.config["env"]["threads"] == 1
    again = compute.compute(tiny(), threads=1, progress=False).metrics
    text = lambda m: m.drop(columns="elapsed_s").to_csv(index=False)  # noqa: E731
    assert text(pd.read_csv(run.path / "metrics.csv")) == text(
        pd.read_csv(pd.io.common.StringIO(again.to_csv(index=False)))
    )


def _write_many(result, folder, n, errors):
    try:
        for _ in range(n):
            runs.write(result, folder)
    except Exception as err:  # noqa: BLE001 - the test counts them
        errors.put(f"{type(err).__name__}: {err}")


def test_two_writers_of_the_same_run_never_raise(in_tmp):
    result, folder = compute.compute(tiny(), threads=1, progress=False), in_tmp / "runs"
    ctx = multiprocessing.get_context("fork")
    errors = ctx.Queue()
    writers = [ctx.Process(target=_write_many, args=(result, folder, 40, errors)) for _ in range(2)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(120)
    assert errors.empty(), errors.get()
    assert runs.problem(folder / result.name) is None


def test_a_run_locked_by_another_sweep_is_not_computed_and_is_read_once_written(in_tmp, monkeypatch):
    into, first, second = in_tmp / "data" / "runs", tiny(seed=0), tiny(seed=1)
    theirs = compute.compute(first, threads=1, progress=False)
    held, real, computed = store.lock(into / first.name), compute.compute, []

    def other_sweep_finishes_meanwhile(spec, *args, **kwargs):
        computed.append(spec.name)
        runs.write(theirs, into)  # what the other sweep, holding the lock, writes while this one works
        store.unlock(held, done=True)
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(compute, "compute", other_sweep_finishes_meanwhile)
    done = sweeps.sweep([first, second], progress=False, into=into)
    assert computed == [second.name] and [r.name for r in done] == [first.name, second.name]
    assert sorted(p.name for p in into.iterdir()) == sorted([first.name, second.name])  # no lock file left


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_run_locked_by_another_sweep_is_reported_in_one_line_if_never_written(in_tmp, jobs):
    into, first, second = in_tmp / "data" / "runs", tiny(seed=0), tiny(seed=1)
    held = store.lock(into / first.name)
    with pytest.raises(sweeps.SweepError, match="1 of 2 runs not written") as err:
        sweeps.sweep([first, second], jobs=jobs, progress=False, into=into)
    assert f"{first.name}: being computed by another process" in str(err.value).splitlines()[1]
    assert not (into / first.name).exists() and runs.problem(into / second.name) is None  # the other run was written
    assert store.lock(into / first.name) is None  # still the other sweep's, until it ends
    store.unlock(held, done=False)


def _hold(path, taken):
    store.lock(path)
    taken.set()  # and exit without releasing it


def test_a_lock_of_a_process_that_died_blocks_nothing_and_is_git_ignored(tmp_path):
    ctx = multiprocessing.get_context("fork")
    taken = ctx.Event()
    holder = ctx.Process(target=_hold, args=(tmp_path / "run", taken))
    holder.start()
    holder.join(60)
    assert taken.is_set() and (tmp_path / ".run.lock").is_file()
    lock = store.lock(tmp_path / "run")
    assert lock is not None and store.lock(tmp_path / "run") is None  # taken again, and held against a second taker
    store.unlock(lock, done=False)
    root = Path(__file__).resolve().parents[1]
    ignored = subprocess.run(["git", "check-ignore", "-q", "data/runs/.add_p97_s0_12345678.lock"], cwd=root)
    assert ignored.returncode == 0


# ----------------------------------------------------------------------------------------------------------------
# 3. sweeps run / verify: one line, exit 2, before any training


def main(argv):
    """sweeps.main, argparse's exits included."""
    try:
        return sweeps.main(argv)
    except SystemExit as exit:
        return exit.code


def _one_line_exit_2(capsys, code, *needles):
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["verify", "--n", "0"], "--n"),
        (["verify", "--n", "-1"], "--n"),
        (["verify", "--n", "abc"], "--n"),
        (["verify", "--max-seconds", "-1"], "--max-seconds"),
        (["run", "--jobs", "0"], "--jobs"),
        (["run", "--jobs", "abc"], "--jobs"),
        (["run", "--scheduler", "not a url"], "--scheduler"),
    ],
)
def test_sweeps_refuse_bad_flags_in_one_line(published, capsys, monkeypatch, argv, needle):
    monkeypatch.setattr(compute, "compute", lambda *a, **k: pytest.fail("trained before checking"))
    _one_line_exit_2(capsys, main(argv), needle)


@pytest.mark.parametrize("root", ["missing", "file", "empty"])
def test_sweeps_refuse_a_root_that_is_not_a_project(tmp_path, monkeypatch, capsys, root):
    path = tmp_path / root
    path.write_text("") if root == "file" else path.mkdir() if root == "empty" else None
    monkeypatch.setenv("GROKGPT_ROOT", str(path))
    for argv in (["run", "--list"], ["verify"]):
        _one_line_exit_2(capsys, main(argv), str(path))


def test_sweeps_refuse_an_unwritable_data_runs_before_training(published, capsys, monkeypatch):
    def unwritable(folder):
        raise OSError(f"cannot write in {folder}: Read-only file system")

    monkeypatch.setattr(store, "check_writable", unwritable)
    monkeypatch.setattr(compute, "compute", lambda *a, **k: pytest.fail("trained before checking"))
    _one_line_exit_2(capsys, main(["run", "--only", "01_overfit", "--jobs", "1"]), "Read-only")


def test_verify_is_honest_about_the_cpu(published, capsys, monkeypatch):
    real = compute.compute

    def changed(*args, **kwargs):
        result = real(*args, **kwargs)
        result.metrics.loc[3, "acc"] = 0.123
        return result

    monkeypatch.setattr(compute, "compute", changed)
    edit_config(published.path, lambda c: c["env"].update(cpu="Another CPU"))
    assert sweeps.verify(n=1, seed=0) is True
    out = capsys.readouterr().out.splitlines()
    assert "only expected on the same CPU" in out[0] and published.name in out[0] and len(out) == 2
    assert "1 different and computed on another CPU" in out[1]
    edit_config(published.path, lambda c: c["env"].update(cpu=compute.cpu_name()))
    assert sweeps.verify(n=1, seed=0) is False
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("DIFFERENT on the same CPU") and "acc" in out[0]


# ----------------------------------------------------------------------------------------------------------------
# 5. Symlinks


def test_a_symlinked_out_dir_is_refused_and_a_leftover_link_is_cleaned(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(ValueError, match="symbolic link"):
        store.check_replaceable(tmp_path / "link", runs.FILES)
    left = tmp_path / ".link.old-999999999"
    left.symlink_to(target)
    assert store.clean_stale(tmp_path) == [left] and target.is_dir() and not left.is_symlink()


def test_a_full_disk_is_not_taken_for_a_race_and_make_runs_says_so_in_one_line(published, capsys, monkeypatch):
    before = files(published.path)

    def full(new, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "replace_dir", full)
    with pytest.raises(OSError, match="No space"):
        runs.write(compute.compute(tiny(), threads=1, progress=False), published.path.parent)
    tiny_result = compute.compute(tiny(), threads=1, progress=False)
    monkeypatch.setattr(compute, "compute", lambda *a, **k: tiny_result)
    code, err = main(["run", "--only", "01_overfit", "--jobs", "1", "--force"]), capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error" in line]  # the rest is the progress bar
    assert code == 2 and len(errors) == 1 and "No space" in errors[0] and "Traceback" not in err, err
    assert files(published.path) == before
