"""Unimodal tabular baselines of SurvPGC Table 1: MLP / SNN on the genes, on the clinical
covariates and on the clinical prompt embeddings, with a discrete-time head."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

import torch
from torch import nn

from survlib.models.fusion._shared import _check_width
from survlib.models.omics import SurvivalMLP

__all__ = ["ClinicalMLP", "ClinicalPromptMLP", "GenomicMLP"]


class _TabularMLP(nn.Module):
    """A :class:`~survlib.models.omics.SurvivalMLP` with a discrete-time head."""

    def __init__(
        self,
        n_features: int,
        n_bins: int,
        hidden: Sequence[int],
        dropout: float,
        activation: Literal["relu", "selu"],
    ) -> None:
        super().__init__()
        self.n_features = n_features
        self.mlp = SurvivalMLP(
            n_features, n_bins, hidden=tuple(hidden), dropout=dropout, activation=activation
        )

    def _logits(self, x: torch.Tensor, name: str) -> torch.Tensor:
        _check_width(x, self.n_features, name)
        out = self.mlp(x)
        return out.unsqueeze(-1) if out.ndim == 1 else out


class GenomicMLP(_TabularMLP):
    """MLP (``activation="relu"``) or SNN (``"selu"`` + alpha-dropout) on the gene vector."""

    inputs: ClassVar[tuple[str, ...]] = ("genes",)

    def __init__(
        self,
        n_genes: int,
        n_bins: int,
        hidden: Sequence[int] = (256, 256),
        dropout: float = 0.25,
        activation: Literal["relu", "selu"] = "relu",
    ) -> None:
        super().__init__(n_genes, n_bins, hidden, dropout, activation)

    def forward(self, genes: torch.Tensor) -> torch.Tensor:
        return self._logits(genes, "genes")


class ClinicalMLP(_TabularMLP):
    """MLP or SNN on the standardised clinical covariates ``clinical [B, C]``."""

    inputs: ClassVar[tuple[str, ...]] = ("clinical",)

    def __init__(
        self,
        n_clinical: int,
        n_bins: int,
        hidden: Sequence[int] = (32,),
        dropout: float = 0.25,
        activation: Literal["relu", "selu"] = "relu",
    ) -> None:
        super().__init__(n_clinical, n_bins, hidden, dropout, activation)

    def forward(self, clinical: torch.Tensor) -> torch.Tensor:
        return self._logits(clinical, "clinical")


class ClinicalPromptMLP(_TabularMLP):
    """MLP or SNN on the clinical prompt embeddings ``clinical_tokens [B, F, D_t]``, flattened
    to ``F * D_t`` features (the "MLP (Clinic)" / "SNN (Clinic)" rows of SurvPGC Table 1)."""

    inputs: ClassVar[tuple[str, ...]] = ("clinical_tokens",)

    def __init__(
        self,
        n_fields: int,
        d_text: int,
        n_bins: int,
        hidden: Sequence[int] = (256,),
        dropout: float = 0.25,
        activation: Literal["relu", "selu"] = "relu",
    ) -> None:
        super().__init__(n_fields * d_text, n_bins, hidden, dropout, activation)
        self.n_fields, self.d_text = n_fields, d_text

    def forward(self, clinical_tokens: torch.Tensor) -> torch.Tensor:
        if clinical_tokens.ndim != 3 or clinical_tokens.shape[1:] != (self.n_fields, self.d_text):
            raise ValueError(
                f"clinical_tokens must have shape [B, {self.n_fields}, "
                f"{self.d_text}], got {tuple(clinical_tokens.shape)}"
            )
        return self._logits(clinical_tokens.flatten(1), "clinical_tokens")
