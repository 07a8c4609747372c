"""The one training loop of survlib: :func:`fit`.

Every optimiser step in the library runs here: the bag models' discrete-time recipe, AMKD's
teacher and student, ScSurvival's pretraining / AMICR / fine-tuning stages and the L-BFGS Cox
fits all call :func:`fit` with their own ``loss_fn`` and batches. One early-stopping rule, one
non-finite guard (:class:`~survlib._core.finite.FiniteGuard`), one progress bar.

Example (a linear Cox model, full batch)::

    import torch
    from survlib.survival import cox_partial_likelihood, concordance
    from survlib.train import cv_splits, fit, seed_everything

    seed_everything(0)
    split = cv_splits(event, n_folds=5, seed=0)[0]
    model = torch.nn.Linear(x.shape[1], 1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    xt, tt, et = (torch.as_tensor(a) for a in (x, time, event))

    def loss_fn(m, idx):
        return cox_partial_likelihood(m(xt[idx]), tt[idx], et[idx])

    result = fit(model, opt, lambda epoch: [split.train], loss_fn,
                 val_loss=lambda m: loss_fn(m, split.val).item())
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import time as _time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from survlib._core.device import autocast, resolve_precision
from survlib._core.finite import FiniteGuard, NonFiniteError

__all__ = ["FitResult", "NonFiniteError", "fit"]


@dataclass
class FitResult:
    """What :func:`fit` returns.

    Attributes:
        history: one row per epoch: ``epoch`` (1-based), ``train_loss`` (mean over batches),
            ``val_loss`` (NaN without a validation loss).
        best_epoch: the epoch whose weights the model holds after :func:`fit`.
        n_epochs: epochs run (fewer than ``max_epochs`` when stopped early).
        seconds: wall-clock time of the loop.
        precision: the arithmetic of the training forward passes, ``"fp32"`` or ``"bf16"``.
    """

    history: pd.DataFrame
    best_epoch: int
    n_epochs: int
    seconds: float
    precision: str = "fp32"

    @property
    def best_loss(self) -> float:
        """The monitored loss (validation, else training) at :attr:`best_epoch`."""
        row = self.history.loc[self.history["epoch"] == self.best_epoch].iloc[0]
        return float(row["val_loss"] if np.isfinite(row["val_loss"]) else row["train_loss"])


def _save_checkpoint(path: str | os.PathLike[str], payload: dict[str, Any]) -> None:
    """``torch.save`` to a temporary file in the target folder, fsync, then ``os.replace``.

    A reader sees the previous checkpoint or the complete new one, never half a file; on any
    error the temporary file is removed.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def fit(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    train_batches: Callable[[int], Iterable[Any]],
    loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor],
    val_loss: Callable[[torch.nn.Module], float] | None = None,
    max_epochs: int = 100,
    patience: int | None = 10,
    min_delta: float = 0.0,
    grad_clip: float | None = None,
    progress: bool = True,
    checkpoint: str | os.PathLike[str] | None = None,
    desc: str = "train",
    max_steps: int | None = None,
    restore_best: bool = True,
    model_name: str | None = None,
    on_step: Callable[[int, float], None] | None = None,
    precision: str | None = None,
) -> FitResult:
    r"""Train ``model`` with early stopping; the model ends holding its best weights.

    Each epoch: ``model.train()``; for every batch of ``train_batches(epoch)`` the optimizer
    steps on ``loss_fn(model, batch)`` (through a closure, so LBFGS works too; gradients are
    clipped to norm ``grad_clip`` if given). Then ``model.eval()`` and, under
    ``torch.no_grad()``, ``val_loss(model)``. The monitored loss is the validation loss
    (the mean training loss when ``val_loss`` is None). An epoch improves when
    :math:`L_\text{epoch} < L_\text{best} - \text{min\_delta}`; after ``patience`` epochs
    without improvement training stops (``patience=None``: never early). A copy of the best
    ``state_dict`` is kept (and written to ``checkpoint`` atomically, with the epoch and loss)
    and loaded back into the model at the end.

    Args:
        model: the module to train (already on its device).
        optimizer: optimizer over ``model``'s parameters.
        train_batches: ``epoch -> iterable of batches`` (called once per epoch, 0-based), so a
            caller can reshuffle per epoch.
        loss_fn: ``(model, batch) -> scalar tensor``.
        val_loss: ``model -> float`` (lower is better) or None.
        max_epochs: upper bound on epochs.
        patience: epochs without improvement before stopping.
        min_delta: minimum decrease that counts as an improvement.
        grad_clip: max gradient norm, or None.
        progress: show a tqdm progress bar with the losses.
        checkpoint: path of a checkpoint file updated at every improvement, or None.
        desc: label of the progress bar (and the stage named in a non-finite error).
        max_steps: stop after this many optimizer steps in total, also in the middle of an
            epoch (None: no limit). Step-budgeted stages (ScSurvival's pretraining, AMICR and
            fine-tuning) use it with "epochs" of ``eval_every`` steps.
        restore_best: load the best weights back at the end (False: keep the last weights, and
            keep no copies unless ``checkpoint`` is given).
        model_name: the model's name in a non-finite error (default: its class name).
        on_step: ``(step, loss) -> None`` called after every optimizer step (1-based global
            step count and the step's loss), e.g. to record a per-step history.
        precision: ``"fp32"`` (full float32), ``"bf16"`` (each ``loss_fn`` call runs under
            ``torch.autocast`` with bfloat16 on the model's device type, CPU or CUDA; the
            backward pass, the optimizer, the guards and ``val_loss`` stay outside it), or
            None: ``$SURVLIB_PRECISION`` when set, else ``"fp32"`` (see
            :func:`survlib._core.device.resolve_precision`). With ``"fp32"`` nothing changes:
            the steps are bit-identical to a loop without the option.

    Raises:
        NonFiniteError: (a ``RuntimeError``) a training loss, a gradient, a parameter after the
            step or a validation loss is NaN or infinite; the message names the model, the stage
            (``desc``), the epoch and batch, and the parameter. The weights are left as they
            were before the offending step's update whenever the loss or a gradient is the
            culprit.
        RuntimeError: an epoch has no batches.
        ValueError: a bad argument (e.g. ``precision`` not ``"fp32"`` / ``"bf16"``).
    """
    if int(max_epochs) < 1:
        raise ValueError(f"max_epochs must be >= 1, got {max_epochs}")
    if patience is not None and int(patience) < 1:
        raise ValueError(f"patience must be >= 1 or None, got {patience}")
    if max_steps is not None and int(max_steps) < 1:
        raise ValueError(f"max_steps must be >= 1 or None, got {max_steps}")
    precision = resolve_precision(precision)
    start = _time.perf_counter()
    params = [p for g in optimizer.param_groups for p in g["params"]]
    device_type = params[0].device.type if params else "cpu"
    autocast(device_type, precision)  # fail early: bf16 on a device type without it
    names = {id(p): n for n, p in model.named_parameters()}
    guard = FiniteGuard(
        model if model_name is None else model_name,
        desc,
        [(names.get(id(p), f"param[{i}]"), p) for i, p in enumerate(params)],
    )
    step = _Stepper(model, optimizer, loss_fn, guard, params, grad_clip, on_step, max_steps)
    if precision != "fp32":
        step.forward_context = lambda: autocast(device_type, precision)
    rows: list[dict[str, float]] = []
    best_loss, best_epoch, since_best = math.inf, 0, 0
    best_state: dict[str, torch.Tensor] | None = None

    bar = tqdm(range(1, int(max_epochs) + 1), desc=desc, disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        train_loss = step.epoch(epoch, train_batches(epoch - 1), desc)
        v = _validation_loss(model, val_loss, guard, desc, epoch)
        rows.append({"epoch": epoch, "train_loss": train_loss, "val_loss": v})

        monitored = v if val_loss is not None else train_loss
        if monitored < best_loss - float(min_delta):
            best_loss, best_epoch, since_best = monitored, epoch, 0
            if restore_best or checkpoint is not None:
                best_state = {k: t.detach().clone() for k, t in model.state_dict().items()}
            if checkpoint is not None:
                _save_checkpoint(
                    checkpoint, {"state_dict": best_state, "epoch": epoch, "loss": monitored}
                )
        else:
            since_best += 1
        if progress:
            bar.set_postfix(train=f"{train_loss:.4f}", val=f"{v:.4f}", best=best_epoch)
        if step.budget_spent or (patience is not None and since_best >= int(patience)):
            break
    bar.close()

    if restore_best and best_state is not None:
        model.load_state_dict(best_state)
    history = pd.DataFrame(rows, columns=["epoch", "train_loss", "val_loss"])
    history["epoch"] = history["epoch"].astype(int)
    return FitResult(
        history=history,
        best_epoch=int(best_epoch),
        n_epochs=len(rows),
        seconds=_time.perf_counter() - start,
        precision=precision,
    )


class _Stepper:
    """The optimiser steps of :func:`fit`: one closure per batch (so L-BFGS works too), the
    non-finite guard around the loss, the gradients and the updated parameters, gradient
    clipping, the global step count and the ``max_steps`` budget. ``forward_context`` makes
    the context each ``loss_fn`` call runs in (autocast for bf16; none by default)."""

    def __init__(
        self,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor],
        guard: FiniteGuard,
        params: list[torch.Tensor],
        grad_clip: float | None,
        on_step: Callable[[int, float], None] | None,
        max_steps: int | None,
    ) -> None:
        self.model, self.optimizer, self.loss_fn, self.guard = model, optimizer, loss_fn, guard
        self.params, self.grad_clip, self.on_step = params, grad_clip, on_step
        self.max_steps = None if max_steps is None else int(max_steps)
        self.steps = 0
        self.budget_spent = False
        self.forward_context: Callable[[], contextlib.AbstractContextManager[object]] = (
            contextlib.nullcontext
        )

    def one(self, batch: Any, where: str) -> float:
        """One optimiser step on ``batch``; returns its loss."""

        def closure() -> torch.Tensor:
            self.optimizer.zero_grad(set_to_none=True)
            with self.forward_context():
                loss = self.loss_fn(self.model, batch)
            self.guard.loss(loss, where)
            loss.backward()
            self.guard.gradients(where)
            if self.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(self.params, float(self.grad_clip))
            return loss

        loss = self.optimizer.step(closure)
        self.guard.parameters(where)
        return float(loss.detach().item())

    def epoch(self, epoch: int, batches: Iterable[Any], desc: str) -> float:
        """Step through one epoch's batches (stopping early when the step budget is spent);
        returns the mean training loss."""
        total, n_batches = 0.0, 0
        for batch_no, batch in enumerate(batches):
            step_loss = self.one(batch, f"epoch {epoch} batch {batch_no}")
            total += step_loss
            n_batches += 1
            self.steps += 1
            if self.on_step is not None:
                self.on_step(self.steps, step_loss)
            if self.max_steps is not None and self.steps >= self.max_steps:
                self.budget_spent = True
                break
        if n_batches == 0:
            raise RuntimeError(f"fit ({desc}): train_batches({epoch - 1}) yielded no batches")
        return total / n_batches


def _validation_loss(
    model: torch.nn.Module,
    val_loss: Callable[[torch.nn.Module], float] | None,
    guard: FiniteGuard,
    desc: str,
    epoch: int,
) -> float:
    """``val_loss(model)`` in eval mode without gradients (NaN when there is none); a
    non-finite value raises :class:`NonFiniteError`."""
    if val_loss is None:
        return math.nan
    model.eval()
    with torch.no_grad():
        v = float(val_loss(model))
    if not math.isfinite(v):
        raise NonFiniteError(
            f"{guard.model}, stage {desc!r}, epoch {epoch}: the validation loss is {v}"
        )
    return v


# --------------------------------------------------------------------------------------------
