"""The base class of the fusion models: ``forward = head(fused vector)``, with one declared order
of the fused vector (which integrated gradients reuse)."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

__all__ = ["FusionModel"]


class FusionModel(nn.Module):
    r"""Base class of the models whose decision layer reads a concatenated ("fused") vector.

    A subclass defines ``inputs``, ``fusion_parts`` (names and widths, **in concatenation
    order**), ``modality_groups`` (modality -> part names, for attribution tables), a method
    ``fused_parts(*inputs) -> dict[name, Tensor[B, width]]``, a ``head`` module, and
    ``forward(*inputs)`` returning ``self.head(self.fused(*inputs))``. :meth:`fused`
    concatenates the parts in ``fusion_parts`` order; training and
    :func:`survlib.explain.modality_attribution` both go through it, so the attribution of
    each slice always belongs to the part it was trained as (the released SurvPGC IG script
    concatenates the parts in a different order than its training code).
    """

    inputs: ClassVar[tuple[str, ...]] = ()
    fusion_parts: tuple[tuple[str, int], ...]
    modality_groups: dict[str, tuple[str, ...]]
    head: nn.Module

    def fused_parts(self, *inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def fused(self, *inputs: torch.Tensor) -> torch.Tensor:
        """The vector that enters the decision layer, ``[B, sum of part widths]``."""
        parts = self.fused_parts(*inputs)
        out = []
        for name, width in self.fusion_parts:
            t = parts[name]
            if t.shape[-1] != width:
                raise RuntimeError(
                    f"{type(self).__name__}: fused part {name!r} has width "
                    f"{t.shape[-1]}, declared {width}"
                )
            out.append(t)
        return torch.cat(out, dim=-1)

    def part_slices(self) -> dict[str, slice]:
        """Column slice of each part in the fused vector."""
        out, start = {}, 0
        for name, width in self.fusion_parts:
            out[name] = slice(start, start + width)
            start += width
        return out
