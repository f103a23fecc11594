"""Seconds for the seed's Part 1: 5000 iterations, 1 layer, 2 heads, n_embd 32, block 16, batch 1 (goal: <= 15 s
on a 2-core CPU). Prints; asserts nothing.

    python benchmarks/overfit_speed.py [--repeats 3] [--threads N]
"""

import argparse
import time

import torch

from grokgpt import data
from grokgpt.data import SentenceConfig
from grokgpt.model import GPTConfig
from grokgpt.runs import build_model
from grokgpt.train import TrainConfig, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ds = data.sentence(SentenceConfig())
    model_cfg = GPTConfig(n_layer=1, n_head=2, n_embd=32, block_size=ds.block_size, vocab_size=ds.vocab_size)
    cfg = TrainConfig(
        max_steps=5000, batch_size=1, lr=3e-3, weight_decay=0.0, warmup_steps=0, eval_every=100, device="cpu"
    )
    print(f"torch {torch.__version__}, {args.threads} thread(s), 5000 iterations of the seed's Part 1")
    for i in range(args.repeats):
        t0 = time.perf_counter()
        metrics = train(build_model(model_cfg, seed=i), ds, cfg, desc=f"repeat {i}")
        seconds = time.perf_counter() - t0
        print(
            f"repeat {i}: {seconds:6.2f} s ({5000 / seconds:,.0f} steps/s), final train acc {metrics.acc.iloc[-1]:.3f}"
        )


if __name__ == "__main__":
    main()
