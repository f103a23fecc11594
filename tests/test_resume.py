"""Long runs survive a stopped process: a run killed with SIGKILL resumes from its snapshot, and its metrics equal
those of a run that was never stopped (elapsed time aside)."""

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch

from grokgpt import checkpoint, compute, runs, sweeps
from grokgpt.data import ModularConfig
from grokgpt.model import GPTConfig
from grokgpt.runs import Spec
from grokgpt.train import SNAPSHOT_ENV, TrainConfig

SPEC = """
from grokgpt.data import ModularConfig
from grokgpt.model import GPTConfig
from grokgpt.runs import Spec
from grokgpt.train import TrainConfig
spec = Spec(ModularConfig(p=11, ops="/", fractions=(0.5, 0.5), seed=1),
            TrainConfig(max_steps={steps}, batch_size=16, lr=1e-3, weight_decay=1.0, eval_every=10, seed=1,
                        grokfast_lamb={lamb}),
            GPTConfig(n_layer=1, n_head=2, n_embd=16, init="torch"), weights=True)
"""


def spec(steps: int, lamb: float) -> Spec:
    namespace = {}
    exec(SPEC.format(steps=steps, lamb=lamb), namespace)
    return namespace["spec"]


def sweep_in_subprocess(steps: int, lamb: float, env: dict) -> subprocess.Popen:
    code = SPEC.format(steps=steps, lamb=lamb) + "from grokgpt import sweeps\nsweeps.sweep([spec], progress=False)\n"
    return subprocess.Popen([sys.executable, "-c", code], env=env)


# with Grokfast, its moving average is part of the snapshot; $GROKGPT_SNAPSHOTS keeps snapshots outside the tree
@pytest.mark.parametrize(("lamb", "elsewhere"), [(0.0, False), (2.0, True)])
def test_a_killed_run_resumes_from_its_snapshot_with_the_same_metrics(in_tmp, monkeypatch, lamb, elsewhere):
    steps = 3000
    env = {**os.environ, "GROKGPT_ROOT": str(in_tmp), SNAPSHOT_ENV: "0", "OMP_NUM_THREADS": "1"}
    if elsewhere:
        env["GROKGPT_SNAPSHOTS"] = str(in_tmp / "kept" / "snapshots")
        monkeypatch.setenv("GROKGPT_SNAPSHOTS", env["GROKGPT_SNAPSHOTS"])
    snapshot = runs.snapshot_path(in_tmp / "scratch" / "data" / "runs", spec(steps, lamb).name)
    assert (snapshot.parent == in_tmp / "kept" / "snapshots") is elsewhere
    process = sweep_in_subprocess(steps, lamb, env)
    deadline = time.monotonic() + 120
    while not snapshot.is_file() or sweeps.snapshot_step(snapshot) < 500:
        assert process.poll() is None and time.monotonic() < deadline, "the run ended before it could be killed"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    stopped_at = sweeps.snapshot_step(snapshot)
    assert 500 <= stopped_at < steps

    monkeypatch.setenv(SNAPSHOT_ENV, "0")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    resumed = sweeps.sweep([spec(steps, lamb)], progress=False)[0]
    assert not snapshot.exists()  # removed once the run is written

    uninterrupted = compute.compute(spec(steps, lamb), threads=1, progress=False)
    columns = [c for c in uninterrupted.metrics.columns if c != "elapsed_s"]
    pd.testing.assert_frame_equal(resumed.metrics[columns], _round_trip(uninterrupted.metrics)[columns])
    assert resumed.metrics["elapsed_s"].is_monotonic_increasing
    pd.testing.assert_frame_equal(resumed.fourier, _round_trip(uninterrupted.fourier))
    assert {f.stem for f in resumed.path.glob("*.pt")} == set(uninterrupted.weights)
    again = checkpoint.loads(uninterrupted.weights["model"]).model.state_dict()
    for name, weight in resumed.model.state_dict().items():
        assert torch.equal(weight, again[name]), name


def _round_trip(table: pd.DataFrame) -> pd.DataFrame:
    import io

    return pd.read_csv(io.StringIO(table.to_csv(index=False)))


def test_a_damaged_snapshot_is_reported_and_the_run_starts_anew(in_tmp, monkeypatch):
    s = Spec(
        ModularConfig(p=11, ops="/", fractions=(0.5, 0.5)),
        TrainConfig(max_steps=20, batch_size=16, lr=1e-3, weight_decay=1.0, eval_every=10),
        GPTConfig(n_layer=1, n_head=2, n_embd=16, init="torch"),
    )
    snapshot = runs.snapshot_path(in_tmp / "scratch" / "data" / "runs", s.name)
    snapshot.parent.mkdir(parents=True)
    snapshot.write_bytes(b"not a snapshot")
    with pytest.warns(UserWarning, match="damaged"):
        run = sweeps.sweep([s], progress=False)[0]
    assert run.metrics["step"].max() == 20 and not snapshot.exists()


def _tiny(seed: int, **changes) -> Spec:
    return Spec(
        ModularConfig(p=11, ops="/", fractions=(0.5, 0.5), seed=seed, train_size=changes.pop("train_size", None)),
        TrainConfig(max_steps=20, batch_size=8, lr=1e-3, weight_decay=1.0, eval_every=10, seed=seed),
        GPTConfig(n_layer=1, n_head=2, n_embd=16, init="torch"),
        **changes,
    )


def test_a_run_that_starts_from_another_follows_it_and_starts_from_its_weights(in_tmp):
    starts = [_tiny(s, weights=True) for s in (0, 1)]
    dependents = [_tiny(s.train.seed, train_size=20, start=s.name) for s in starts]
    assert sweeps._after_starts([*dependents, *starts]) == [starts[0], dependents[0], starts[1], dependents[1]]
    done = sweeps.sweep([*dependents, *starts], jobs=2, progress=False)
    assert [r.name for r in done] == [s.name for s in [*dependents, *starts]]
    assert "_n20_from-" in done[0].name and done[0].config["start"] == starts[0].name
    first = done[0].metrics.query("step == 0").set_index("split")["acc"]
    end_of_start = done[2].metrics.query("step == step.max()").set_index("split")["acc"]
    assert first["val"] == end_of_start["val"]  # the same weights, judged on the same untouched split
