"""The training step's time at three precisions, side by side on this machine (prints a table; asserts nothing):
float32 throughout (the study's default), the loss in float64 (logits cast before the cross-entropy), and the
forward pass under bfloat16 autocast. Rounds alternate between the three, so that whatever else shares the
cores slows each alike; the table gives the median over rounds and the ratio against float32.

bfloat16 pays off only where the hardware multiplies it natively (CPUs with AVX-512 BF16 or AMX, recent GPUs);
elsewhere torch emulates it and the step is slower. The CPU flags that matter are printed with the table.

    python benchmarks/precision_speed.py [--preset grokking] [--steps 40] [--rounds 3]
"""

import argparse
import statistics
import time
from dataclasses import replace

import pandas as pd
import torch

from grokgpt import compute, experiments
from grokgpt.model import GPT
from grokgpt.train import train

SETTINGS = {"float32": {}, "float64 loss": {"loss_dtype": "float64"}, "bfloat16 autocast": {"autocast": "bfloat16"}}


def seconds_per_step(spec, changes: dict, steps: int) -> float:
    """The time of `steps` updates after 5 warm-up ones, evaluation excluded (it cancels in the difference)."""

    def seconds(n: int) -> float:
        cfg = replace(spec.train, max_steps=n, eval_every=n, stop_acc=None, device="cpu", **changes)
        model = GPT.seeded(spec.model.for_data(spec.dataset()), 0)
        t0 = time.perf_counter()
        train(model, spec.dataset(), cfg, progress=False)
        return time.perf_counter() - t0

    return (seconds(5 + steps) - seconds(5)) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="grokking", choices=sorted(experiments.PRESETS))
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    spec = experiments.PRESETS[args.preset]
    flags = open("/proc/cpuinfo").read().split() if __import__("os").path.exists("/proc/cpuinfo") else []
    native = sorted({f for f in flags if f in ("avx512_bf16", "amx_bf16", "avx512f", "avx2")})
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {compute.cpu_name()} ({' '.join(native)}), "
          f"preset {args.preset}: {spec.model.n_layer} layers, batch {spec.train.batch_size}")  # fmt: skip
    times = {name: [] for name in SETTINGS}
    for _ in range(args.rounds):
        for name, changes in SETTINGS.items():
            times[name].append(seconds_per_step(spec, changes, args.steps))
    table = pd.DataFrame({"ms per step": {k: 1000 * statistics.median(v) for k, v in times.items()}})
    table["min"] = {k: 1000 * min(v) for k, v in times.items()}
    table["max"] = {k: 1000 * max(v) for k, v in times.items()}
    table["× float32"] = table["ms per step"] / table.at["float32", "ms per step"]
    print(table.to_string(float_format=lambda v: f"{v:,.2f}"))


if __name__ == "__main__":
    main()
