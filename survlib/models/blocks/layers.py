"""Small layers shared by the bag models: the SNN block, SurvPath's feed-forward layer, the
discrete-time decision head and the grouped (one-matmul-per-group) linear map."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["DiscreteHead", "FeedForward", "GroupedLinear", "SNNBlock"]


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
        self.net = nn.Sequential(
            nn.Linear(d, d * mult), nn.GELU(), nn.Dropout(dropout), nn.Linear(d * mult, d)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.norm(x))


class DiscreteHead(nn.Sequential):
    """Decision layer ``Linear -> ReLU -> Linear`` to ``n_bins`` hazard logits (SurvPath's
    ``to_logits``); with ``d_hidden=None`` a single ``Linear``."""

    def __init__(
        self, d_in: int, n_bins: int, d_hidden: int | None = None, dropout: float = 0.0
    ) -> None:
        if d_hidden is None:
            super().__init__(nn.Linear(d_in, n_bins))
        else:
            super().__init__(
                nn.Linear(d_in, d_hidden),
                nn.ReLU(),
                nn.Dropout(dropout),
                nn.Linear(d_hidden, n_bins),
            )


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
