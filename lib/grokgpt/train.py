"""Training: one task-agnostic loop (AdamW, linear warmup, optional Grokfast filter) that returns its metrics.

`train(model, data, cfg)` samples batches from the train split, evaluates every split in full at an interval
(loss in float64; accuracy is the exact match of the whole answer), and returns a long pandas DataFrame with
columns step, split, loss, acc, lr, weight_norm, elapsed_s. The only output is a tqdm bar. It follows minGPT's trainer:
the task lives in the data set, never in the loop.
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from grokgpt import analysis, store
from grokgpt.data import MAX_SEED, SPLITS, Dataset, Rows
from grokgpt.devices import NAMES, check_device
from grokgpt.grokfast import gradfilter_ema
from grokgpt.model import GPT

EVAL_CHUNK = 8192  # rows per forward pass when evaluating a whole split
LOSS_DTYPES = {"float32": torch.float32, "float64": torch.float64}
AUTOCAST = {"none": None, "bfloat16": torch.bfloat16}
MAX_STEPS = 10_000_000  # a step budget beyond this runs for months on a CPU: surely a typo
SNAPSHOT_ENV = "GROKGPT_SNAPSHOT_SECONDS"  # seconds of training between snapshots (default 300)


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained. The study's values live in `experiments`; the defaults here only switch things off."""

    max_steps: int  # optimizer steps (the seed's --max_iters)
    batch_size: int  # rows per step, drawn with replacement from the train split
    lr: float  # peak learning rate, held constant after the warmup (or decayed, with cosine)
    weight_decay: float  # AdamW's decoupled decay on every parameter: drives grokking (05_ablations)
    eval_every: int  # steps between full evaluations of every split
    beta1: float = 0.9  # AdamW's first-moment decay
    beta2: float = 0.999  # AdamW's second-moment decay (the grokking papers use 0.98)
    warmup_steps: int = 0  # steps of linear warmup up to lr; 0 for none
    cosine: bool = False  # after the warmup, decay lr along a half cosine to 0 at max_steps (else constant)
    stop_acc: float | None = None  # stop once stop_split accuracy has held (analysis.held) at stop_acc, ...
    stop_after: int = 0  # ... staying >= it for this many steps (evaluated at eval_every): the window of held
    stop_split: str = "val"  # the split watched for stopping (train when the data set has no such split)
    grokfast_alpha: float = 0.98  # EMA decay of the Grokfast filter
    grokfast_lamb: float = 0.0  # amplification of the slow gradient; 0 turns Grokfast off
    seed: int = 0  # batch order (the initialisation is seeded with it too, by runs)
    device: str = "auto"  # "auto" (CUDA, then MPS, then CPU), "cpu", "cuda", "cuda:N", "mps"
    loss_dtype: str = "float32"  # the training loss's precision: "float64" casts the logits before the cross-entropy
    autocast: str = "none"  # "bfloat16": the forward pass under torch.autocast (CPU and CUDA); "none": float32

    def __post_init__(self):
        for name in ("max_steps", "batch_size", "warmup_steps", "eval_every", "stop_after", "seed"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{name} must be an integer, got {value!r}")
            if value < (1 if name in ("batch_size", "eval_every") else 0):
                raise ValueError(
                    f"{name} must be {'positive' if name in ('batch_size', 'eval_every') else '>= 0'}, got {value}"
                )
        for name, most in (("max_steps", MAX_STEPS), ("seed", MAX_SEED)):
            if getattr(self, name) > most:
                raise ValueError(f"{name} must be at most {most:,}, got {getattr(self, name):,}")
        for name in ("lr", "weight_decay", "beta1", "beta2", "grokfast_alpha", "grokfast_lamb", "stop_acc"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int | float) or not math.isfinite(value)):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if not self.lr > 0 or self.weight_decay < 0:
            raise ValueError(f"lr must be > 0 and weight_decay >= 0, got {self.lr!r} and {self.weight_decay!r}")
        if self.grokfast_lamb < 0:
            raise ValueError(f"grokfast_lamb must be >= 0 (0 turns Grokfast off), got {self.grokfast_lamb!r}")
        if self.stop_split not in SPLITS:
            raise ValueError(f"stop_split must be one of {', '.join(SPLITS)}, got {self.stop_split!r}")
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1 and 0 <= self.grokfast_alpha < 1):
            raise ValueError("beta1, beta2 and grokfast_alpha must be in [0, 1)")
        if self.stop_acc is not None and not 0 < self.stop_acc <= 1:
            raise ValueError(f"stop_acc must be in (0, 1], got {self.stop_acc!r}")
        if self.device not in NAMES and not self.device.startswith("cuda:"):
            raise ValueError(f"device must be auto, cpu, cuda or mps, got {self.device!r}")
        if self.loss_dtype not in LOSS_DTYPES:
            raise ValueError(f"loss_dtype must be one of {', '.join(LOSS_DTYPES)}, got {self.loss_dtype!r}")
        if self.autocast not in AUTOCAST:
            raise ValueError(f"autocast must be one of {', '.join(AUTOCAST)}, got {self.autocast!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Learning rate of the update at `step` (0-based): lr·(step + 1)/(warmup_steps + 1) during the warmup, then
    lr, constant or (cfg.cosine) decaying along a half cosine to 0 at max_steps. lr_at(warmup_steps) == lr."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / (cfg.warmup_steps + 1)
    if not cfg.cosine or cfg.max_steps <= cfg.warmup_steps:
        return cfg.lr
    progress = min(1.0, (step - cfg.warmup_steps) / (cfg.max_steps - cfg.warmup_steps))
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * progress))


# ----------------------------------------------------------------------------------------------------------------
# Evaluation


@torch.no_grad()
def evaluate(model: GPT, rows: Rows, start: int = 0) -> tuple[float, float]:
    """Mean loss (float64, over target positions) and exact-match answer accuracy of a whole split."""
    was_training = model.training
    model.eval()
    loss_sum, n_targets, n_correct = 0.0, 0, 0
    for i in range(0, len(rows), EVAL_CHUNK):
        y, answer = (t[i : i + EVAL_CHUNK, start:] for t in (rows.y, rows.answer))
        logits, _ = model(rows.x[i : i + EVAL_CHUNK], start=start)  # (B, T - start, V)
        loss_sum += F.cross_entropy(logits.double().flatten(0, 1), y.flatten(), ignore_index=-1, reduction="sum").item()
        n_targets += int((y != -1).sum())
        n_correct += int(((logits.argmax(-1) == y) | ~answer).all(dim=1).sum())
    model.train(was_training)
    return loss_sum / max(n_targets, 1), n_correct / len(rows)


@torch.no_grad()
def weight_norm(model: nn.Module) -> float:
    """The L2 norm of all parameters together: weight decay shrinks it while the network generalises (Nanda et al.)."""
    return math.sqrt(sum(float(p.double().pow(2).sum()) for p in model.parameters()))


# ----------------------------------------------------------------------------------------------------------------
# The loop


def train(
    model: GPT,
    data: Dataset,
    cfg: TrainConfig,
    callback: Callable[[int, GPT, pd.DataFrame], None] | None = None,
    desc: str = "train",
    progress: bool = True,
    snapshot: Path | None = None,
    state: dict | None = None,
) -> pd.DataFrame:
    """Train model in place on data; return the metrics (columns step, split, loss, acc, lr, weight_norm, elapsed_s).

    Every eval_every steps (and at steps 0 and the last) each split is evaluated in full and, if given,
    callback(step, model, rows_of_that_evaluation) is called, for example to keep a snapshot.

    With `snapshot` (a file path), the run saves everything it needs to go on (weights, AdamW's state, every
    random generator, the metrics so far and the caller's `state`, a dict the callback fills) at an evaluation
    every $GROKGPT_SNAPSHOT_SECONDS of training (default 300), and starts from that file when it exists: a resumed
    run's metrics equal an uninterrupted run's, elapsed time aside. The file stays: the caller removes it once it has
    stored the run (`sweeps`).
    """
    device = check_device(cfg.device)
    torch.manual_seed(cfg.seed)  # the batch order; the caller seeded the initialisation (GPT.seeded)
    model.to(device).train()
    splits = {name: Rows(*(t.to(device) for t in (r.x, r.y, r.answer))) for name, r in data.splits.items()}
    train_rows = splits["train"]
    watched = cfg.stop_split if cfg.stop_split in splits else "train"
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=lr_at(0, cfg),
        betas=(cfg.beta1, cfg.beta2),
        weight_decay=cfg.weight_decay,
        fused=device.type in ("cpu", "cuda"),  # one kernel for the whole update: ~8% faster steps on 2 CPU cores
    )
    generator = torch.Generator(device=device).manual_seed(cfg.seed)
    ema, records, first, elapsed_before = None, [], 0, 0.0
    snap = load_snapshot(snapshot) if snapshot is not None else None
    resumed = snap is not None
    if resumed:
        model.load_state_dict(snap["model"])
        optimizer.load_state_dict(snap["optimizer"])
        generator.set_state(snap["generator"])
        torch.set_rng_state(snap["torch_rng"])
        ema, records, first = snap["ema"], snap["records"], snap["step"]
        elapsed_before = snap["elapsed_s"]
        if state is not None:
            state.update(snap["state"])
    every = float(os.environ.get(SNAPSHOT_ENV) or 300)
    t0 = time.perf_counter() - elapsed_before
    last_snapshot = time.perf_counter()
    precision, autocast = LOSS_DTYPES[cfg.loss_dtype], AUTOCAST[cfg.autocast]
    bar = tqdm(
        total=cfg.max_steps,
        initial=first,
        desc=desc,
        unit="step",
        file=sys.stderr,
        mininterval=1.0,
        dynamic_ncols=True,
        disable=not progress,
    )
    for step in range(first, cfg.max_steps + 1):
        if (step % cfg.eval_every == 0 or step == cfg.max_steps) and not (resumed and step == first):
            elapsed, norm = time.perf_counter() - t0, weight_norm(model)
            now = [
                dict(
                    step=step, split=name, loss=loss, acc=acc, lr=lr_at(step, cfg), weight_norm=norm, elapsed_s=elapsed
                )
                for name, (loss, acc) in ((n, evaluate(model, r, data.start)) for n, r in splits.items())
            ]
            records += now
            accs = {r["split"]: r["acc"] for r in now}
            bar.set_postfix({f"{name} acc": f"{acc:.3f}" for name, acc in accs.items()}, refresh=False)
            if callback is not None:
                callback(step, model, pd.DataFrame(now))
            if cfg.stop_acc is not None and held(records, watched, cfg.stop_after, cfg.stop_acc):
                break
            if snapshot is not None and step < cfg.max_steps and time.perf_counter() - last_snapshot >= every:
                snap = dict(
                    step=step, model=model.state_dict(), optimizer=optimizer.state_dict(),
                    generator=generator.get_state(), torch_rng=torch.get_rng_state(), ema=ema, records=records,
                    elapsed_s=time.perf_counter() - t0, state=state or {},
                )  # fmt: skip
                store.atomic_write(snapshot, lambda tmp, snap=snap: torch.save(snap, tmp))
                last_snapshot = time.perf_counter()
        if step == cfg.max_steps:
            break
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, cfg)
        idx = torch.randint(len(train_rows), (cfg.batch_size,), device=device, generator=generator)
        with torch.autocast(device.type, dtype=autocast or torch.bfloat16, enabled=autocast is not None):
            logits, _ = model(train_rows.x[idx], start=data.start)
        y = train_rows.y[idx][:, data.start :]
        loss = F.cross_entropy(logits.flatten(0, 1).to(precision), y.flatten(), ignore_index=-1)
        if not torch.isfinite(loss):  # stop at once: a diverged run must never replace a good one
            raise FloatingPointError(f"the training loss is {loss.item()} at step {step}: the run diverged")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grokfast_lamb > 0:
            ema = gradfilter_ema(model, ema, cfg.grokfast_alpha, cfg.grokfast_lamb)
        optimizer.step()
        bar.update()
    bar.close()
    return pd.DataFrame.from_records(records)


def held(records: list[dict], split: str, window: int, acc: float) -> bool:
    """Whether `split` has held at acc over the evaluations so far (`analysis.held_from`: the study's one rule)."""
    seen = [(r["step"], r["acc"]) for r in records if r["split"] == split]
    return analysis.held_from([s for s, _ in seen], [a for _, a in seen], window, acc) is not None


def load_snapshot(path: Path) -> dict | None:
    """The snapshot `train` wrote at path, or None when there is none; a damaged one is reported and ignored (the
    run starts anew: snapshots are written whole, so only a foreign or hand-edited file gets here)."""
    if not Path(path).is_file():
        return None
    try:
        snap = torch.load(path, map_location="cpu", weights_only=False)
        if not isinstance(snap, dict) or not {"step", "model", "optimizer", "records"} <= set(snap):
            raise ValueError("not a snapshot")
        return snap
    except Exception as err:  # truncated, not a torch file, or not ours
        warnings.warn(f"snapshot {path} is damaged ({type(err).__name__}); the run starts anew", stacklevel=2)
        return None
