r"""The clinical integration approaches a / b / c of SurvPGC Fig. 1 and Table 4 (clinic +
pathology): late fusion of separate models' risks, concatenation, and a covariate token that
co-attends with the patches."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from survlib.models.blocks import (
    CoAttentionFusion,
    DiscreteHead,
    FusionModel,
    SNNBlock,
    SurvivalBatch,
    masked_mean,
    zero_padding,
)
from survlib.models.fusion._shared import _check_width, _per_patch
from survlib.models.omics import SurvivalMLP
from survlib.survival import nll_discrete

__all__ = ["ClinicalConcatFusion", "ClinicalLateFusion", "ClinicalProjectionFusion"]


class _SlideMean(nn.Module):
    """Pathology branch of approaches a/b/c: ``Linear -> ReLU -> Dropout`` per patch, then the
    mean over real patches (as the released ``MLPPC_concat``)."""

    def __init__(self, d_patch: int, d: int, dropout: float) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(d_patch, d), nn.ReLU(), nn.Dropout(dropout))

    def forward(self, patches: torch.Tensor, patch_mask: torch.Tensor) -> torch.Tensor:
        return masked_mean(self.encoder(zero_padding(patches, patch_mask)), patch_mask)


class _RiskFusion(nn.Module):
    r"""Late-fusion "head": a weighted sum of the two members' cumulative hazards per bin,

    .. math:: \log S^{\text{fused}}_k = w_P \log S^{P}_k + w_C \log S^{C}_k
              \iff 1 - h^{\text{fused}}_k = (1-h^{P}_k)^{w_P}\,(1-h^{C}_k)^{w_C},

    with two weights :math:`w = \mathrm{softplus}(10\,\rho) > 0` (initially 1/2 each: the
    geometric mean of the two survival curves; the factor 10 lets two scalars move at ten
    times the members' learning rate), returned as the hazard logits
    :math:`\log h_k - \log(1-h_k)` of the fused curve. Like a Cox model fitted on two risk
    scores, the weights set how much each member's risk counts; they are fitted on the
    members' *detached* outputs (:meth:`ClinicalLateFusion.separate_losses`)."""

    def __init__(self, n_bins: int) -> None:
        super().__init__()
        self.n_bins = n_bins
        self.raw_weight = nn.Parameter(torch.full((2,), math.log(math.expm1(0.5)) / 10.0))

    @property
    def weights(self) -> torch.Tensor:
        """``[w_P, w_C]``."""
        return F.softplus(10.0 * self.raw_weight)

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        # log(1 - h) = logsigmoid(-logit); the fused log(1 - h) is their weighted sum (< 0)
        w = self.weights
        log_1mh = w[0] * F.logsigmoid(-v[:, : self.n_bins]) + w[1] * F.logsigmoid(
            -v[:, self.n_bins :]
        )
        log_1mh = log_1mh.clamp(max=-1e-7)
        return torch.log(-torch.expm1(log_1mh)) - log_1mh


class ClinicalLateFusion(FusionModel):
    r"""Approach a (late fusion, SurvPGC Fig. 1a: "constructing separate models for clinical
    characteristics and other modalities, followed by fusion of the output risk scores").

    Two **separate** models that share nothing: a pathology model :math:`f_P` (mean of
    encoded patches -> linear hazard layer) and a clinical model :math:`f_C` (an MLP on the
    standardised covariates). Each is trained on its *own* discrete-time NLL
    (:meth:`separate_losses`; :func:`survlib.models.fit_discrete_model` and
    :func:`survlib.models.discrete_loss` sum them, so each member's gradient is its own loss's
    gradient and, Adam being per-parameter, the two train exactly as they would alone on the
    same batches; tested). Only the prediction combines them: :class:`_RiskFusion` weighs the
    two cumulative hazards with two positive weights fitted, on the same batches, to the
    members' detached predictions (a third loss that reaches only the two weights) — the
    fusion of two risk scores a Cox model on them would do. Without the weights (a plain
    average) a member whose risks spread more dominates the ranking whatever its accuracy.

    **Inferred:** the paper's Supplementary Section 5 (its description of approach a) is not
    available to us and the released code has no approach-a model, so the members' design and
    the fusion rule are ours. One simplification: the members share the epoch selected by
    early stopping (the fused validation loss), where fully separate runs would each stop on
    their own.

    Args:
        d_patch: patch width. n_clinical: number of standardised covariates. n_bins: bins.
        d: slide embedding width (256). d_clinic: clinical MLP hidden width (32). dropout: rate.
    """

    inputs: ClassVar[tuple[str, ...]] = ("patches", "patch_mask", "clinical")

    def __init__(
        self,
        d_patch: int,
        n_clinical: int,
        n_bins: int,
        d: int = 256,
        d_clinic: int = 32,
        dropout: float = 0.25,
    ) -> None:
        super().__init__()
        self.n_clinical = n_clinical
        self.slide = _SlideMean(d_patch, d, dropout)
        self.pathology_head = nn.Linear(d, n_bins)
        self.clinic = SurvivalMLP(n_clinical, n_bins, hidden=(d_clinic,), dropout=dropout)
        self.fusion_parts = (("pathology", n_bins), ("clinic", n_bins))
        self.modality_groups = {"Pathology": ("pathology",), "Clinic": ("clinic",)}
        self.head = _RiskFusion(n_bins)

    def member_parameters(self) -> dict[str, list[nn.Parameter]]:
        """The parameters of each member model and of the fusion: ``{"pathology": [...],
        "clinic": [...], "fusion": [the two weights]}``."""
        return {
            "pathology": [*self.slide.parameters(), *self.pathology_head.parameters()],
            "clinic": list(self.clinic.parameters()),
            "fusion": list(self.head.parameters()),
        }

    def fused_parts(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, clinical: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        _check_width(clinical, self.n_clinical, "clinical")
        return {
            "pathology": self.pathology_head(self.slide(patches, patch_mask)),
            "clinic": self.clinic(clinical),
        }

    def forward(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, clinical: torch.Tensor
    ) -> torch.Tensor:
        return self.head(self.fused(patches, patch_mask, clinical))

    def separate_losses(self, batch: SurvivalBatch, alpha: float = 0.0) -> dict[str, torch.Tensor]:
        """Each member's own discrete-time NLL on ``batch``, and the fusion weights' NLL on the
        members' detached outputs (the training objective is the sum: no gradient crosses from
        one member to the other, and the fusion term reaches only the weights)."""
        parts = self.fused_parts(batch.patches, batch.patch_mask, batch.clinical)
        out = {
            name: nll_discrete(logits, batch.bin_index, batch.event, alpha=alpha)
            for name, logits in parts.items()
        }
        fused = self.head(torch.cat([parts["pathology"], parts["clinic"]], dim=1).detach())
        out["fusion"] = nll_discrete(fused, batch.bin_index, batch.event, alpha=alpha)
        return out


class ClinicalConcatFusion(FusionModel):
    r"""Approach b (mixed fusion, Fig. 1b): the standardised covariates :math:`c \in
    \mathbb{R}^{C}` are concatenated to the slide embedding :math:`h_P \in \mathbb{R}^d`,
    :math:`\hat y = \mathrm{MLP}([h_P; c])` ("a dimensionality gap that diminishes the impact
    of clinical information": :math:`C \ll d`).

    Args: as :class:`ClinicalLateFusion` (no ``d_clinic``).
    """

    inputs: ClassVar[tuple[str, ...]] = ("patches", "patch_mask", "clinical")

    def __init__(
        self, d_patch: int, n_clinical: int, n_bins: int, d: int = 256, dropout: float = 0.25
    ) -> None:
        super().__init__()
        self.n_clinical = n_clinical
        self.slide = _SlideMean(d_patch, d, dropout)
        self.fusion_parts = (("pathology", d), ("clinic", n_clinical))
        self.modality_groups = {"Pathology": ("pathology",), "Clinic": ("clinic",)}
        self.head = DiscreteHead(d + n_clinical, n_bins, d_hidden=d // 4)

    def fused_parts(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, clinical: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        _check_width(clinical, self.n_clinical, "clinical")
        return {"pathology": self.slide(patches, patch_mask), "clinic": clinical}

    def forward(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, clinical: torch.Tensor
    ) -> torch.Tensor:
        return self.head(self.fused(patches, patch_mask, clinical))


class ClinicalProjectionFusion(FusionModel):
    r"""Approach c (intermediate fusion, Fig. 1c: "encoding low-dimensional clinical data into
    high-dimensional embeddings and fusing with other modalities"), as the released
    ``models/model_SurvPC.py`` (modality ``survpc``) builds it: the standardised covariates
    :math:`c \in \mathbb{R}^{C}` are encoded by a two-layer SNN into **one** clinical token
    :math:`x_C = \mathrm{SNN}(\mathrm{SNN}(c)) \in \mathbb{R}^{1\times d}`, the patches are
    projected linearly, :math:`X_P = x W_P`, and the token co-attends with the patches through
    one :class:`~survlib.models.blocks.CoAttentionFusion` path (the token attends to itself and
    to every patch; the patches attend to the token; no patch-patch attention), then
    :math:`[\bar X_{C\to P}; \bar X_{P\to C}]` enters the hazard layer. The difference from
    :class:`SurvPC` is the clinical input: numbers through an SNN, one token, instead of
    prompt embeddings, one token per field.

    **Inferred from the released code** (the paper describes approach c in its unavailable
    Supplementary Section 5): the SNN encoder (256 -> 256, ELU, alpha-dropout 0.25), the
    single token, and the reuse of the co-attention layer (head width ``d // 2``, one head).
    The released model reads 24 clinical numbers; ours reads the chapter's covariate design
    matrix.

    Args: as :class:`ClinicalConcatFusion`; ``dropout`` is the feed-forward dropout (0.1).
    """

    inputs: ClassVar[tuple[str, ...]] = ("patches", "patch_mask", "clinical")

    def __init__(
        self, d_patch: int, n_clinical: int, n_bins: int, d: int = 256, dropout: float = 0.1
    ) -> None:
        super().__init__()
        self.n_clinical = n_clinical
        self.clinic_encoder = nn.Sequential(SNNBlock(n_clinical, d, 0.25), SNNBlock(d, d, 0.25))
        self.patch_projection = nn.Linear(d_patch, d)
        self.clinic_path = CoAttentionFusion(d, d // 2, dropout=dropout)
        h = self.clinic_path.d_out
        self.fusion_parts = (("C->P", h), ("P->C", h))
        self.modality_groups = {
            "Clinic (covariate token)": ("C->P",),
            "Pathology (patch tokens)": ("P->C",),
        }
        self.head = DiscreteHead(2 * h, n_bins, d_hidden=d // 4)

    def clinical_token(self, clinical: torch.Tensor) -> torch.Tensor:
        """The covariates encoded into one token, ``[B, 1, d]``."""
        _check_width(clinical, self.n_clinical, "clinical")
        return self.clinic_encoder(clinical).unsqueeze(1)

    def fused_parts(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, clinical: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        x_p = self.patch_projection(zero_padding(patches, patch_mask))
        c_bar, pc_bar, _ = self.clinic_path(self.clinical_token(clinical), x_p, patch_mask)
        return {"C->P": c_bar, "P->C": pc_bar}

    def forward(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, clinical: torch.Tensor
    ) -> torch.Tensor:
        return self.head(self.fused(patches, patch_mask, clinical))

    def attention(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, clinical: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """``{"clinic->pathology": [B, N]}``: the clinical token's softmax weights on each
        patch (0 on padding)."""
        x_p = self.patch_projection(zero_padding(patches, patch_mask))
        _, _, attn = self.clinic_path.attn(
            self.clinical_token(clinical), x_p, patch_mask, need_weights=True
        )
        return {"clinic->pathology": _per_patch(attn["M->P"])}
