r"""Pathology + genomics fusion models: PORPOISE (gated Kronecker fusion), MCAT (genomics-guided
co-attention) and SurvPath (pathway tokens <-> patches co-attention)."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from survlib.models.blocks import (
    CoAttentionFusion,
    CrossAttention,
    DiscreteHead,
    FusionModel,
    GatedAttentionPool,
    PathwayEncoder,
    PathwayMembership,
    SNNBlock,
    zero_padding,
)
from survlib.models.fusion._shared import _check_width, _per_patch

__all__ = ["MCAT", "PORPOISE", "KroneckerFusion", "SurvPath"]


class KroneckerFusion(nn.Module):
    r"""Gated Kronecker-product (bilinear) fusion of two vectors (Pathomic Fusion / PORPOISE).

    For :math:`v_1 \in \mathbb{R}^{d_1}` (pathology) and :math:`v_2 \in \mathbb{R}^{d_2}`
    (genomics), each modality is gated by a bilinear function of both,

    .. math::

        h_k = \mathrm{ReLU}(W_k v_k),\quad g_k = \sigma(v_1^\top \mathcal{B}_k v_2 + b_k),\quad
        o_k = \mathrm{Dropout}(\mathrm{ReLU}(U_k (g_k \odot h_k))) \in \mathbb{R}^{d_k/s},

    then a 1 is appended to each (so the unimodal terms survive) and the outer product is
    flattened, :math:`o = \mathrm{vec}([o_1;1] \otimes [o_2;1])`, encoded as
    :math:`e = \mathrm{Dropout}(\mathrm{ReLU}(E_1 o))` and, with the skip connection,
    :math:`\mathrm{ReLU}(E_2 [e; o_1; 1; o_2; 1]) \in \mathbb{R}^{d_\text{mm}}`.

    Args:
        d1, d2: input widths.
        scale: width reduction :math:`s` before the outer product (PORPOISE: 8).
        d_mm: output width.
        dropout: dropout rate.
        bilinear_gate: gate with a bilinear form of both inputs (PORPOISE; :math:`d_1 d_2 d_k`
            parameters each) or, if False, with a linear map of their concatenation.
    """

    def __init__(
        self,
        d1: int,
        d2: int,
        scale: int = 8,
        d_mm: int = 256,
        dropout: float = 0.25,
        bilinear_gate: bool = True,
    ) -> None:
        super().__init__()
        self.d1, self.d2 = d1, d2
        s1, s2 = d1 // scale, d2 // scale
        self.h1 = nn.Sequential(nn.Linear(d1, d1), nn.ReLU())
        self.h2 = nn.Sequential(nn.Linear(d2, d2), nn.ReLU())
        if bilinear_gate:
            self.gate1: nn.Module = nn.Bilinear(d1, d2, d1)
            self.gate2: nn.Module = nn.Bilinear(d1, d2, d2)
        else:
            self.gate1 = nn.Linear(d1 + d2, d1)
            self.gate2 = nn.Linear(d1 + d2, d2)
        self.bilinear_gate = bilinear_gate
        self.o1 = nn.Sequential(nn.Linear(d1, s1), nn.ReLU(), nn.Dropout(dropout))
        self.o2 = nn.Sequential(nn.Linear(d2, s2), nn.ReLU(), nn.Dropout(dropout))
        self.encoder1 = nn.Sequential(
            nn.Linear((s1 + 1) * (s2 + 1), d_mm), nn.ReLU(), nn.Dropout(dropout)
        )
        self.encoder2 = nn.Sequential(nn.Linear(d_mm + s1 + s2 + 2, d_mm), nn.ReLU())
        self.d_out = d_mm

    def _gate(self, gate: nn.Module, v1: torch.Tensor, v2: torch.Tensor) -> torch.Tensor:
        z = gate(v1, v2) if self.bilinear_gate else gate(torch.cat([v1, v2], dim=-1))
        return torch.sigmoid(z)

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        """Fuse ``v = [v_1; v_2]`` (``[B, d1 + d2]``) to ``[B, d_mm]``."""
        v1, v2 = v[:, : self.d1], v[:, self.d1 :]
        o1 = self.o1(self._gate(self.gate1, v1, v2) * self.h1(v1))
        o2 = self.o2(self._gate(self.gate2, v1, v2) * self.h2(v2))
        one = torch.ones_like(o1[:, :1])
        o1, o2 = torch.cat([o1, one], dim=1), torch.cat([o2, one], dim=1)
        o12 = torch.bmm(o1.unsqueeze(2), o2.unsqueeze(1)).flatten(1)
        return self.encoder2(torch.cat([self.encoder1(o12), o1, o2], dim=1))


class PORPOISE(FusionModel):
    r"""PORPOISE (Chen et al., Cancer Cell 2022): gated-attention MIL on patches, an SNN on
    genes, and gated Kronecker fusion (:class:`KroneckerFusion`) before the hazard layer.

    .. math:: h_P = \rho\Big(\sum_i a_i\,\mathrm{ReLU}(W x_i)\Big),\quad
              h_G = \mathrm{SNN}(g),\quad \text{logits} = W_o\,\mathrm{KF}([h_P; h_G])

    Fused vector (for attribution): ``[pathology (d), genomics (d)]``, taken before the
    Kronecker product.

    Args:
        d_patch: patch feature width. n_genes: number of genes. n_bins: time bins.
        d: width of both unimodal embeddings (PORPOISE: 256).
        dropout: dropout rate (SNN layers use alpha-dropout at the same rate).
        bilinear_gate: see :class:`KroneckerFusion`.
    """

    inputs: ClassVar[tuple[str, ...]] = ("patches", "patch_mask", "genes")

    def __init__(
        self,
        d_patch: int,
        n_genes: int,
        n_bins: int,
        d: int = 256,
        dropout: float = 0.25,
        bilinear_gate: bool = True,
    ) -> None:
        super().__init__()
        self.n_genes = n_genes
        self.encoder = nn.Sequential(nn.Linear(d_patch, d), nn.ReLU(), nn.Dropout(dropout))
        self.pool = GatedAttentionPool(d, d, dropout)
        self.rho = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Dropout(dropout))
        self.snn = nn.Sequential(SNNBlock(n_genes, d, dropout), SNNBlock(d, d, dropout))
        self.fusion_parts = (("pathology", d), ("genomics", d))
        self.modality_groups = {"Pathology": ("pathology",), "Genomics": ("genomics",)}
        self.head = nn.Sequential(
            KroneckerFusion(d, d, scale=8, d_mm=d, dropout=dropout, bilinear_gate=bilinear_gate),
            nn.Linear(d, n_bins),
        )

    def fused_parts(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, genes: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        _check_width(genes, self.n_genes, "genes")
        h = self.encoder(zero_padding(patches, patch_mask))
        z, _ = self.pool(h, patch_mask)
        return {"pathology": self.rho(z), "genomics": self.snn(genes)}

    def forward(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, genes: torch.Tensor
    ) -> torch.Tensor:
        return self.head(self.fused(patches, patch_mask, genes))

    def attention(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, genes: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """``{"attention": [B, N]}``: the gated-attention pooling weights of the patches."""
        h = self.encoder(zero_padding(patches, patch_mask))
        return {"attention": self.pool.weights(h, patch_mask)[..., 0]}


class MCAT(FusionModel):
    r"""Multimodal co-attention transformer (Chen et al., ICCV 2021) with pathway tokens.

    Genomic tokens :math:`G \in \mathbb{R}^{P\times d}` (one per pathway,
    :class:`~survlib.models.blocks.PathwayEncoder`; MCAT used 6 gene families, SurvPath's
    re-implementation the pathways) are the queries of a genomics-guided co-attention over
    the patch embeddings :math:`H \in \mathbb{R}^{N\times d}`:

    .. math:: \hat H = \mathrm{softmax}\big(G W_q (H W_k)^\top/\sqrt d\big)\, H W_v
              \in \mathbb{R}^{P\times d}

    Then a 2-layer transformer and gated-attention pooling on each of :math:`\hat H` and
    :math:`G` give :math:`h_P, h_G \in \mathbb{R}^d`, fused by concatenation and
    ``Linear -> ReLU -> Linear -> ReLU`` before the hazard layer (MCAT's "concat" fusion).

    Args:
        d_patch: patch feature width. pathways: gene -> pathway membership. n_bins: time bins.
        d: model width (256). n_heads: heads of the two transformers (8). dropout: rate.
    """

    inputs: ClassVar[tuple[str, ...]] = ("patches", "patch_mask", "genes")

    def __init__(
        self,
        d_patch: int,
        pathways: PathwayMembership,
        n_bins: int,
        d: int = 256,
        n_heads: int = 8,
        dropout: float = 0.25,
    ) -> None:
        super().__init__()
        self.patch_encoder = nn.Sequential(nn.Linear(d_patch, d), nn.ReLU(), nn.Dropout(dropout))
        self.pathway_encoder = PathwayEncoder(pathways, (d, d), dropout)
        self.coattn = CrossAttention(d, d, d, n_heads=1)

        def transformer() -> nn.TransformerEncoder:
            layer = nn.TransformerEncoderLayer(
                d,
                n_heads,
                dim_feedforward=2 * d,
                dropout=dropout,
                activation="relu",
                batch_first=True,
            )
            return nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)

        self.path_transformer, self.omic_transformer = transformer(), transformer()
        self.path_pool = GatedAttentionPool(d, d, dropout)
        self.omic_pool = GatedAttentionPool(d, d, dropout)
        self.path_rho = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Dropout(dropout))
        self.omic_rho = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Dropout(dropout))
        self.fusion_parts = (("pathology", d), ("genomics", d))
        self.modality_groups = {"Pathology": ("pathology",), "Genomics": ("genomics",)}
        self.head = nn.Sequential(
            nn.Linear(2 * d, d), nn.ReLU(), nn.Linear(d, d), nn.ReLU(), nn.Linear(d, n_bins)
        )

    def _coattend(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, genes: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.patch_encoder(zero_padding(patches, patch_mask))
        g = self.pathway_encoder(genes)
        h_co, attn = self.coattn(g, h, patch_mask)
        return g, h_co, attn

    def fused_parts(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, genes: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        g, h_co, _ = self._coattend(patches, patch_mask, genes)
        all_tokens = torch.ones(g.shape[:2], dtype=torch.bool, device=g.device)
        hp, _ = self.path_pool(self.path_transformer(h_co), all_tokens)
        hg, _ = self.omic_pool(self.omic_transformer(g), all_tokens)
        return {"pathology": self.path_rho(hp), "genomics": self.omic_rho(hg)}

    def forward(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, genes: torch.Tensor
    ) -> torch.Tensor:
        return self.head(self.fused(patches, patch_mask, genes))

    def attention(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, genes: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """``{"genomics->pathology": [B, N]}``: co-attention summed over the pathway queries."""
        _, _, attn = self._coattend(patches, patch_mask, genes)
        return {"genomics->pathology": _per_patch(attn)}


class SurvPath(FusionModel):
    r"""SurvPath (Jaume et al., CVPR 2024): pathway tokens <-> patch tokens co-attention.

    Pathway tokens :math:`X_G = \mathrm{PathwayEncoder}(g) \in \mathbb{R}^{P\times d}` (all
    per-pathway SNNs as one block-sparse layer), patch tokens :math:`X_P = x W_P` (a linear
    projection), one :class:`~survlib.models.blocks.CoAttentionFusion` path (pathways attend
    to pathways and patches, patches attend to pathways; no patch-patch attention), and the
    hazard layer on :math:`[\bar X_{G\to P}; \bar X_{P\to G}]`.

    Args:
        d_patch: patch feature width. pathways: membership. n_bins: time bins.
        d: token width (256); the co-attention head width is ``d // 2``.
        dropout: feed-forward dropout (0.1); the pathway SNNs use alpha-dropout 0.25.
    """

    inputs: ClassVar[tuple[str, ...]] = ("patches", "patch_mask", "genes")

    def __init__(
        self,
        d_patch: int,
        pathways: PathwayMembership,
        n_bins: int,
        d: int = 256,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.pathway_encoder = PathwayEncoder(pathways, (d, d), dropout=0.25)
        self.patch_projection = nn.Linear(d_patch, d)
        self.path = CoAttentionFusion(d, d // 2, dropout=dropout)
        h = self.path.d_out
        self.fusion_parts = (("G->P", h), ("P->G", h))
        self.modality_groups = {
            "Genomics (pathway tokens)": ("G->P",),
            "Pathology (patch tokens)": ("P->G",),
        }
        self.head = DiscreteHead(2 * h, n_bins, d_hidden=d // 4)

    def fused_parts(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, genes: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        x_p = self.patch_projection(zero_padding(patches, patch_mask))
        g_bar, p_bar, _ = self.path(self.pathway_encoder(genes), x_p, patch_mask)
        return {"G->P": g_bar, "P->G": p_bar}

    def forward(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, genes: torch.Tensor
    ) -> torch.Tensor:
        return self.head(self.fused(patches, patch_mask, genes))

    def attention(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, genes: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """``{"genomics->pathology": [B, N]}``: pathway-query attention summed per patch."""
        x_p = self.patch_projection(zero_padding(patches, patch_mask))
        _, _, attn = self.path.attn(self.pathway_encoder(genes), x_p, patch_mask, need_weights=True)
        return {"genomics->pathology": _per_patch(attn["M->P"])}
