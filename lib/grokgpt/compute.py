"""Computing a run: train a spec in this process and return everything it produced as values (`runs.Result`).

A Dask worker calls `compute` and ships the result back; the caller writes it (`runs.write`). A spec with `start`
begins from another finished run's final weights. The environment it ran in (torch, threads, device, CPU,
whether subnormal floats were flushed) goes into the config's `env`: float kernels differ between CPUs, so bitwise
equality holds on the same one only.

Subnormal floats (below 1.2e-38 in float32) are flushed to zero while a run trains on the CPU. Once a model fits
its training set almost perfectly, its gradients fall to 1e-20 and below and AdamW's squared-gradient average
lands among them; x86 CPUs compute with subnormals many times slower (benchmarks/denormal_speed.py measures
AdamW's step: about 4× here). Runs at weight decay 0.005 without it slowed about six-fold after step 31,000, as
their training loss fell towards zero. Flushing changes
values smaller than any the study could resolve (AdamW adds eps = 1e-8 to their square roots). It applies to the
thread that calls `compute`: torch's extra intra-op threads keep their own mode, so a run on one thread (as the
sweeps run) is flushed throughout. Runs recorded before this setting carry no `flush_denormal` and ran without it;
`make verify` retrains each as recorded.
"""

from __future__ import annotations

import platform
from pathlib import Path

import pandas as pd
import torch

from grokgpt import checkpoint, fourier
from grokgpt.devices import resolve_device
from grokgpt.model import GPT
from grokgpt.runs import MEMORISED_ACC, Result, RunError, Spec, find
from grokgpt.train import train


def compute(
    spec: Spec,
    threads: int | None = None,
    progress: bool = True,
    snapshot: Path | None = None,
    start: bytes | None = None,
    flush_denormal: bool = True,
) -> Result:
    """Train spec's run in this process (on `threads` torch threads if given) and return what it produced.

    `snapshot`: the file the run saves itself to as it goes, and resumes from (`train`). `start`: the bytes of
    the model.pt that a spec with `start` begins from (a Dask worker gets them from the caller); read from the
    named run when not given. `flush_denormal`: flush subnormal floats to zero while training (the module's
    docstring says why); torch's default mode is restored afterwards."""
    if threads is not None:
        torch.set_num_threads(threads)
    flushed = flush_denormal and torch.set_flush_denormal(True)  # False where the CPU cannot (not x86 with SSE3)
    try:
        return _compute(spec, progress, snapshot, start, flushed)
    finally:
        torch.set_flush_denormal(False)


def _compute(spec: Spec, progress: bool, snapshot: Path | None, start: bytes | None, flushed: bool) -> Result:
    ds = spec.dataset()
    config = spec.config()
    model = GPT.seeded(spec.model.for_data(ds), spec.train.seed)
    if spec.start:
        initial = checkpoint.loads(start if start is not None else start_weights(spec), spec.start)
        if initial.model.config != model.config:
            raise RunError(f"run {spec.start} has another model shape than {spec.name} asks for")
        model.load_state_dict(initial.model.state_dict())
    info = {**ds.info, "config": config}
    state = {"weights": {}, "spectra": []}  # what the callback keeps, read through state: a snapshot restores it
    modular = ds.info.get("task") == "modular" and ds.tokenizer.kind == "number"  # residues are their own tokens
    order = fourier.residue_order(ds.info["p"], ds.info["ops"][0]) if modular else None

    def measure(step: int, model: GPT, rows: pd.DataFrame) -> None:
        if order is not None:
            spectrum = fourier.fourier_norms(model.transformer.wte.weight.detach()[order].cpu())
            state["spectra"].append(spectrum.assign(step=step))
        if spec.weights and not state["weights"] and rows.set_index("split").at["train", "acc"] >= MEMORISED_ACC:
            state["weights"]["model_memorised"] = checkpoint.dumps(model, ds.tokenizer, {**info, "step": step})

    metrics = train(model, ds, spec.train, callback=measure, desc=spec.name, progress=progress, snapshot=snapshot,
                    state=state)  # fmt: skip
    weights, spectra = state["weights"], state["spectra"]
    if spec.weights:
        weights["model"] = checkpoint.dumps(model, ds.tokenizer, {**info, "step": int(metrics["step"].max())})
    env = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "device": str(resolve_device(spec.train.device)),
        "machine": platform.machine(),
        "cpu": cpu_name(),  # float kernels differ between CPUs: bitwise equality holds on the same one
        "flush_denormal": flushed,
    }
    spectrum = pd.concat(spectra, ignore_index=True)[["step", "frequency", "norm", "share"]] if spectra else None
    return Result({**config, "env": env}, metrics, spectrum, weights)


def cpu_name() -> str:
    """The processor as float kernels see it: its model name, and on Linux its family, model and widest vector
    instructions (two CPUs that share a name, such as "AMD EPYC", may still pick different kernels)."""
    try:
        fields = dict(
            line.split(":", 1)
            for line in Path("/proc/cpuinfo").read_text().split("\n\n")[0].splitlines()
            if ":" in line
        )
    except OSError:
        return platform.processor() or platform.machine()
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    flags = set(fields.get("flags", "").split())
    isa = next((f for f in ("amx_bf16", "avx512_bf16", "avx512f", "avx2", "neon", "asimd") if f in flags), "")
    name = fields.get("model name") or platform.processor() or platform.machine()
    detail = ", ".join(x for x in (f"family {fields['cpu family']}" if "cpu family" in fields else "",
                                   f"model {fields['model']}" if "model" in fields else "", isa) if x)  # fmt: skip
    return f"{name} ({detail})" if detail else name


def start_weights(spec: Spec) -> bytes:
    """The model.pt bytes of the finished run that spec starts from (RunError, one line, if it is not there)."""
    run = find(spec.start)
    if run is None or not run.has():
        raise RunError(f"{spec.name} starts from run {spec.start}, which is not there with its model.pt")
    return (run.path / "model.pt").read_bytes()
