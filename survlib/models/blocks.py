r"""Shared building blocks of the multimodal survival models (MIL, fusion, SurvPGC).

Data containers
    :class:`SurvivalBatch`      one padded mini-batch of patients (patches + mask, genes,
                                clinical prompt tokens, clinical covariates, survival targets)
    :class:`PathwayMembership`  gene -> pathway boolean matrix ``[n_pathways, G]`` with names

Functions and layers (every one respects the patch mask exactly: padded patches change nothing)
    :func:`zero_padding`, :func:`check_mask`, :func:`masked_mean`, :func:`masked_softmax`
    :class:`SNNBlock`                 Linear -> ELU -> AlphaDropout (the "SNN block" of MCAT,
                                      PORPOISE and SurvPath)
    :class:`GatedAttentionPool`       gated attention pooling of a bag (Ilse et al. 2018)
    :class:`CrossAttention`           multi-head cross-attention with a key mask
    :class:`CoAttention`              bidirectional co-attention of SurvPath / SurvPGC (Eqs. 1-11)
    :class:`CoAttentionFusion`        CoAttention -> feed-forward -> LayerNorm -> two masked means
    :class:`GroupedLinear`            one linear map per group, as one batched matmul
    :class:`PathwayEncoder`           all pathway SNNs of SurvPath as one block-sparse layer +
                                      grouped layers: genes ``[B, G]`` -> tokens ``[B, P, d]``
    :class:`FeedForward`, :class:`DiscreteHead`
    :class:`FusionModel`              base class of the fusion models: ``forward = head(fused)``,
                                      one declared order of the fused vector (used by IG)

Every model in :mod:`survlib.models.mil` and :mod:`survlib.models.fusion` takes named fields of a
:class:`SurvivalBatch` (listed in the class attribute ``inputs``) and returns hazard logits
``[B, n_bins]``; see :func:`survlib.models.predict_logits`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from survlib.data.batch import PathwayMembership, SurvivalBatch

__all__ = [
    "CoAttention",
    "CoAttentionFusion",
    "CrossAttention",
    "DiscreteHead",
    "FeedForward",
    "FusionModel",
    "GatedAttentionPool",
    "GroupedLinear",
    "PathwayEncoder",
    "PathwayMembership",
    "SNNBlock",
    "SurvivalBatch",
    "check_mask",
    "masked_mean",
    "masked_softmax",
    "zero_padding",
]


# --------------------------------------------------------------------------------------------
# Masks
# --------------------------------------------------------------------------------------------


def check_mask(patches: torch.Tensor, patch_mask: torch.Tensor) -> None:
    """Validate a padded bag batch: shapes agree, mask is bool, every patient has a real patch.

    Raises:
        ValueError: naming the problem (and the first patient without a real patch).
    """
    if patches.ndim != 3:
        raise ValueError(f"patches must have shape [B, N, D], got {tuple(patches.shape)}")
    if patch_mask.shape != patches.shape[:2]:
        raise ValueError(f"patch_mask must have shape {tuple(patches.shape[:2])} (= patches "
                         f"[B, N]), got {tuple(patch_mask.shape)}")
    if patch_mask.dtype != torch.bool:
        raise ValueError(f"patch_mask must be bool (True = real patch), got {patch_mask.dtype}")
    empty = (~patch_mask.any(dim=1)).nonzero().flatten()
    if empty.numel():
        raise ValueError(f"patient(s) {empty[:5].tolist()} of the batch have no real patch "
                         f"(patch_mask all False); every bag needs at least one patch")


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


# --------------------------------------------------------------------------------------------
# Small layers
# --------------------------------------------------------------------------------------------


class SNNBlock(nn.Sequential):
    r"""Self-normalising block ``Linear -> ELU -> AlphaDropout``.

    This is the ``SNN_Block`` of MCAT, PORPOISE and SurvPath (their code uses ELU; Klambauer et
    al.'s self-normalising networks use SELU, as :class:`survlib.models.omics.SurvivalMLP` with
    ``activation="selu"`` does). Alpha-dropout keeps the mean and variance of the activations.
    """

    def __init__(self, d_in: int, d_out: int, dropout: float = 0.25) -> None:
        super().__init__(nn.Linear(d_in, d_out), nn.ELU(), nn.AlphaDropout(dropout))


class FeedForward(nn.Module):
    r"""Pre-norm feed-forward layer of SurvPath: :math:`W_2\,\mathrm{Dropout}(\mathrm{GELU}(W_1
    \mathrm{LN}(x)))` (no residual, as in the reference implementation)."""

    def __init__(self, d: int, mult: int = 1, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.net = nn.Sequential(nn.Linear(d, d * mult), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(d * mult, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.norm(x))


class DiscreteHead(nn.Sequential):
    """Decision layer ``Linear -> ReLU -> Linear`` to ``n_bins`` hazard logits (SurvPath's
    ``to_logits``); with ``d_hidden=None`` a single ``Linear``."""

    def __init__(self, d_in: int, n_bins: int, d_hidden: int | None = None,
                 dropout: float = 0.0) -> None:
        if d_hidden is None:
            super().__init__(nn.Linear(d_in, n_bins))
        else:
            super().__init__(nn.Linear(d_in, d_hidden), nn.ReLU(), nn.Dropout(dropout),
                             nn.Linear(d_hidden, n_bins))


class GroupedLinear(nn.Module):
    r"""``n_groups`` independent linear maps applied as one batched matmul.

    .. math:: y_{bp} = x_{bp} W_p + b_p, \qquad x: [B, P, d_\text{in}],\ W: [P, d_\text{in},
              d_\text{out}]

    Equivalent to an ``nn.ModuleList`` of ``P`` ``nn.Linear(d_in, d_out)`` (same
    initialisation, :math:`U(\pm 1/\sqrt{d_\text{in}})`), without the Python loop.
    """

    def __init__(self, n_groups: int, d_in: int, d_out: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(d_in)
        self.weight = nn.Parameter(torch.empty(n_groups, d_in, d_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_groups, d_out).uniform_(-bound, bound))

    def forward_group_major(self, x: torch.Tensor) -> torch.Tensor:
        """The same map on the group-major layout ``[P, B, d_in] -> [P, B, d_out]``."""
        return torch.baddbmm(self.bias.unsqueeze(1), x, self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_group_major(x.transpose(0, 1)).transpose(0, 1)


# --------------------------------------------------------------------------------------------
# Pooling and attention
# --------------------------------------------------------------------------------------------


class GatedAttentionPool(nn.Module):
    r"""Gated attention pooling of a bag (Ilse, Tomczak & Welling 2018, Eq. 9).

    .. math::

        a_i = \frac{\exp\{w^\top(\tanh(V h_i) \odot \sigma(U h_i))\}}
                   {\sum_{j \in \text{real}} \exp\{w^\top(\tanh(V h_j) \odot \sigma(U h_j))\}},
        \qquad z = \sum_i a_i h_i

    Padded patches get :math:`a_i = 0` exactly. With ``n_heads > 1``, ``w`` has one column per
    head and the pooled vectors are concatenated (``[B, n_heads * d]``).
    """

    def __init__(self, d: int, d_attn: int = 128, dropout: float = 0.0, n_heads: int = 1) -> None:
        super().__init__()
        self.tanh_branch = nn.Sequential(nn.Linear(d, d_attn), nn.Tanh(), nn.Dropout(dropout))
        self.gate_branch = nn.Sequential(nn.Linear(d, d_attn), nn.Sigmoid(), nn.Dropout(dropout))
        self.score = nn.Linear(d_attn, n_heads)

    def weights(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Attention weights ``[B, N, n_heads]`` (0 on padding; each head sums to 1)."""
        s = self.score(self.tanh_branch(h) * self.gate_branch(h))  # [B, N, H]
        return masked_softmax(s, mask.unsqueeze(-1), dim=1)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pool ``h [B, N, d]``; returns ``(z [B, n_heads*d], a [B, N, n_heads])``."""
        a = self.weights(h, mask)
        z = torch.einsum("bnh,bnd->bhd", a, h).flatten(1)
        return z, a


class CrossAttention(nn.Module):
    r"""Multi-head cross-attention of queries over keys with a key mask.

    .. math:: \mathrm{head}_h = \sigma\big((X_q W^Q_h)(X_k W^K_h)^\top/\sqrt{d_h}\big)\,X_k W^V_h,
              \qquad \mathrm{out} = [\mathrm{head}_1, \dots, \mathrm{head}_H]\,W^O

    where :math:`\sigma` is the softmax over the real keys (masked keys get weight 0).
    Used by MCAT's genomics-guided co-attention (pathway queries over patches).
    """

    def __init__(self, d_q: int, d_kv: int, d_model: int, n_heads: int = 1,
                 dropout: float = 0.0) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} must be divisible by n_heads={n_heads}")
        self.n_heads, self.d_head = n_heads, d_model // n_heads
        self.q = nn.Linear(d_q, d_model)
        self.k = nn.Linear(d_kv, d_model)
        self.v = nn.Linear(d_kv, d_model)
        self.out = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        return x.view(b, n, self.n_heads, self.d_head).transpose(1, 2)  # [B, H, n, dh]

    def forward(self, queries: torch.Tensor, keys: torch.Tensor,
                key_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns ``(out [B, Nq, d_model], attn [B, H, Nq, Nk])``."""
        q, k, v = self._split(self.q(queries)), self._split(self.k(keys)), self._split(self.v(keys))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.d_head)
        mask = None if key_mask is None else key_mask[:, None, None, :]
        attn = masked_softmax(scores, mask)
        out = (self.dropout(attn) @ v).transpose(1, 2).flatten(2)
        return self.out(out), attn


class CoAttention(nn.Module):
    r"""Bidirectional co-attention between ``n_m`` modality tokens and ``n_p`` patch tokens.

    SurvPGC, Eqs. (1)-(11) (the same layer as SurvPath's). The tokens are concatenated,
    :math:`X = [X_M; X_P] \in \mathbb{R}^{(n_m+n_p)\times d}`, layer-normalised, and projected
    (Eqs. 1-3; no bias) to :math:`Q = XW_Q`, :math:`K = XW_K`, :math:`V = XW_V` with
    :math:`W \in \mathbb{R}^{d\times d'}` per head, chunked by modality:

    .. math::

        A_{M\to M} &= Q_M K_M^\top/\sqrt{d'} \quad (6) \qquad
        A_{M\to P} = Q_M K_P^\top/\sqrt{d'} \quad (7) \qquad
        A_{P\to M} = Q_P K_M^\top/\sqrt{d'} \quad (8) \\
        \hat A_{M\to P} &= \sigma\big([A_{M\to M},\ A_{M\to P}]\big) \in
            \mathbb{R}^{n_m\times(n_m+n_p)} \quad (9) \\
        X_{M\to P} &= \hat A_{M\to P}\,[V_M; V_P] \quad (10) \qquad
        X_{P\to M} = \sigma(A_{P\to M})\,V_M \quad (11)

    :math:`A_{P\to P}` is omitted (Eq. 5 with the patch-patch block dropped, "as suggested in
    SurvPath"). **Reconstruction.** The paper's Eqs. (9)-(11) print no softmax and write Eq. (9)
    as a bare concatenation :math:`\oplus`; the surrounding text (Eq. 5, ":math:`\sigma` is the
    softmax") and SurvPath's layer show the softmax is taken row-wise over the concatenated
    scores in Eq. (9) and over the :math:`n_m` keys in Eq. (11), as written above. Eq. (4)
    likewise omits the softmax that Eq. (5) applies. Also, Eqs. (1)-(3) state
    :math:`W \in \mathbb{R}^{d\times d}` but give :math:`Q` width :math:`d'`; the weights are
    :math:`d \times d'` (SurvPath: :math:`d' = d/2`). Padded patches are masked out of every
    softmax (the reference code runs one patient at a time and has no mask).

    ``n_heads > 1`` repeats this per head and concatenates (SurvPath and SurvPGC use one head).
    """

    def __init__(self, d: int, d_head: int, n_heads: int = 1) -> None:
        super().__init__()
        self.n_heads, self.d_head = n_heads, d_head
        self.norm = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * n_heads * d_head, bias=False)

    @property
    def d_out(self) -> int:
        return self.n_heads * self.d_head

    def forward(
        self, x_m: torch.Tensor, x_p: torch.Tensor, p_mask: torch.Tensor,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """Co-attend ``x_m [B, n_m, d]`` and ``x_p [B, n_p, d]`` (``p_mask [B, n_p]``).

        Returns:
            ``(X_{M->P} [B, n_m, d'H], X_{P->M} [B, n_p, d'H], attn)``. With
            ``need_weights``, ``attn`` holds the softmax weights ``"M->M" [B, H, n_m, n_m]``,
            ``"M->P" [B, H, n_m, n_p]`` (the two blocks of :math:`\\hat A_{M\\to P}`) and
            ``"P->M" [B, H, n_p, n_m]``; otherwise it is empty and both products run as fused
            ``scaled_dot_product_attention`` calls (Eq. 10 is attention of the :math:`n_m`
            queries over all :math:`n_m + n_p` keys, Eq. 11 of the :math:`n_p` queries over
            the :math:`n_m` keys), which never materialise the weights.
        """
        b, n_m, _ = x_m.shape
        h, dh = self.n_heads, self.d_head

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, t.shape[1], h, dh).transpose(1, 2)  # [B, H, n, dh]

        q_m, k_m, v_m = (split(t) for t in self.qkv(self.norm(x_m)).chunk(3, dim=-1))
        q_p, k_p, v_p = (split(t) for t in self.qkv(self.norm(x_p)).chunk(3, dim=-1))
        keep = torch.cat([torch.ones(b, n_m, dtype=torch.bool, device=p_mask.device), p_mask],
                         dim=1)[:, None, None, :]
        if not need_weights:
            out_m = F.scaled_dot_product_attention(q_m, torch.cat([k_m, k_p], dim=2),
                                                   torch.cat([v_m, v_p], dim=2), attn_mask=keep)
            out_p = F.scaled_dot_product_attention(q_p, k_m, v_m)
            attn: dict[str, torch.Tensor] = {}
        else:
            out_m, out_p, attn = self.explicit_attention(q_m, k_m, v_m, q_p, k_p, v_p, keep)
        return out_m.transpose(1, 2).flatten(2), out_p.transpose(1, 2).flatten(2), attn

    def explicit_attention(
        self, q_m: torch.Tensor, k_m: torch.Tensor, v_m: torch.Tensor, q_p: torch.Tensor,
        k_p: torch.Tensor, v_p: torch.Tensor, keep: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """Eqs. (6)-(11) written out, per head (``[B, H, n, d']`` inputs, ``keep`` the key mask
        of :math:`[K_M; K_P]`); returns the two outputs and the softmax weights."""
        n_m = q_m.shape[2]
        scale = 1.0 / math.sqrt(self.d_head)
        a_mm = (q_m @ k_m.transpose(-1, -2)) * scale  # Eq. (6)
        a_mp = (q_m @ k_p.transpose(-1, -2)) * scale  # Eq. (7)
        a_pm = (q_p @ k_m.transpose(-1, -2)) * scale  # Eq. (8)
        a_hat = masked_softmax(torch.cat([a_mm, a_mp], dim=-1), keep)  # Eq. (9) + softmax
        out_m = a_hat[..., :n_m] @ v_m + a_hat[..., n_m:] @ v_p  # Eq. (10)
        w_pm = torch.softmax(a_pm, dim=-1)
        out_p = w_pm @ v_m  # Eq. (11)
        return out_m, out_p, {"M->M": a_hat[..., :n_m], "M->P": a_hat[..., n_m:], "P->M": w_pm}


class CoAttentionFusion(nn.Module):
    r"""One fusion path of SurvPath / SurvPGC: :class:`CoAttention`, then the feed-forward layer
    and LayerNorm applied to every token, then the mean over each modality's tokens:

    .. math:: \bar X_{M\to P} = \tfrac{1}{n_m}\sum_i \mathrm{LN}(\mathrm{FF}(X_{M\to P}))_i,\qquad
              \bar X_{P\to M} = \tfrac{1}{|\text{real}|}\sum_{j\ \text{real}}
              \mathrm{LN}(\mathrm{FF}(X_{P\to M}))_j

    ("After passing through the forward propagation layer with normalization operations, the
    mean of the fused vector representation is calculated", SurvPGC Methods). The patch mean
    runs over real patches only.
    """

    def __init__(self, d: int, d_head: int | None = None, n_heads: int = 1,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.attn = CoAttention(d, d_head if d_head is not None else d // 2, n_heads)
        self.feed_forward = FeedForward(self.attn.d_out, dropout=dropout)
        self.norm = nn.LayerNorm(self.attn.d_out)

    @property
    def d_out(self) -> int:
        return self.attn.d_out

    def forward(
        self, x_m: torch.Tensor, x_p: torch.Tensor, p_mask: torch.Tensor,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """Returns ``(mean_m [B, d'], mean_p [B, d'], attn)`` (``attn`` as :class:`CoAttention`)."""
        out_m, out_p, attn = self.attn(x_m, x_p, p_mask, need_weights)
        out_m = self.norm(self.feed_forward(out_m))
        out_p = self.norm(self.feed_forward(out_p))
        return out_m.mean(dim=1), masked_mean(out_p, p_mask), attn


# --------------------------------------------------------------------------------------------
# Pathway encoder (all per-pathway SNNs as one layer)
# --------------------------------------------------------------------------------------------


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
    buckets (sizes rounded up to a power of two); for each bucket the pair weights are
    scattered into a zero-padded ``[P_b, S_b, h_1]`` block, the genes gathered into
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

    def __init__(self, pathways: PathwayMembership, hidden: Sequence[int] = (256, 256),
                 dropout: float = 0.25) -> None:
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
        self.weight1 = nn.Parameter((torch.rand(path_idx.numel(), h1) * 2 - 1)
                                    * bound[path_idx].unsqueeze(1))
        self.bias1 = nn.Parameter((torch.rand(self.n_pathways, h1) * 2 - 1) * bound.unsqueeze(1))
        self._build_buckets(gene_idx, sizes)
        self.act1 = nn.Sequential(nn.ELU(), nn.AlphaDropout(dropout))
        self.layers = nn.ModuleList()
        self.acts = nn.ModuleList()
        for d_in, d_out in zip(hidden[:-1], hidden[1:]):
            self.layers.append(GroupedLinear(self.n_pathways, int(d_in), int(d_out)))
            self.acts.append(nn.Sequential(nn.ELU(), nn.AlphaDropout(dropout)))
        self.d_out = int(hidden[-1])

    def _build_buckets(self, gene_idx: torch.Tensor, sizes: torch.Tensor) -> None:
        """Index tables of the size buckets (see the class docstring)."""
        first = torch.cumsum(sizes, 0) - sizes  # first pair of each pathway
        level = torch.ceil(torch.log2(sizes.to(torch.float64))).long()
        self._buckets: list[str] = []
        order = []
        for lv in torch.unique(level).tolist():
            pids = (level == lv).nonzero().flatten()
            s_b = int(sizes[pids].max())
            genes_b = torch.full((len(pids), s_b), self.n_genes, dtype=torch.long)  # sentinel
            slots, pairs = [], []
            for r, p in enumerate(pids.tolist()):
                n, f = int(sizes[p]), int(first[p])
                genes_b[r, :n] = gene_idx[f : f + n]
                slots.append(torch.arange(n) + r * s_b)
                pairs.append(torch.arange(f, f + n))
            name = f"b{len(self._buckets)}"
            self.register_buffer(f"{name}_genes", genes_b, persistent=False)
            self.register_buffer(f"{name}_slots", torch.cat(slots), persistent=False)
            self.register_buffer(f"{name}_pairs", torch.cat(pairs), persistent=False)
            self._buckets.append(name)
            order.append(pids)
        # position of each pathway in the concatenation of the buckets
        self.register_buffer("bucket_inverse", torch.argsort(torch.cat(order)), persistent=False)

    def first_layer(self, genes: torch.Tensor) -> torch.Tensor:
        """Pre-activation of the block-sparse first layer, pathway-major ``[P, B, h_1]``."""
        if genes.ndim != 2 or genes.shape[1] != self.n_genes:
            raise ValueError(f"genes must have shape [B, {self.n_genes}] (the pathway "
                             f"membership's genes), got {tuple(genes.shape)}")
        h1 = self.weight1.shape[1]
        xg = torch.cat([genes, genes.new_zeros(genes.shape[0], 1)], dim=1).T  # [G+1, B]
        outs = []
        for name in self._buckets:
            genes_b = getattr(self, f"{name}_genes")  # [P_b, S_b]
            w = self.weight1.new_zeros(genes_b.numel(), h1).index_copy(
                0, getattr(self, f"{name}_slots"),
                self.weight1.index_select(0, getattr(self, f"{name}_pairs")))
            x = xg[genes_b].transpose(1, 2)  # [P_b, B, S_b]
            outs.append(torch.bmm(x, w.view(genes_b.shape[0], genes_b.shape[1], h1)))
        return torch.cat(outs, dim=0)[self.bucket_inverse] + self.bias1.unsqueeze(1)

    def pathway_weight(self, p: int) -> torch.Tensor:
        """First-layer weight of pathway ``p`` as a dense ``[h_1, |G_p|]`` matrix (the
        ``nn.Linear(|G_p|, h_1).weight`` of the per-pathway formulation; genes in column order)."""
        return self.weight1[self.path_idx == p].T

    def forward(self, genes: torch.Tensor) -> torch.Tensor:
        x = self.act1(self.first_layer(genes))
        for layer, act in zip(self.layers, self.acts):
            x = act(layer.forward_group_major(x))
        return x.transpose(0, 1)


# --------------------------------------------------------------------------------------------
# Fusion models: forward = head(fused vector), one declared order
# --------------------------------------------------------------------------------------------


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
                raise RuntimeError(f"{type(self).__name__}: fused part {name!r} has width "
                                   f"{t.shape[-1]}, declared {width}")
            out.append(t)
        return torch.cat(out, dim=-1)

    def part_slices(self) -> dict[str, slice]:
        """Column slice of each part in the fused vector."""
        out, start = {}, 0
        for name, width in self.fusion_parts:
            out[name] = slice(start, start + width)
            start += width
        return out
