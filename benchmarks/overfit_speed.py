"""Seconds for the seed's Part 1: 5000 iterations, 1 layer, 2 heads, n_embd 32, block 16, batch 1 (goal: <= 15 s
on a 2-core CPU). Prints; asserts nothing.

    python benchmarks/overfit_speed.py [--repeats 3] [--threads N]
"""

import argparse
import time

import torch

from grokgpt import experiments
from grokgpt.model import GPT
from grokgpt.train import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    spec = experiments.PRESETS["sentence"]  # 01_overfit's registry setting
    ds, cfg = spec.dataset(), spec.train
    model_cfg = spec.model.for_data(ds)
    print(f"torch {torch.__version__}, {args.threads} thread(s), {cfg.max_steps} iterations of the seed's Part 1")
    for i in range(args.repeats):
        t0 = time.perf_counter()
        metrics = train(GPT.seeded(model_cfg, seed=i), ds, cfg, desc=f"repeat {i}")
        seconds = time.perf_counter() - t0
        print(
            f"repeat {i}: {seconds:6.2f} s ({cfg.max_steps / seconds:,.0f} steps/s), final acc {metrics.acc.iloc[-1]:.3f}"
        )


if __name__ == "__main__":
    main()
