"""The one training loop and the cross-validation protocol.

- :func:`pick_device`, :func:`seed_everything`: device ("auto" = CUDA when present) and seeds.
- :func:`cv_splits`: stratified k-fold by event for the test folds, and inside each training fold
  a stratified train / validation split for early stopping (the test fold is used once).
- :func:`fit`: epochs of mini-batches, early stopping on a validation loss, best weights
  restored, optional atomic checkpoint, a tqdm progress bar.
- :func:`cross_validate`, :func:`tidy_results`, :func:`summarize`: folds x seeds as tidy rows
  ``(model, fold, seed, metric, value)`` and a mean +- sd table.

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
import random
import tempfile
import time as _time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

__all__ = [
    "FitResult",
    "Split",
    "cross_validate",
    "cv_splits",
    "fit",
    "pick_device",
    "seed_everything",
    "summarize",
    "tidy_results",
]

RESULT_COLUMNS = ["model", "fold", "seed", "metric", "value"]


# --------------------------------------------------------------------------------------------
# device and seeds
# --------------------------------------------------------------------------------------------


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """Return the device to compute on.

    Args:
        device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:N"``,
            ``"mps"``, or a :class:`torch.device`.

    Raises:
        RuntimeError: a CUDA (or MPS) device is requested but not available.
        ValueError: the name is not a device.
    """
    if isinstance(device, torch.device):
        name = str(device)
    else:
        name = str(device).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError as err:
        raise ValueError(
            f"unknown device {device!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'"
        ) from err
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"device {device!r} requested but CUDA is not available (no GPU or a CPU build "
                f"of torch); use device='auto' or 'cpu'"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise RuntimeError(
                f"device {device!r} requested but only {torch.cuda.device_count()} GPU(s) exist"
            )
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError(f"device {device!r} requested but MPS is not available")
    return dev


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and every GPU).

    Same seed, same CPU, same numbers. (GPU kernels may still be non-deterministic unless
    ``torch.use_deterministic_algorithms(True)`` is set by the caller.)
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    seed = int(seed)
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must lie in [0, 2**32), got {seed}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


# --------------------------------------------------------------------------------------------
# cross-validation splits
# --------------------------------------------------------------------------------------------


@dataclass
class Split:
    """Indices of one cross-validation fold (sorted, disjoint, together all samples).

    Attributes:
        fold: fold number, ``0 .. n_folds - 1``.
        train: indices used to fit the model.
        val: indices used for early stopping / model selection (part of the training fold).
        test: the held-out fold, used once for the reported metrics.
    """

    fold: int
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def cv_splits(
    event: Sequence[int] | np.ndarray,
    n_folds: int = 5,
    val_fraction: float = 0.2,
    seed: int = 0,
) -> list[Split]:
    """Stratified k-fold test folds, each with a stratified validation split of its training part.

    The test folds come from ``StratifiedKFold(n_folds, shuffle=True, random_state=seed)``
    stratified by ``event`` (so each fold has about the cohort's censoring rate); they are
    disjoint and cover every sample. Inside each training fold, ``val_fraction`` of the samples
    (stratified by event) are held out for early stopping; validation never overlaps the test
    fold. ``val_fraction=0`` gives empty validation sets.

    Args:
        event: ``[N]`` 1 = death observed, 0 = censored.
        n_folds: number of test folds (>= 2).
        val_fraction: share of each training fold used for validation, in ``[0, 1)``.
        seed: makes the splits reproducible; different seeds give different splits.
    """
    from sklearn.model_selection import StratifiedKFold, train_test_split

    e = np.asarray(event)
    if e.ndim != 1 or e.size == 0:
        raise ValueError(f"event must be a non-empty 1-D array, got shape {e.shape}")
    if not np.isin(e.astype(np.float64), (0.0, 1.0)).all():
        raise ValueError("event must be 0/1 (1 = death observed)")
    e = e.astype(np.int64)
    if int(n_folds) < 2:
        raise ValueError(f"n_folds must be >= 2, got {n_folds}")
    if not 0.0 <= float(val_fraction) < 1.0:
        raise ValueError(f"val_fraction must lie in [0, 1), got {val_fraction}")
    n_min = int(np.bincount(e, minlength=2).min())
    if n_min < n_folds:
        raise ValueError(
            f"cv_splits: the rarer event class has {n_min} samples, fewer than n_folds={n_folds}; "
            f"every test fold needs both events and censored patients"
        )
    skf = StratifiedKFold(n_splits=int(n_folds), shuffle=True, random_state=int(seed))
    splits: list[Split] = []
    for fold, (train_all, test) in enumerate(skf.split(np.zeros(e.size), e)):
        if val_fraction > 0:
            try:
                train, val = train_test_split(
                    train_all,
                    test_size=float(val_fraction),
                    stratify=e[train_all],
                    random_state=int(seed) * 1000 + fold,
                )
            except ValueError as err:
                raise ValueError(
                    f"cv_splits: cannot make a stratified validation split of fold {fold} "
                    f"({train_all.size} samples, {int(e[train_all].sum())} events) with "
                    f"val_fraction={val_fraction}: {err}"
                ) from err
        else:
            train, val = train_all, np.array([], dtype=np.int64)
        splits.append(
            Split(fold=fold, train=np.sort(train), val=np.sort(val), test=np.sort(test))
        )
    return splits


# --------------------------------------------------------------------------------------------
# the training loop
# --------------------------------------------------------------------------------------------


@dataclass
class FitResult:
    """What :func:`fit` returns.

    Attributes:
        history: one row per epoch: ``epoch`` (1-based), ``train_loss`` (mean over batches),
            ``val_loss`` (NaN without a validation loss).
        best_epoch: the epoch whose weights the model holds after :func:`fit`.
        n_epochs: epochs run (fewer than ``max_epochs`` when stopped early).
        seconds: wall-clock time of the loop.
    """

    history: pd.DataFrame
    best_epoch: int
    n_epochs: int
    seconds: float

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
        desc: label of the progress bar.

    Raises:
        RuntimeError: a training or validation loss is NaN or infinite (names the epoch), or an
            epoch has no batches.
    """
    if int(max_epochs) < 1:
        raise ValueError(f"max_epochs must be >= 1, got {max_epochs}")
    if patience is not None and int(patience) < 1:
        raise ValueError(f"patience must be >= 1 or None, got {patience}")
    start = _time.perf_counter()
    params = [p for g in optimizer.param_groups for p in g["params"]]
    rows: list[dict[str, float]] = []
    best_loss = math.inf
    best_epoch = 0
    best_state: dict[str, torch.Tensor] | None = None
    since_best = 0

    bar = tqdm(range(1, int(max_epochs) + 1), desc=desc, disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        total, n_batches = 0.0, 0
        for batch_no, batch in enumerate(train_batches(epoch - 1)):

            def closure(batch: Any = batch, batch_no: int = batch_no) -> torch.Tensor:
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model, batch)
                if not torch.isfinite(loss.detach()).all():
                    raise RuntimeError(
                        f"fit ({desc}): training loss is {loss.detach().item()} at epoch {epoch}, "
                        f"batch {batch_no}; check the inputs, the learning rate or the loss"
                    )
                loss.backward()
                if grad_clip is not None:
                    torch.nn.utils.clip_grad_norm_(params, float(grad_clip))
                return loss

            loss = optimizer.step(closure)
            total += float(loss.detach().item())
            n_batches += 1
        if n_batches == 0:
            raise RuntimeError(f"fit ({desc}): train_batches({epoch - 1}) yielded no batches")
        train_loss = total / n_batches

        v = math.nan
        if val_loss is not None:
            model.eval()
            with torch.no_grad():
                v = float(val_loss(model))
            if not math.isfinite(v):
                raise RuntimeError(f"fit ({desc}): validation loss is {v} at epoch {epoch}")
        rows.append({"epoch": epoch, "train_loss": train_loss, "val_loss": v})

        monitored = v if val_loss is not None else train_loss
        if monitored < best_loss - float(min_delta):
            best_loss, best_epoch, since_best = monitored, epoch, 0
            best_state = {k: t.detach().clone() for k, t in model.state_dict().items()}
            if checkpoint is not None:
                _save_checkpoint(
                    checkpoint, {"state_dict": best_state, "epoch": epoch, "loss": monitored}
                )
        else:
            since_best += 1
        if progress:
            bar.set_postfix(train=f"{train_loss:.4f}", val=f"{v:.4f}", best=best_epoch)
        if patience is not None and since_best >= int(patience):
            break
    bar.close()

    if best_state is not None:
        model.load_state_dict(best_state)
    history = pd.DataFrame(rows, columns=["epoch", "train_loss", "val_loss"])
    history["epoch"] = history["epoch"].astype(int)
    return FitResult(
        history=history,
        best_epoch=int(best_epoch),
        n_epochs=len(rows),
        seconds=_time.perf_counter() - start,
    )


# --------------------------------------------------------------------------------------------
# cross-validation and results
# --------------------------------------------------------------------------------------------


def cross_validate(
    run_fold: Callable[[Split, int], Mapping[str, float]],
    event: Sequence[int] | np.ndarray,
    n_folds: int = 5,
    seeds: Sequence[int] = (0,),
    val_fraction: float = 0.2,
    model: str = "model",
    progress: bool = True,
) -> pd.DataFrame:
    """Run ``run_fold(split, seed) -> {metric: value}`` over every seed and fold.

    For each seed the folds are ``cv_splits(event, n_folds, val_fraction, seed)``; before each
    call :func:`seed_everything` is called with that seed, so a fold's result does not depend on
    which folds ran before it.

    Returns:
        Tidy rows ``model, fold, seed, metric, value`` (see :func:`tidy_results`).
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("cross_validate: seeds is empty")
    rows: list[dict[str, Any]] = []
    bar = tqdm(total=len(seeds) * int(n_folds), desc=f"cv {model}", disable=not progress,
               leave=False)
    for seed in seeds:
        for split in cv_splits(event, n_folds=n_folds, val_fraction=val_fraction, seed=seed):
            seed_everything(int(seed))
            metrics = run_fold(split, int(seed))
            if not isinstance(metrics, Mapping) or not metrics:
                raise ValueError(
                    f"cross_validate: run_fold must return a non-empty dict metric -> value, got "
                    f"{metrics!r} (fold {split.fold}, seed {seed})"
                )
            for metric, value in metrics.items():
                rows.append({"model": model, "fold": split.fold, "seed": int(seed),
                             "metric": str(metric), "value": float(value)})
            bar.update(1)
    bar.close()
    return tidy_results(rows)


def tidy_results(rows: Iterable[Mapping[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """Rows ``(model, fold, seed, metric, value)`` -> a DataFrame with exactly those columns.

    Accepts dicts or data frames (e.g. the outputs of several :func:`cross_validate` calls,
    concatenated); ``fold`` and ``seed`` become ints, ``value`` float.
    """
    if isinstance(rows, pd.DataFrame):
        df = rows.copy()
    else:
        items = list(rows)
        frames = [r for r in items if isinstance(r, pd.DataFrame)]
        dicts = [dict(r) for r in items if not isinstance(r, pd.DataFrame)]
        if dicts:
            frames.append(pd.DataFrame(dicts))
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)
    missing = [c for c in RESULT_COLUMNS if c not in df.columns]
    if missing:
        raise KeyError(f"results are missing column(s) {missing}; expected {RESULT_COLUMNS}")
    df = df[RESULT_COLUMNS].reset_index(drop=True)
    return df.astype({"model": str, "fold": int, "seed": int, "metric": str, "value": float})


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """Per model and metric: ``mean``, ``sd`` (sample, ``ddof=1``), ``n`` and ``"mean ± sd"``.

    ``n`` counts the (fold, seed) results; the string column is formatted to 3 decimals,
    e.g. ``"0.712 ± 0.034"``. Models and metrics keep their order of appearance.
    """
    df = tidy_results(df)
    out = (
        df.groupby(["model", "metric"], sort=False)["value"]
        .agg(mean="mean", sd="std", n="count")
        .reset_index()
    )
    out["n"] = out["n"].astype(int)
    out["mean ± sd"] = [
        f"{m:.3f} ± {s:.3f}" if np.isfinite(s) else f"{m:.3f}" for m, s in zip(out["mean"], out["sd"])
    ]
    return out
