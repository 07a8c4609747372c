"""Attention-based multiple-instance Cox regression (AMICR), the patient half of scSurvival:
gated multi-head attention over a patient's cells (:class:`GatedMultiHeadAttention`), the pooled
hazard network (:class:`AMICR`) and the attention-entropy regulariser
(:func:`attention_entropy`, :func:`entropy_penalty`). Pure ``torch``; no AnnData.

The softmax over a patient's cells is :func:`survlib.models.blocks.masked_softmax` (the one
masked softmax of survlib; every patient has at least one cell, so no softmax row is empty).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor, nn

from survlib.models.blocks import masked_softmax

__all__ = ["AMICR", "GatedMultiHeadAttention", "attention_entropy", "entropy_penalty"]


def attention_entropy(weights: Tensor, mask: Tensor, eps: float = 1e-12) -> Tensor:
    r"""Normalised attention entropy per patient, averaged over heads.

    .. math:: \bar H_b = \frac1{H}\sum_h \frac{-\sum_i \alpha_{bih}\log\alpha_{bih}}{\log n_b}

    where :math:`n_b` is the number of real cells of patient ``b``: 1 when attention is
    uniform, 0 when it sits on one cell.  Patients with a single cell get 0.  Returns ``[B]``.
    """
    ent = -(weights * torch.log(weights + eps) * mask.unsqueeze(-1)).sum(dim=1)  # [B, H]
    n = mask.sum(dim=1).to(weights.dtype)
    denom = torch.log(n.clamp(min=2.0)).unsqueeze(-1)
    ent = ent / denom
    ent = torch.where((n > 1).unsqueeze(-1), ent, torch.zeros_like(ent))
    return ent.mean(dim=-1)


def entropy_penalty(entropy: Tensor, threshold: float = 0.7) -> Tensor:
    r"""Attention-entropy regulariser :math:`\operatorname{relu}(\operatorname{mean}_b \bar H_b -
    \text{threshold})`: zero while attention is already sparse enough, growing linearly with
    the mean normalised entropy above the threshold."""
    return torch.relu(entropy.mean() - threshold)


class GatedMultiHeadAttention(nn.Module):
    r"""Gated attention logits (Ilse et al. 2018), one scoring vector per head.

    .. math:: s_{ih} = w_h^\top\big(\tanh(V z_i) \odot \sigma(U z_i)\big)_h

    where :math:`(\cdot)_h` is head ``h``'s slice of the gated hidden vector.

    Why not :class:`survlib.models.blocks.GatedAttentionPool` (the bag models' gated pool, Ilse
    et al.'s Eq. 9)? The two score differently, so swapping one for the other would change
    every scSurvival number: here ``V`` and ``U`` have no bias and each head scores only its
    own ``head_dim`` slice with its own vector :math:`w_h` (initialised
    :math:`\mathcal N(0, 1/\text{head\_dim})`), whereas ``GatedAttentionPool`` has biased
    branches, dropout and one dense ``Linear(d_attn, n_heads)`` scoring layer over the whole
    hidden vector; and :class:`AMICR` pools per-head *projections* of the cells, not the cells.
    """

    def __init__(self, n_in: int, n_heads: int = 4, head_dim: int = 32) -> None:
        super().__init__()
        self.n_heads, self.head_dim = n_heads, head_dim
        self.V = nn.Linear(n_in, n_heads * head_dim, bias=False)
        self.U = nn.Linear(n_in, n_heads * head_dim, bias=False)
        self.w = nn.Parameter(torch.randn(n_heads, head_dim) / math.sqrt(head_dim))

    def forward(self, z: Tensor) -> Tensor:
        """``z [..., D] -> logits [..., H]``."""
        g = torch.tanh(self.V(z)) * torch.sigmoid(self.U(z))
        g = g.unflatten(-1, (self.n_heads, self.head_dim))
        return (g * self.w).sum(dim=-1)


class AMICR(nn.Module):
    r"""Attention-based multiple-instance Cox regression.

    For patient ``b`` with cell embeddings :math:`z_{b1..bn}`:

    .. math::

        \alpha_{bih} &= \operatorname{softmax}_i(s_{bih}) \quad\text{(within the patient)} \\
        r_b &= \big[\textstyle\sum_i \alpha_{bih}\, P_h z_{bi}\big]_{h=1..H} \\
        \eta_b &= f(r_b) + \gamma^\top c_b

    with one linear projector :math:`P_h` per head, a hazard network ``f`` (MLP) and optional
    patient covariates :math:`c_b`.  With ``hazard_clamp`` = :math:`c`, ``f``'s output is
    clamped to :math:`[-c, c]` (the authors clamp it to :math:`[-10, 10]`): on a small cohort
    trained with full-cohort steps and no validation split, the Cox likelihood otherwise keeps
    pushing the training patients' log hazards apart without bound.  Per cell, the attention is
    :math:`a_i = \max_h \sigma(s_{ih})`; the attention-adjusted hazard score comes in two
    forms (:meth:`cell_scores`): ours, :math:`a_i\,(f([P_h z_i]_h) - \text{ref})`, and the
    authors', :math:`f([\sigma(s_{ih})\, P_h z_i]_h)` (the hazard network applied to the
    cell's per-head attention-gated embedding, no covariates).
    """

    def __init__(
        self,
        n_in: int,
        n_heads: int = 4,
        head_dim: int = 32,
        proj_dim: int = 16,
        n_hidden: int = 32,
        dropout: float = 0.1,
        n_covariates: int = 0,
        pool_norm: bool = True,
        hazard_clamp: float | None = None,
    ) -> None:
        super().__init__()
        if hazard_clamp is not None and not (math.isfinite(hazard_clamp) and hazard_clamp > 0):
            raise ValueError(
                f"hazard_clamp must be a positive number or None, got {hazard_clamp!r}"
            )
        self.n_heads, self.proj_dim = n_heads, proj_dim
        self.hazard_clamp = hazard_clamp
        self.attention = GatedMultiHeadAttention(n_in, n_heads, head_dim)
        self.projector = nn.Linear(n_in, n_heads * proj_dim)
        d = n_heads * proj_dim
        # Patients' pooled representations differ only by small shifts (a few percent of cells
        # change state); standardising them across the patients of a batch (batch norm, running
        # statistics at inference) makes those shifts visible to the hazard network.
        self.norm: nn.Module = nn.BatchNorm1d(d) if pool_norm else nn.Identity()
        if n_hidden > 0:
            self.hazard = nn.Sequential(
                self.norm,
                nn.Linear(d, n_hidden),
                nn.ReLU(),
                nn.Dropout(dropout),
                nn.Linear(n_hidden, 1),
            )
        else:  # a linear hazard head: f(r) = w^T norm(r) + b
            self.hazard = nn.Sequential(self.norm, nn.Dropout(dropout), nn.Linear(d, 1))
        self.covariate = nn.Linear(n_covariates, 1, bias=False) if n_covariates > 0 else None

    def project(self, z: Tensor) -> Tensor:
        """``[..., D] -> [..., H, proj_dim]``: one projection per head."""
        return self.projector(z).unflatten(-1, (self.n_heads, self.proj_dim))

    def forward(
        self, z: Tensor, mask: Tensor, covariates: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Patient risk ``[B]`` and attention weights ``[B, N, H]`` from padded cells.

        Args:
            z: ``[B, N, D]`` cell embeddings, padded.
            mask: ``[B, N]`` True for real cells; padding never influences the output.
            covariates: ``[B, C]`` encoded patient covariates, or None.
        """
        logits = self.attention(z)
        w = masked_softmax(logits, mask.unsqueeze(-1), dim=1)
        pooled = torch.einsum("bnh,bnhp->bhp", w, self.project(z)).flatten(1)
        risk = self.hazard_without_covariates(pooled)
        if self.covariate is not None:
            if covariates is None:
                raise ValueError("this model was set up with covariates: pass them")
            risk = risk + self.covariate(covariates).squeeze(-1)
        return risk, w

    def hazard_without_covariates(self, pooled: Tensor) -> Tensor:
        """The hazard network alone on pooled representations ``[B, H*proj_dim] -> [B]``
        (clamped to ``[-hazard_clamp, hazard_clamp]`` when set)."""
        out = self.hazard(pooled).squeeze(-1)
        if self.hazard_clamp is not None:
            out = out.clamp(-self.hazard_clamp, self.hazard_clamp)
        return out

    def reference_hazard(self) -> Tensor:
        r""":math:`f(\bar r)`: the hazard of the average patient representation (the batch-norm
        running mean; the zero vector without ``pool_norm``), a scalar.  The Cox likelihood
        leaves the level of ``f`` free, so per-cell hazards are reported relative to this."""
        p = next(self.hazard.parameters())
        ref = torch.zeros(1, self.n_heads * self.proj_dim, device=p.device, dtype=p.dtype)
        if isinstance(self.norm, nn.BatchNorm1d) and self.norm.running_mean is not None:
            ref = self.norm.running_mean.detach().unsqueeze(0).to(p.dtype)
        was = self.training
        self.eval()
        out = self.hazard_without_covariates(ref)[0]
        self.train(was)
        return out

    def cell_scores(
        self,
        z: Tensor,
        reference: float | Tensor | None = None,
        form: Literal["ours", "authors"] = "ours",
    ) -> dict[str, Tensor]:
        r"""Per-cell scores for embeddings ``z [N, D]``.

        Returns a dict with

        - ``logits`` ``[N, H]``: attention logits :math:`s_{ih}`;
        - ``attention`` ``[N]``: :math:`a_i = \max_h \sigma(s_{ih})`;
        - ``cell_hazard`` ``[N]``: :math:`f([P_h z_i]_h) - \text{reference}`, the log hazard
          ratio of a patient made of copies of this cell against the reference.  The Cox
          likelihood leaves the level of ``f`` free, so some reference is needed;
          :class:`ScSurvival` passes the median over training cells (the *typical cell*); the
          default is :meth:`reference_hazard` (the average patient);
        - ``hazard_score`` ``[N]``, by ``form``:

          * ``"ours"`` (default): :math:`a_i \cdot` ``cell_hazard``, one attention (the largest
            over heads) times the cell's log hazard ratio: near 0 for cells the model ignores,
            its sign saying whether an attended cell pushes risk up or down;
          * ``"authors"``: :math:`f([\sigma(s_{ih})\, P_h z_i]_h)` — each head's projection
            gated by that head's own attention, then the hazard network, with no reference
            subtracted (scSurvival's ``predict_cells`` "hazard_adj"; its sign is read against
            0).

          The two rank cells alike only when every head gives a cell the same attention and
          ``f`` is linear (then the authors' form is :math:`a_i f([P_h z_i]_h)` plus
          :math:`(1 - a_i)` times ``f``'s bias: equal up to the reference level); with
          several heads (default 4) and an MLP ``f`` they differ.
        """
        if form not in ("ours", "authors"):
            raise ValueError(f"form must be 'ours' or 'authors', got {form!r}")
        logits = self.attention(z)
        attention = torch.sigmoid(logits).max(dim=-1).values
        ref = self.reference_hazard() if reference is None else reference
        cell_hazard = self.raw_cell_hazard(z) - ref
        if form == "authors":
            score = self.raw_cell_hazard(z, gates=torch.sigmoid(logits))
        else:
            score = attention * cell_hazard
        return {
            "logits": logits,
            "attention": attention,
            "hazard_score": score,
            "cell_hazard": cell_hazard,
        }

    def raw_cell_hazard(self, z: Tensor, gates: Tensor | None = None) -> Tensor:
        """:math:`f([P_h z_i]_h)` per cell, ``[N]`` (no reference subtracted); with ``gates``
        ``[N, H]``, :math:`f([g_{ih} P_h z_i]_h)` (each head's projection scaled by its gate)."""
        proj = self.project(z)
        if gates is not None:
            proj = proj * gates.unsqueeze(-1)
        return self.hazard_without_covariates(proj.flatten(-2))
