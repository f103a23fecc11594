"""Tokenizers: characters (the seed report's choice) and one token per residue (Power et al. 2022).

Both turn text into token ids and back, and serialise to a plain dict that a checkpoint stores, so a checkpoint
answers prompts on its own. `from_dict` rebuilds either kind.

    >>> tok = NumberTokenizer(p=97, ops="/")
    >>> tok.encode("3/5=")          # residues are their own ids; then the operators, then "="
    [3, 97, 5, 98]
    >>> tok.decode([3, 97, 5, 98, 20])
    '3/5=20'
"""

from __future__ import annotations

import re
from collections.abc import Sequence


class CharTokenizer:
    """One token per character, over a fixed alphabet (sorted, so the ids do not depend on text order)."""

    kind = "char"

    def __init__(self, chars: Sequence[str]):
        self.chars = sorted(set(chars))
        if not self.chars:
            raise ValueError("a character tokenizer needs at least one character")
        self.stoi = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        return cls(list(text))

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        unknown = sorted(set(text) - set(self.stoi))
        if unknown:
            raise ValueError(
                f"character(s) {', '.join(map(repr, unknown))} not in the model's vocabulary {''.join(self.chars)!r}"
            )
        return [self.stoi[c] for c in text]

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(self.chars[i] for i in ids)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "chars": "".join(self.chars)}


class NumberTokenizer:
    """Ids 0..p-1 are the residues, then one id per operator, then "=" (vocab_size = p + len(ops) + 1)."""

    kind = "number"

    def __init__(self, p: int, ops: str):
        if p < 2:
            raise ValueError(f"the modulus must be at least 2, got {p}")
        self.p = p
        self.ops = "".join(sorted(set(ops)))
        self.symbols = [*self.ops, "="]

    @property
    def vocab_size(self) -> int:
        return self.p + len(self.symbols)

    def encode(self, text: str) -> list[int]:
        ids = []
        for number, symbol in re.findall(r"(\d+)|(\S)", text):
            if number:
                if int(number) >= self.p:
                    raise ValueError(f"{number} is not a residue mod {self.p} (operands must be < {self.p})")
                ids.append(int(number))
            elif symbol in self.symbols:
                ids.append(self.p + self.symbols.index(symbol))
            else:
                raise ValueError(f"{symbol!r} is not a token of this model (it knows digits, {' '.join(self.symbols)})")
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(str(i) if i < self.p else self.symbols[i - self.p] for i in ids)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "p": self.p, "ops": self.ops}


Tokenizer = CharTokenizer | NumberTokenizer


def from_dict(d: dict) -> Tokenizer:
    """Rebuild a tokenizer from its `to_dict()`."""
    if d.get("kind") == "char":
        return CharTokenizer(list(d["chars"]))
    if d.get("kind") == "number":
        return NumberTokenizer(p=int(d["p"]), ops=d["ops"])
    raise ValueError(f"unknown tokenizer {d.get('kind')!r}")
