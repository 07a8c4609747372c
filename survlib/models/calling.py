"""The bag models' calling convention, in one place.

A model declares the :class:`~survlib.data.batch.SurvivalBatch` fields its ``forward`` takes in
its class attribute ``inputs`` (in order). Then:

- :func:`model_inputs`: those fields of a batch, checked;
- :func:`predict_logits`: ``model(*model_inputs(model, batch))``, the hazard logits;
- :func:`predict_risk`: the risk score of chosen patients (higher = worse), whatever the head:
  discrete-time logits, a Cox log hazard or an output with a ``risk`` attribute (AMKD);
- :func:`discrete_loss`: the discrete-time NLL, a ``loss_fn`` for :func:`survlib.train.fit`;
- :func:`count_parameters`.

Models fitted on an AnnData (``ScSurvival``, the single-cell baselines) follow scvi-tools
instead: ``model.predict_risk(adata)`` returns one row per patient with a ``"risk"`` column.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from survlib.data.batch import SurvivalBatch
from survlib.survival import discrete_risk, nll_discrete

__all__ = ["count_parameters", "discrete_loss", "model_inputs", "predict_logits", "predict_risk"]


def model_inputs(model: nn.Module, batch: SurvivalBatch) -> list[torch.Tensor]:
    """``[getattr(batch, k) for k in model.inputs]``.

    Raises:
        ValueError: the model has no ``inputs`` attribute, or a field it needs is ``None``.
    """
    names = getattr(model, "inputs", None)
    if not names:
        raise ValueError(
            f"{type(model).__name__} has no 'inputs' attribute naming the "
            f"SurvivalBatch fields its forward takes"
        )
    args = []
    for k in names:
        v = getattr(batch, k)
        if v is None:
            raise ValueError(f"{type(model).__name__} needs batch.{k}, which is None")
        args.append(v)
    return args


def predict_logits(model: nn.Module, batch: SurvivalBatch) -> torch.Tensor:
    """``model(*[getattr(batch, k) for k in model.inputs])``: hazard logits ``[B, n_bins]``.

    Raises:
        ValueError: the model has no ``inputs`` attribute, or a field it needs is ``None``.
    """
    return model(*model_inputs(model, batch))


def discrete_loss(model: nn.Module, batch: SurvivalBatch, alpha: float = 0.0) -> torch.Tensor:
    """Discrete-time NLL of the model's logits on ``batch``; a ``loss_fn`` for
    :func:`survlib.train.fit`. A model made of separate members (``separate_losses``, e.g.
    :class:`~survlib.models.fusion.ClinicalLateFusion`) gets the sum of its members' own NLLs."""
    if hasattr(model, "separate_losses"):
        return torch.stack(list(model.separate_losses(batch, alpha=alpha).values())).sum()
    return nll_discrete(predict_logits(model, batch), batch.bin_index, batch.event, alpha=alpha)


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of ``model``."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only))


def predict_risk(
    model: nn.Module,
    data: SurvivalBatch,
    indices: Sequence[int] | np.ndarray | None = None,
    *,
    batch_size: int = 128,
) -> np.ndarray:
    r"""Risk scores ``float64[len(indices)]`` of patients of ``data`` (eval mode, no gradients).

    The score follows the model's head: an output with a ``risk`` attribute (AMKD) or one value
    per patient (a Cox log hazard) is the risk itself; discrete-time logits ``[B, K > 1]`` give
    SurvPath's :math:`r = -\sum_k S_k` (:func:`survlib.survival.discrete_risk`). Higher = worse.

    Args:
        model: a bag model with ``inputs``.
        data: a batch holding (at least) the patients asked for.
        indices: rows of ``data`` (default: all).
        batch_size: patients per forward pass.
    """
    model.eval()
    idx = np.arange(len(data)) if indices is None else np.asarray(indices)
    out = []
    with torch.no_grad():
        for start in range(0, len(idx), batch_size):
            o = model(*model_inputs(model, data.index(idx[start : start + batch_size])))
            r = o.risk if hasattr(o, "risk") else o
            if r.dim() == 2 and r.shape[1] > 1:
                out.append(torch.from_numpy(discrete_risk(r.detach().cpu())).double())
            else:
                out.append(r.reshape(-1).double().cpu())
    return torch.cat(out).numpy() if out else np.zeros(0)
