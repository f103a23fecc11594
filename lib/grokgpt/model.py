"""A small GPT: the decoder-only transformer of nanoGPT, trimmed for tiny tasks.

Pre-LayerNorm blocks of causal self-attention (through `F.scaled_dot_product_attention`) and a GELU MLP,
learned position embeddings, optional weight tying. Names follow GPT-2 (`wte`, `wpe`, `h`, `ln_f`, `c_attn`,
`c_proj`) as in karpathy/nanoGPT `model.py`, so its readers feel at home.

One addition: `forward(..., start=k)` computes the *last* block only at positions >= k (its keys and values
still come from every position). Modular-arithmetic sequences carry their loss at one position, so this makes a
training step 35-40% cheaper with exactly the same gradients.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn as nn
from torch.nn import functional as F


@dataclass(frozen=True)
class GPTConfig:
    n_layer: int  # transformer blocks
    n_head: int  # attention heads per block
    n_embd: int  # embedding width, a multiple of n_head
    vocab_size: int | None = None  # from the data set's tokenizer (`for_data`): a GPT refuses None
    block_size: int | None = None  # longest input sequence in tokens, from the data set (`for_data`)
    dropout: float = 0.0  # 0 everywhere here: the grokking runs must not be regularised by noise
    bias: bool = True  # bias in Linear and LayerNorm layers
    tie_weights: bool = False  # share wte with lm_head (nanoGPT ties; the grokking papers do not)
    init: str = "gpt2"  # "gpt2": N(0, 0.02) as nanoGPT; "torch": PyTorch's defaults (embeddings N(0, 1))

    def __post_init__(self):
        for name in ("block_size", "vocab_size", "n_layer", "n_head", "n_embd"):
            value = getattr(self, name)
            if value is None and name in ("block_size", "vocab_size"):
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.init not in ("gpt2", "torch"):
            raise ValueError(f"init must be 'gpt2' or 'torch', got {self.init!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    def for_data(self, data) -> GPTConfig:
        """This shape with the vocabulary and block size of a data set (anything with vocab_size, block_size)."""
        return replace(self, vocab_size=data.vocab_size, block_size=data.block_size)


def set_seed(seed: int) -> None:
    """Seed every generator that touches a run (Python's and torch's, on every device): the one place seeds are set."""
    random.seed(seed)
    torch.manual_seed(seed)


# ----------------------------------------------------------------------------------------------------------------
# The blocks


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head = config.n_head
        self.dropout = config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # q, k, v for all heads
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, start: int = 0) -> torch.Tensor:
        """x: (B, T, C) -> (B, T - start, C): outputs for the queries at positions start..T-1."""
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        if start == 0:
            y = F.scaled_dot_product_attention(
                q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=True
            )
        else:
            # is_causal aligns the mask top-left when queries are fewer than keys; we need query i (at absolute
            # position start + i) to see keys 0..start + i, so the mask is spelled out.
            mask = torch.ones(T - start, T, dtype=torch.bool, device=x.device).tril(diagonal=start)
            y = F.scaled_dot_product_attention(
                q[:, :, start:], k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0
            )
        y = y.transpose(1, 2).contiguous().view(B, T - start, C)  # (B, T - start, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, start: int = 0) -> torch.Tensor:
        """x: (B, T, C) -> (B, T - start, C)."""
        x = x[:, start:] + self.attn(self.ln_1(x), start)
        return x + self.mlp(self.ln_2(x))


# ----------------------------------------------------------------------------------------------------------------
# The model


class GPT(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        if config.vocab_size is None or config.block_size is None:
            raise ValueError("GPTConfig needs vocab_size and block_size: take them from the data (config.for_data(ds))")
        self.config = config
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),
                wpe=nn.Embedding(config.block_size, config.n_embd),
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
            )
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        if config.tie_weights:
            self.lm_head.weight = self.transformer.wte.weight
        if config.init == "gpt2":
            # The "torch" init keeps PyTorch's defaults: embeddings N(0, 1), a weight norm ~50x larger. Large
            # initial weights are what make grokking's delay visible (Liu et al. 2022, "Omnigrok"): the network
            # first memorises, and weight decay needs time to shrink it towards the generalising solution.
            self.apply(self._init_weights)
            for name, param in self.named_parameters():  # GPT-2's scaled init of the residual projections
                if name.endswith("c_proj.weight"):
                    nn.init.normal_(param, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @classmethod
    def seeded(cls, config: GPTConfig, seed: int) -> GPT:
        """A freshly initialised model whose initialisation depends on seed alone."""
        set_seed(seed)
        return cls(config)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None, start: int = 0
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Next-token logits for the positions start..T-1, and their mean cross-entropy if targets are given.

        idx: (B, T) token ids, T <= block_size; targets: (B, T) ids, -1 where no loss is taken.
        Returns logits (B, T - start, vocab_size) and the loss (a scalar) or None.
        """
        B, T = idx.shape
        if T > self.config.block_size:
            raise ValueError(f"sequence of length {T} exceeds block_size {self.config.block_size}")
        if not 0 <= start < T:
            raise ValueError(f"start must be in [0, {T}), got {start}")
        pos = torch.arange(T, dtype=torch.long, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))  # (B, T, C)
        *body, last = self.transformer.h
        for block in body:
            x = block(x)
        x = self.transformer.ln_f(last(x, start))  # (B, T - start, C)
        logits = self.lm_head(x)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets[:, start:].reshape(-1), ignore_index=-1)
        return logits, loss

    @torch.no_grad()
    def generate(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        temperature: float = 0.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Extend idx (B, T) by max_new_tokens tokens -> (B, T + max_new_tokens).

        temperature 0 picks the most likely token (greedy, deterministic); otherwise tokens are sampled from the
        softmax at that temperature, restricted to the top_k most likely when top_k is given. The context is
        cropped to the last block_size tokens, as in nanoGPT.
        """
        for _ in range(max_new_tokens):
            idx_cond = idx[:, -self.config.block_size :]
            logits, _ = self(idx_cond, start=idx_cond.size(1) - 1)
            logits = logits[:, -1, :]  # (B, vocab_size)
            if temperature == 0.0:
                idx_next = logits.argmax(dim=-1, keepdim=True)
            else:
                logits = logits / temperature
                if top_k is not None:
                    v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                    logits[logits < v[:, [-1]]] = -float("inf")
                idx_next = torch.multinomial(F.softmax(logits, dim=-1), num_samples=1, generator=generator)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx
