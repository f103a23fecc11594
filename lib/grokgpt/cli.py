"""The command line: `python -m grokgpt train|arith|sample|data`, its flags generated from the configs.

    python -m grokgpt train data/text/i_love_ml.txt --n_layer 1 --n_head 2 --n_embd 32 --block_size 16 \\
        --batch_size 1 --max_iters 5000 --out_dir ckpt
    python -m grokgpt sample ckpt/model.pt --prompt "I" --steps 22
    python -m grokgpt data --prime 97 --out data/mod97
    python -m grokgpt arith data/mod97 --preset addsub --max_iters 2500 --out_dir ckpt97
    python -m grokgpt arith --op / --prime 97 --n_layer 2 --max_iters 10000 --eval_interval 100 --batch_size 32
    python -m grokgpt arith --preset ablation --weight_decay 0.3 --grokfast_lamb 2 --device cpu --out_dir wd03
    python -m grokgpt sample wd03/model.pt --prompt "3/5="

Each field of TrainConfig, GPTConfig and the data config is a flag, defaulting to a preset of `experiments`;
--out_dir becomes one run folder, written by the run store. Bad input is one line on stderr and exit code 2,
found before training where it can be; a failing command changes no file that existed before.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

from grokgpt import checkpoint, compute, data, memory, runs, sample, store, textfiles
from grokgpt.devices import check_device
from grokgpt.experiments import PARAMETERS, PRESETS
from grokgpt.flags import Parser, add_fields, peek, replace_given, typed

ALIASES = {"max_steps": "max_iters", "eval_every": "eval_interval", "warmup_steps": "warmup", "p": "prime", "ops": "op"}
DEFAULT_PRESET = {"train": "sentence", "arith": "grokking", "data": "addsub"}
ARITH_NAMES = {"seed": "data_seed"}  # --seed is TrainConfig's; the data seed follows it unless given


def add_command(sub, command: str, about: str, preset: str | None, **data_flags) -> Parser:
    """A command with --preset (among those with its kind of data) and flags defaulting to that preset's values:
    the data config's and, to train, the model's, the training's and --out_dir."""
    p = sub.add_parser(command, help=about, description=about)
    kind = data.SentenceConfig if command == "train" else data.ModularConfig
    names, default = [name for name, s in PRESETS.items() if isinstance(s.data, kind)], DEFAULT_PRESET[command]
    p.add_argument("--preset", choices=names, default=default, help=f"the defaults of every flag ({default})")
    spec = PRESETS[preset if preset in names else default]
    add_fields(p, "data", spec.data, aliases=ALIASES, **data_flags)
    if command != "data":
        add_fields(p, "model", spec.model, skip=("vocab_size", "block_size"))  # both come from the data
        add_fields(p, "train", spec.train, aliases=ALIASES)
        p.add_argument("--out_dir", default="ckpt", help="the run folder to write, replaced whole (default: ckpt)")
    return p


def build_parser(argv: list[str] | None = None) -> Parser:
    """The parser, its defaults those of the preset named in argv (else each command's default preset)."""
    preset = peek(argv, "--preset")
    parser = Parser(prog="grokgpt", description="A tiny GPT on one sentence and on modular arithmetic.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    p = add_command(sub, "train", "Overfit a text, character by character.", preset, skip=("text",))
    p.add_argument("text_file", nargs="?", help="the text to learn; a trailing newline is dropped (default: preset's)")
    p = add_command(sub, "arith", "Train on modular arithmetic.", preset, names=ARITH_NAMES, shown={"seed": "--seed"})
    p.add_argument("data_dir", nargs="?", help="a folder of train_/val_/test_ files (default: the table of --ops)")
    p = add_command(sub, "data", "Write train_/val_/test_ files.", preset, skip=("tokens", "loss_on"))
    p.add_argument("--out", required=True, help="a folder; its name ends the file names (data/mod97: train_mod97.txt)")
    p.add_argument(
        "--protocol", choices=("leak-free", "seed"), default="leak-free", help="seed: draws with replacement"
    )
    samples = PARAMETERS["02_data"]["samples"]
    p.add_argument("--samples", type=int, default=samples, help=f"draws of the seed protocol (default: {samples})")
    p = sub.add_parser("sample", help="complete prompts", description="Print each prompt with its completion.")
    p.add_argument("checkpoint", help="a model.pt written by train, arith or a notebook")
    p.add_argument("--prompt", action="append", default=[], help="a prompt; repeat the flag for several")
    p.add_argument("--prompts-file", dest="prompts_file", help="a file of prompts, one a line (blank lines skipped)")
    p.add_argument("--steps", type=int, help="tokens to generate (default: an arithmetic model's answer length)")
    p.add_argument("--temperature", type=float, default=0.0, help="0 takes the likeliest token (default); > 0 samples")
    p.add_argument("--seed", type=int, default=0, help="random seed when sampling (default: 0)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N, mps or auto")
    return parser


def run_spec(args: argparse.Namespace) -> runs.Spec:
    """The preset with the flags given; the configs check the values."""
    preset = PRESETS[args.preset]
    train, model = replace_given(preset.train, args, "train"), replace_given(preset.model, args, "model")
    if args.command == "train":
        text = textfiles.read_text(args.text_file) if args.text_file else preset.data.text
        cfg = replace_given(preset.data, args, "data", text=text)
    elif args.data_dir:  # p, tokens and loss_on apply to files; the files fix the rest
        kept = [f.name for f in fields(data.FilesConfig) if f.name != "folder"]
        if fixed := [flag for k, flag in typed(args, "data").items() if k not in kept]:
            raise ValueError(f"{', '.join(fixed)} cannot apply to {args.data_dir}: its files fix the splits")
        files = data.FilesConfig(args.data_dir, **{k: getattr(preset.data, k) for k in kept})
        cfg = replace_given(files, args, "data")
    else:
        cfg = replace_given(preset.data, args, "data", seed=train.seed)  # as in the study's runs
    return runs.Spec(cfg, train, model, weights=True)


def cmd_run(args: argparse.Namespace) -> None:
    """train and arith: every check first (device, --out_dir, memory), then the run, written once complete."""
    spec, out = run_spec(args), Path(args.out_dir)
    published = (store.root() / store.RUNS).resolve()
    inside = [a for a in out.resolve().parents if a.name == store.RUNS.name and a.parent.name == store.RUNS.parent.name]
    if out.resolve().is_relative_to(published) or inside:  # this project's data/runs/, or any project's
        raise ValueError(
            f"--out_dir {out} lies in {store.RUNS}/, which holds the registry's runs (make runs): give another folder"
        )
    device = check_device(spec.train.device)
    store.check_replaceable(out, runs.FILES)
    store.clean_stale(out.parent)  # what killed runs left
    ds = spec.dataset()
    memory.check(spec.model.for_data(ds), spec.train, ds, device)
    metrics = runs.write_to(compute.compute(spec, progress=sys.stderr.isatty()), out).metrics
    last = metrics[metrics.step == metrics.step.max()]
    summary = ", ".join(f"{r.split} loss {r.loss:.4f} acc {r.acc:.3f}" for r in last.itertuples())
    print(f"step {int(last.step.iloc[0])}: {summary}; saved {out / 'model.pt'}")


def cmd_sample(args: argparse.Namespace) -> None:
    lines = textfiles.read_file_text(args.prompts_file).splitlines() if args.prompts_file else []
    prompts = args.prompt + [line for line in lines if line.strip()]
    if not prompts:
        raise ValueError("give a prompt: --prompt TEXT or --prompts-file FILE")
    ckpt = checkpoint.load(args.checkpoint, device=args.device)
    print(*sample.complete(ckpt, prompts, args.steps, args.temperature, args.seed), sep="\n")


def cmd_data(args: argparse.Namespace) -> None:
    cfg, out = replace_given(PRESETS[args.preset].data, args, "data"), Path(args.out)
    if args.protocol == "seed":
        splits = data.sample_with_replacement_seed_protocol(cfg.p, args.samples, cfg.seed)
    else:
        splits = data.split_leak_free(data.table(cfg.p, cfg.ops), cfg.fractions, cfg.seed)
    print(*textfiles.write_split_files(splits, out, out.name), sep="\n")


def main(argv: list[str] | None = None) -> int:
    args = build_parser(argv).parse_args(argv)
    try:
        {"train": cmd_run, "arith": cmd_run, "sample": cmd_sample, "data": cmd_data}[args.command](args)
    except KeyboardInterrupt:
        print(f"grokgpt {args.command}: interrupted; nothing was saved", file=sys.stderr)
        return 130
    except Exception as err:  # bad input is a ValueError (CheckpointError too) or an OSError, or memory ran out
        if not isinstance(err, ValueError | OSError | FloatingPointError) and not memory.out_of_memory(err):
            raise  # a bug: its traceback is worth reading
        hint = "out of memory (lower batch_size, n_embd or n_layer): " if memory.out_of_memory(err) else ""
        if isinstance(err, FloatingPointError):  # train stopped at the first non-finite loss; nothing was written
            hint = "nothing was written (lower lr): "
        print(f"grokgpt {args.command}: error: {hint}{' '.join(str(err).split()) or repr(err)}", file=sys.stderr)
        return 2
    return 0
