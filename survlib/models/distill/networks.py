r"""AMKD's networks: the multimodal teacher (Sec. 2.3), the pathology-only student (Sec. 2.4),
a MIL model wrapped as a teacher (Table 5), the S-MLP and "(Cat)" baselines of Table 2, and the
outputs teachers and students return."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
from torch import nn

from survlib.models.blocks import (
    GatedAttentionPool,
    PathwayEncoder,
    PathwayMembership,
    SNNBlock,
    masked_mean,
    masked_softmax,
    zero_padding,
)

__all__ = [
    "AMKDStudent",
    "AMKDTeacher",
    "MILConcat",
    "MILTeacher",
    "SparsePathwayMLP",
    "StudentOutput",
    "TeacherOutput",
]


def _attend(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, key_mask: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Scaled dot-product attention :math:`\mathrm{softmax}(qk^\top/\sqrt d)\,v` (Fig. 1b).

    ``q [B, n, d]``, ``k, v [B, m, d]``, ``key_mask [B, m]`` (``False`` keys get weight 0).
    Returns ``(out [B, n, d], weights [B, n, m])``.
    """
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    mask = None if key_mask is None else key_mask[:, None, :]
    w = masked_softmax(scores, mask)
    return w @ v, w


class _QKV(nn.Module):
    """The query, key and value projections :math:`W^q, W^k, W^v \\in \\mathbb{R}^{d\\times d}`
    of one modality's self-attention (no bias, as in the paper's equations), applied to the
    layer-normalised tokens."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.q = nn.Linear(d, d, bias=False)
        self.k = nn.Linear(d, d, bias=False)
        self.v = nn.Linear(d, d, bias=False)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        z = self.norm(z)
        return self.q(z), self.k(z), self.v(z)


def _mlp(d_in: int, d_hidden: int, d_out: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(d_in, d_hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(d_hidden, d_out)
    )


@dataclass
class TeacherOutput:
    """What a teacher returns for a batch.

    Attributes:
        risk: ``[B]`` log relative hazard (higher = earlier death).
        g2p: ``[B, N, d]`` gene-guided pathology features :math:`h^t_{g2p}` (the L_GE target).
        attn_g2p: ``[B, N, P]`` patch -> pathway cross-attention (rows sum to 1), or ``None``.
        attn_p2g: ``[B, P, N]`` pathway -> patch cross-attention (0 on padding), or ``None``.
        pool: ``[B, P + N]`` pooling weights over the fused sequence (pathways first), or
            ``[B, N]`` for a pathology-only teacher.
    """

    risk: torch.Tensor
    g2p: torch.Tensor
    attn_g2p: torch.Tensor | None = None
    attn_p2g: torch.Tensor | None = None
    pool: torch.Tensor | None = None


@dataclass
class StudentOutput:
    """What :class:`AMKDStudent` returns.

    Attributes:
        risk: ``[B]`` log relative hazard.
        g2p: ``[B, N, d_t]`` the enhancement module's :math:`\\tilde h^s_{g2p}`.
        pool: ``[B, N]`` the pooling weights over patches (0 on padding; sum to 1).
    """

    risk: torch.Tensor
    g2p: torch.Tensor
    pool: torch.Tensor


class AMKDTeacher(nn.Module):
    r"""The multimodal teacher of AMKD (Sec. 2.3), trained with the Cox partial likelihood.

    1. **Feature extraction.** Genes ``[B, G]`` -> pathway tokens
       :math:`z^t_g \in \mathbb{R}^{N_g\times d}` through the sparse pathway MLP (S-MLP:
       :class:`~survlib.models.blocks.PathwayEncoder`, one block-sparse layer over the
       membership mask, then grouped layers). Patch features ``[B, N, D_p]`` ->
       :math:`z^t_p = \mathrm{ReLU}(x W_p)` (a projection to the common width :math:`d`; the
       paper's UNI features already have :math:`d = 1024` and need none).
    2. **Intra-modal self-attention** (single head, :math:`W \in \mathbb{R}^{d\times d}`):
       :math:`h_g = z_g + \mathrm{softmax}(q_g k_g^\top/\sqrt d) v_g`,
       :math:`h_p = z_p + \mathrm{softmax}(q_p k_p^\top/\sqrt d) v_p` (padded patches masked as
       keys), with :math:`q, k, v` projections of the layer-normalised tokens. The paper prints
       the bare attention and calls the layer "Transformer-style"; we read that as the usual
       pre-norm residual layer (without the residual every patch's output is an average over
       the whole bag and the bag loses the identity of its individual patches).
    3. **Cross-attention** (reconstruction 1 of the module notes):
       :math:`h_{g2p} = \mathrm{softmax}(z_p W^q_{g2p}\, k_g^\top/\sqrt d)\, v_g \in
       \mathbb{R}^{N_p\times d}` and :math:`h_{p2g} = \mathrm{softmax}(z_g W^q_{p2g}\,
       k_p^\top/\sqrt d)\, v_p \in \mathbb{R}^{N_g\times d}` (no residual: these are the
       pure cross-modal messages; :math:`h_{g2p}` is what the student learns to reproduce).
    4. **Fusion and head.** :math:`H_{att} = [h_g \| h_{p2g};\ h_{g2p} \| h_p] \in
       \mathbb{R}^{(N_g+N_p)\times 2d}`, pooled over the sequence (gated attention pooling
       over real tokens, or their mean), then an MLP to one log hazard :math:`\hat y`.

    Args:
        d_patch: width of the patch features.
        pathways: gene -> pathway membership (columns = the genes of ``SurvivalBatch.genes``).
        d: common width :math:`d`.
        pathway_hidden: hidden width of the S-MLP before its last layer (to ``d``).
        d_hidden: hidden width of the MLP head.
        pool: ``"attention"`` (gated attention pooling) or ``"mean"``; the paper says "Pool".
        dropout: dropout of the head and the pathway encoder.
    """

    inputs: ClassVar[tuple[str, ...]] = ("patches", "patch_mask", "genes")

    def __init__(
        self,
        d_patch: int,
        pathways: PathwayMembership,
        d: int = 64,
        pathway_hidden: int = 64,
        d_hidden: int = 64,
        pool: Literal["attention", "mean"] = "attention",
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if pool not in ("attention", "mean"):
            raise ValueError(f"pool must be 'attention' or 'mean', got {pool!r}")
        self.d, self.pool_kind = int(d), pool
        self.pathway_names = list(pathways.pathway_names)
        self.gene_encoder = PathwayEncoder(pathways, hidden=(pathway_hidden, d), dropout=dropout)
        self.patch_proj = nn.Sequential(nn.Linear(d_patch, d), nn.ReLU())
        self.self_g, self.self_p = _QKV(d), _QKV(d)
        self.q_g2p = nn.Linear(d, d, bias=False)
        self.q_p2g = nn.Linear(d, d, bias=False)
        self.pool = GatedAttentionPool(2 * d, d_attn=d) if pool == "attention" else None
        self.head = _mlp(2 * d, d_hidden, 1, dropout)

    @property
    def d_g2p(self) -> int:
        """Width of :math:`h^t_{g2p}` (what the student's enhancement MLP must output)."""
        return self.d

    def forward(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, genes: torch.Tensor
    ) -> TeacherOutput:
        z_p = self.patch_proj(zero_padding(patches, patch_mask))  # [B, N, d]
        z_g = self.gene_encoder(genes)  # [B, P, d]
        q_g, k_g, v_g = self.self_g(z_g)
        q_p, k_p, v_p = self.self_p(z_p)
        h_g = z_g + _attend(q_g, k_g, v_g, None)[0]  # residual: "Transformer-style"
        h_p = z_p + _attend(q_p, k_p, v_p, patch_mask)[0]
        h_g2p, a_g2p = _attend(self.q_g2p(self.self_p.norm(z_p)), k_g, v_g, None)  # patches
        h_p2g, a_p2g = _attend(self.q_p2g(self.self_g.norm(z_g)), k_p, v_p, patch_mask)
        rows_g = torch.cat([h_g, h_p2g], dim=-1)  # [B, P, 2d]
        rows_p = torch.cat([h_g2p, h_p], dim=-1)  # [B, N, 2d]
        h_att = torch.cat([rows_g, rows_p], dim=1)  # [B, P + N, 2d]
        keep = torch.cat(
            [torch.ones(rows_g.shape[:2], dtype=torch.bool, device=patch_mask.device), patch_mask],
            dim=1,
        )
        if self.pool is not None:
            pooled, w = self.pool(h_att, keep)
            w = w[..., 0]
        else:
            pooled = masked_mean(h_att, keep)
            w = keep.to(h_att.dtype) / keep.sum(dim=1, keepdim=True)
        risk = self.head(pooled)[:, 0]
        g2p = h_g2p.masked_fill(~patch_mask.unsqueeze(-1), 0.0)
        return TeacherOutput(risk=risk, g2p=g2p, attn_g2p=a_g2p, attn_p2g=a_p2g, pool=w)

    def pathway_attention(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, genes: torch.Tensor
    ) -> torch.Tensor:
        r"""Attention each pathway receives from the patches, ``[B, P]``.

        :math:`s_{bj} = \frac{1}{|\mathcal R_b|}\sum_{i\in\mathcal R_b} A^{g2p}_{bij}`: the mean
        over real patches of the patch -> pathway cross-attention that builds
        :math:`h_{g2p}` (the quantity Sec. 3.5.2 ranks pathways by). Sums to 1 per patient.
        """
        out = self.forward(patches, patch_mask, genes)
        return masked_mean(out.attn_g2p, patch_mask)


class AMKDStudent(nn.Module):
    r"""The pathology-only student of AMKD (Sec. 2.4). Its forward sees patches only.

    .. math::

        z^s_p = \mathrm{ReLU}(x W_p), \qquad
        h^s_p = z^s_p + \mathrm{softmax}(q_p k_p^\top/\sqrt d)\, v_p, \qquad
        \tilde h^s_{g2p} = \mathrm{MLP}(h^s_p)

    (the gene-guided enhancement module, one MLP applied to every patch, output width =
    the teacher's :math:`h^t_{g2p}` width), then :math:`[h^s_p \,\|\, \tilde h^s_{g2p}]` per
    patch, gated attention pooling over the real patches and an MLP head to one log hazard.

    Args:
        d_patch: width of the patch features.
        d_g2p: width of :math:`\tilde h^s_{g2p}` (= ``teacher.d_g2p``).
        d: width of the projection and the self-attention.
        d_enhance: hidden width of the enhancement MLP.
        d_hidden: hidden width of the head.
        d_attn: width of the pooling's attention branches (default ``d``).
        dropout: dropout of the MLPs.
    """

    inputs: ClassVar[tuple[str, ...]] = ("patches", "patch_mask")

    def __init__(
        self,
        d_patch: int,
        d_g2p: int,
        d: int = 64,
        d_enhance: int = 64,
        d_hidden: int = 64,
        d_attn: int | None = None,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.patch_proj = nn.Sequential(nn.Linear(d_patch, d), nn.ReLU())
        self.self_p = _QKV(d)
        self.enhance = _mlp(d, d_enhance, d_g2p, dropout)
        self.pool = GatedAttentionPool(d + d_g2p, d_attn=d if d_attn is None else d_attn)
        self.head = _mlp(d + d_g2p, d_hidden, 1, dropout)

    def forward(self, patches: torch.Tensor, patch_mask: torch.Tensor) -> StudentOutput:
        z_p = self.patch_proj(zero_padding(patches, patch_mask))
        h_p = z_p + _attend(*self.self_p(z_p), patch_mask)[0]
        g2p = self.enhance(h_p)
        g2p = g2p.masked_fill(~patch_mask.unsqueeze(-1), 0.0)
        pooled, w = self.pool(torch.cat([h_p, g2p], dim=-1), patch_mask)
        return StudentOutput(risk=self.head(pooled)[:, 0], g2p=g2p, pool=w[..., 0])


class MILTeacher(nn.Module):
    r"""A pathology-only MIL survival model used as the teacher (Table 5 ablation).

    Wraps a model of :mod:`survlib.models.mil` built with ``n_bins=1`` (one output = a Cox log
    hazard) and exposes, as the :math:`L_{GE}` target, the per-patch representation of one of
    its layers (captured with a forward hook): ``"encoder"`` for ABMIL (the patch embeddings
    :math:`h_i`), ``"norm"`` for TransMIL (the final token states, class token dropped).

    The paper says only that ABMIL and TransMIL "replace the proposed teacher"; we read them
    as the WSI-only models of its Table 2 (so nothing genomic is left to distil).

    Args:
        model: the MIL model (``forward(patches, patch_mask) -> [B, 1]``).
        feature_module: name of the sub-module whose output is ``[B, N, d]`` (or
            ``[B, 1 + N, d]`` with a leading class token, dropped).
        d_feature: the width ``d`` of that output.
    """

    inputs: ClassVar[tuple[str, ...]] = ("patches", "patch_mask")

    def __init__(self, model: nn.Module, feature_module: str, d_feature: int) -> None:
        super().__init__()
        self.model = model
        self.feature_module = feature_module
        self._d = int(d_feature)
        self._captured: torch.Tensor | None = None
        dict(model.named_modules())[feature_module].register_forward_hook(self._hook)
        self.attention_fn: Callable[..., dict[str, torch.Tensor]] | None = getattr(
            model, "attention", None
        )

    def _hook(self, module: nn.Module, args: tuple, output: torch.Tensor) -> None:
        self._captured = output

    @property
    def d_g2p(self) -> int:
        return self._d

    def forward(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, genes: torch.Tensor | None = None
    ) -> TeacherOutput:
        risk = self.model(patches, patch_mask).reshape(-1)
        feats = self._captured
        if feats is None:
            raise RuntimeError(f"MILTeacher: module {self.feature_module!r} produced no output")
        if feats.shape[1] == patches.shape[1] + 1:
            feats = feats[:, 1:]  # drop a class token
        feats = feats.masked_fill(~patch_mask.unsqueeze(-1), 0.0)
        return TeacherOutput(risk=risk, g2p=feats)


class SparsePathwayMLP(nn.Module):
    r"""The S-MLP omics baseline (Elmarakeby et al. 2021; Table 2's "SMLP"): the teacher's
    genomic branch alone.

    Genes -> pathway tokens through the block-sparse :class:`~survlib.models.blocks.
    PathwayEncoder` (only gene-pathway pairs of the membership carry weights), mean over
    pathways, MLP to ``n_out`` outputs (1 = Cox log hazard).
    """

    inputs: ClassVar[tuple[str, ...]] = ("genes",)

    def __init__(
        self,
        pathways: PathwayMembership,
        d: int = 32,
        d_hidden: int = 32,
        n_out: int = 1,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.encoder = PathwayEncoder(pathways, hidden=(d, d), dropout=dropout)
        self.head = _mlp(d, d_hidden, n_out, dropout)

    def forward(self, genes: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(genes).mean(dim=1))


class MILConcat(nn.Module):
    r"""A MIL model with the genomics concatenated ("ABMIL (Cat)", "TransMIL (Cat)" of
    AMKD's Table 2): late fusion by concatenation.

    The MIL model's own decision layer is replaced by the identity, so it returns its slide
    embedding :math:`z_\text{WSI}` (ABMIL: the attention-pooled embedding; TransMIL: the class
    token); genes go through an SNN (:class:`~survlib.models.blocks.SNNBlock`), and an MLP on
    :math:`[z_\text{WSI} \| z_\text{gen}]` gives ``n_out`` outputs.

    Args:
        mil: a model of :mod:`survlib.models.mil` with a ``head`` attribute.
        d_embed: width of the slide embedding (the input width of ``mil.head``).
        n_genes: number of genes.
        d_gen: width of the genomic embedding.
        n_out: outputs (1 = Cox log hazard).
    """

    inputs: ClassVar[tuple[str, ...]] = ("patches", "patch_mask", "genes")

    def __init__(
        self,
        mil: nn.Module,
        d_embed: int,
        n_genes: int,
        d_gen: int = 32,
        n_out: int = 1,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        mil.head = nn.Identity()
        self.mil = mil
        self.genomic = nn.Sequential(
            SNNBlock(n_genes, d_gen, dropout), SNNBlock(d_gen, d_gen, dropout)
        )
        self.head = _mlp(d_embed + d_gen, d_gen, n_out, dropout)

    def forward(
        self, patches: torch.Tensor, patch_mask: torch.Tensor, genes: torch.Tensor
    ) -> torch.Tensor:
        z = torch.cat([self.mil(patches, patch_mask), self.genomic(genes)], dim=-1)
        return self.head(z)
