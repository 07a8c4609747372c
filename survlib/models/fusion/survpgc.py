r"""SurvPGC (Hou et al. 2025): dual-path co-attention of clinical prompts and genomics with
pathology, its clinic-path-only variant SurvPC, and the training loss of Eq. (14)."""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from survlib.models.blocks import (
    CoAttentionFusion,
    DiscreteHead,
    FusionModel,
    PathwayEncoder,
    PathwayMembership,
    SurvivalBatch,
    zero_padding,
)
from survlib.models.fusion._shared import _check_width, _per_patch
from survlib.survival import nll_discrete

__all__ = ["SurvPC", "SurvPGC", "cosine_dissimilarity", "survpgc_loss"]


class SurvPGC(FusionModel):
    r"""SurvPGC (Hou et al., npj Digit. Med. 2025): dual-path bidirectional cross-attention of
    clinical prompts and genomics with pathology.

    Each modality is projected to width :math:`d` (Methods, "Multimodal fusion"):
    clinical prompt tokens :math:`X_C = T W_C \in \mathbb{R}^{n_c\times d}` (one text
    embedding per clinical field), genomic tokens :math:`X_G` and patch tokens
    :math:`X_P = x W_P \in \mathbb{R}^{n_p\times d}` (shared by both paths, as in the released
    code). Two :class:`~survlib.models.blocks.CoAttentionFusion` paths (Eqs. 1-11 with
    :math:`M = C` and :math:`M = G`) give four means of width :math:`d' = d/2`, concatenated in
    the order of Eq. (12),

    .. math:: X_\text{Fusion} = \bar X_{C\to P} \oplus \bar X_{P\to C} \oplus
              \bar X_{G\to P} \oplus \bar X_{P\to G} \in \mathbb{R}^{4d'} \quad (12)

    and the decision layer ``Linear -> ReLU -> Linear`` gives the hazard logits
    :math:`\hat y` with :math:`S_k = \prod_{j\le k}(1-\sigma(\hat y_j))` (Eq. 13) and the
    risk :math:`-\sum_k S_k`. Trained with :func:`survpgc_loss` (Eq. 14).

    Reconstructions and deviations (documented):

    * Eq. (12) prints the un-averaged :math:`X_{C\to P}` etc.; the text ("the mean of the
      fused vector representation is calculated and obtained :math:`\bar X`") and
      :math:`X_\text{Fusion}\in\mathbb{R}^{4d'}` show the means are concatenated.
    * Eq. (13) reads :math:`s = \prod_1^i (1 - y_i)` with the product index equal to its
      bound; it is the survival curve :math:`S_k = \prod_{j=1}^{k}(1 - y_j)`, one value per
      interval (":math:`s\in\mathbb{R}^i`").
    * Genomic tokens: the paper encodes expression with scFoundation into 4 tokens; offline
      we use SurvPath's pathway tokens (:class:`~survlib.models.blocks.PathwayEncoder`), which
      is also what its baseline SurvPath does.
    * Each path has its own feed-forward + LayerNorm (the released code shares one between the
      two paths; the paper does not say).
    * Eq. (12)'s order (clinic path first) is used for training and attribution alike; the
      released code trains with the genomics path first and its IG script reorders.

    Args:
        d_patch: patch feature width. pathways: membership. d_text: text embedding width.
        n_bins: time bins. d: token width (256). dropout: feed-forward dropout (0.1).
    """

    inputs: ClassVar[tuple[str, ...]] = ("patches", "patch_mask", "genes", "clinical_tokens")

    def __init__(
        self,
        d_patch: int,
        pathways: PathwayMembership,
        d_text: int,
        n_bins: int,
        d: int = 256,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.d_text = d_text
        self.clinic_projection = nn.Linear(d_text, d)
        self.pathway_encoder = PathwayEncoder(pathways, (d, d), dropout=0.25)
        self.patch_projection = nn.Linear(d_patch, d)
        self.clinic_path = CoAttentionFusion(d, d // 2, dropout=dropout)
        self.genomic_path = CoAttentionFusion(d, d // 2, dropout=dropout)
        h = self.clinic_path.d_out
        self.fusion_parts = (("C->P", h), ("P->C", h), ("G->P", h), ("P->G", h))
        self.modality_groups = {
            "Clinic/Pathology": ("C->P", "P->C"),
            "Genomic/Pathology": ("G->P", "P->G"),
        }
        self.head = DiscreteHead(4 * h, n_bins, d_hidden=d // 4)

    def _paths(
        self,
        patches: torch.Tensor,
        patch_mask: torch.Tensor,
        genes: torch.Tensor,
        clinical_tokens: torch.Tensor,
        need_weights: bool = False,
    ) -> tuple[dict[str, torch.Tensor], dict[str, dict[str, torch.Tensor]]]:
        _check_width(clinical_tokens, self.d_text, "clinical_tokens")
        x_p = self.patch_projection(zero_padding(patches, patch_mask))
        c_bar, pc_bar, attn_c = self.clinic_path(
            self.clinic_projection(clinical_tokens), x_p, patch_mask, need_weights
        )
        g_bar, pg_bar, attn_g = self.genomic_path(
            self.pathway_encoder(genes), x_p, patch_mask, need_weights
        )
        parts = {"C->P": c_bar, "P->C": pc_bar, "G->P": g_bar, "P->G": pg_bar}
        return parts, {"clinic": attn_c, "genomics": attn_g}

    def fused_parts(
        self,
        patches: torch.Tensor,
        patch_mask: torch.Tensor,
        genes: torch.Tensor,
        clinical_tokens: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        return self._paths(patches, patch_mask, genes, clinical_tokens)[0]

    def forward(
        self,
        patches: torch.Tensor,
        patch_mask: torch.Tensor,
        genes: torch.Tensor,
        clinical_tokens: torch.Tensor,
    ) -> torch.Tensor:
        return self.head(self.fused(patches, patch_mask, genes, clinical_tokens))

    def forward_with_paths(
        self,
        patches: torch.Tensor,
        patch_mask: torch.Tensor,
        genes: torch.Tensor,
        clinical_tokens: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(logits, z_clinic, z_genomic)`` with the two paths' fused embeddings
        ``z_clinic = [C->P; P->C]`` and ``z_genomic = [G->P; P->G]`` (for the cosine loss)."""
        fused = self.fused(patches, patch_mask, genes, clinical_tokens)
        half = fused.shape[1] // 2
        return self.head(fused), fused[:, :half], fused[:, half:]

    def attention(
        self,
        patches: torch.Tensor,
        patch_mask: torch.Tensor,
        genes: torch.Tensor,
        clinical_tokens: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        r"""Per-patch heat-map scores ``[B, N]`` (0 on padding):

        * ``"clinic->pathology"``: :math:`A_{C\to P}`, the softmax weights of the clinical
          queries on each patch (patch block of :math:`\hat A_{C\to P}`, Eq. 9), summed over
          the :math:`n_c` queries ("cumulative attention", Fig. 4);
        * ``"genomics->pathology"``: :math:`A_{G\to P}`, the same for the genomic queries.

        The released code maps the raw (pre-softmax) scores, z-scored per slide; the softmax
        weights shown here are what the model actually averages with.
        """
        _, attn = self._paths(patches, patch_mask, genes, clinical_tokens, need_weights=True)
        return {
            "clinic->pathology": _per_patch(attn["clinic"]["M->P"]),
            "genomics->pathology": _per_patch(attn["genomics"]["M->P"]),
        }


class SurvPC(FusionModel):
    r"""The clinic <-> pathology path of :class:`SurvPGC` alone ("SurvPC (ours)" of SurvPGC
    Table 4): prompt tokens and patch tokens, one co-attention path, fused vector
    :math:`\bar X_{C\to P}\oplus\bar X_{P\to C}`.

    Args:
        d_patch: patch feature width. d_text: text embedding width. n_bins: time bins.
        d: token width (256). dropout: feed-forward dropout (0.1).
    """

    inputs: ClassVar[tuple[str, ...]] = ("patches", "patch_mask", "clinical_tokens")

    def __init__(
        self, d_patch: int, d_text: int, n_bins: int, d: int = 256, dropout: float = 0.1
    ) -> None:
        super().__init__()
        self.d_text = d_text
        self.clinic_projection = nn.Linear(d_text, d)
        self.patch_projection = nn.Linear(d_patch, d)
        self.clinic_path = CoAttentionFusion(d, d // 2, dropout=dropout)
        h = self.clinic_path.d_out
        self.fusion_parts = (("C->P", h), ("P->C", h))
        self.modality_groups = {
            "Clinic (prompt tokens)": ("C->P",),
            "Pathology (patch tokens)": ("P->C",),
        }
        self.head = DiscreteHead(2 * h, n_bins, d_hidden=d // 4)

    def fused_parts(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, clinical_tokens: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        _check_width(clinical_tokens, self.d_text, "clinical_tokens")
        x_p = self.patch_projection(zero_padding(patches, patch_mask))
        c_bar, pc_bar, _ = self.clinic_path(
            self.clinic_projection(clinical_tokens), x_p, patch_mask
        )
        return {"C->P": c_bar, "P->C": pc_bar}

    def forward(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, clinical_tokens: torch.Tensor
    ) -> torch.Tensor:
        return self.head(self.fused(patches, patch_mask, clinical_tokens))

    def attention(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, clinical_tokens: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """``{"clinic->pathology": [B, N]}`` (see :meth:`SurvPGC.attention`)."""
        x_p = self.patch_projection(zero_padding(patches, patch_mask))
        _, _, attn = self.clinic_path.attn(
            self.clinic_projection(clinical_tokens), x_p, patch_mask, need_weights=True
        )
        return {"clinic->pathology": _per_patch(attn["M->P"])}


def cosine_dissimilarity(z1: torch.Tensor, z2: torch.Tensor, margin: float = 0.2) -> torch.Tensor:
    r"""Penalty on similar embeddings: :math:`\frac1B\sum_b \max(0, \cos(z_{1b}, z_{2b}) - m)`.

    This is ``nn.CosineEmbeddingLoss(margin=m)`` with target :math:`-1` ("dissimilar"), the
    :math:`\mathrm{loss}_\text{cosine}` of SurvPGC Eq. (14). **Reconstruction:** the paper
    gives no formula ("reduces the similarity between the fused embeddings output by the two
    cross-attention modules"); the form and :math:`m = 0.2` are those of the authors'
    released loss (``NLLDiffSurvLoss``). It is zero once the two embeddings are at most
    :math:`m`-similar, so it pushes them apart without forcing them to be opposite.
    """
    cos = F.cosine_similarity(z1, z2, dim=-1)
    return torch.clamp(cos - margin, min=0.0).mean()


def survpgc_loss(
    model: SurvPGC, batch: SurvivalBatch, beta: float = 0.0, margin: float = 0.2, alpha: float = 0.0
) -> torch.Tensor:
    r"""SurvPGC's training loss, Eq. (14):

    .. math:: \mathrm{loss} = (1-\beta)\,\mathrm{loss}_\text{NLL} + \beta\,
              \mathrm{loss}_\text{cosine}(z_C, z_G)

    with :func:`survlib.survival.nll_discrete` (mean over the batch; ``alpha`` as there) and
    :func:`cosine_dissimilarity` between the clinic-path and genomics-path embeddings
    (:meth:`SurvPGC.forward_with_paths`). ``beta = 0`` (the paper's Table 1) is the plain NLL.
    Usable as ``loss_fn`` of :func:`survlib.train.fit` through a ``functools.partial``.
    """
    if not 0.0 <= beta <= 1.0:
        raise ValueError(f"beta must lie in [0, 1], got {beta}")
    logits, z_c, z_g = model.forward_with_paths(*[getattr(batch, k) for k in SurvPGC.inputs])
    loss = nll_discrete(logits, batch.bin_index, batch.event, alpha=alpha)
    if beta > 0:
        loss = (1.0 - beta) * loss + beta * cosine_dissimilarity(z_c, z_g, margin)
    return loss
