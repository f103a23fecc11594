"""How fast a / b mod 97 groks, for three configurations trained side by side on this machine (prints a table;
asserts nothing):

  (a) 04_grokking's default: 2 layers, one token per residue, loss on the answer, batch 512, lr 1e-3;
  (b) 05_ablations' preset: the same with 1 layer;
  (c) the seed report's way: character tokens, loss on the whole sequence, batch 32, otherwise as (a).

For each: training steps/s (evaluation excluded), steps to train 99%, steps and seconds to val 99% (evaluated
every 50 steps, included in the seconds), median over seeds, and ratios against (a).

    python benchmarks/grok_speed.py [--seeds 0 1 2] [--only a b]
"""

import argparse
import time
from dataclasses import replace

import pandas as pd
import torch

from grokgpt import analysis, data, experiments
from grokgpt.model import GPT
from grokgpt.train import train

A, B = experiments.PRESETS["grokking"], experiments.PRESETS["ablation"]
CHECK = dict(eval_every=50, stop_acc=0.99, stop_after=0, device="cpu")  # stop at the first val 99%
CONFIGS = {  # name: (data, model, training, budget in steps)
    "a": (A.data, A.model, replace(A.train, **CHECK), 8000),
    "b": (B.data, B.model, replace(B.train, **CHECK), 8000),
    "c": (replace(A.data, tokens="char", loss_on="all"), A.model, replace(A.train, batch_size=32, **CHECK), 8000),
}
DESCRIPTIONS = {"a": "04's preset (2 layers)", "b": "05's preset (1 layer)", "c": "seed's way (chars, batch 32)"}


def steps_per_second(ds, model_cfg, train_cfg, steps=200, warmup=50) -> float:
    """Training throughput alone: the time of `steps` more updates after `warmup` ones (whose start-up costs, and
    the evaluation at step 0, cancel in the difference)."""

    def seconds(n: int) -> float:
        cfg = replace(train_cfg, max_steps=n, eval_every=n, stop_acc=None)
        return train(GPT.seeded(model_cfg, 0), ds, cfg, desc="throughput")["elapsed_s"].max()

    return steps / (seconds(warmup + steps) - seconds(warmup))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="+", choices=sorted(CONFIGS), default=sorted(CONFIGS))
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, a / b mod 97, train fraction 0.5")
    rows = []
    for name in args.only:
        data_cfg, arch, train_cfg, budget = CONFIGS[name]
        for seed in args.seeds:
            ds = data.modular(replace(data_cfg, seed=seed))
            model_cfg = arch.for_data(ds)
            speed = steps_per_second(ds, model_cfg, train_cfg) if seed == args.seeds[0] else rows[-1]["steps/s"]
            t0 = time.perf_counter()
            m = train(
                GPT.seeded(model_cfg, seed),
                ds,
                replace(train_cfg, max_steps=budget, seed=seed),
                desc=f"{name} seed {seed}",
            )
            t_val = analysis.reached(m, "val")
            rows.append({
                "config": name, "seed": seed, "steps/s": speed, "train 99%": analysis.reached(m, "train"),
                "val 99%": t_val if t_val is not None else float("nan"),
                "seconds to val 99%": m[m.step == t_val].elapsed_s.iloc[0] if t_val is not None else float("nan"),
                "wall s": time.perf_counter() - t0, "budget": budget,
            })  # fmt: skip
    table = pd.DataFrame(rows)
    print("\nPer run (NaN: val accuracy had not reached 99% within the budget):")
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
    summary = table.groupby("config").agg(
        {"steps/s": "median", "train 99%": "median", "val 99%": "median", "seconds to val 99%": "median"}
    )
    summary["reached"] = table.groupby("config")["val 99%"].count().astype(str) + f"/{len(args.seeds)}"
    if "a" in summary.index:
        for column in ("val 99%", "seconds to val 99%"):
            summary[f"{column} vs (a)"] = summary[column] / summary.at["a", column]
    summary.index = [f"({k}) {DESCRIPTIONS[k]}" for k in summary.index]
    print("\nMedian over seeds:")
    print(summary.to_string(float_format=lambda v: f"{v:,.2f}"))


if __name__ == "__main__":
    main()
