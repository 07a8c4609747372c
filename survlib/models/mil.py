r"""Multiple-instance learning (MIL) survival models of whole-slide images.

A patient is a bag of patch features ``patches [B, N, D_p]`` padded to the largest bag of the
batch, with ``patch_mask [B, N]`` (``True`` = real patch). Every model here takes
``(patches, patch_mask)`` (its ``inputs``), ignores padded patches exactly (padding invariance
is tested) and returns discrete-time hazard logits ``[B, n_bins]`` for
:func:`survlib.survival.nll_discrete`.

- :class:`MeanMIL`   per-patch MLP, mean over patches, linear head ("MLP (Pathology)" of SurvPGC
  Table 1: "patch-level outputs were aggregated by computing their mean value").
- :class:`ABMIL`     gated attention MIL (Ilse et al. 2018).
- :class:`TransMIL`  transformer MIL (Shao et al. 2021) with the documented CPU simplifications.
- :class:`DSMIL`     dual-stream MIL (Li, Li & Eliceiri 2021) with the time bins as classes.

Models with attention expose ``attention(patches, patch_mask) -> dict[str, Tensor[B, N]]``
(per-patch scores, 0 on padding).
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from survlib.models.blocks import GatedAttentionPool, masked_mean, masked_softmax, zero_padding

__all__ = ["ABMIL", "DSMIL", "MeanMIL", "TransMIL"]


def _patch_encoder(d_patch: int, d_hidden: int, dropout: float) -> nn.Sequential:
    """``Linear -> ReLU -> Dropout``: the first layer of every MIL model (CLAM / SurvPath)."""
    return nn.Sequential(nn.Linear(d_patch, d_hidden), nn.ReLU(), nn.Dropout(dropout))


class MeanMIL(nn.Module):
    r"""Mean-pooling MIL: :math:`z = \frac{1}{|\text{real}|}\sum_i \phi(h_i)`, logits
    :math:`= W z + b`, with :math:`\phi` a per-patch MLP (``Linear -> ReLU -> Dropout`` per
    hidden width).

    Args:
        d_patch: patch feature width.
        n_bins: number of time bins (output logits).
        hidden: widths of the per-patch MLP.
        dropout: dropout after each hidden layer.
    """

    inputs: ClassVar[tuple[str, ...]] = ("patches", "patch_mask")

    def __init__(
        self, d_patch: int, n_bins: int, hidden: tuple[int, ...] = (256,), dropout: float = 0.25
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = d_patch
        for h in hidden:
            layers.append(_patch_encoder(width, h, dropout))
            width = h
        self.encoder = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_bins)

    def embed(self, patches: torch.Tensor, patch_mask: torch.Tensor) -> torch.Tensor:
        """The pooled slide embedding ``[B, hidden[-1]]``."""
        return masked_mean(self.encoder(zero_padding(patches, patch_mask)), patch_mask)

    def forward(self, patches: torch.Tensor, patch_mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(patches, patch_mask))


class ABMIL(nn.Module):
    r"""Gated attention-based MIL (Ilse, Tomczak & Welling 2018).

    :math:`h_i = \mathrm{ReLU}(W_1 x_i)`, gated attention weights :math:`a_i` (Eq. 9 of the
    paper, :class:`~survlib.models.blocks.GatedAttentionPool`), :math:`z = \sum_i a_i h_i`,
    then ``Linear -> ReLU -> Dropout -> Linear`` to the logits (the ``rho`` + classifier of
    the CLAM / SurvPath implementations).

    Args:
        d_patch: patch feature width.
        n_bins: number of time bins.
        d_hidden: width of the patch embedding :math:`h_i`.
        d_attn: width of the attention branches.
        dropout: dropout rate.
    """

    inputs: ClassVar[tuple[str, ...]] = ("patches", "patch_mask")

    def __init__(
        self,
        d_patch: int,
        n_bins: int,
        d_hidden: int = 256,
        d_attn: int = 128,
        dropout: float = 0.25,
    ) -> None:
        super().__init__()
        self.encoder = _patch_encoder(d_patch, d_hidden, dropout)
        self.pool = GatedAttentionPool(d_hidden, d_attn, dropout)
        self.head = nn.Sequential(
            nn.Linear(d_hidden, d_hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(d_hidden, n_bins),
        )

    def forward(self, patches: torch.Tensor, patch_mask: torch.Tensor) -> torch.Tensor:
        h = self.encoder(zero_padding(patches, patch_mask))
        z, _ = self.pool(h, patch_mask)
        return self.head(z)

    def attention(self, patches: torch.Tensor, patch_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"attention": a [B, N]}``: the pooling weights (sum to 1 over real patches)."""
        h = self.encoder(zero_padding(patches, patch_mask))
        return {"attention": self.pool.weights(h, patch_mask)[..., 0]}


class _MaskedSelfAttentionLayer(nn.Module):
    """Pre-norm transformer attention sub-layer ``x + MHA(LN(x))`` with a key mask."""

    def __init__(self, d: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        if d % n_heads:
            raise ValueError(f"d={d} must be divisible by n_heads={n_heads}")
        self.n_heads, self.d_head = n_heads, d // n_heads
        self.norm = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.out = nn.Sequential(nn.Linear(d, d), nn.Dropout(dropout))
        self.dropout = dropout

    def _qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        b, n, _ = x.shape
        q, k, v = self.qkv(self.norm(x)).chunk(3, dim=-1)
        return tuple(t.view(b, n, self.n_heads, self.d_head).transpose(1, 2) for t in (q, k, v))

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
        q, k, v = self._qkv(x)
        # boolean attn_mask: True = take part in attention (SDPA's convention)
        y = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=key_mask[:, None, None, :],
            dropout_p=self.dropout if self.training else 0.0,
        )
        return x + self.out(y.transpose(1, 2).flatten(2))

    def query_attention(self, x: torch.Tensor, key_mask: torch.Tensor, i: int = 0) -> torch.Tensor:
        """Softmax attention of token ``i``'s query over all keys, mean over heads, ``[B, n]``."""
        q, k, _ = self._qkv(x)
        scores = (q[:, :, i : i + 1] @ k.transpose(-1, -2)).squeeze(2) / math.sqrt(self.d_head)
        return masked_softmax(scores, key_mask[:, None, :]).mean(dim=1)


class _PPEG1d(nn.Module):
    """Multi-scale depthwise convolutional position encoding along the patch order."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv1d(d, d, k, padding=k // 2, groups=d) for k in (7, 5, 3))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x.masked_fill(~mask.unsqueeze(-1), 0.0)
        xt = x.transpose(1, 2)  # [B, d, N]
        return (xt + sum(conv(xt) for conv in self.convs)).transpose(1, 2)


class TransMIL(nn.Module):
    r"""Transformer MIL (Shao et al. 2021), CPU-friendly and padding-exact.

    Structure as in the paper: ``Linear -> ReLU`` to width ``d``, a class token, transformer
    layer, position encoding (PPEG), transformer layer, LayerNorm, head on the class token.

    Simplifications (documented, deliberate):

    * **Exact softmax attention** (``scaled_dot_product_attention`` with a key mask) instead of
      Nyström attention. Nyström is an approximation for memory; its landmarks are means over
      fixed segments of the sequence, which change when padding is appended, so it cannot be
      padding-invariant.
    * **1-D PPEG.** TransMIL reshapes the tokens into a :math:`\lceil\sqrt N\rceil^2` square
      (repeating tokens to fill it) and applies 7x7, 5x5, 3x3 depthwise convolutions; the
      square depends on the bag size, so padding would change every patch's neighbours. Here
      the same three depthwise convolutions (kernels 7, 5, 3) run along the patch order, on
      tokens with the padding zeroed: for bags whose real patches come first (how
      :class:`~survlib.models.blocks.SurvivalBatch` pads), the result on real patches equals
      the unpadded result exactly. In feature files the patch order is the tiling order
      (row-major), so 1-D neighbours are mostly spatial neighbours.
    * No residual convolution inside the attention (a Nyström-attention option).

    Args:
        d_patch: patch feature width.
        n_bins: number of time bins.
        d: model width (TransMIL: 512; 256 here by default for CPUs).
        n_heads: attention heads (TransMIL: 8).
        dropout: dropout rate.
    """

    inputs: ClassVar[tuple[str, ...]] = ("patches", "patch_mask")

    def __init__(
        self, d_patch: int, n_bins: int, d: int = 256, n_heads: int = 8, dropout: float = 0.1
    ) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(d_patch, d), nn.ReLU())
        self.cls_token = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.layer1 = _MaskedSelfAttentionLayer(d, n_heads, dropout)
        self.ppeg = _PPEG1d(d)
        self.layer2 = _MaskedSelfAttentionLayer(d, n_heads, dropout)
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, n_bins)

    def _tokens(
        self, patches: torch.Tensor, patch_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(zero_padding(patches, patch_mask))
        cls = self.cls_token.expand(h.shape[0], -1, -1)
        keep = torch.cat([torch.ones_like(patch_mask[:, :1]), patch_mask], dim=1)
        return torch.cat([cls, h], dim=1), keep

    def _through_ppeg(
        self, patches: torch.Tensor, patch_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x, keep = self._tokens(patches, patch_mask)
        x = self.layer1(x, keep)
        x = torch.cat([x[:, :1], self.ppeg(x[:, 1:], patch_mask)], dim=1)
        return x, keep

    def forward(self, patches: torch.Tensor, patch_mask: torch.Tensor) -> torch.Tensor:
        x, keep = self._through_ppeg(patches, patch_mask)
        x = self.norm(self.layer2(x, keep))
        return self.head(x[:, 0])

    def attention(self, patches: torch.Tensor, patch_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"cls": [B, N]}``: the class token's attention over patches in the last layer
        (mean over heads; the class token's weight on itself is dropped, so rows sum to < 1)."""
        x, keep = self._through_ppeg(patches, patch_mask)
        return {"cls": self.layer2.query_attention(x, keep, i=0)[:, 1:]}


class DSMIL(nn.Module):
    r"""Dual-stream MIL (Li, Li & Eliceiri, CVPR 2021) with the ``K`` time bins as classes.

    After a patch encoder :math:`h_i = \mathrm{ReLU}(W x_i)`:

    * **Instance stream:** per-patch logits :math:`c_i = W_0 h_i \in \mathbb{R}^K`; the
      instance prediction is the max over real patches, :math:`\hat y^{\max}_k = \max_i c_{ik}`.
    * **Bag stream:** for each bin :math:`k` the critical patch :math:`m_k = \arg\max_i c_{ik}`;
      :math:`q_i = \tanh(W_q\,\mathrm{ReLU}(W h_i))`, attention
      :math:`U_{ik} = \mathrm{softmax}_i(\langle q_i, q_{m_k}\rangle/\sqrt{d_q})`, bag
      embeddings :math:`b_k = \sum_i U_{ik} v_i` (:math:`v_i = W_v h_i`), and
      :math:`\hat y^{\text{bag}}_k` from a ``Conv1d(K, K, kernel=d)`` over :math:`[b_1..b_K]`.

    ``forward`` returns :math:`\tfrac12(\hat y^{\max} + \hat y^{\text{bag}})`, the prediction
    DSMIL uses at test time; DSMIL trains on the sum of the two streams' losses, which
    :meth:`streams` makes possible. Differences from the reference: a patch encoder before
    the streams (the original feeds features directly), and survival bins instead of classes.

    Args:
        d_patch: patch feature width.
        n_bins: number of time bins.
        d_hidden: patch embedding width.
        d_q: query width.
        dropout: dropout rate.
    """

    inputs: ClassVar[tuple[str, ...]] = ("patches", "patch_mask")

    def __init__(
        self, d_patch: int, n_bins: int, d_hidden: int = 256, d_q: int = 128, dropout: float = 0.25
    ) -> None:
        super().__init__()
        self.encoder = _patch_encoder(d_patch, d_hidden, dropout)
        self.instance = nn.Linear(d_hidden, n_bins)
        self.query = nn.Sequential(
            nn.Linear(d_hidden, d_q), nn.ReLU(), nn.Linear(d_q, d_q), nn.Tanh()
        )
        self.value = nn.Sequential(nn.Dropout(dropout), nn.Linear(d_hidden, d_hidden))
        self.bag = nn.Conv1d(n_bins, n_bins, kernel_size=d_hidden)
        self.d_q = d_q

    def _streams(
        self, patches: torch.Tensor, patch_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.encoder(zero_padding(patches, patch_mask))
        c = self.instance(h).masked_fill(~patch_mask.unsqueeze(-1), float("-inf"))  # [B, N, K]
        y_max, crit = c.max(dim=1)  # [B, K]: max logit and critical patch per bin
        q = self.query(h)  # [B, N, dq]
        q_crit = torch.gather(q, 1, crit.unsqueeze(-1).expand(-1, -1, q.shape[-1]))  # [B, K, dq]
        scores = q @ q_crit.transpose(1, 2) / math.sqrt(self.d_q)  # [B, N, K]
        u = masked_softmax(scores, patch_mask.unsqueeze(-1), dim=1)
        b = u.transpose(1, 2) @ self.value(h)  # [B, K, d]
        y_bag = self.bag(b).squeeze(-1)  # [B, K]
        return y_max, y_bag, u

    def streams(
        self, patches: torch.Tensor, patch_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(instance-stream logits, bag-stream logits)``, each ``[B, n_bins]``."""
        y_max, y_bag, _ = self._streams(patches, patch_mask)
        return y_max, y_bag

    def forward(self, patches: torch.Tensor, patch_mask: torch.Tensor) -> torch.Tensor:
        y_max, y_bag, _ = self._streams(patches, patch_mask)
        return 0.5 * (y_max + y_bag)

    def attention(self, patches: torch.Tensor, patch_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"bag": [B, N]}``: the bag-stream attention :math:`U`, averaged over bins."""
        _, _, u = self._streams(patches, patch_mask)
        return {"bag": u.mean(dim=-1)}
