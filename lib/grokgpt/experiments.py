"""The registry of the study: every notebook's parameters and the runs they ask for, as data.

This is the one home of the study's settings. `PARAMETERS[notebook]` holds the defaults of that notebook's
`parameters` cell (a test checks that the two agree), and `plan(notebook, params)` turns a notebook's parameters
into its runs, as named groups of `runs.Spec`: a group is named after what it varies or what it is for
(`weight_decay`, `lasting`), never after formatted values; the values are in each spec (and in `runs.collect`'s
columns), where code selects by them. The notebooks call `plan` with their parameters, `make runs`
calls it with the defaults (`every_spec`), and the CLI's `--preset` and the benchmarks read `PRESETS`.

The presets:
- `sentence`: 01's one-layer, 32-wide model that memorises one sentence;
- `addsub`: 03's one block, 256 wide, nanoGPT's initialisation, a cosine decay: a ± b mod p on every seed;
- `grokking`: 04's paper preset (Power et al. 2022; Nanda et al. 2023): 2 layers, 4 heads, 128 wide, AdamW lr 1e-3,
  weight decay 1, betas (0.9, 0.98), batch 512, warmup 10, PyTorch's default initialisation;
- `ablation`: 05's base, the paper preset with one layer (05 measures its cost per step against 04's);
- `seed_division`: the seed report's own division setting (500 training equations, batch 250, 2 layers).
"""

from __future__ import annotations

from dataclasses import replace

from grokgpt.data import MAX_SAMPLES, ModularConfig, SentenceConfig, table
from grokgpt.model import GPTConfig
from grokgpt.runs import Spec
from grokgpt.train import TrainConfig

# ----------------------------------------------------------------------------------------------------------------
# Every notebook's parameters: the defaults of its `parameters` cell, one literal each

_GROK_MODEL = dict(n_layer=2, n_head=4, n_embd=128, init="torch")
_GROK_TRAIN = dict(lr=1e-3, weight_decay=1.0, beta1=0.9, beta2=0.98, warmup_steps=10, batch_size=512)
_HELD = dict(eval_every=100, stop_acc=0.99)  # evaluate every 100 steps; "held" is judged at 99%
_RUNNING = dict(device="auto", jobs=0, force=False)  # where and how missing runs train; not part of any run

PARAMETERS: dict[str, dict] = {
    "01_overfit": dict(
        text="I love machine learning", prompt="I", n_layer=1, n_head=2, n_embd=32, block_size=16, batch_size=1,
        max_iters=5000, lr=3e-3, weight_decay=0.0, eval_every=100, seeds=[0, 1, 2], compare_cosine=True, spike_lr=1e-2,
        **_RUNNING,
    ),
    "02_data": dict(primes=[97, 113], ops="+-", fractions=[0.4, 0.4, 0.2], samples=5000, seed=0, write_files=True),
    "03_warmup": dict(
        primes=[97, 113], seeds=[0, 1, 2], ops="+-", fractions=[0.4, 0.4, 0.2],
        n_layer=1, n_head=4, n_embd=256, init="gpt2", lr=1e-3, weight_decay=1.0, beta1=0.9, beta2=0.98,
        warmup_steps=10, cosine=True, batch_size=512, max_steps=2500, stop_after=500, **_HELD,
        narrow_n_layer=2, narrow_n_embd=128, seed_size_train=2000, seed_size_steps=10000, **_RUNNING,
    ),
    "04_grokking": dict(
        p=97, op="/", fractions=[0.5, 0.3], seeds=[0, 1, 2], **_GROK_MODEL, **_GROK_TRAIN,
        max_steps=20000, stop_after=1000, **_HELD,
        lasting_steps=25000, float64_fractions=[0.5, 0.3], bfloat16_fractions=[0.5], **_RUNNING,
    ),
    "05_ablations": dict(
        p=97, op="/", seeds=[0, 1, 2], **{**_GROK_MODEL, "n_layer": 1}, **_GROK_TRAIN, train_frac=0.5,
        max_steps=12000, stop_after=1000, **_HELD,
        warmups=[0, 10, 100], weight_decays=[0.0, 0.1, 0.3, 1.0, 2.0, 3.0],
        train_fracs=[0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.8],
        phase_fracs=[0.2, 0.3, 0.4, 0.5, 0.8], phase_weight_decays=[0.1, 0.3, 1.0, 3.0],
        grokfast_alpha=0.98, grokfast_lamb=2.0, grokfast_weight_decays=[0.0, 0.005, 1.0],
        seed_train_size=500, seed_batch_size=250, seed_n_layer=2, seed_max_steps=50000, seed_eval_every=500,
        seed_stop_after=5000,
        long_steps=100000, long_steps_wd0=200000, long_weight_decays=[0.0, 0.1], long_fracs=[0.1, 0.2],
        long_phase=[[0.2, 0.1], [0.2, 0.3], [0.3, 0.1], [0.3, 0.3], [0.4, 0.1]], long_grokfast_weight_decays=[0.0, 0.005],
        critical_fraction=0.5, critical_start_steps=25000, critical_sizes=[250, 500, 750, 1000, 1500, 2000, 3000],
        critical_steps=20000, scratch_steps=30000, critical_eval_every=200,
        **_RUNNING,
    ),
}  # fmt: skip

MODEL_KEYS = ("n_layer", "n_head", "n_embd", "init")
TRAIN_KEYS = tuple(f for f in TrainConfig.__dataclass_fields__ if f not in ("max_steps", "seed"))


def _model(params: dict, **changes) -> GPTConfig:
    return GPTConfig(**{**{k: params[k] for k in MODEL_KEYS if k in params}, **changes})


def _train(params: dict, **changes) -> TrainConfig:
    known = {k: params[k] for k in TRAIN_KEYS if k in params}
    return TrainConfig(**{"max_steps": params.get("max_steps", params.get("max_iters")), **known, **changes})


# ----------------------------------------------------------------------------------------------------------------
# Each notebook's runs, as named groups of specs


def _overfit(q: dict) -> dict[str, list[Spec]]:
    data = SentenceConfig(text=q["text"], block_size=q["block_size"])
    base = _train(q, warmup_steps=0)
    schedules = [False, True] if q["compare_cosine"] else [False]

    def runs(lr: float, cosine: bool) -> list[Spec]:
        return [Spec(data, replace(base, lr=lr, cosine=cosine, seed=s), _model(q),
                     weights=s == q["seeds"][0] and not cosine and lr == q["lr"]) for s in q["seeds"]]  # fmt: skip

    return {
        "constant": runs(q["lr"], False),
        "cosine": runs(q["lr"], True) if q["compare_cosine"] else [],
        # both schedules at spike_lr: what the loss spikes are
        "spike_lr": [s for cosine in schedules for s in runs(q["spike_lr"], cosine)] if q["spike_lr"] else [],
    }


def _warmup(q: dict) -> dict[str, list[Spec]]:
    def specs(model: GPTConfig, train: TrainConfig, fractions: tuple, primes: list[int]) -> list[Spec]:
        return [
            Spec(
                ModularConfig(p=p, ops=q["ops"], fractions=fractions, seed=s),
                replace(train, seed=s),
                model,
                weights=s == q["seeds"][0] and model == wide and fractions == main,
            )  # fmt: skip
            for p in primes
            for s in q["seeds"]
        ]

    wide, main = _model(q), tuple(q["fractions"])
    small = q["seed_size_train"] / len(table(min(q["primes"]), q["ops"]))  # the seed report's training-set size
    constant = _train(q, cosine=False, max_steps=q["seed_size_steps"])
    return {
        "main": specs(wide, _train(q), main, q["primes"]),
        "narrow": specs(
            _model(q, n_layer=q["narrow_n_layer"], n_embd=q["narrow_n_embd"]), _train(q), main, q["primes"]
        ),
        "seed_size": specs(wide, constant, (small, 1 - small), [min(q["primes"])]) if q["seed_size_train"] else [],
    }


def _grokking(q: dict) -> dict[str, list[Spec]]:
    def runs(f: float, **train) -> list[Spec]:
        data = ModularConfig(p=q["p"], ops=q["op"], fractions=(f, 1 - f))
        return [Spec(replace(data, seed=s), _train(q, seed=s, **train), _model(q), weights=s == q["seeds"][0])
                for s in q["seeds"]]  # fmt: skip

    first = q["fractions"][0]
    return {
        "paper": [s for f in q["fractions"] for s in runs(f)],  # the paper preset at each fraction, every seed
        # the headline runs trained on without stopping: does grokking last?
        "lasting": runs(first, max_steps=q["lasting_steps"], stop_acc=None) if q["lasting_steps"] else [],
        # ... and with the float64 loss: are its late falls (slingshots) a float32 artefact?
        "lasting_float64": runs(first, max_steps=q["lasting_steps"], stop_acc=None, loss_dtype="float64")
        if q["lasting_steps"] and first in q["float64_fractions"]
        else [],
        # precision: the training loss in float64 (slingshots), the forward pass in bfloat16 (speed)
        "float64": [s for f in q["float64_fractions"] for s in runs(f, loss_dtype="float64")],
        "bfloat16": [s for f in q["bfloat16_fractions"] for s in runs(f, autocast="bfloat16")],
    }


def _ablations(q: dict) -> dict[str, list[Spec]]:
    model, base = _model(q), _train(q, grokfast_lamb=0.0)  # the grokfast_* parameters are (e)'s arm, not the baseline's

    def cell(frac: float = q["train_frac"], **train) -> list[Spec]:  # the baseline with some settings changed
        data = ModularConfig(p=q["p"], ops=q["op"], fractions=(frac, 1 - frac))
        return [Spec(replace(data, seed=s), replace(base, seed=s, **train), model) for s in q["seeds"]]

    long = lambda wd: q["long_steps_wd0"] if wd == 0 else q["long_steps"]  # noqa: E731
    n_seed = q["seed_train_size"] / len(table(q["p"], q["op"]))
    seed_train = dict(batch_size=q["seed_batch_size"], max_steps=q["seed_max_steps"], eval_every=q["seed_eval_every"],
                      stop_after=q["seed_stop_after"])  # fmt: skip
    return {
        "warmup_steps": [s for w in q["warmups"] for s in cell(warmup_steps=w)],
        "weight_decay": [s for wd in q["weight_decays"] for s in cell(weight_decay=wd)],
        "train_frac": [s for f in q["train_fracs"] for s in cell(f)],
        "phase": [s for f in q["phase_fracs"] for wd in q["phase_weight_decays"] for s in cell(f, weight_decay=wd)],
        "grokfast": [
            s
            for wd in q["grokfast_weight_decays"]
            for lamb in (0.0, q["grokfast_lamb"])
            for s in cell(weight_decay=wd, grokfast_lamb=lamb, grokfast_alpha=q["grokfast_alpha"])
        ],
        "seed_question": [
            replace(s, model=replace(model, n_layer=q["seed_n_layer"]))
            for s in cell(n_seed, **seed_train)
        ] if q["seed_train_size"] else [],
        # Power et al.'s budget for every setting undecided at max_steps (200,000 steps without weight decay):
        # weight decays, fractions, phase cells, then Grokfast's arms
        "long": [s for wd in q["long_weight_decays"] for s in cell(weight_decay=wd, max_steps=long(wd))]
        + [s for f in q["long_fracs"] for s in cell(f, max_steps=long(base.weight_decay))]
        + [s for f, wd in q["long_phase"] for s in cell(f, weight_decay=wd, max_steps=long(wd))]
        + [
            s
            for wd in q["long_grokfast_weight_decays"]
            for lamb in (0.0, q["grokfast_lamb"])
            for s in cell(weight_decay=wd, grokfast_lamb=lamb, grokfast_alpha=q["grokfast_alpha"], max_steps=long(wd))
        ],
        **_critical(q),
    }  # fmt: skip


def _critical(q: dict) -> dict[str, list[Spec]]:
    """Varma et al.'s critical training-set size: 04's grokked networks (the paper preset at critical_fraction,
    trained on without stopping for critical_start_steps: 04's lasting runs) trained on only D of their own training equations (ungrokking), and the same D from scratch; validation on
    the same untouched split throughout. Batch min(512, D/2), as for the seed report's 500 equations."""
    grokking = {
        **PARAMETERS["04_grokking"],
        "p": q["p"],
        "op": q["op"],
        "seeds": q["seeds"],
        "fractions": [q["critical_fraction"]],
        "lasting_steps": q["critical_start_steps"],
    }
    starts = [replace(s, weights=True) for s in _grokking(grokking)["lasting"]] if q["critical_sizes"] else []

    def at(start: Spec, size: int, **train) -> Spec:
        batch = min(start.train.batch_size, size // 2)
        return Spec(replace(start.data, train_size=size), replace(start.train, batch_size=batch, **train), start.model)

    every = q["critical_eval_every"]
    return {
        "critical_start": starts,
        "ungrok": [replace(at(s, d, max_steps=q["critical_steps"], eval_every=every, stop_acc=None), start=s.name)
                   for d in q["critical_sizes"] for s in starts],
        # from scratch, stopped once held (a run that groks holds to its end by the finding rule's definition)
        "scratch": [at(s, d, max_steps=q["scratch_steps"], eval_every=every, stop_acc=q["stop_acc"])
                    for d in q["critical_sizes"] for s in starts],
    }  # fmt: skip


PLANS = {"01_overfit": _overfit, "03_warmup": _warmup, "04_grokking": _grokking, "05_ablations": _ablations}


def plan(notebook: str, params: dict | None = None) -> dict[str, list[Spec]]:
    """The runs a notebook asks for with these parameters (default: the registry's), in named groups."""
    return PLANS[notebook]({**PARAMETERS[notebook], **(params or {})})


def check(notebook: str, params: dict) -> None:
    """ValueError (one line) unless the notebook's parameters make valid runs (its plan) or, for 02, valid tables."""
    if notebook in PLANS:
        plan(notebook, params)
    if notebook != "02_data":
        return
    q = {**PARAMETERS[notebook], **params}
    for p in q["primes"]:
        ModularConfig(p=p, ops=q["ops"], fractions=tuple(q["fractions"]), seed=q["seed"])
    if not 1 <= q["samples"] <= MAX_SAMPLES:
        raise ValueError(f"samples must be from 1 to {MAX_SAMPLES:,}")


def every_spec() -> list[Spec]:
    """Every run of the registry, once each, the longest first (so that a sweep's tail is short)."""
    specs = [s for name in PLANS for group in plan(name).values() for s in group]
    unique = {}
    for s in specs:  # the same run asked for twice (shared baselines): keep one, with weights if any asked
        key = s.name
        unique[key] = replace(s, weights=s.weights or (key in unique and unique[key].weights))
    return sorted(unique.values(), key=lambda s: -cost(s))


def cost(spec: Spec) -> float:
    """A rough relative cost of a run, for ordering: its step budget times its depth times its batch."""
    return spec.train.max_steps * spec.model.n_layer * spec.train.batch_size


# ----------------------------------------------------------------------------------------------------------------
# Notebook parameters: checked against the registry


def parameters(notebook: str, namespace: dict) -> dict:
    """The notebook's parameters from its namespace (its globals()), type-checked against the registry's
    defaults (`check_value`)."""
    return {name: check_value(name, namespace[name], default) for name, default in PARAMETERS[notebook].items()}


def check_value(name: str, value, default):
    """value in the type of default (the parameter's value in the registry or in a parameters cell): an int is
    taken for a float, and a list's items are checked against the default's first. ValueError (one line) for a
    value of another type, such as `-p max_steps 1e4` or `-y 'fractions: [a]'`."""

    def typed(v, d):
        if isinstance(d, list):
            if not isinstance(v, list):
                raise TypeError
            return [typed(item, d[0]) for item in v] if d else v
        if isinstance(d, float) and type(v) is int:
            return float(v)
        if d is not None and type(v) is not type(d):  # exact: True is no int, 1 no bool
            raise TypeError
        return v

    def kind(d) -> str:
        return (f"list of {kind(d[0])}" if d else "list") if isinstance(d, list) else type(d).__name__

    try:
        return typed(value, default)
    except TypeError:
        raise ValueError(f"parameter {name} must be {kind(default)}, got {value!r}") from None


PRESETS: dict[str, Spec] = {
    "sentence": plan("01_overfit")["constant"][0],
    "addsub": plan("03_warmup")["main"][0],
    "grokking": plan("04_grokking")["paper"][0],  # fraction 0.5, seed 0
    "ablation": next(s for s in plan("05_ablations")["warmup_steps"] if s.train.warmup_steps == 10),  # the baseline
    "seed_division": plan("05_ablations")["seed_question"][0],
}
