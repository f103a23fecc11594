"""AdamW's step with ordinary and with tiny gradients, subnormal floats kept or flushed to zero (prints a table;
asserts nothing). A model that fits its training set almost perfectly has gradients near 1e-20: their squares,
AdamW's second-moment average, fall below float32's smallest normal number (1.2e-38), and x86 CPUs compute with
such subnormal numbers many times slower. `compute` flushes them while a run trains; this measures why.

    python benchmarks/denormal_speed.py [--params 400000] [--steps 50] [--rounds 3]
"""

import argparse
import statistics
import time

import pandas as pd
import torch


def seconds_per_step(scale: float, flush: bool, params: int, steps: int) -> float:
    """The time of one AdamW step (the study's betas, weight decay 0.005) on gradients of size `scale`."""
    torch.set_flush_denormal(flush)
    try:
        p = torch.nn.Parameter(torch.randn(params, generator=torch.Generator().manual_seed(0)))
        opt = torch.optim.AdamW([p], lr=1e-3, weight_decay=0.005, betas=(0.9, 0.98))
        grads = [torch.randn(params) * scale for _ in range(4)]
        for i in range(10 + steps):  # 10 warm-up steps fill AdamW's averages with the gradients' squares
            if i == 10:
                t0 = time.perf_counter()
            p.grad = grads[i % 4]
            opt.step()
        return (time.perf_counter() - t0) / steps
    finally:
        torch.set_flush_denormal(False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=int, default=400_000)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)  # as the sweeps run; the flush mode is the calling thread's
    cases = {(f"gradients ~{scale:g}", mode): (scale, flush)
             for scale in (1e-3, 1e-20) for mode, flush in (("kept", False), ("flushed", True))}  # fmt: skip
    times = {case: [] for case in cases}
    for _ in range(args.rounds):  # rounds alternate between the cases, so that load elsewhere slows each alike
        for case, (scale, flush) in cases.items():
            times[case].append(seconds_per_step(scale, flush, args.params, args.steps))
    ms = pd.Series({case: 1000 * statistics.median(v) for case, v in times.items()})
    table = ms.unstack()[["kept", "flushed"]]
    print(f"torch {torch.__version__}, 1 thread, AdamW on {args.params:,} parameters: ms per step (median of "
          f"{args.rounds} rounds), subnormals kept or flushed")  # fmt: skip
    print(table.to_string(float_format=lambda v: f"{v:,.2f}"))


if __name__ == "__main__":
    main()
