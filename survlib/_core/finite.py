"""Training never passes NaN on: checks that stop a run at the first non-finite number.

Every training path of survlib (the one loop :func:`survlib.train.fit`, the stages of
:class:`survlib.models.sc.ScSurvival`, the LBFGS Cox fit) calls a :class:`FiniteGuard` after
computing the loss, after ``backward()`` and after the optimiser step. The first NaN or
infinity raises :class:`NonFiniteError`, whose message names the model, the stage, the step and
what went wrong (the loss, or the gradient or value of a named parameter), so nothing
non-finite ever reaches a later step, a prediction or a metric.

:func:`require_finite` is the same check for arrays handed between stages (embeddings, risk
scores): a clear error instead of a traceback from deep inside scikit-learn.

The checks cost one reduction per parameter group and one host synchronisation per call
(``torch._foreach_norm`` with the max-abs norm), negligible beside a forward/backward pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

__all__ = ["FiniteGuard", "NonFiniteError", "require_finite"]


class NonFiniteError(RuntimeError):
    """A loss, gradient, parameter or array that must be finite holds NaN or infinity."""


class FiniteGuard:
    """Checks of one training stage of one model.

    Args:
        model: the model's name as the user knows it (e.g. ``"ScSurvival"``); a module is
            replaced by its class name.
        stage: the stage (``"pretrain"``, ``"finetune"``, ``"teacher"`` ...).
        named_parameters: ``(name, parameter)`` pairs to watch (e.g.
            ``module.named_parameters()``); parameters without gradients are skipped by
            :meth:`gradients`.

    Example:
        >>> import torch
        >>> net = torch.nn.Linear(2, 1)
        >>> guard = FiniteGuard(net, "demo", net.named_parameters())
        >>> guard.loss(torch.tensor(float("nan")), step=3)
        Traceback (most recent call last):
        ...
        survlib._core.finite.NonFiniteError: Linear, stage 'demo', step 3: the loss is nan...
    """

    def __init__(
        self, model: Any, stage: str, named_parameters: Iterable[tuple[str, torch.Tensor]]
    ) -> None:
        self.model = model if isinstance(model, str) else type(model).__name__
        self.stage = stage
        self.named = [(n, p) for n, p in named_parameters]

    def _where(self, step: Any) -> str:
        return f"{self.model}, stage {self.stage!r}, step {step}"

    def loss(self, loss: torch.Tensor | float, step: Any) -> None:
        """Raise when the (scalar) ``loss`` is NaN or infinite."""
        value = float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)
        if not np.isfinite(value):
            raise NonFiniteError(
                f"{self._where(step)}: the loss is {value}; training stopped before it could "
                "reach the weights (try a smaller learning rate, gradient clipping, or check "
                "the inputs for NaN/inf)"
            )

    def _check(
        self, tensors: list[tuple[str, torch.Tensor]], step: Any, what: str, advice: str
    ) -> None:
        """Raise naming the first of ``tensors`` that holds NaN or infinity."""
        if not tensors:
            return
        # max-abs norms: NaN or inf exactly when a value is (a 2-norm overflows for large
        # finite values); one host synchronisation for all of them
        norms = torch._foreach_norm([t.detach() for _, t in tensors], float("inf"))
        if bool(torch.isfinite(torch.stack([n.float() for n in norms])).all()):
            return
        name, t = next(
            (nt for nt, n in zip(tensors, norms, strict=True) if not bool(torch.isfinite(n)))
        )
        n_bad = int((~torch.isfinite(t)).sum())
        raise NonFiniteError(
            f"{self._where(step)}: {what.format(name=repr(name))} has {n_bad} non-finite "
            f"value(s) of {t.numel()}; {advice}"
        )

    def gradients(self, step: Any) -> None:
        """Raise when a watched parameter's gradient holds NaN or infinity (after backward)."""
        self._check(
            [(n, p.grad) for n, p in self.named if p.grad is not None],
            step,
            "the gradient of parameter {name}",
            "the loss was finite; training stopped before the optimiser step (try a smaller "
            "learning rate or gradient clipping)",
        )

    def parameters(self, step: Any) -> None:
        """Raise when a watched parameter holds NaN or infinity (after the optimiser step)."""
        self._check(
            self.named,
            step,
            "parameter {name}",
            "after the optimiser step; training stopped (the learning rate is probably too large)",
        )


def require_finite(values: Any, name: str, context: str) -> None:
    """Raise :class:`NonFiniteError` when ``values`` (array or tensor) holds NaN or infinity.

    Args:
        values: a numpy array, tensor or array-like.
        name: what the values are (``"cell embeddings"``), used in the message.
        context: who asks (``"ScSurvival.identify_risk_cells"``), used in the message.
    """
    if isinstance(values, torch.Tensor):
        finite = torch.isfinite(values.detach())
        ok = bool(finite.all())
        n_bad = 0 if ok else int((~finite).sum())
        size = values.numel()
    else:
        arr = np.asarray(values, dtype=float)
        finite = np.isfinite(arr)
        ok = bool(finite.all())
        n_bad = 0 if ok else int((~finite).sum())
        size = arr.size
    if not ok:
        raise NonFiniteError(
            f"{context}: the {name} hold {n_bad} non-finite value(s) of {size}; the model that "
            "produced them diverged or was given NaN/inf input. Retrain it (a smaller learning "
            "rate) or check the input data"
        )
