"""Answer prompts with a trained model: greedy (or sampled) completion, many prompts in one batch.

Prompts of the same token length are generated together; the results come back in the order given. Models that
were trained with an end mark ("\\n", the character tokenizer on arithmetic) stop there.
"""

from __future__ import annotations

import math
from collections import defaultdict

import pandas as pd
import torch

from grokgpt import data
from grokgpt.checkpoint import Checkpoint

END = "\n"
MIN_TEMPERATURE = 1e-6  # below it logits / temperature overflows to inf: use 0 for the likeliest token
MAX_NEW_TOKENS = 10_000  # tokens one command generates: far beyond any answer, and seconds, not years


def check_prompts(ckpt: Checkpoint, prompts: list[str]) -> None:
    """Raise ValueError for the first prompt the checkpoint cannot answer (empty, unknown token, bad operand)."""
    for prompt in prompts:
        if not prompt:
            raise ValueError("empty prompt: give at least one character")
        if ckpt.info.get("task") == "modular":
            data.check_prompt(prompt, ckpt.info["p"], ckpt.info["ops"])
        ckpt.tokenizer.encode(prompt)


def complete(
    ckpt: Checkpoint, prompts: list[str], steps: int | None = None, temperature: float = 0.0, seed: int = 0
) -> list[str]:
    """Each prompt followed by its completion of up to `steps` tokens (default: the task's answer length)."""
    if not (math.isfinite(temperature) and (temperature == 0 or temperature >= MIN_TEMPERATURE)):
        raise ValueError(
            f"--temperature must be 0 (the likeliest token) or a finite number of at least {MIN_TEMPERATURE:g}, "
            f"got {temperature}"
        )
    if not 0 <= seed <= data.MAX_SEED:
        raise ValueError(f"--seed must be from 0 to {data.MAX_SEED:,}, got {seed}")
    check_prompts(ckpt, prompts)
    if steps is None:
        steps = ckpt.info.get("answer_tokens")
        if steps is None:
            raise ValueError("give the number of tokens to generate (--steps)")
    if not 0 <= steps <= MAX_NEW_TOKENS:
        raise ValueError(f"--steps must be from 0 to {MAX_NEW_TOKENS:,}, got {steps}")
    model, tokenizer = ckpt.model, ckpt.tokenizer
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    by_length = defaultdict(list)
    for i, prompt in enumerate(prompts):
        by_length[len(tokenizer.encode(prompt))].append(i)
    stops = ckpt.info.get("task") == "modular" and tokenizer.kind == "char"
    out = [""] * len(prompts)
    for indices in by_length.values():
        idx = torch.tensor([tokenizer.encode(prompts[i]) for i in indices], device=device)
        new = model.generate(idx, steps, temperature=temperature, generator=generator)[:, idx.size(1) :]
        for i, ids in zip(indices, new.tolist(), strict=True):
            text = tokenizer.decode(ids)
            out[i] = prompts[i] + (text.split(END)[0] if stops else text)
    return out


def ask(ckpt: Checkpoint, prompt: str) -> str:
    """The model's completion of one prompt, or why it cannot answer it (one line): what 04's text box shows."""
    try:
        return complete(ckpt, [prompt.strip()])[0]
    except ValueError as err:
        return f"cannot answer: {err}"


def right_or_wrong(ckpt: Checkpoint, splits: dict[str, list[data.Equation]]) -> pd.DataFrame:
    """Every equation of the splits answered by a modular-arithmetic checkpoint in one batch: columns a, b, c (the
    true answer), split and right (the whole answer is c)."""
    rows = [(a, op, b, c, split) for split, eqs in splits.items() for a, op, b, c in eqs]
    texts = complete(ckpt, [f"{a}{op}{b}=" for a, op, b, _, _ in rows])
    right = [text == data.format_equation(a, op, b, c) for text, (a, op, b, c, _) in zip(texts, rows, strict=True)]
    return pd.DataFrame(
        {
            "a": [r[0] for r in rows],
            "b": [r[2] for r in rows],
            "c": [r[3] for r in rows],
            "split": [r[4] for r in rows],
            "right": right,
        }  # fmt: skip
    )
