"""Runs per hour of a small sweep on this machine, three ways (prints a table; asserts nothing):

  sequential:      one run at a time on every core (one process, `cores` torch threads);
  parallel:        one run per core at a time, each on 1 thread (what `make runs` and the Dask LocalCluster do);
  oversubscribed:  one run per core at a time, each on every core (what two `make report`s side by side did).

The sweep is a fixed set of short runs of one registry preset (default `ablation`, 05's one-layer preset, which
most of the study's runs use; `--preset grokking` for 04's two layers), evaluated every 100 steps as the study's
runs are, one per seed. Worker start-up (importing torch) is excluded: the pool is warmed up before
the clock starts. The oversubscribed way runs one round only (one run per worker): it is slow, and runs/hour needs
no more. The last line is `speed-up X.XX`, parallel ÷ sequential.

    python benchmarks/sweep_speed.py [--quick] [--runs 8] [--steps 300] [--preset ablation]
"""

import argparse
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import torch

from grokgpt import compute, experiments, runs
from grokgpt.devices import cores


def sweep_specs(preset: str, n: int, steps: int) -> list[runs.Spec]:
    base = experiments.PRESETS[preset]
    train = replace(base.train, max_steps=steps, stop_acc=None, device="cpu")
    return [replace(base, data=replace(base.data, seed=s), train=replace(train, seed=s)) for s in range(n)]


def _compute(spec: runs.Spec, threads: int) -> float:
    compute.compute(spec, threads=threads, progress=False)
    return time.perf_counter()


def _ready(threads: int) -> int:
    torch.set_num_threads(threads)
    return threads


def runs_per_hour(specs: list[runs.Spec], workers: int, threads: int) -> float:
    if workers == 1:
        torch.set_num_threads(threads)
        t0 = time.perf_counter()
        for spec in specs:
            _compute(spec, threads)
        return len(specs) / (time.perf_counter() - t0) * 3600
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_ready, [threads] * workers))  # start the workers (and import torch) before timing
        t0 = time.perf_counter()
        list(pool.map(_compute, specs, [threads] * len(specs)))
        return len(specs) / (time.perf_counter() - t0) * 3600


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 runs a core of 100 steps: under a minute on 2 cores")
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--preset", default="ablation", choices=sorted(experiments.PRESETS))
    args = parser.parse_args()
    n, steps = (2 * cores(), 100) if args.quick else (args.runs, args.steps)
    specs = sweep_specs(args.preset, n, steps)
    specs[0].dataset()  # build the data set once, outside the clock
    c = cores()
    print(f"torch {torch.__version__}, {c} cores; {n} runs of preset {args.preset!r}, {steps} steps each")
    ways = {"sequential": (1, c), "parallel": (c, 1), "oversubscribed": (c, c)}
    speeds = {}
    for name, (workers, threads) in ways.items():
        speeds[name] = runs_per_hour(specs[:workers] if name == "oversubscribed" else specs, workers, threads)
        print(f"{name:>15}: {workers} worker(s) × {threads} thread(s): {speeds[name]:8,.0f} runs/hour")
    print(f"speed-up {speeds['parallel'] / speeds['sequential']:.2f}")


if __name__ == "__main__":
    main()
