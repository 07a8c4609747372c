"""Masks of padded bags: validation, zeroed padding, the masked mean and the one masked softmax.

Every layer of :mod:`survlib.models` that pools or attends over patches goes through these, so
padded patches change nothing.
"""

from __future__ import annotations

import torch

__all__ = ["check_mask", "masked_mean", "masked_softmax", "zero_padding"]


def check_mask(patches: torch.Tensor, patch_mask: torch.Tensor) -> None:
    """Validate a padded bag batch: shapes agree, mask is bool, every patient has a real patch.

    Raises:
        ValueError: naming the problem (and the first patient without a real patch).
    """
    if patches.ndim != 3:
        raise ValueError(f"patches must have shape [B, N, D], got {tuple(patches.shape)}")
    if patch_mask.shape != patches.shape[:2]:
        raise ValueError(
            f"patch_mask must have shape {tuple(patches.shape[:2])} (= patches "
            f"[B, N]), got {tuple(patch_mask.shape)}"
        )
    if patch_mask.dtype != torch.bool:
        raise ValueError(f"patch_mask must be bool (True = real patch), got {patch_mask.dtype}")
    empty = (~patch_mask.any(dim=1)).nonzero().flatten()
    if empty.numel():
        raise ValueError(
            f"patient(s) {empty[:5].tolist()} of the batch have no real patch "
            f"(patch_mask all False); every bag needs at least one patch"
        )


def zero_padding(patches: torch.Tensor, patch_mask: torch.Tensor) -> torch.Tensor:
    """``patches`` with padded rows set to exactly 0 (so NaN or garbage padding is harmless).

    Also validates the batch (:func:`check_mask`). A batch without padding is returned as is
    (no copy of a possibly large ``[B, N, D]`` tensor).
    """
    check_mask(patches, patch_mask)
    if bool(patch_mask.all()):
        return patches
    return patches.masked_fill(~patch_mask.unsqueeze(-1), 0.0)


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    r"""Mean over the real rows: :math:`\bar x_b = \sum_i m_{bi} x_{bi} / \sum_i m_{bi}`.

    Args:
        x: ``[B, N, D]``.
        mask: ``[B, N]`` bool (``True`` = real row); each row of the batch needs one real entry.

    Returns:
        ``[B, D]``.
    """
    m = mask.to(x.dtype).unsqueeze(-1)
    return (x * m).sum(dim=1) / m.sum(dim=1).clamp_min(1.0)


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None, dim: int = -1) -> torch.Tensor:
    """Softmax of ``scores`` along ``dim`` with masked-out entries (``mask == False``) at exactly 0.

    ``mask`` broadcasts against ``scores``. Every softmax row needs at least one kept entry.
    """
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=dim)
