"""The operations of modular arithmetic, one record each: everything else about an operation derives from here.

An operation's record gives its symbol (as written in an equation, `3/5=20`), its name in run names (`div_p97_...`),
its label and word in the report and messages, the function c(a, b, p), whether b must be nonzero (b is
inverted, which needs a prime modulus) and the group whose Fourier basis fits its network (Nanda et al. 2023):
the residues 0..p-1 (Z/p) for + and −, the discrete logarithms of the nonzero residues (Z/(p − 1)) for /, since
a / b = g^(log a − log b). The equation table (`data.table`), the text format's pattern (`textfiles`), run names
(`runs.run_name`) and the Fourier order (`fourier.residue_order`) read these records.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    symbol: str  # as written in an equation: a{symbol}b=c
    name: str  # in run names: add_p97_..., addsub_p113_...
    word: str  # in messages: "division needs a prime modulus"
    label: str  # as the report prints it: "a / b"
    apply: Callable[[int, int, int], int]  # c from a, b and the modulus p
    nonzero_b: bool  # b runs over 1..p-1 (it is inverted: p must be prime), else over 0..p-1
    fourier: str  # the basis its network's embedding is read in: "residues" (Z/p) or "log" (Z/(p-1))


OPERATIONS = {
    op.symbol: op
    for op in (
        Operation("+", "add", "addition", "a + b", lambda a, b, p: (a + b) % p, False, "residues"),
        Operation("-", "sub", "subtraction", "a − b", lambda a, b, p: (a - b) % p, False, "residues"),
        Operation("/", "div", "division", "a / b", lambda a, b, p: (a * pow(b, -1, p)) % p, True, "log"),  # a · b⁻¹
    )
}
SYMBOLS = "".join(OPERATIONS)  # "+-/": this order is the character alphabet's (data.ARITH_CHARS), so it stays
SYMBOL = f"[{re.escape(SYMBOLS)}]"  # a regular expression for any one symbol


def label(op: str, p: int | None = None) -> str:
    """How the report names an operation (and its modulus): "a / b", "a / b mod 97"; for several, "a + b, a − b"."""
    text = ", ".join(OPERATIONS[o].label for o in op)
    return text if p is None else f"{text} mod {p}"
