"""Runs as artefacts: a run is its config; its metrics and weights live in `data/runs/<name>/`.

A run directory holds `config.json` (every setting: data protocol, model, training, seeds), `metrics.csv` (the
long table that `train` returns) and `model.pt` (a checkpoint), plus `model_memorised.pt`, the weights at the
first evaluation where train accuracy reached 99% (04_grokking compares the two). The name is readable and
ends in a hash of the config, so a finished run with the same config is loaded instead of retrained, as in the
progress-measures paper's `saved_runs/`. A run is trained in a hidden temporary directory and renamed into
place only when complete: an interrupted run is never mistaken for a finished one.

`sweep` runs a list of specs, reusing finished runs and training the rest, in parallel processes if asked;
`collect` stacks their metrics with their settings for analysis.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import platform
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
import torch

from grokgpt import checkpoint, data
from grokgpt.data import Dataset, ModularConfig, SentenceConfig
from grokgpt.model import GPT, GPTConfig
from grokgpt.paths import root
from grokgpt.train import TrainConfig, resolve_device, set_seed, train

RUNS_DIR = Path("data") / "runs"
CHECKPOINTS_DIR = Path("checkpoints")
FILES = ("config.json", "metrics.csv", "model.pt")
OP_NAMES = {"+": "add", "-": "sub", "/": "div"}
MEMORISED_ACC = 0.99  # train accuracy at which model_memorised.pt is kept


# ----------------------------------------------------------------------------------------------------------------
# Names and configs


def config_dict(model_cfg: GPTConfig, train_cfg: TrainConfig, data_cfg: SentenceConfig | ModularConfig) -> dict:
    return {"data": data.config_to_dict(data_cfg), "model": model_cfg.to_dict(), "train": train_cfg.to_dict()}


def run_name(config: dict) -> str:
    """`<task>_p<p>_f<train fraction>_s<seed>_<hash8>`, the hash over the whole config."""
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:8]
    d, seed = config["data"], config["train"]["seed"]
    if d["kind"] == "SentenceConfig":
        return f"sentence_s{seed}_{digest}"
    op = "".join(OP_NAMES[o] for o in d["ops"])
    return f"{op}_p{d['p']}_f{d['fractions'][0]:g}_s{seed}_{digest}"


def build_model(model_cfg: GPTConfig, seed: int) -> GPT:
    """A freshly initialised model: the initialisation is seeded here, and only here."""
    set_seed(seed)
    return GPT(model_cfg)


# ----------------------------------------------------------------------------------------------------------------
# Runs


@dataclass
class Run:
    path: Path
    config: dict
    metrics: pd.DataFrame
    _models: dict = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.path.name

    def checkpoint(self, which: str = "model") -> checkpoint.Checkpoint:
        """The final weights ("model") or those at memorisation ("model_memorised"), loaded once."""
        if which not in self._models:
            self._models[which] = checkpoint.load(self.path / f"{which}.pt")
        return self._models[which]

    def has(self, which: str) -> bool:
        return (self.path / f"{which}.pt").is_file()

    @property
    def model(self) -> GPT:
        return self.checkpoint().model


def load(path: str | Path) -> Run:
    path = Path(path)
    config = json.loads((path / "config.json").read_text())
    return Run(path, config, pd.read_csv(path / "metrics.csv"))


def is_complete(path: Path) -> bool:
    return all((path / f).is_file() for f in FILES)


def run_or_load(model_cfg: GPTConfig, train_cfg: TrainConfig, ds: Dataset, force: bool = False) -> Run:
    """Load the finished run with this config from data/runs/, or train it (always, when force) and save it."""
    if ds.config is None:
        raise ValueError("run_or_load needs a data set built from a config (data.build)")
    config = config_dict(model_cfg, train_cfg, ds.config)
    path = root() / RUNS_DIR / run_name(config)
    if is_complete(path) and not force:
        return load(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        model = build_model(model_cfg, train_cfg.seed)
        info = {**ds.info, "config": config}
        memorised = []

        def keep_memorised(step: int, model: GPT, rows: pd.DataFrame) -> None:
            if not memorised and rows.set_index("split").at["train", "acc"] >= MEMORISED_ACC:
                memorised.append(step)
                checkpoint.save(tmp / "model_memorised.pt", model, ds.tokenizer, {**info, "step": step})

        metrics = train(model, ds, train_cfg, callback=keep_memorised, desc=path.name)
        checkpoint.save(tmp / "model.pt", model, ds.tokenizer, {**info, "step": int(metrics["step"].max())})
        metrics.to_csv(tmp / "metrics.csv", index=False)
        env = {
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "device": str(resolve_device(train_cfg.device)),
            "machine": platform.machine(),
        }
        (tmp / "config.json").write_text(json.dumps({**config, "env": env}, indent=2) + "\n")
        replace_dir(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return load(path)


def replace_dir(new: Path, path: Path) -> None:
    """Move directory new to path; an existing path is swapped out first and removed only afterwards."""
    old = path.with_name(f".{path.name}.old-{os.getpid()}")
    if path.exists():
        os.replace(path, old)
    os.replace(new, path)
    shutil.rmtree(old, ignore_errors=True)


def publish(run: Run, name: str) -> Path:
    """Copy a run's final checkpoint to checkpoints/<name>.pt (atomically), for the CLI examples."""
    target = root() / CHECKPOINTS_DIR / f"{name}.pt"
    checkpoint.atomic_write(target, lambda tmp: shutil.copyfile(run.path / "model.pt", tmp))
    return target


# ----------------------------------------------------------------------------------------------------------------
# Many runs


@dataclass(frozen=True)
class Spec:
    """One run to do: its data, its training and its architecture (vocab_size and block_size come from the data)."""

    data: SentenceConfig | ModularConfig
    train: TrainConfig
    model: GPTConfig = GPTConfig(n_layer=2, n_head=4, n_embd=128)


def run_spec(spec: Spec, force: bool = False) -> Run:
    ds = data.build(spec.data)
    model_cfg = replace(spec.model, vocab_size=ds.vocab_size, block_size=ds.block_size)
    return run_or_load(model_cfg, spec.train, ds, force=force)


def _run_in_worker(spec: Spec, force: bool, threads: int) -> Path:
    torch.set_num_threads(threads)
    return run_spec(spec, force).path


def sweep(specs: list[Spec], jobs: int = 1, force: bool = False) -> list[Run]:
    """Every spec's run, in order: finished runs are loaded, the others trained, `jobs` at a time in separate
    processes (each with cores // jobs threads). On 2 cores one job with 2 threads is as fast as two with one."""
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    if jobs == 1:
        return [run_spec(spec, force) for spec in specs]
    threads = max(1, (os.cpu_count() or 1) // jobs)
    context = multiprocessing.get_context("spawn")  # fork and torch's thread pools do not mix
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        paths = list(pool.map(_run_in_worker, specs, [force] * len(specs), [threads] * len(specs)))
    return [load(path) for path in paths]


def settings(run: Run) -> dict:
    """A run's settings as flat scalars: the data's (seed as data_seed, the first fraction as train_frac),
    the model's and the training's."""
    d = {k: v for k, v in run.config["data"].items() if k not in ("kind", "fractions", "seed")}
    if "fractions" in run.config["data"]:
        d |= {"train_frac": run.config["data"]["fractions"][0], "data_seed": run.config["data"]["seed"]}
    return {**d, **run.config["model"], **run.config["train"], "run": run.name}


def collect(runs: list[Run]) -> pd.DataFrame:
    """All runs' metrics in one long table, each row carrying its run's settings."""
    return pd.concat([run.metrics.assign(**settings(run)) for run in runs], ignore_index=True)
