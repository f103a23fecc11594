"""Runs as data: a run is its config, and `data/runs/<name>/` holds what it produced.

A run folder holds `config.json` (every setting: the data protocol, the model, the training, the seeds, and under
`env` the torch version, thread count and device it ran with) and `metrics.csv` (the long table `train` returns).
A run is finished when both are complete and valid: config.json is strict JSON that rebuilds a spec whose name is
the folder's name, and metrics.csv has every column `train` writes, numeric and finite, accuracies in [0, 1]. A
folder with a truncated, empty, unparsable or hand-edited file, or another run's files, is not a run (it is
reported, never read) and is computed again. Optional beside them: `fourier.csv` (the
embedding's Fourier spectrum at every evaluation, for modular arithmetic: the progress measures of 04) and, for
the few runs whose spec asks for weights, `model.pt` and `model_memorised.pt` (the weights at the end and at the
first evaluation with train accuracy >= 99%), which the CLI examples and 04's prediction maps use.

The name is readable and ends in a hash of the run's identity (its config without the device and environment),
so a finished run is found again instead of retrained, as in the progress-measures paper's `saved_runs/`.
`compute` trains in memory and returns everything as values (a Dask worker ships them back this way); `write`
builds the folder beside its target and swaps it in whole, so an interrupted run never looks finished.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import os
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from grokgpt import checkpoint, data, store
from grokgpt.data import DataConfig, Dataset
from grokgpt.model import GPT, GPTConfig
from grokgpt.operations import OPERATIONS
from grokgpt.train import TrainConfig

METRIC_COLUMNS = ("step", "split", "loss", "acc", "lr", "weight_norm", "elapsed_s")  # every column train writes
FILES = ("config.json", "metrics.csv", "fourier.csv", "model.pt", "model_memorised.pt")  # all a run folder holds
MEMORISED_ACC = 0.99  # train accuracy at which model_memorised.pt is kept
RACES = (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT)  # what a rename meets when another writer is at the same run


class RunError(ValueError):
    """A run folder that is not a finished run."""


class InvalidRun(RunError):
    """A computed run that is not valid (non-finite metrics or config): it is never written."""


# ----------------------------------------------------------------------------------------------------------------
# What a run is


@dataclass(frozen=True)
class Spec:
    """One run to do: its data, its training and its model shape (vocab_size and block_size come from the data)."""

    data: DataConfig
    train: TrainConfig
    model: GPTConfig
    weights: bool = False  # keep model.pt and model_memorised.pt; not part of the run's identity
    start: str | None = None  # the name of a finished run whose final weights (model.pt) this run starts from

    def dataset(self) -> Dataset:
        return _dataset(self.data)

    def config(self) -> dict:
        ds = self.dataset()
        model = self.model.for_data(ds)
        config = {"data": data.config_to_dict(self.data), "model": model.to_dict(), "train": self.train.to_dict()}
        return config | ({"start": self.start} if self.start else {})

    @property
    def name(self) -> str:
        return run_name(self.config())


@functools.lru_cache(maxsize=64)
def _dataset(cfg: DataConfig) -> Dataset:
    return data.build(cfg)


# Settings added after the first runs were named, at the values that mean "as before": a run's identity leaves
# them out there, so that every run named before them keeps its name.
ADDED = {"data": {"train_size": None}, "train": {"loss_dtype": "float32", "autocast": "none"}}
_ABSENT = object()


def identity(config: dict) -> dict:
    """What makes two runs the same experiment: the config without `env` and without the device (and without
    the ADDED settings at their old meaning); with `start`, the run whose final weights it starts from."""
    part = lambda key: {  # noqa: E731
        k: v for k, v in config[key].items() if k != "device" and ADDED.get(key, {}).get(k, _ABSENT) != v
    }
    return {"data": part("data"), "model": config["model"], "train": part("train")} | (
        {"start": config["start"]} if config.get("start") else {}
    )


def run_name(config: dict) -> str:
    """`<task>_p<p>_f<train fraction>[_n<train size>][_from-<hash8 of the run it starts from>]_s<seed>_<hash8>`,
    the last hash over the run's identity."""
    digest = hashlib.sha256(json.dumps(identity(config), sort_keys=True).encode()).hexdigest()[:8]
    d, seed = config["data"], config["train"]["seed"]
    if d["kind"] == "SentenceConfig":
        return f"sentence_s{seed}_{digest}"
    if d["kind"] == "FilesConfig":  # the CLI's `arith FOLDER`
        return f"files_p{d['p']}_s{seed}_{digest}"
    op = "".join(OPERATIONS[o].name for o in d["ops"])
    subset = f"_n{d['train_size']}" if d.get("train_size") is not None else ""  # D of the split's equations
    start = f"_from-{config['start'].rsplit('_', 1)[-1]}" if config.get("start") else ""  # the run it goes on from
    return f"{op}_p{d['p']}_f{d['fractions'][0]:.3g}{subset}{start}_s{seed}_{digest}"


def spec_of(config: dict, weights: bool = False) -> Spec:
    """The spec that reproduces a run from its config.json."""
    model = {k: v for k, v in config["model"].items() if k not in ("vocab_size", "block_size")}
    train_cfg = TrainConfig(**config["train"])
    return Spec(data.config_from_dict(config["data"]), train_cfg, GPTConfig(**model), weights, config.get("start"))


# ----------------------------------------------------------------------------------------------------------------
# Reading runs


@dataclass
class Run:
    path: Path
    config: dict
    metrics: pd.DataFrame
    _models: dict = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def fourier(self) -> pd.DataFrame | None:
        """The embedding spectrum at every evaluation (columns step, frequency, norm, share), if logged."""
        path = self.path / "fourier.csv"
        return pd.read_csv(path) if path.is_file() else None

    def has(self, which: str = "model") -> bool:
        return (self.path / f"{which}.pt").is_file()

    def checkpoint(self, which: str = "model") -> checkpoint.Checkpoint:
        """The final weights ("model") or those at memorisation ("model_memorised"), loaded once."""
        if which not in self._models:
            if not self.has(which):
                raise RunError(f"run {self.name} kept no {which}.pt: its spec in the registry must ask for weights")
            self._models[which] = checkpoint.load(self.path / f"{which}.pt")
        return self._models[which]

    @property
    def model(self) -> GPT:
        return self.checkpoint().model


def problem(path: Path, named: bool = True) -> str | None:
    """Why the folder path is not a finished run, or None if it is one.

    Finished: config.json is strict JSON that rebuilds a spec (every value in its set) with the same identity, and
    metrics.csv has every column `train` writes, numeric and finite, accuracies in [0, 1]. With named (a run in a
    run store, not the CLI's --out_dir) the folder's name must also be the name its config gives: a run whose
    config.json was edited, or a folder written by hand, never stands for another run."""
    try:
        config = json.loads((path / "config.json").read_text(), parse_constant=_no_constant)
        if not isinstance(config, dict) or not {"data", "model", "train"} <= set(config):
            return "config.json lacks data, model or train"
        metrics = pd.read_csv(path / "metrics.csv")
    except FileNotFoundError as err:
        return f"{Path(err.filename).name} is missing"
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:  # JSONDecodeError, EmptyDataError too
        return f"unreadable: {str(err).splitlines()[0]}"
    return _config_problem(config, path.name if named else None) or _metrics_problem(metrics)


def _no_constant(name: str):
    raise ValueError(f"config.json holds {name}, which is not JSON")


def _config_problem(config: dict, name: str | None) -> str | None:
    """Why config is not the config of a run (called name, if given), or None."""
    try:
        spec = spec_of(config)
        rebuilt = {"data": data.config_to_dict(spec.data), "train": spec.train.to_dict(), "start": spec.start}
        rebuilt["model"] = {**spec.model.to_dict(), **{k: config["model"].get(k) for k in ("vocab_size", "block_size")}}
        rebuilt = json.loads(json.dumps(rebuilt))  # tuples as the lists that config.json holds
        again = identity({k: v for k, v in rebuilt.items() if k != "start" or v})
        if again != identity(config):
            return "config.json holds settings its spec does not rebuild"
    except (TypeError, ValueError, KeyError, AttributeError) as err:  # an unknown key, a value out of its set
        return f"config.json does not rebuild a run: {' '.join(str(err).split())}"
    if name is not None and run_name(config) != name:
        return f"its config.json is the config of run {run_name(config)} (edited, or written here by hand)"
    return None


def _metrics_problem(metrics: pd.DataFrame) -> str | None:
    missing = [c for c in METRIC_COLUMNS if c not in metrics.columns]
    if missing:
        return f"metrics.csv lacks {', '.join(missing)}"
    if metrics.empty or metrics[list(METRIC_COLUMNS)].isna().any().any():
        return "metrics.csv is empty or has missing values"
    numbers = [c for c in METRIC_COLUMNS if c != "split"]
    bad = [
        c for c in numbers if not pd.api.types.is_numeric_dtype(metrics[c]) or pd.api.types.is_bool_dtype(metrics[c])
    ]
    if bad:
        return f"metrics.csv has a non-numeric value in {', '.join(bad)}"
    values = metrics[numbers].to_numpy(dtype=float)
    if not np.isfinite(values).all():
        return "metrics.csv has a non-finite number"
    if not metrics["acc"].between(0, 1).all() or (metrics["step"] < 0).any() or (metrics["step"] % 1 != 0).any():
        return "metrics.csv has an accuracy outside [0, 1] or a step that is not a whole number >= 0"
    if not metrics["split"].isin(data.SPLITS).all():
        return f"metrics.csv has a split outside {', '.join(data.SPLITS)}"
    return None


def load(path: str | Path, named: bool = True) -> Run:
    """The finished run in path; RunError (one line) if it is not one (`problem`; named: see there)."""
    path = Path(path)
    reason = problem(path, named)
    if reason:
        raise RunError(f"{path} is not a finished run: {reason}")
    return Run(path, json.loads((path / "config.json").read_text()), pd.read_csv(path / "metrics.csv"))


def places() -> list[Path]:
    """Where runs are looked for: the published data/runs/, then this process's output (scratch or staging)."""
    return list(dict.fromkeys([store.root() / store.RUNS, store.output() / store.RUNS]))


def find(name: str) -> Run | None:
    """The finished run called name, wherever it is; a damaged folder of that name is reported and skipped."""
    for folder in places():
        path = folder / name
        if path.is_dir():
            reason = problem(path)
            if reason is None:
                return load(path)
            warnings.warn(f"{path} is not a finished run ({reason}); it will be computed again", stacklevel=2)
    return None


# ----------------------------------------------------------------------------------------------------------------
# Writing runs (`compute` trains them)


@dataclass
class Result:
    """Everything a run produced, as values: what a worker returns and `write` stores."""

    config: dict
    metrics: pd.DataFrame
    fourier: pd.DataFrame | None = None
    weights: dict[str, bytes] = field(default_factory=dict)  # file stem -> checkpoint bytes

    @property
    def name(self) -> str:
        return run_name(self.config)


def snapshot_path(folder: Path, name: str) -> Path:
    """Where the run called name, trained for folder/<name>/, keeps its resumable snapshot (never committed):
    beside it, or in the folder $GROKGPT_SNAPSHOTS names (outside the work tree, snapshots outlive a fresh clone)."""
    elsewhere = os.environ.get("GROKGPT_SNAPSHOTS")
    if elsewhere:
        Path(elsewhere).mkdir(parents=True, exist_ok=True)
    return Path(elsewhere or folder) / f".{name}.snapshot.pt"


def write(result: Result, folder: Path) -> Run:
    """Store result as folder/<name>/, built in a temporary folder and swapped in whole. Another process that
    writes the same run at the same moment may win the race: its run (the same experiment) is returned then."""
    path = Path(folder) / result.name
    for attempt in range(3):
        try:
            return write_to(result, path, named=True)
        except InvalidRun:
            raise
        except (OSError, RunError) as err:  # another writer swapped its folder in or out between our steps
            if isinstance(err, OSError) and err.errno not in RACES:
                raise  # a full disk, a read-only folder: not a race
            if problem(path) is None:
                return load(path)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def write_to(result: Result, path: Path, named: bool = False) -> Run:
    """Store result as the run folder path (the CLI's --out_dir), built in a temporary folder and swapped in whole
    only if it is a finished run (`problem`): a run that failed replaces nothing. config.json is strict JSON."""
    path = Path(path)
    tmp = store.temporary(path)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        result.metrics.to_csv(tmp / "metrics.csv", index=False)
        if result.fourier is not None:
            result.fourier.to_csv(tmp / "fourier.csv", index=False)
        for stem, blob in result.weights.items():
            (tmp / f"{stem}.pt").write_bytes(blob)
        try:
            text = json.dumps(result.config, indent=2, allow_nan=False) + "\n"
        except ValueError:
            raise InvalidRun(f"{path} was not written: its config holds a value that is not finite") from None
        (tmp / "config.json").write_text(text)  # last: marks it complete
        reason = problem(tmp, named=False)
        if reason is None and named and result.name != path.name:
            reason = f"it is run {result.name}, not {path.name}"
        if reason:
            raise InvalidRun(f"{path} was not written (what was there is kept): the run is not valid: {reason}")
        store.replace_dir(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return load(path, named)


def publish(run: Run, name: str) -> Path:
    """Copy a run's final weights to checkpoints/<name>.pt under this process's output, for the CLI examples."""
    target = store.output() / store.CHECKPOINTS / f"{name}.pt"
    return store.atomic_write(target, lambda tmp: shutil.copyfile(run.path / "model.pt", tmp))


# ----------------------------------------------------------------------------------------------------------------
# Tables of many runs


def settings(run: Run) -> dict:
    """A run's settings as flat scalars: the data's (seed as data_seed, the first fraction as train_frac),
    the model's and the training's; a setting added after the run was named has its ADDED value (loss_dtype
    "float32" for a run from before it), so code selects runs by every setting alike."""
    config, train = run.config["data"], {**ADDED["train"], **run.config["train"]}
    d = {k: v for k, v in config.items() if k not in ("kind", "fractions", "seed")}
    if config["kind"] == "ModularConfig":
        d = {**ADDED["data"], **d, "train_frac": config["fractions"][0], "data_seed": config["seed"]}
    return {**d, **run.config["model"], **train, "run": run.name}


def collect(runs: list[Run]) -> pd.DataFrame:
    """All runs' metrics in one long table, each row carrying its run's settings."""
    return pd.concat([run.metrics.assign(**settings(run)) for run in runs], ignore_index=True)
