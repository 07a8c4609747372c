"""Pooling and attention over padded bags: gated attention pooling, multi-head cross-attention,
and the bidirectional co-attention of SurvPath / SurvPGC (with its fusion path)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from survlib.models.blocks.layers import FeedForward
from survlib.models.blocks.masks import masked_mean, masked_softmax

__all__ = ["CoAttention", "CoAttentionFusion", "CrossAttention", "GatedAttentionPool"]


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

    def __init__(
        self, d_q: int, d_kv: int, d_model: int, n_heads: int = 1, dropout: float = 0.0
    ) -> None:
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

    def forward(
        self, queries: torch.Tensor, keys: torch.Tensor, key_mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
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
        self,
        x_m: torch.Tensor,
        x_p: torch.Tensor,
        p_mask: torch.Tensor,
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
        n_m = x_m.shape[1]
        q_m, k_m, v_m = self.project(x_m)
        q_p, k_p, v_p = self.project(x_p)
        if need_weights:
            keep = self._key_mask(n_m, p_mask)
            out_m, out_p, attn = self.explicit_attention(q_m, k_m, v_m, q_p, k_p, v_p, keep)
        else:
            # no mask when every patch is real (the same softmax; the kernel runs faster)
            keep_or_none = None if bool(p_mask.all()) else self._key_mask(n_m, p_mask)
            out_m = F.scaled_dot_product_attention(
                q_m,
                torch.cat([k_m, k_p], dim=2),
                torch.cat([v_m, v_p], dim=2),
                attn_mask=keep_or_none,
            )
            out_p = F.scaled_dot_product_attention(q_p, k_m, v_m)
            attn = {}
        return self._merge(out_m), self._merge(out_p), attn

    @staticmethod
    def _key_mask(n_m: int, p_mask: torch.Tensor) -> torch.Tensor:
        """Key mask of :math:`[K_M; K_P]`, ``[B, 1, 1, n_m + n_p]`` (True = attend)."""
        ones = torch.ones(p_mask.shape[0], n_m, dtype=torch.bool, device=p_mask.device)
        return torch.cat([ones, p_mask], dim=1)[:, None, None, :]

    def project(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``Q, K, V`` of the layer-normalised tokens ``x [B, n, d]``, each ``[B, H, n, d']``.

        Three matmuls with the row blocks of the one ``qkv`` weight (the same maths as one
        matmul then ``chunk``), so that each result is contiguous: the attention kernels then
        read them without copying them first.
        """
        b, n, _ = x.shape
        xn = self.norm(x)
        return tuple(  # type: ignore[return-value]
            F.linear(xn, w).view(b, n, self.n_heads, self.d_head).transpose(1, 2)
            for w in self.qkv.weight.chunk(3, dim=0)
        )

    @staticmethod
    def _merge(out: torch.Tensor) -> torch.Tensor:
        """``[B, H, n, d']`` -> ``[B, n, H d']`` (heads concatenated)."""
        return out.transpose(1, 2).flatten(2)

    def explicit_attention(
        self,
        q_m: torch.Tensor,
        k_m: torch.Tensor,
        v_m: torch.Tensor,
        q_p: torch.Tensor,
        k_p: torch.Tensor,
        v_p: torch.Tensor,
        keep: torch.Tensor,
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

    def __init__(
        self, d: int, d_head: int | None = None, n_heads: int = 1, dropout: float = 0.1
    ) -> None:
        super().__init__()
        self.attn = CoAttention(d, d_head if d_head is not None else d // 2, n_heads)
        self.feed_forward = FeedForward(self.attn.d_out, dropout=dropout)
        self.norm = nn.LayerNorm(self.attn.d_out)

    @property
    def d_out(self) -> int:
        return self.attn.d_out

    def forward(
        self,
        x_m: torch.Tensor,
        x_p: torch.Tensor,
        p_mask: torch.Tensor,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """Returns ``(mean_m [B, d'], mean_p [B, d'], attn)`` (``attn`` as :class:`CoAttention`)."""
        out_m, out_p, attn = self.attn(x_m, x_p, p_mask, need_weights)
        out_m = self.norm(self.feed_forward(out_m))
        out_p = self.norm(self.feed_forward(out_p))
        # every patch real: the masked mean is the plain mean (no [B, N, d'] mask product)
        p_bar = out_p.mean(dim=1) if bool(p_mask.all()) else masked_mean(out_p, p_mask)
        return out_m.mean(dim=1), p_bar, attn
