"""The pathway encoder: all per-pathway SNNs of SurvPath as one block-sparse layer plus grouped
layers, genes ``[B, G]`` -> pathway tokens ``[B, P, d]``."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from survlib.data.batch import PathwayMembership
from survlib.models.blocks.layers import GroupedLinear

__all__ = ["PathwayEncoder"]


class PathwayEncoder(nn.Module):
    r"""Encode the genes of each pathway into one token per pathway, for all pathways at once.

    SurvPath gives every pathway :math:`p` (genes :math:`\mathcal G_p`) its own small SNN,
    :math:`t_p = f_p(x_{\mathcal G_p})` with
    :math:`f_p = \mathrm{SNN}_{h_1\to h_2}\circ\mathrm{SNN}_{|\mathcal G_p|\to h_1}`, and loops
    over hundreds of ``nn.Module``\ s. Here the first layer is one **block-sparse** linear map
    (only gene-pathway pairs that exist have a weight),

    .. math:: u_{bp} = \sum_{g \in \mathcal G_p} x_{bg}\, w_{(p,g)} + c_p \in \mathbb{R}^{h_1},

    and the next layers are :class:`GroupedLinear` (one batched matmul for all pathways). Each
    layer is followed by ELU and alpha-dropout (:class:`SNNBlock`). The maths, the parameter
    count and the initialisation (:math:`U(\pm 1/\sqrt{|\mathcal G_p|})` for pathway
    :math:`p`'s first layer) are those of the per-pathway ``nn.ModuleList`` (tested); a gene in
    several pathways has one weight per pathway.

    Implementation of the block-sparse layer: the weights are stored once, one row per
    gene-pathway pair (``weight1``, ``[n_pairs, h_1]``). Pathways are grouped into a few size
    buckets (sizes rounded up to a power of two); one gather of ``[weight1; 0]`` builds every
    bucket's zero-padded ``[P_b, S_b, h_1]`` block, the genes are gathered into
    ``[P_b, B, S_b]`` (padding reads a constant 0), and one ``bmm`` computes every pathway of
    the bucket. Padding contributes exact zeros and receives no gradient, so this equals the
    per-pathway computation while touching at most twice the real weights. All layers work on
    the pathway-major layout ``[P, B, h]``; the result is returned as ``[B, P, h]``.

    Args:
        pathways: the gene -> pathway membership (``genes`` columns in its ``genes`` order).
        hidden: widths :math:`(h_1, h_2, \dots)`; SurvPath uses ``(256, 256)``.
        dropout: alpha-dropout rate (SurvPath: 0.25).

    Shapes: ``genes [B, G]`` -> ``tokens [B, n_pathways, hidden[-1]]``.
    """

    def __init__(
        self, pathways: PathwayMembership, hidden: Sequence[int] = (256, 256), dropout: float = 0.25
    ) -> None:
        super().__init__()
        if len(hidden) < 1:
            raise ValueError("PathwayEncoder needs at least one hidden width")
        m = pathways.matrix
        path_idx, gene_idx = m.nonzero(as_tuple=True)  # row-major: grouped by pathway, genes sorted
        self.n_pathways, self.n_genes = pathways.n_pathways, pathways.n_genes
        self.pathway_names = list(pathways.pathway_names)
        self.register_buffer("path_idx", path_idx.clone(), persistent=False)
        sizes = m.sum(dim=1)
        bound = 1.0 / sizes.to(torch.float32).sqrt()  # nn.Linear(|G_p|, h) init, per pathway
        h1 = int(hidden[0])
        self.weight1 = nn.Parameter(
            (torch.rand(path_idx.numel(), h1) * 2 - 1) * bound[path_idx].unsqueeze(1)
        )
        self.bias1 = nn.Parameter((torch.rand(self.n_pathways, h1) * 2 - 1) * bound.unsqueeze(1))
        self._build_buckets(gene_idx, sizes)
        self.act1 = nn.Sequential(nn.ELU(), nn.AlphaDropout(dropout))
        self.layers = nn.ModuleList()
        self.acts = nn.ModuleList()
        for d_in, d_out in zip(hidden[:-1], hidden[1:], strict=True):
            self.layers.append(GroupedLinear(self.n_pathways, int(d_in), int(d_out)))
            self.acts.append(nn.Sequential(nn.ELU(), nn.AlphaDropout(dropout)))
        self.d_out = int(hidden[-1])

    def _build_buckets(self, gene_idx: torch.Tensor, sizes: torch.Tensor) -> None:
        """Index tables of the size buckets (see the class docstring)."""
        first = torch.cumsum(sizes, 0) - sizes  # first pair of each pathway
        level = torch.ceil(torch.log2(sizes.to(torch.float64))).long()
        n_pairs = int(sizes.sum())
        self._bucket_shapes: list[tuple[int, int]] = []
        order, weight_rows = [], []
        for lv in torch.unique(level).tolist():
            pids = (level == lv).nonzero().flatten()
            s_b = int(sizes[pids].max())
            genes_b = torch.full((len(pids), s_b), self.n_genes, dtype=torch.long)  # sentinel
            rows_b = torch.full((len(pids), s_b), n_pairs, dtype=torch.long)  # the zero row
            for r, p in enumerate(pids.tolist()):
                n, f = int(sizes[p]), int(first[p])
                genes_b[r, :n] = gene_idx[f : f + n]
                rows_b[r, :n] = torch.arange(f, f + n)
            self.register_buffer(f"b{len(self._bucket_shapes)}_genes", genes_b, persistent=False)
            self._bucket_shapes.append((len(pids), s_b))
            weight_rows.append(rows_b.flatten())
            order.append(pids)
        # row of ``[weight1; 0]`` of every slot of every bucket's padded weight block
        self.register_buffer("weight_rows", torch.cat(weight_rows), persistent=False)
        # position of each pathway in the concatenation of the buckets
        self.register_buffer("bucket_inverse", torch.argsort(torch.cat(order)), persistent=False)

    def first_layer(self, genes: torch.Tensor) -> torch.Tensor:
        """Pre-activation of the block-sparse first layer, pathway-major ``[P, B, h_1]``.

        All buckets' padded weight blocks come from one gather of ``[weight1; 0]`` (one
        gradient scatter in the backward pass), then one ``bmm`` per bucket.
        """
        if genes.ndim != 2 or genes.shape[1] != self.n_genes:
            raise ValueError(
                f"genes must have shape [B, {self.n_genes}] (the pathway "
                f"membership's genes), got {tuple(genes.shape)}"
            )
        h1 = self.weight1.shape[1]
        xg = torch.cat([genes, genes.new_zeros(genes.shape[0], 1)], dim=1).T  # [G+1, B]
        w_ext = torch.cat([self.weight1, self.weight1.new_zeros(1, h1)])
        blocks = F.embedding(self.weight_rows, w_ext).split(
            [p_b * s_b for p_b, s_b in self._bucket_shapes]
        )
        outs = []
        for b, ((p_b, s_b), w) in enumerate(zip(self._bucket_shapes, blocks, strict=True)):
            x = xg[getattr(self, f"b{b}_genes")].transpose(1, 2)  # [P_b, B, S_b]
            outs.append(torch.bmm(x, w.view(p_b, s_b, h1)))
        return torch.cat(outs, dim=0)[self.bucket_inverse] + self.bias1.unsqueeze(1)

    def pathway_weight(self, p: int) -> torch.Tensor:
        """First-layer weight of pathway ``p`` as a dense ``[h_1, |G_p|]`` matrix (the
        ``nn.Linear(|G_p|, h_1).weight`` of the per-pathway formulation; genes in column order)."""
        return self.weight1[self.path_idx == p].T

    def forward(self, genes: torch.Tensor) -> torch.Tensor:
        x = self.act1(self.first_layer(genes))
        for layer, act in zip(self.layers, self.acts, strict=True):
            x = act(layer.forward_group_major(x))
        return x.transpose(0, 1)
