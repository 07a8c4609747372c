"""Helpers shared by the fusion models: input-width checks and per-patch attention maps."""

from __future__ import annotations

import torch


def _check_width(x: torch.Tensor, width: int, name: str) -> None:
    if x.shape[-1] != width:
        raise ValueError(f"{name} has width {x.shape[-1]}, the model was built for {width}")


def _per_patch(weights: torch.Tensor) -> torch.Tensor:
    """``[B, H, n_queries, N]`` attention -> per-patch cumulative attention ``[B, N]``: the sum
    over queries ("cumulative attention values", SurvPGC Fig. 4) averaged over heads."""
    return weights.sum(dim=2).mean(dim=1)
