"""The deployable student's cost: floating-point operations of one forward pass."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["student_flops"]


def student_flops(
    model: nn.Module, d_patch: int, n_patches: int, device: torch.device | str = "cpu"
) -> int:
    """Floating-point operations of one forward pass on one bag of ``n_patches`` patches.

    Counted by :class:`torch.utils.flop_counter.FlopCounterMode` (a multiply-add = 2 FLOPs;
    matrix products and attention are counted, element-wise ops are not), on a random bag.
    """
    from torch.utils.flop_counter import FlopCounterMode

    was_training = model.training
    model.eval()
    x = torch.randn(1, int(n_patches), int(d_patch), device=device)
    mask = torch.ones(1, int(n_patches), dtype=torch.bool, device=device)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(x, mask)
    model.train(was_training)
    return int(counter.get_total_flops())
