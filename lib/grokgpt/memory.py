"""Will a run fit? A rough floor of the memory a run needs, checked against what the machine has left before any
weight is allocated, so that `--batch_size 100000000` or `--n_embd 200000` is one line, not an allocator traceback
(or the kernel's OOM killer) minutes later.

The estimate counts float32 tensors: the weights with their gradients and AdamW's two moments (and Grokfast's
average), the activations one batch keeps for the backward pass or one evaluation chunk needs, and the data set's
token tensors. Allocator slack and PyTorch's own memory come on top, so a run that passes can still run out;
`out_of_memory` recognises that failure so the CLI can report it in one line too.
"""

from __future__ import annotations

import re
import resource
from pathlib import Path

import torch

from grokgpt.data import Dataset
from grokgpt.model import GPTConfig
from grokgpt.train import EVAL_CHUNK, TrainConfig

FLOAT = 4  # bytes of a float32


def needed(model: GPTConfig, cfg: TrainConfig, ds: Dataset) -> int:
    """Bytes that training model (sized for ds by `for_data`) on ds with cfg needs at least."""
    C, L, H, V, T = model.n_embd, model.n_layer, model.n_head, model.vocab_size, model.block_size
    params = L * (12 * C * C + 13 * C) + (2 * V + T + 2) * C  # the blocks; wte, lm_head, wpe and ln_f
    copies = 4 + (cfg.grokfast_lamb > 0)  # weights, gradients, AdamW's two moments (+ Grokfast's average)
    per_row = T * (L * (17 * C + 2 * H * T) + 2 * V)  # kept for backward: each block's activations, the logits
    per_eval_row = T * (9 * C + H * T + 4 * V)  # one block at a time; the logits again in float64
    rows = [len(r) for r in ds.splits.values()]
    activations = max(cfg.batch_size * per_row, min(EVAL_CHUNK, max(rows)) * per_eval_row)
    return (params * copies + activations) * FLOAT + sum(rows) * T * 17  # x, y as int64 and answer as bool


def available(device: torch.device) -> int | None:
    """Bytes this process can still allocate on device, where that is known (else None): a CUDA device's free
    memory; for the CPU the least of the machine's available memory, the container's limit (cgroup v2) and the
    process's address-space limit (`ulimit -v`)."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    if device.type != "cpu":
        return None
    limits = []
    if found := re.search(r"MemAvailable:\s+(\d+) kB", _read("/proc/meminfo")):
        limits.append(int(found[1]) * 1024)
    limit, usage = _read("/sys/fs/cgroup/memory.max").strip(), _read("/sys/fs/cgroup/memory.current").strip()
    if limit.isdigit() and usage.isdigit():
        limits.append(int(limit) - int(usage))
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY and (size := re.search(r"VmSize:\s+(\d+) kB", _read("/proc/self/status"))):
        limits.append(soft - int(size[1]) * 1024)
    return min(limits) if limits else None


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:  # not Linux, or no such limit
        return ""


def check(model: GPTConfig, cfg: TrainConfig, ds: Dataset, device: torch.device) -> None:
    """Raise ValueError (one line) if the run cannot fit in what device has left."""
    need, have = needed(model, cfg, ds), available(device)
    if have is not None and need > have:
        raise ValueError(
            f"this run needs at least {need / 2**30:,.1f} GiB of memory and the {device.type} has "
            f"{have / 2**30:,.1f} GiB left: lower batch_size, n_embd or n_layer"
        )


def out_of_memory(err: BaseException) -> bool:
    """Whether err is a failed allocation: MemoryError, CUDA's OutOfMemoryError or the CPU allocator's RuntimeError."""
    return isinstance(err, MemoryError | torch.OutOfMemoryError) or "can't allocate memory" in str(err)
