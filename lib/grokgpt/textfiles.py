"""The data sets' text format: one equation a line (`12+85=0`, `3/5=20`), in `train_*.txt`, `val_*.txt` and
`test_*.txt`; and the sentence files 01 learns from. Reading names the file and line of anything wrong; writing
replaces a folder's split files as one set (`store.replace_files`).
"""

from __future__ import annotations

import re
from pathlib import Path

from grokgpt.data import DATA_DIR, OPS, SPLITS, Equation, check_modulus, check_splits, format_equation
from grokgpt.operations import OPERATIONS, SYMBOL
from grokgpt.store import output, replace_files

EQUATION = re.compile(rf"^(\d+)({SYMBOL})(\d+)=(\d+)$")


def read_text(path: str | Path) -> str:
    """A text to learn from a file, without its trailing newline; ValueError if there is none."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no text file {path}")
    text = read_file_text(path).rstrip("\n")
    if not text:
        raise ValueError(f"{path} is empty: give it the sentence to learn")
    return text


def read_file_text(path: str | Path) -> str:
    """A text file's contents, UTF-8 with or without a byte-order mark; ValueError naming the file if it is not
    text."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a UTF-8 text file") from None


def read_equations(path: str | Path, p: int | None = None) -> list[Equation]:
    """Read one equation a line (`12+85=0`). A malformed line, or with p given a line that is not true mod p,
    raises ValueError naming the file and the line."""
    path = Path(path)
    equations = []
    for number, line in enumerate(read_file_text(path).splitlines(), start=1):
        match = EQUATION.match(line.strip())
        if not match:
            raise ValueError(f"{path}:{number}: not an equation of the form a+b=c: {line!r}")
        a, op, b, c = int(match[1]), match[2], int(match[3]), int(match[4])
        if p is not None and max(a, b) > p:  # the seed's protocol draws operands from 0..p: p itself is kept
            raise ValueError(f"{path}:{number}: {line.strip()} has an operand above the modulus {p}")
        if p is not None and (OPERATIONS[op].nonzero_b and b % p == 0 or c != OPS[op](a, b, p)):
            raise ValueError(f"{path}:{number}: {line.strip()} is not true mod {p}")
        equations.append((a, op, b, c))
    return equations


def read_split_files(directory: str | Path, p: int | None = None) -> dict[str, list[Equation]]:
    """Read train_*.txt, val_*.txt and test_*.txt (those present) from a directory, checked against p if given."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"no data directory {directory}")
    if p is not None:
        check_modulus(p, "+-")
    splits = {}
    for split in SPLITS:
        files = sorted(directory.glob(f"{split}_*.txt"))
        if len(files) > 1:
            raise ValueError(f"{directory} holds several {split}_*.txt files: {', '.join(f.name for f in files)}")
        if files:
            splits[split] = read_equations(files[0], p)
            if not splits[split]:  # an empty split cannot be evaluated
                raise ValueError(f"{files[0]} holds no equations")
    if "train" not in splits:
        raise ValueError(f"{directory} has no train_*.txt file")
    return splits


def split_files(directory: Path) -> list[Path]:
    """The split files in directory: `{split}_*.txt`."""
    return [path for split in SPLITS for path in sorted(Path(directory).glob(f"{split}_*.txt"))]


def write_split_files(splits: dict[str, list[Equation]], directory: str | Path, name: str) -> list[Path]:
    """Write `{split}_{name}.txt` files, one equation a line, in place of the split files already in directory,
    as one set (store.replace_files): a failure leaves the previous set, and a split the new set lacks leaves
    no file of the old one behind. Returns the paths."""
    check_splits(splits)
    directory = Path(directory)
    texts = {
        directory / f"{split}_{name}.txt": "".join(format_equation(*e) + "\n" for e in equations)
        for split, equations in splits.items()
    }
    return replace_files(texts, old=split_files(directory))


def save_splits(splits: dict[str, list[Equation]], name: str) -> list[Path]:
    """Write the splits as data/<name>/{split}_<name>.txt under this process's output (scratch/, or the project
    when the pipeline publishes); returns the paths."""
    return write_split_files(splits, output() / DATA_DIR / name, name)
