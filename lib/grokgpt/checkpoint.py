"""Checkpoints: one file with the weights, the model config, the tokenizer and what the task is.

A checkpoint answers prompts on its own (`python -m grokgpt sample ckpt.pt --prompt "3/5="`). It is written to a
temporary file beside its target and renamed into place, so an interrupted save never leaves a half-written
file and never destroys the checkpoint that was there before (nanoGPT stores its config the same way).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import torch

from grokgpt import data, tokenizers
from grokgpt.devices import check_device
from grokgpt.model import GPT, GPTConfig
from grokgpt.store import atomic_write
from grokgpt.tokenizers import Tokenizer

FORMAT = "grokgpt-checkpoint/1"
TASKS = ("sentence", "modular")  # the values of info["task"] (data sets write them)
KEYS = ("model_config", "tokenizer", "info", "state_dict")


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable or not one of ours."""


@dataclass
class Checkpoint:
    model: GPT
    tokenizer: Tokenizer
    info: dict  # the task ("sentence" or "modular", with p, ops, answer_tokens) and the run's configs


def dumps(model: GPT, tokenizer: Tokenizer, info: dict) -> bytes:
    """A checkpoint as bytes (what a Dask worker returns, and what `save` writes)."""
    state = {
        "format": FORMAT,
        "model_config": model.config.to_dict(),
        "tokenizer": tokenizer.to_dict(),
        "info": info,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def save(path: str | Path, model: GPT, tokenizer: Tokenizer, info: dict) -> None:
    blob = dumps(model, tokenizer, info)
    atomic_write(Path(path), lambda tmp: tmp.write_bytes(blob))


def load(path: str | Path, device: str | torch.device = "cpu") -> Checkpoint:
    """Load a checkpoint onto device. A missing or damaged file raises CheckpointError, an unknown or absent
    device the ValueError of `devices.check_device`, each in one readable line. The device is checked first and
    the file is read on the CPU, so a device problem is never blamed on a good file."""
    device = check_device(device)
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    return _read(path, path, device)


def loads(blob: bytes, name: str = "checkpoint") -> Checkpoint:
    """A checkpoint from the bytes `dumps` made (on the CPU), checked as `load` checks a file."""
    return _read(io.BytesIO(blob), name, torch.device("cpu"))


def _read(source: Path | io.BytesIO, path: Path | str, device: torch.device) -> Checkpoint:
    try:
        state = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises RuntimeError, EOFError, UnpicklingError ... for damaged files
        raise CheckpointError(
            f"{path} is not a readable checkpoint (truncated or not a torch file): {_reason(err)}"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a torch file but not a grokgpt checkpoint")
    missing = [key for key in KEYS if key not in state]
    if missing:
        raise CheckpointError(f"{path} is a damaged checkpoint: it lacks {', '.join(missing)}")
    try:
        model = GPT(GPTConfig(**state["model_config"]))
        model.load_state_dict(state["state_dict"])  # RuntimeError for missing, extra or misshapen weights
        tokenizer = tokenizers.from_dict(state["tokenizer"])
        info = dict(state["info"])
        check_info(info)
    except (TypeError, ValueError, KeyError, AttributeError, RuntimeError) as err:
        raise CheckpointError(f"{path} is a damaged checkpoint: {_reason(err)}") from None
    return Checkpoint(model.to(device).eval(), tokenizer, info)


def check_info(info: dict) -> None:
    """Raise ValueError (one line) unless info describes a task the way `data` writes it: the task's name, and for
    modular arithmetic the modulus, the operations and the answer's length, each of its type and in its set."""
    task = info.get("task")
    if task not in TASKS:
        raise ValueError(f"its info names the task {task!r}, not one of {', '.join(TASKS)}")
    if task == "modular":
        if not {"p", "ops"} <= set(info):
            raise ValueError("its info lacks the modulus p or the operations")
        data.check_modulus(info["p"], info["ops"] if isinstance(info["ops"], str) else "?")
    answer = info.get("answer_tokens")
    if answer is not None and (not isinstance(answer, int) or isinstance(answer, bool) or not 1 <= answer <= 16):
        raise ValueError(f"its info's answer_tokens must be an integer from 1 to 16, got {answer!r}")


def _reason(err: Exception) -> str:
    """An exception's message on one line, cut short: torch's can run to many lines."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 200 else text[:197] + "..."
