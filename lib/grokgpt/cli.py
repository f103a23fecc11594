"""The command line: `python -m grokgpt train|sample|data|arith`, with the seed report's flag names.

    python -m grokgpt train data/text/i_love_ml.txt --n_layer 1 --n_head 2 --n_embd 32 --block_size 16 \\
        --batch_size 1 --max_iters 5000 --out_dir ckpt
    python -m grokgpt sample ckpt/model.pt --prompt "I" --steps 22
    python -m grokgpt data --prime 97 --out data/mod97
    python -m grokgpt arith --op / --prime 97 --n_layer 2 --max_iters 10000 --eval_interval 100 --batch_size 32

Bad input (a missing file, an unknown character, a damaged checkpoint, impossible sizes) is reported in one line
on stderr with exit code 2; nothing already written is lost.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grokgpt import checkpoint, data, sample
from grokgpt.model import GPT, GPTConfig
from grokgpt.train import TrainConfig, resolve_device, train


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: `grokgpt train: error: ...`."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _int(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


def _add_model_flags(p: argparse.ArgumentParser, n_layer: int, n_head: int, n_embd: int, init: str) -> None:
    p.add_argument("--n_layer", type=_int(1), default=n_layer, help=f"transformer blocks (default {n_layer})")
    p.add_argument("--n_head", type=_int(1), default=n_head, help=f"attention heads per block (default {n_head})")
    p.add_argument(
        "--n_embd", type=_int(1), default=n_embd, help=f"embedding width, a multiple of n_head (default {n_embd})"
    )
    p.add_argument(
        "--init", choices=("gpt2", "torch"), default=init,
        help=f"gpt2: N(0, 0.02) as nanoGPT; torch: PyTorch defaults, the grokking setting (default {init})",
    )  # fmt: skip


def _add_train_flags(p: argparse.ArgumentParser, defaults: TrainConfig, out_dir: str) -> None:
    d = defaults
    p.add_argument("--batch_size", type=_int(1), default=d.batch_size, help=f"rows per step (default {d.batch_size})")
    p.add_argument("--max_iters", type=_int(0), default=d.max_steps, help=f"optimizer steps (default {d.max_steps})")
    p.add_argument(
        "--eval_interval",
        type=_int(1),
        default=d.eval_every,
        help=f"steps between evaluations (default {d.eval_every})",
    )
    p.add_argument("--lr", type=float, default=d.lr, help=f"peak learning rate (default {d.lr:g})")
    p.add_argument(
        "--weight_decay", type=float, default=d.weight_decay, help=f"AdamW weight decay (default {d.weight_decay:g})"
    )
    p.add_argument(
        "--warmup", type=_int(0), default=d.warmup_steps, help=f"linear warmup steps (default {d.warmup_steps})"
    )
    p.add_argument(
        "--cosine", action="store_true", help="decay the learning rate along a half cosine to 0 at max_iters"
    )
    p.add_argument("--seed", type=_int(0), default=d.seed, help=f"random seed (default {d.seed})")
    p.add_argument(
        "--device", default=d.device, help="auto (CUDA, then MPS, then CPU), cpu, cuda or mps (default auto)"
    )
    p.add_argument("--out_dir", default=out_dir, help=f"where model.pt and metrics.csv go (default {out_dir})")


def build_parser() -> Parser:
    parser = Parser(prog="grokgpt", description="A tiny GPT on one sentence and on modular arithmetic.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    p = sub.add_parser(
        "train",
        help="overfit a text file, character by character",
        description="Overfit the text of a file, character by character (01_overfit).",
    )
    p.add_argument("text_file", help="the text to learn (one sentence; a trailing newline is dropped)")
    _add_model_flags(p, n_layer=1, n_head=2, n_embd=32, init="gpt2")
    p.add_argument("--block_size", type=_int(1), default=16, help="context length in characters (default 16)")
    _add_train_flags(
        p, TrainConfig(max_steps=5000, batch_size=1, lr=3e-3, weight_decay=0.0, eval_every=500, beta2=0.98), "ckpt"
    )

    p = sub.add_parser(
        "sample",
        help="complete prompts with a checkpoint",
        description="Print each prompt followed by the model's completion, one line per prompt, in order.",
    )
    p.add_argument("checkpoint", help="a model.pt written by train, arith or a notebook")
    p.add_argument("--prompt", action="append", default=[], help="a prompt; repeat the flag for several")
    p.add_argument("--prompts-file", dest="prompts_file", help="a file of prompts, one a line (blank lines skipped)")
    p.add_argument(
        "--steps", type=_int(0), help="tokens to generate (default: the answer length of an arithmetic model)"
    )
    p.add_argument("--temperature", type=float, default=0.0, help="0 picks the likeliest token (default); > 0 samples")
    p.add_argument("--seed", type=_int(0), default=0, help="random seed when sampling (default 0)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, mps or auto")

    p = sub.add_parser(
        "data",
        help="write modular-arithmetic data files",
        description="Write train_/val_/test_ files, one equation a line (12+85=0).",
    )
    p.add_argument("--prime", type=int, default=97, help="the modulus p (default 97)")
    p.add_argument(
        "--out", required=True, help="output directory; its name ends the file names (data/mod97 -> train_mod97.txt)"
    )
    p.add_argument(
        "--protocol",
        choices=("leak-free", "seed"),
        default="leak-free",
        help="leak-free: every equation once, shuffled (default); seed: the seed report's 5000 draws with replacement",
    )
    p.add_argument("--ops", default="+-", help="operations for the leak-free protocol, from + - / (default +-)")
    p.add_argument(
        "--fractions",
        type=float,
        nargs="+",
        default=[0.4, 0.4, 0.2],
        help="train val [test] fractions, summing to 1 (default 0.4 0.4 0.2)",
    )
    p.add_argument("--samples", type=_int(1), default=5000, help="draws for the seed protocol (default 5000)")
    p.add_argument("--seed", type=_int(0), default=0, help="shuffle seed (default 0)")

    p = sub.add_parser(
        "arith",
        help="train on modular arithmetic",
        description="Train on modular arithmetic, from data files or from the whole table (defaults: 04_grokking's setting).",
    )
    p.add_argument(
        "data_dir", nargs="?", help="a directory of train_/val_/test_ files (default: generate the table of --op)"
    )
    p.add_argument("--prime", type=int, default=97, help="the modulus p (default 97)")
    p.add_argument("--op", default="/", help="operations of the generated table, from + - / (default /)")
    p.add_argument(
        "--train_frac",
        type=float,
        default=0.5,
        help="training fraction of the generated table; the rest is validation (default 0.5)",
    )
    p.add_argument(
        "--tokens",
        choices=("number", "char"),
        default="number",
        help="number: one token per residue (default); char: the seed's characters",
    )
    _add_model_flags(p, n_layer=2, n_head=4, n_embd=128, init="torch")
    _add_train_flags(
        p, TrainConfig(max_steps=20_000, batch_size=512, lr=1e-3, weight_decay=1.0, eval_every=100, beta2=0.98,
                       warmup_steps=10), "ckpt")  # fmt: skip
    p.add_argument("--stop_acc", type=float, help="stop once validation accuracy has held this value ...")
    p.add_argument("--stop_after", type=_int(0), default=1000, help="... for this many steps (default 1000)")
    return parser


# ----------------------------------------------------------------------------------------------------------------
# Commands


def _out_dir(path: str) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out_dir {out} is a file, not a directory")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _fit(args, ds: data.Dataset, **train_kwargs) -> None:
    out = _out_dir(args.out_dir)
    model_cfg = GPTConfig(
        block_size=ds.block_size, vocab_size=ds.vocab_size, n_layer=args.n_layer, n_head=args.n_head,
        n_embd=args.n_embd, init=args.init,
    )  # fmt: skip
    train_cfg = TrainConfig(
        max_steps=args.max_iters, batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
        warmup_steps=args.warmup, cosine=args.cosine, eval_every=args.eval_interval, seed=args.seed, device=args.device,
        beta2=0.98, **train_kwargs,
    )  # fmt: skip
    model = GPT.seeded(model_cfg, args.seed)
    metrics = train(model, ds, train_cfg, desc=args.command)
    info = {**ds.info, "config": {"model": model_cfg.to_dict(), "train": train_cfg.to_dict()}}
    checkpoint.save(out / "model.pt", model, ds.tokenizer, info)
    checkpoint.atomic_write(out / "metrics.csv", lambda tmp: metrics.to_csv(tmp, index=False))
    last = metrics[metrics.step == metrics.step.max()]
    summary = ", ".join(f"{r.split} loss {r.loss:.4f} acc {r.acc:.3f}" for r in last.itertuples())
    print(f"step {int(last.step.iloc[0])}: {summary}; saved {out / 'model.pt'}")


def cmd_train(args) -> None:
    path = Path(args.text_file)
    if not path.is_file():
        raise FileNotFoundError(f"no text file {path}")
    text = path.read_text().rstrip("\n")
    if not text:
        raise ValueError(f"{path} is empty: give it the sentence to learn")
    _fit(args, data.sentence(data.SentenceConfig(text=text, block_size=args.block_size)))


def cmd_arith(args) -> None:
    if args.data_dir:
        ds = data.arithmetic(data.read_split_files(args.data_dir, args.prime), args.prime, args.tokens)
    else:
        ds = data.modular(
            data.ModularConfig(
                p=args.prime,
                ops=args.op,
                fractions=(args.train_frac, 1 - args.train_frac),
                seed=args.seed,
                tokens=args.tokens,
            )
        )
    _fit(args, ds, stop_acc=args.stop_acc, stop_after=args.stop_after)


def cmd_sample(args) -> None:
    prompts = list(args.prompt)
    if args.prompts_file:
        path = Path(args.prompts_file)
        if not path.is_file():
            raise FileNotFoundError(f"no prompts file {path}")
        prompts += [line for line in path.read_text().splitlines() if line.strip()]
    if not prompts:
        raise ValueError("give a prompt: --prompt TEXT or --prompts-file FILE")
    ckpt = checkpoint.load(args.checkpoint, device=resolve_device(args.device))
    for line in sample.complete(ckpt, prompts, args.steps, args.temperature, args.seed):
        print(line)


def cmd_data(args) -> None:
    out = Path(args.out)
    if args.protocol == "seed":
        splits = data.sample_with_replacement_seed_protocol(args.prime, args.samples, args.seed)
    else:
        splits = data.split_leak_free(data.table(args.prime, args.ops), tuple(args.fractions), args.seed)
    for path in data.write_split_files(splits, out, out.name):
        print(path)


COMMANDS = {"train": cmd_train, "sample": cmd_sample, "data": cmd_data, "arith": cmd_arith}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except (ValueError, OSError) as err:  # CheckpointError is a ValueError
        print(f"grokgpt {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"grokgpt {args.command}: interrupted; nothing was saved", file=sys.stderr)
        return 130
    return 0
