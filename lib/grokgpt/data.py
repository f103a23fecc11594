"""Data sets: the one-sentence text of 01_overfit and modular arithmetic a ∘ b mod p.

Modular arithmetic comes in two protocols:
- `sample_with_replacement_seed_protocol`: the seed report's 5000 draws with replacement, kept for fidelity and
  measured in 02_data (the same equation can land in train and test);
- `split_leak_free`: every equation of the table once, shuffled by a seeded `torch.randperm` and sliced into
  splits (minGPT's `adder` project does the same), which the experiments use.
`leakage` measures what a protocol's splits share (02_data).

An equation is a tuple (a, op, b, c); on disk it is one line `a{op}b=c` (`3/5=20`). For training it becomes a
row of token ids with the answer positions marked. A worked example with one token per residue, p = 97:

    "3/5=20"  ->  tokens [3, 97, 5, 98, 20]        ("/" is id 97, "=" is id 98)
              ->  x = [3, 97, 5, 98]   y = [-1, -1, -1, 20]   answer = [F, F, F, T]

The model reads x and is scored at the "=" position only (y = -1 takes no loss). With characters the line is
"3/5=20\\n", x = "3/5=20", and the answer is "20\\n": scored at the positions of "=", "2" and "0", and right only
if all three are.
"""

from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import torch

from grokgpt.operations import OPERATIONS, SYMBOL, SYMBOLS
from grokgpt.tokenizers import CharTokenizer, NumberTokenizer, Tokenizer

OPS = {op.symbol: op.apply for op in OPERATIONS.values()}  # c as a function of a, b and the modulus p
SPLITS = ("train", "val", "test")
DATA_DIR = Path("data")  # data/<name>/ holds a data set's text files
ARITH_CHARS = "0123456789" + SYMBOLS + "=\n"  # the character alphabet of every arithmetic data set
# The largest modulus: the table has up to 3·p² equations, built in Python. At p = 997 one operation takes
# 25 s and 0.7 GB on two cores; p = 100003 would be 10^10 equations and a MemoryError after minutes.
MAX_MODULUS = 1000
MAX_SAMPLES = 1_000_000  # draws of the seed's protocol: 200 times its 5000, about 0.3 GB in Python
MAX_SEED = 2**32 - 1  # seeds are 32-bit everywhere (numpy's limit; torch takes more): data's and training's

Equation = tuple[int, str, int, int]


# ----------------------------------------------------------------------------------------------------------------
# Configs: a data set is a frozen config, stored with every run so that the run can be rebuilt


@dataclass(frozen=True)
class SentenceConfig:
    text: str = "I love machine learning"  # the sentence to overfit
    block_size: int = 16  # context length, characters

    def __post_init__(self):
        if len(self.text) < 2:
            raise ValueError(f"the text must have at least 2 characters, got {self.text!r}")
        if not isinstance(self.block_size, int) or self.block_size < 1:
            raise ValueError(f"block_size must be a positive integer, got {self.block_size!r}")


@dataclass(frozen=True)
class ModularConfig:
    p: int = 97  # the modulus, 2 to 1000 (a prime for division)
    ops: str = "/"  # operations mixed in one data set, e.g. "+-"
    fractions: tuple[float, ...] = (0.5, 0.5)  # of the table, for train, val[, test]
    seed: int = 0  # permutation of the table
    tokens: str = "number"  # "number": one token per residue; "char": the seed's characters
    loss_on: str = "answer"  # "answer": loss on the answer only; "all": every next token (the seed's way)
    train_size: int | None = None  # keep only the first D equations of the train split (val, test unchanged)

    def __post_init__(self):
        check_modulus(self.p, self.ops)
        check_fractions(self.fractions)
        check_encoding(self.tokens, self.loss_on)
        check_seed(self.seed)
        object.__setattr__(self, "fractions", tuple(float(f) for f in self.fractions))
        if self.train_size is not None and (
            not isinstance(self.train_size, int) or isinstance(self.train_size, bool) or self.train_size < 1
        ):
            raise ValueError(f"train_size must be a positive integer or None, got {self.train_size!r}")


@dataclass(frozen=True)
class FilesConfig:
    """Equations read from a folder of train_/val_/test_ files (`python -m grokgpt data` writes them): the run
    records the folder's absolute path, so its files must stay as they are for the run to be rebuilt."""

    folder: str  # holds train_*.txt and optionally val_*.txt and test_*.txt, one equation a line
    p: int = 97  # the modulus the equations are checked against
    tokens: str = "number"  # as in ModularConfig
    loss_on: str = "answer"  # as in ModularConfig

    def __post_init__(self):
        check_modulus(self.p, "+")
        check_encoding(self.tokens, self.loss_on)
        object.__setattr__(self, "folder", str(Path(self.folder).resolve()))


def check_seed(seed: int) -> None:
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be an integer from 0 to {MAX_SEED}, got {seed!r}")


def check_encoding(tokens: str, loss_on: str) -> None:
    if tokens not in ("number", "char"):
        raise ValueError(f"tokens must be 'number' or 'char', got {tokens!r}")
    if loss_on not in ("answer", "all"):
        raise ValueError(f"loss_on must be 'answer' or 'all', got {loss_on!r}")


DataConfig = SentenceConfig | ModularConfig | FilesConfig


def check_modulus(p: int, ops: str) -> None:
    """Raise ValueError unless p is a usable modulus for every operation in ops."""
    if not isinstance(p, int) or isinstance(p, bool) or not 2 <= p <= MAX_MODULUS:
        raise ValueError(f"the modulus p must be an integer from 2 to {MAX_MODULUS}, got {p!r}")
    unknown = set(ops) - set(OPERATIONS)
    if not ops or unknown:
        raise ValueError(f"operations must be drawn from {SYMBOLS!r}, got {ops!r}")
    inverting = [OPERATIONS[o].word for o in dict.fromkeys(ops) if OPERATIONS[o].nonzero_b]  # b⁻¹ needs p prime
    if inverting and (p < 3 or not is_prime(p)):
        raise ValueError(
            f"{inverting[0]} needs a prime modulus of at least 3; {p} is {'not prime' if p > 2 else 'too small'}"
        )
    if not is_prime(p):  # + and - are defined mod any p, but the study's tables and analyses are mod a prime
        raise ValueError(f"the modulus p must be prime; {p} is not")


def check_fractions(fractions: tuple[float, ...]) -> None:
    if not 1 <= len(fractions) <= len(SPLITS) or any(not 0 < f <= 1 for f in fractions):
        raise ValueError(f"give 1 to 3 split fractions in (0, 1], got {fractions!r}")
    if abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"split fractions must sum to 1, got {fractions!r} (sum {sum(fractions):g})")


def is_prime(n: int) -> bool:
    return n >= 2 and all(n % d for d in range(2, int(n**0.5) + 1))


# ----------------------------------------------------------------------------------------------------------------
# Equations: the table, the two split protocols, the text format


def table(p: int, ops: str) -> list[Equation]:
    """Every equation a ∘ b = c with a, b in 0..p-1 (b != 0 where the operation inverts b), in a fixed order."""
    check_modulus(p, ops)
    return [(a, op, b, OPS[op](a, b, p)) for op in ops for a in range(p) for b in range(OPERATIONS[op].nonzero_b, p)]


def train_size(p: int, ops: str, fraction: float) -> int:
    """The equations in the train split of the leak-free protocol at this training fraction (split_leak_free's)."""
    return round(fraction * len(table(p, ops)))


def split_leak_free(equations: list[Equation], fractions: tuple[float, ...], seed: int) -> dict[str, list[Equation]]:
    """Shuffle with a seeded generator and slice into train/val[/test]: every equation lands in one split."""
    check_fractions(fractions)
    order = torch.randperm(len(equations), generator=torch.Generator().manual_seed(seed)).tolist()
    bounds = [round(sum(fractions[: i + 1]) * len(equations)) for i in range(len(fractions))]
    starts = [0, *bounds[:-1]]
    return {name: [equations[j] for j in order[s:e]] for name, s, e in zip(SPLITS, starts, bounds, strict=False)}


def sample_with_replacement_seed_protocol(p: int, n: int = 5000, seed: int = 0) -> dict[str, list[Equation]]:
    """The seed report's protocol, as written there: n draws with replacement, shuffled, split 40/40/20.

    Note `random.randint` includes both ends, so a can be p and b can be p (≡ 0): operands outside 0..p-1 and
    duplicates within and across splits occur. 02_data measures both.
    """
    check_modulus(p, "+-")
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_SAMPLES:
        raise ValueError(f"--samples must be from 1 to {MAX_SAMPLES:,}, got {n!r}")
    check_seed(seed)
    rng = random.Random(seed)
    samples = []
    for _ in range(n):
        a = rng.randint(0, p)
        b = rng.randint(1, p)
        op = rng.choice(["+", "-"])
        samples.append((a, op, b, OPS[op](a, b, p)))
    rng.shuffle(samples)
    train_end, val_end = int(n * 0.4), int(n * 0.8)
    return {"train": samples[:train_end], "val": samples[train_end:val_end], "test": samples[val_end:]}


def format_equation(a: int, op: str, b: int, c: int) -> str:
    return f"{a}{op}{b}={c}"


def check_splits(splits: dict[str, list[Equation]]) -> None:
    """Raise ValueError if a split is empty (fractions too small for the table): it could not be evaluated."""
    empty = [name for name, equations in splits.items() if not equations]
    if empty:
        raise ValueError(f"the {' and '.join(empty)} split would hold no equations: change the fractions or p")


def leakage(splits: dict[str, list[Equation]], p: int) -> pd.DataFrame:
    """Per split: rows, distinct lines, rows that repeat a line already in the split, rows whose line also occurs
    in train (and their share), and rows with an operand outside 0..p-1. Lines compare as the model reads them."""
    train = set(splits["train"])
    rows = []
    for name, eqs in splits.items():
        distinct = len(set(eqs))
        in_train = sum(e in train for e in eqs) if name != "train" else 0
        rows.append(
            {
                "split": name,
                "rows": len(eqs),
                "distinct": distinct,
                "repeats": len(eqs) - distinct,
                "in_train": in_train,
                "in_train_share": in_train / len(eqs) if eqs else 0.0,
                "operand_ge_p": sum(a >= p or b >= p for a, _, b, _ in eqs),
            }
        )
    return pd.DataFrame(rows)


def check_prompt(prompt: str, p: int, ops: str) -> None:
    """Raise ValueError unless prompt is `a{op}b=` with operands in 0..p-1 and b != 0 for division."""
    match = re.fullmatch(rf"(\d+)({SYMBOL})(\d+)=", prompt.strip())
    if not match:
        raise ValueError(f"prompt {prompt!r} is not of the form a{ops[0]}b= (for example 3{ops[0]}5=)")
    a, op, b = int(match[1]), match[2], int(match[3])
    if op not in ops:
        raise ValueError(f"prompt {prompt!r}: this model was trained on {' '.join(ops)} only")
    if max(a, b) >= p:
        raise ValueError(f"prompt {prompt!r}: operands must be residues 0..{p - 1}")
    if OPERATIONS[op].nonzero_b and b % p == 0:
        raise ValueError(f"prompt {prompt!r}: {OPERATIONS[op].word} by 0 is undefined mod {p}")


# ----------------------------------------------------------------------------------------------------------------
# Tensors for training


@dataclass
class Rows:
    """One split as tensors: inputs x, targets y (-1: no loss) and the answer positions, all (N, T)."""

    x: torch.Tensor
    y: torch.Tensor
    answer: torch.Tensor

    def __len__(self) -> int:
        return len(self.x)


@dataclass
class Dataset:
    """Splits of rows with the tokenizer that made them; `info` describes the task for checkpoints."""

    splits: dict[str, Rows]
    tokenizer: Tokenizer
    start: int  # first position that carries a target: the model may skip computing earlier outputs
    info: dict = field(default_factory=dict)
    config: DataConfig | None = None  # what rebuilds it (None: made from equations by hand)

    @property
    def block_size(self) -> int:
        return self.splits["train"].x.size(1)

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size


def encode_equations(
    splits: dict[str, list[Equation]], tokenizer: Tokenizer, loss_on: str = "answer"
) -> dict[str, Rows]:
    """Token rows for each split, padded to one common length; the answer is everything after "="."""
    tail = "\n" if tokenizer.kind == "char" else ""  # characters need an end mark: answers vary in length
    seqs = {s: [tokenizer.encode(format_equation(*e) + tail) for e in eqs] for s, eqs in splits.items()}
    T = max(len(seq) for split in seqs.values() for seq in split) - 1
    equals, pad = tokenizer.encode("=")[0], tokenizer.encode(tail or "0")[0]
    rows = {}
    for split, split_seqs in seqs.items():
        x = torch.full((len(split_seqs), T), pad, dtype=torch.long)
        y = torch.full((len(split_seqs), T), -1, dtype=torch.long)
        answer = torch.zeros((len(split_seqs), T), dtype=torch.bool)
        for i, seq in enumerate(split_seqs):
            n = len(seq) - 1
            x[i, :n], y[i, :n] = torch.tensor(seq[:-1]), torch.tensor(seq[1:])
            answer[i, seq.index(equals) : n] = True
        if loss_on == "answer":
            y[~answer] = -1
        rows[split] = Rows(x, y, answer)
    return rows


def _first_target(rows: dict[str, Rows]) -> int:
    has_target = torch.cat([r.y != -1 for r in rows.values()]).any(dim=0)
    return int(has_target.nonzero()[0])


def arithmetic(splits: dict[str, list[Equation]], p: int, tokens: str = "number", loss_on: str = "answer") -> Dataset:
    """A data set from given splits of equations (generated, or read from the seed's text files)."""
    check_splits(splits)
    ops = "".join(sorted({e[1] for eqs in splits.values() for e in eqs}))
    tokenizer = NumberTokenizer(p, ops) if tokens == "number" else CharTokenizer(list(ARITH_CHARS))
    rows = encode_equations(splits, tokenizer, loss_on)
    answer_len = 1 if tokens == "number" else len(str(p - 1)) + 1  # + the end mark
    info = {"task": "modular", "p": p, "ops": ops, "answer_tokens": answer_len}
    return Dataset(rows, tokenizer, start=_first_target(rows), info=info)


def modular(cfg: ModularConfig) -> Dataset:
    """The leak-free data set: the whole table, shuffled by cfg.seed, split by cfg.fractions."""
    splits = split_leak_free(table(cfg.p, cfg.ops), cfg.fractions, cfg.seed)
    if cfg.train_size is not None:  # a subset of the same train split, the other splits untouched (ungrokking)
        if cfg.train_size > len(splits["train"]):
            raise ValueError(f"train_size {cfg.train_size} exceeds the train split's {len(splits['train'])} equations")
        splits["train"] = splits["train"][: cfg.train_size]
    ds = arithmetic(splits, cfg.p, cfg.tokens, cfg.loss_on)
    ds.config = cfg
    return ds


def sentence(cfg: SentenceConfig) -> Dataset:
    """Every window of the text of length n = min(block_size, len - 1), scored as generation will use it.

    Generating from the first character, the model predicts character k from text[max(0, k - n):k], the context
    nanoGPT's generate() crops to. So the first window is scored at every position and each later window only
    at its last, where it sees a full context. (Scoring every position of every window would ask for two
    answers to one question: in "I love machine learning" a window starting at either space sees only " ".)
    Accuracy 1.0 on this data set means greedy generation from the first character recites the whole text.
    """
    tokenizer = CharTokenizer.from_text(cfg.text)
    ids = torch.tensor(tokenizer.encode(cfg.text))
    n = min(cfg.block_size, len(ids) - 1)
    x = torch.stack([ids[k : k + n] for k in range(len(ids) - n)])
    y = torch.stack([ids[k + 1 : k + n + 1] for k in range(len(ids) - n)])
    answer = torch.zeros_like(x, dtype=torch.bool)
    answer[0, :], answer[1:, -1] = True, True
    rows = Rows(x, y.masked_fill(~answer, -1), answer)
    return Dataset({"train": rows}, tokenizer, start=0, info={"task": "sentence", "text": cfg.text}, config=cfg)


def from_files(cfg: FilesConfig) -> Dataset:
    """The data set of the split files in cfg.folder."""
    from grokgpt.textfiles import read_split_files  # textfiles builds on this module

    ds = arithmetic(read_split_files(cfg.folder, cfg.p), cfg.p, cfg.tokens, cfg.loss_on)
    ds.config = cfg
    return ds


BUILDERS = {SentenceConfig: sentence, ModularConfig: modular, FilesConfig: from_files}


def build(cfg: DataConfig) -> Dataset:
    return BUILDERS[type(cfg)](cfg)


def config_to_dict(cfg: DataConfig) -> dict:
    return {"kind": type(cfg).__name__, **asdict(cfg)}


def config_from_dict(d: dict) -> DataConfig:
    """The inverse of config_to_dict."""
    kinds = {cls.__name__: cls for cls in BUILDERS}
    if d.get("kind") not in kinds:
        raise ValueError(f"unknown data config kind {d.get('kind')!r}")
    return kinds[d["kind"]](**{k: v for k, v in d.items() if k != "kind"})
