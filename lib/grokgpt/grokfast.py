"""Grokfast's EMA gradient filter (Lee et al. 2024, "Grokfast: Accelerated Grokking by Amplifying Slow Gradients").

Called between `loss.backward()` and `optimizer.step()`: it keeps an exponential moving average of each gradient
(the slow component) and adds lamb times that average to the gradient, amplifying the slow directions that the
paper links to generalisation. Follows ironjr/grokfast `gradfilter_ema`.
"""

from __future__ import annotations

import torch
from torch import nn


def gradfilter_ema(
    model: nn.Module, ema: dict[str, torch.Tensor] | None = None, alpha: float = 0.98, lamb: float = 2.0
) -> dict[str, torch.Tensor]:
    """Update ema ← alpha·ema + (1 − alpha)·grad, then grad ← grad + lamb·ema, in place on model's gradients.

    Pass the returned dict back in at the next step (None at the first: the average starts at the gradient).
    With lamb = 0 the gradients are left unchanged.
    """
    params = {name: p for name, p in model.named_parameters() if p.grad is not None}
    if ema is None:
        ema = {name: p.grad.detach().clone() for name, p in params.items()}
    for name, p in params.items():
        ema[name].mul_(alpha).add_(p.grad.detach(), alpha=1 - alpha)
        p.grad.add_(ema[name], alpha=lamb)
    return ema
