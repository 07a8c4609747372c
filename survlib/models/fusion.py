r"""Multimodal survival models: pathology + genomics (+ clinical information), and baselines.

Every model takes named fields of a :class:`~survlib.models.blocks.SurvivalBatch` (its class
attribute ``inputs``, in forward's order), handles padded bags exactly, and returns
discrete-time hazard logits ``[B, n_bins]``. The fusion models derive from
:class:`~survlib.models.blocks.FusionModel`: ``forward = head(fused(...))`` with one declared
order of the fused vector (``fusion_parts``), which integrated gradients reuse
(:func:`survlib.explain.modality_attribution`).

Pathology + genomics
    :class:`PORPOISE`   ABMIL + SNN, gated Kronecker (bilinear) fusion (Chen et al. 2022)
    :class:`MCAT`       genomics-guided co-attention over patches (Chen et al. 2021), with
                        pathway tokens as the genomic queries (SurvPath's "MCAT (pathways)")
    :class:`SurvPath`   pathway tokens <-> patches co-attention (Jaume et al. 2024)

Pathology + genomics + clinical prompts (Hou et al. 2025, "SurvPGC")
    :class:`SurvPGC`    dual-path bidirectional cross-attention clinic<->pathology and
                        genomics<->pathology; :func:`survpgc_loss` (NLL + beta * cosine)
    :class:`SurvPC`     the clinic<->pathology path alone (Table 4, "SurvPC (ours)")

Clinical integration approaches of SurvPGC Fig. 1 / Table 4 (clinic + pathology)
    :class:`ClinicalLateFusion`        a: separate clinical and pathology models, each trained
                                       on its own loss; their risks fused
    :class:`ClinicalConcatFusion`      b: standardised covariates concatenated to the slide
                                       embedding (released ``MLPPC_concat``)
    :class:`ClinicalProjectionFusion`  c: covariates encoded by an SNN into one token that
                                       co-attends with the patches (released ``SurvPC``)

Unimodal baselines of Table 1 (clinic, genomics)
    :class:`GenomicMLP`, :class:`ClinicalMLP`, :class:`ClinicalPromptMLP` (MLP or SNN)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
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
    SurvivalBatch,
    masked_mean,
    zero_padding,
)
from survlib.models.omics import SurvivalMLP
from survlib.survival import nll_discrete

__all__ = [
    "MCAT",
    "PORPOISE",
    "ClinicalConcatFusion",
    "ClinicalLateFusion",
    "ClinicalMLP",
    "ClinicalProjectionFusion",
    "ClinicalPromptMLP",
    "GenomicMLP",
    "KroneckerFusion",
    "SurvPC",
    "SurvPGC",
    "SurvPath",
    "cosine_dissimilarity",
    "survpgc_loss",
]


def _check_width(x: torch.Tensor, width: int, name: str) -> None:
    if x.shape[-1] != width:
        raise ValueError(f"{name} has width {x.shape[-1]}, the model was built for {width}")


def _per_patch(weights: torch.Tensor) -> torch.Tensor:
    """``[B, H, n_queries, N]`` attention -> per-patch cumulative attention ``[B, N]``: the sum
    over queries ("cumulative attention values", SurvPGC Fig. 4) averaged over heads."""
    return weights.sum(dim=2).mean(dim=1)


# --------------------------------------------------------------------------------------------
# PORPOISE
# --------------------------------------------------------------------------------------------


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

    def __init__(self, d1: int, d2: int, scale: int = 8, d_mm: int = 256, dropout: float = 0.25,
                 bilinear_gate: bool = True) -> None:
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
        self.encoder1 = nn.Sequential(nn.Linear((s1 + 1) * (s2 + 1), d_mm), nn.ReLU(),
                                      nn.Dropout(dropout))
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

    def __init__(self, d_patch: int, n_genes: int, n_bins: int, d: int = 256,
                 dropout: float = 0.25, bilinear_gate: bool = True) -> None:
        super().__init__()
        self.n_genes = n_genes
        self.encoder = nn.Sequential(nn.Linear(d_patch, d), nn.ReLU(), nn.Dropout(dropout))
        self.pool = GatedAttentionPool(d, d, dropout)
        self.rho = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Dropout(dropout))
        self.snn = nn.Sequential(SNNBlock(n_genes, d, dropout), SNNBlock(d, d, dropout))
        self.fusion_parts = (("pathology", d), ("genomics", d))
        self.modality_groups = {"Pathology": ("pathology",), "Genomics": ("genomics",)}
        self.head = nn.Sequential(KroneckerFusion(d, d, scale=8, d_mm=d, dropout=dropout,
                                                  bilinear_gate=bilinear_gate),
                                  nn.Linear(d, n_bins))

    def fused_parts(self, patches: torch.Tensor, patch_mask: torch.Tensor,
                    genes: torch.Tensor) -> dict[str, torch.Tensor]:
        _check_width(genes, self.n_genes, "genes")
        h = self.encoder(zero_padding(patches, patch_mask))
        z, _ = self.pool(h, patch_mask)
        return {"pathology": self.rho(z), "genomics": self.snn(genes)}

    def forward(self, patches: torch.Tensor, patch_mask: torch.Tensor,
                genes: torch.Tensor) -> torch.Tensor:
        return self.head(self.fused(patches, patch_mask, genes))

    def attention(self, patches: torch.Tensor, patch_mask: torch.Tensor,
                  genes: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"attention": [B, N]}``: the gated-attention pooling weights of the patches."""
        h = self.encoder(zero_padding(patches, patch_mask))
        return {"attention": self.pool.weights(h, patch_mask)[..., 0]}


# --------------------------------------------------------------------------------------------
# MCAT
# --------------------------------------------------------------------------------------------


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

    def __init__(self, d_patch: int, pathways: PathwayMembership, n_bins: int, d: int = 256,
                 n_heads: int = 8, dropout: float = 0.25) -> None:
        super().__init__()
        self.patch_encoder = nn.Sequential(nn.Linear(d_patch, d), nn.ReLU(), nn.Dropout(dropout))
        self.pathway_encoder = PathwayEncoder(pathways, (d, d), dropout)
        self.coattn = CrossAttention(d, d, d, n_heads=1)

        def transformer() -> nn.TransformerEncoder:
            layer = nn.TransformerEncoderLayer(d, n_heads, dim_feedforward=2 * d, dropout=dropout,
                                               activation="relu", batch_first=True)
            return nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)

        self.path_transformer, self.omic_transformer = transformer(), transformer()
        self.path_pool = GatedAttentionPool(d, d, dropout)
        self.omic_pool = GatedAttentionPool(d, d, dropout)
        self.path_rho = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Dropout(dropout))
        self.omic_rho = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Dropout(dropout))
        self.fusion_parts = (("pathology", d), ("genomics", d))
        self.modality_groups = {"Pathology": ("pathology",), "Genomics": ("genomics",)}
        self.head = nn.Sequential(nn.Linear(2 * d, d), nn.ReLU(), nn.Linear(d, d), nn.ReLU(),
                                  nn.Linear(d, n_bins))

    def _coattend(self, patches: torch.Tensor, patch_mask: torch.Tensor, genes: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.patch_encoder(zero_padding(patches, patch_mask))
        g = self.pathway_encoder(genes)
        h_co, attn = self.coattn(g, h, patch_mask)
        return g, h_co, attn

    def fused_parts(self, patches: torch.Tensor, patch_mask: torch.Tensor,
                    genes: torch.Tensor) -> dict[str, torch.Tensor]:
        g, h_co, _ = self._coattend(patches, patch_mask, genes)
        all_tokens = torch.ones(g.shape[:2], dtype=torch.bool, device=g.device)
        hp, _ = self.path_pool(self.path_transformer(h_co), all_tokens)
        hg, _ = self.omic_pool(self.omic_transformer(g), all_tokens)
        return {"pathology": self.path_rho(hp), "genomics": self.omic_rho(hg)}

    def forward(self, patches: torch.Tensor, patch_mask: torch.Tensor,
                genes: torch.Tensor) -> torch.Tensor:
        return self.head(self.fused(patches, patch_mask, genes))

    def attention(self, patches: torch.Tensor, patch_mask: torch.Tensor,
                  genes: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"genomics->pathology": [B, N]}``: co-attention summed over the pathway queries."""
        _, _, attn = self._coattend(patches, patch_mask, genes)
        return {"genomics->pathology": _per_patch(attn)}


# --------------------------------------------------------------------------------------------
# SurvPath, SurvPGC, SurvPC
# --------------------------------------------------------------------------------------------


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

    def __init__(self, d_patch: int, pathways: PathwayMembership, n_bins: int, d: int = 256,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.pathway_encoder = PathwayEncoder(pathways, (d, d), dropout=0.25)
        self.patch_projection = nn.Linear(d_patch, d)
        self.path = CoAttentionFusion(d, d // 2, dropout=dropout)
        h = self.path.d_out
        self.fusion_parts = (("G->P", h), ("P->G", h))
        self.modality_groups = {"Genomics (pathway tokens)": ("G->P",),
                                "Pathology (patch tokens)": ("P->G",)}
        self.head = DiscreteHead(2 * h, n_bins, d_hidden=d // 4)

    def fused_parts(self, patches: torch.Tensor, patch_mask: torch.Tensor,
                    genes: torch.Tensor) -> dict[str, torch.Tensor]:
        x_p = self.patch_projection(zero_padding(patches, patch_mask))
        g_bar, p_bar, _ = self.path(self.pathway_encoder(genes), x_p, patch_mask)
        return {"G->P": g_bar, "P->G": p_bar}

    def forward(self, patches: torch.Tensor, patch_mask: torch.Tensor,
                genes: torch.Tensor) -> torch.Tensor:
        return self.head(self.fused(patches, patch_mask, genes))

    def attention(self, patches: torch.Tensor, patch_mask: torch.Tensor,
                  genes: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"genomics->pathology": [B, N]}``: pathway-query attention summed per patch."""
        x_p = self.patch_projection(zero_padding(patches, patch_mask))
        _, _, attn = self.path.attn(self.pathway_encoder(genes), x_p, patch_mask,
                                    need_weights=True)
        return {"genomics->pathology": _per_patch(attn["M->P"])}


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

    def __init__(self, d_patch: int, pathways: PathwayMembership, d_text: int, n_bins: int,
                 d: int = 256, dropout: float = 0.1) -> None:
        super().__init__()
        self.d_text = d_text
        self.clinic_projection = nn.Linear(d_text, d)
        self.pathway_encoder = PathwayEncoder(pathways, (d, d), dropout=0.25)
        self.patch_projection = nn.Linear(d_patch, d)
        self.clinic_path = CoAttentionFusion(d, d // 2, dropout=dropout)
        self.genomic_path = CoAttentionFusion(d, d // 2, dropout=dropout)
        h = self.clinic_path.d_out
        self.fusion_parts = (("C->P", h), ("P->C", h), ("G->P", h), ("P->G", h))
        self.modality_groups = {"Clinic/Pathology": ("C->P", "P->C"),
                                "Genomic/Pathology": ("G->P", "P->G")}
        self.head = DiscreteHead(4 * h, n_bins, d_hidden=d // 4)

    def _paths(self, patches: torch.Tensor, patch_mask: torch.Tensor, genes: torch.Tensor,
               clinical_tokens: torch.Tensor, need_weights: bool = False
               ) -> tuple[dict[str, torch.Tensor], dict[str, dict[str, torch.Tensor]]]:
        _check_width(clinical_tokens, self.d_text, "clinical_tokens")
        x_p = self.patch_projection(zero_padding(patches, patch_mask))
        c_bar, pc_bar, attn_c = self.clinic_path(self.clinic_projection(clinical_tokens), x_p,
                                                 patch_mask, need_weights)
        g_bar, pg_bar, attn_g = self.genomic_path(self.pathway_encoder(genes), x_p, patch_mask,
                                                  need_weights)
        parts = {"C->P": c_bar, "P->C": pc_bar, "G->P": g_bar, "P->G": pg_bar}
        return parts, {"clinic": attn_c, "genomics": attn_g}

    def fused_parts(self, patches: torch.Tensor, patch_mask: torch.Tensor, genes: torch.Tensor,
                    clinical_tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        return self._paths(patches, patch_mask, genes, clinical_tokens)[0]

    def forward(self, patches: torch.Tensor, patch_mask: torch.Tensor, genes: torch.Tensor,
                clinical_tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.fused(patches, patch_mask, genes, clinical_tokens))

    def forward_with_paths(self, patches: torch.Tensor, patch_mask: torch.Tensor,
                           genes: torch.Tensor, clinical_tokens: torch.Tensor
                           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(logits, z_clinic, z_genomic)`` with the two paths' fused embeddings
        ``z_clinic = [C->P; P->C]`` and ``z_genomic = [G->P; P->G]`` (for the cosine loss)."""
        fused = self.fused(patches, patch_mask, genes, clinical_tokens)
        half = fused.shape[1] // 2
        return self.head(fused), fused[:, :half], fused[:, half:]

    def attention(self, patches: torch.Tensor, patch_mask: torch.Tensor, genes: torch.Tensor,
                  clinical_tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        r"""Per-patch heat-map scores ``[B, N]`` (0 on padding):

        * ``"clinic->pathology"``: :math:`A_{C\to P}`, the softmax weights of the clinical
          queries on each patch (patch block of :math:`\hat A_{C\to P}`, Eq. 9), summed over
          the :math:`n_c` queries ("cumulative attention", Fig. 4);
        * ``"genomics->pathology"``: :math:`A_{G\to P}`, the same for the genomic queries.

        The released code maps the raw (pre-softmax) scores, z-scored per slide; the softmax
        weights shown here are what the model actually averages with.
        """
        _, attn = self._paths(patches, patch_mask, genes, clinical_tokens, need_weights=True)
        return {"clinic->pathology": _per_patch(attn["clinic"]["M->P"]),
                "genomics->pathology": _per_patch(attn["genomics"]["M->P"])}


class SurvPC(FusionModel):
    r"""The clinic <-> pathology path of :class:`SurvPGC` alone ("SurvPC (ours)" of SurvPGC
    Table 4): prompt tokens and patch tokens, one co-attention path, fused vector
    :math:`\bar X_{C\to P}\oplus\bar X_{P\to C}`.

    Args:
        d_patch: patch feature width. d_text: text embedding width. n_bins: time bins.
        d: token width (256). dropout: feed-forward dropout (0.1).
    """

    inputs: ClassVar[tuple[str, ...]] = ("patches", "patch_mask", "clinical_tokens")

    def __init__(self, d_patch: int, d_text: int, n_bins: int, d: int = 256,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.d_text = d_text
        self.clinic_projection = nn.Linear(d_text, d)
        self.patch_projection = nn.Linear(d_patch, d)
        self.clinic_path = CoAttentionFusion(d, d // 2, dropout=dropout)
        h = self.clinic_path.d_out
        self.fusion_parts = (("C->P", h), ("P->C", h))
        self.modality_groups = {"Clinic (prompt tokens)": ("C->P",),
                                "Pathology (patch tokens)": ("P->C",)}
        self.head = DiscreteHead(2 * h, n_bins, d_hidden=d // 4)

    def fused_parts(self, patches: torch.Tensor, patch_mask: torch.Tensor,
                    clinical_tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        _check_width(clinical_tokens, self.d_text, "clinical_tokens")
        x_p = self.patch_projection(zero_padding(patches, patch_mask))
        c_bar, pc_bar, _ = self.clinic_path(self.clinic_projection(clinical_tokens), x_p,
                                            patch_mask)
        return {"C->P": c_bar, "P->C": pc_bar}

    def forward(self, patches: torch.Tensor, patch_mask: torch.Tensor,
                clinical_tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.fused(patches, patch_mask, clinical_tokens))

    def attention(self, patches: torch.Tensor, patch_mask: torch.Tensor,
                  clinical_tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"clinic->pathology": [B, N]}`` (see :meth:`SurvPGC.attention`)."""
        x_p = self.patch_projection(zero_padding(patches, patch_mask))
        _, _, attn = self.clinic_path.attn(self.clinic_projection(clinical_tokens), x_p,
                                           patch_mask, need_weights=True)
        return {"clinic->pathology": _per_patch(attn["M->P"])}


# --------------------------------------------------------------------------------------------
# Clinical integration approaches a / b / c (SurvPGC Fig. 1, Table 4)
# --------------------------------------------------------------------------------------------


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
        log_1mh = (w[0] * F.logsigmoid(-v[:, : self.n_bins])
                   + w[1] * F.logsigmoid(-v[:, self.n_bins :]))
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

    def __init__(self, d_patch: int, n_clinical: int, n_bins: int, d: int = 256,
                 d_clinic: int = 32, dropout: float = 0.25) -> None:
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
        return {"pathology": [*self.slide.parameters(), *self.pathology_head.parameters()],
                "clinic": list(self.clinic.parameters()),
                "fusion": list(self.head.parameters())}

    def fused_parts(self, patches: torch.Tensor, patch_mask: torch.Tensor,
                    clinical: torch.Tensor) -> dict[str, torch.Tensor]:
        _check_width(clinical, self.n_clinical, "clinical")
        return {"pathology": self.pathology_head(self.slide(patches, patch_mask)),
                "clinic": self.clinic(clinical)}

    def forward(self, patches: torch.Tensor, patch_mask: torch.Tensor,
                clinical: torch.Tensor) -> torch.Tensor:
        return self.head(self.fused(patches, patch_mask, clinical))

    def separate_losses(self, batch: SurvivalBatch, alpha: float = 0.0
                        ) -> dict[str, torch.Tensor]:
        """Each member's own discrete-time NLL on ``batch``, and the fusion weights' NLL on the
        members' detached outputs (the training objective is the sum: no gradient crosses from
        one member to the other, and the fusion term reaches only the weights)."""
        parts = self.fused_parts(batch.patches, batch.patch_mask, batch.clinical)
        out = {name: nll_discrete(logits, batch.bin_index, batch.event, alpha=alpha)
               for name, logits in parts.items()}
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

    def __init__(self, d_patch: int, n_clinical: int, n_bins: int, d: int = 256,
                 dropout: float = 0.25) -> None:
        super().__init__()
        self.n_clinical = n_clinical
        self.slide = _SlideMean(d_patch, d, dropout)
        self.fusion_parts = (("pathology", d), ("clinic", n_clinical))
        self.modality_groups = {"Pathology": ("pathology",), "Clinic": ("clinic",)}
        self.head = DiscreteHead(d + n_clinical, n_bins, d_hidden=d // 4)

    def fused_parts(self, patches: torch.Tensor, patch_mask: torch.Tensor,
                    clinical: torch.Tensor) -> dict[str, torch.Tensor]:
        _check_width(clinical, self.n_clinical, "clinical")
        return {"pathology": self.slide(patches, patch_mask), "clinic": clinical}

    def forward(self, patches: torch.Tensor, patch_mask: torch.Tensor,
                clinical: torch.Tensor) -> torch.Tensor:
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

    def __init__(self, d_patch: int, n_clinical: int, n_bins: int, d: int = 256,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.n_clinical = n_clinical
        self.clinic_encoder = nn.Sequential(SNNBlock(n_clinical, d, 0.25), SNNBlock(d, d, 0.25))
        self.patch_projection = nn.Linear(d_patch, d)
        self.clinic_path = CoAttentionFusion(d, d // 2, dropout=dropout)
        h = self.clinic_path.d_out
        self.fusion_parts = (("C->P", h), ("P->C", h))
        self.modality_groups = {"Clinic (covariate token)": ("C->P",),
                                "Pathology (patch tokens)": ("P->C",)}
        self.head = DiscreteHead(2 * h, n_bins, d_hidden=d // 4)

    def clinical_token(self, clinical: torch.Tensor) -> torch.Tensor:
        """The covariates encoded into one token, ``[B, 1, d]``."""
        _check_width(clinical, self.n_clinical, "clinical")
        return self.clinic_encoder(clinical).unsqueeze(1)

    def fused_parts(self, patches: torch.Tensor, patch_mask: torch.Tensor,
                    clinical: torch.Tensor) -> dict[str, torch.Tensor]:
        x_p = self.patch_projection(zero_padding(patches, patch_mask))
        c_bar, pc_bar, _ = self.clinic_path(self.clinical_token(clinical), x_p, patch_mask)
        return {"C->P": c_bar, "P->C": pc_bar}

    def forward(self, patches: torch.Tensor, patch_mask: torch.Tensor,
                clinical: torch.Tensor) -> torch.Tensor:
        return self.head(self.fused(patches, patch_mask, clinical))

    def attention(self, patches: torch.Tensor, patch_mask: torch.Tensor,
                  clinical: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"clinic->pathology": [B, N]}``: the clinical token's softmax weights on each
        patch (0 on padding)."""
        x_p = self.patch_projection(zero_padding(patches, patch_mask))
        _, _, attn = self.clinic_path.attn(self.clinical_token(clinical), x_p, patch_mask,
                                           need_weights=True)
        return {"clinic->pathology": _per_patch(attn["M->P"])}


# --------------------------------------------------------------------------------------------
# Unimodal baselines (Table 1: MLP / SNN on clinic and on genomics)
# --------------------------------------------------------------------------------------------


class _TabularMLP(nn.Module):
    """A :class:`~survlib.models.omics.SurvivalMLP` with a discrete-time head."""

    def __init__(self, n_features: int, n_bins: int, hidden: Sequence[int], dropout: float,
                 activation: Literal["relu", "selu"]) -> None:
        super().__init__()
        self.n_features = n_features
        self.mlp = SurvivalMLP(n_features, n_bins, hidden=tuple(hidden), dropout=dropout,
                               activation=activation)

    def _logits(self, x: torch.Tensor, name: str) -> torch.Tensor:
        _check_width(x, self.n_features, name)
        out = self.mlp(x)
        return out.unsqueeze(-1) if out.ndim == 1 else out


class GenomicMLP(_TabularMLP):
    """MLP (``activation="relu"``) or SNN (``"selu"`` + alpha-dropout) on the gene vector."""

    inputs: ClassVar[tuple[str, ...]] = ("genes",)

    def __init__(self, n_genes: int, n_bins: int, hidden: Sequence[int] = (256, 256),
                 dropout: float = 0.25, activation: Literal["relu", "selu"] = "relu") -> None:
        super().__init__(n_genes, n_bins, hidden, dropout, activation)

    def forward(self, genes: torch.Tensor) -> torch.Tensor:
        return self._logits(genes, "genes")


class ClinicalMLP(_TabularMLP):
    """MLP or SNN on the standardised clinical covariates ``clinical [B, C]``."""

    inputs: ClassVar[tuple[str, ...]] = ("clinical",)

    def __init__(self, n_clinical: int, n_bins: int, hidden: Sequence[int] = (32,),
                 dropout: float = 0.25, activation: Literal["relu", "selu"] = "relu") -> None:
        super().__init__(n_clinical, n_bins, hidden, dropout, activation)

    def forward(self, clinical: torch.Tensor) -> torch.Tensor:
        return self._logits(clinical, "clinical")


class ClinicalPromptMLP(_TabularMLP):
    """MLP or SNN on the clinical prompt embeddings ``clinical_tokens [B, F, D_t]``, flattened
    to ``F * D_t`` features (the "MLP (Clinic)" / "SNN (Clinic)" rows of SurvPGC Table 1)."""

    inputs: ClassVar[tuple[str, ...]] = ("clinical_tokens",)

    def __init__(self, n_fields: int, d_text: int, n_bins: int, hidden: Sequence[int] = (256,),
                 dropout: float = 0.25, activation: Literal["relu", "selu"] = "relu") -> None:
        super().__init__(n_fields * d_text, n_bins, hidden, dropout, activation)
        self.n_fields, self.d_text = n_fields, d_text

    def forward(self, clinical_tokens: torch.Tensor) -> torch.Tensor:
        if clinical_tokens.ndim != 3 or clinical_tokens.shape[1:] != (self.n_fields, self.d_text):
            raise ValueError(f"clinical_tokens must have shape [B, {self.n_fields}, "
                             f"{self.d_text}], got {tuple(clinical_tokens.shape)}")
        return self._logits(clinical_tokens.flatten(1), "clinical_tokens")


# --------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------


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


def survpgc_loss(model: SurvPGC, batch: SurvivalBatch, beta: float = 0.0, margin: float = 0.2,
                 alpha: float = 0.0) -> torch.Tensor:
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
    logits, z_c, z_g = model.forward_with_paths(
        *[getattr(batch, k) for k in SurvPGC.inputs])
    loss = nll_discrete(logits, batch.bin_index, batch.event, alpha=alpha)
    if beta > 0:
        loss = (1.0 - beta) * loss + beta * cosine_dissimilarity(z_c, z_g, margin)
    return loss
