"""Where runs compute: the device policy ("auto" is CUDA, then MPS, then the CPU) and the thread policy.

Threads matter beyond speed: the same seed on 1 or 2 torch threads follows another trajectory (float reduction
order), so a run's thread count is part of what reproduces it. Every run a sweep computes (`make runs`, the
notebooks' missing runs) uses THREADS, one; runs record their count in config.json's `env`, and `make verify`
retrains with it. Elsewhere (the CLI, the notebooks' own computations) torch's default applies: every core, or
`$OMP_NUM_THREADS`, which the Makefile sets to the cores ÷ make's `-j` so that `make -j` never oversubscribes.
"""

from __future__ import annotations

import os

import torch

NAMES = ("auto", "cpu", "cuda", "mps")  # a device is one of these, or "cuda:N"
THREADS = 1  # torch threads of every run a sweep computes, as every run of the registry was


def cores() -> int:
    """The CPU cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def resolve_device(device: str = "auto") -> torch.device:
    """ "auto" picks CUDA, then Apple's MPS, then the CPU; anything else is taken as given."""
    if device != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def check_device(name: str | torch.device) -> torch.device:
    """The device called name, resolved ("auto") and checked before any work: ValueError (one line) for a name
    that is not a device, or a device this machine does not have."""
    try:
        device = resolve_device(str(name))
    except RuntimeError:  # torch's message lists two dozen device types, most of them not for us
        raise ValueError(f"unknown device {str(name)!r}: use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name}: CUDA is not available on this machine (use cpu or auto)")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise ValueError(f"device {name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {name}: Apple's MPS is not available on this machine (use cpu or auto)")
    if device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device {name}: grokgpt runs on cpu, cuda or mps")
    return device
