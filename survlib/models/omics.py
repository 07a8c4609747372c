"""Models of tabular covariates (clinical variables, gene expression, pathway scores).

- :class:`LinearCox` and :func:`fit_cox_lbfgs`: the Cox model of Cox (1972) fitted by full-batch
  L-BFGS on :func:`survlib.survival.cox_partial_likelihood`; its coefficients match lifelines'
  ``CoxPHFitter`` (tested), which makes it the bridge from classical to neural survival models.
- :class:`SurvivalMLP`: a multilayer perceptron that outputs one log hazard (Cox head) or ``K``
  hazard logits (discrete-time head), as in DeepSurv and the MLP baselines of the papers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from survlib.survival import cox_partial_likelihood
from survlib.train import fit


class LinearCox(nn.Module):
    r"""Linear log relative hazard :math:`\eta(x) = \beta^\top x` (no intercept: it cancels)."""

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_features, 1, bias=False)
        nn.init.zeros_(self.linear.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).squeeze(-1)

    @property
    def coef(self) -> np.ndarray:
        """The fitted coefficients :math:`\\beta` (log hazard ratios per unit of each feature)."""
        return self.linear.weight.detach().cpu().numpy().ravel().astype(np.float64)


def fit_cox_lbfgs(
    model: nn.Module,
    x: np.ndarray | torch.Tensor,
    time: np.ndarray,
    event: np.ndarray,
    ties: Literal["efron", "breslow"] = "efron",
    l2: float = 0.0,
    max_iter: int = 500,
    tol: float = 1e-10,
) -> nn.Module:
    r"""Fit a (small) Cox model by full-batch L-BFGS on the partial likelihood.

    Minimises :math:`-\ell(\eta)/d + \tfrac{\lambda}{2}\lVert\theta\rVert^2` with
    :math:`\lambda` = ``l2`` (0: the unpenalised Cox estimate). In float64 it converges to the
    same estimate as lifelines' Newton-Raphson. The fit is one epoch of one full batch of
    :func:`survlib.train.fit` (the one training loop), whose single ``LBFGS.step`` runs up to
    ``max_iter`` iterations; a non-finite loss, gradient or coefficient raises
    :class:`~survlib.train.NonFiniteError` naming the model and the stage ``"lbfgs"``.
    """
    x_t = torch.as_tensor(np.asarray(x, dtype=np.float64))
    model = model.double()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.LBFGS(
        params,
        lr=1.0,
        max_iter=max_iter,
        tolerance_grad=tol,
        tolerance_change=tol,
        line_search_fn="strong_wolfe",
    )

    def loss_fn(m: nn.Module, _: Any) -> torch.Tensor:
        loss = cox_partial_likelihood(m(x_t), time, event, ties=ties)
        if l2 > 0:
            loss = loss + 0.5 * l2 * sum((p**2).sum() for p in params)
        return loss

    # one epoch of one full batch: a single L-BFGS step runs the whole optimisation
    fit(
        model,
        opt,
        lambda epoch: [None],
        loss_fn,
        max_epochs=1,
        patience=None,
        restore_best=False,
        progress=False,
        desc="lbfgs",
    )
    return model


class SurvivalMLP(nn.Module):
    """MLP survival model: ``n_out = 1`` gives a Cox log hazard, ``n_out = K`` discrete logits.

    Args:
        n_features: input width.
        n_out: 1 (Cox head, trained with the partial likelihood) or the number of time bins
            (logistic-hazard head, trained with :func:`survlib.survival.nll_discrete`).
        hidden: widths of the hidden layers.
        dropout: dropout after each hidden layer.
        activation: ``"relu"`` or ``"selu"`` (with ``"selu"`` and alpha-dropout this is the
            self-normalising network, SNN, of Klambauer et al. 2017).
    """

    def __init__(
        self,
        n_features: int,
        n_out: int = 1,
        hidden: Sequence[int] = (64,),
        dropout: float = 0.1,
        activation: Literal["relu", "selu"] = "relu",
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = n_features
        for h in hidden:
            layers.append(nn.Linear(width, h))
            if activation == "selu":
                layers += [nn.SELU(), nn.AlphaDropout(dropout)]
            else:
                layers += [nn.ReLU(), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, n_out))
        self.net = nn.Sequential(*layers)
        self.n_out = n_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        return out.squeeze(-1) if self.n_out == 1 else out
