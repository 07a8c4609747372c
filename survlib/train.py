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

from survlib._core.finite import FiniteGuard, NonFiniteError

__all__ = [
    "FitResult",
    "NonFiniteError",
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
        NonFiniteError: (a ``RuntimeError``) a training loss, a gradient, a parameter after the
            step or a validation loss is NaN or infinite; the message names the model, the stage
            (``desc``), the epoch and batch, and the parameter. The weights are left as they
            were before the offending step's update whenever the loss or a gradient is the
            culprit.
        RuntimeError: an epoch has no batches.
    """
    if int(max_epochs) < 1:
        raise ValueError(f"max_epochs must be >= 1, got {max_epochs}")
    if patience is not None and int(patience) < 1:
        raise ValueError(f"patience must be >= 1 or None, got {patience}")
    start = _time.perf_counter()
    params = [p for g in optimizer.param_groups for p in g["params"]]
    names = {id(p): n for n, p in model.named_parameters()}
    guard = FiniteGuard(
        model, desc, [(names.get(id(p), f"param[{i}]"), p) for i, p in enumerate(params)]
    )
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
                where = f"epoch {epoch} batch {batch_no}"
                guard.loss(loss, where)
                loss.backward()
                guard.gradients(where)
                if grad_clip is not None:
                    torch.nn.utils.clip_grad_norm_(params, float(grad_clip))
                return loss

            loss = optimizer.step(closure)
            guard.parameters(f"epoch {epoch} batch {batch_no}")
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
                raise NonFiniteError(
                    f"{guard.model}, stage {desc!r}, epoch {epoch}: the validation loss is {v}"
                )
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


def _cv_task(
    run_fold: Callable[[Split, int], Mapping[str, float]], split: Split, seed: int
) -> Mapping[str, float]:
    """One fold x seed of :func:`cross_validate`, wherever it runs: seed, then ``run_fold``.

    The task seeds the process's global generators itself, so its result does not depend on
    what ran before it in that process; it holds :data:`survlib.parallel.PROCESS_LOCK` so that
    threads of one process cannot interleave their use of those generators.
    """
    from survlib.parallel import PROCESS_LOCK

    with PROCESS_LOCK:
        seed_everything(int(seed))
        return run_fold(split, int(seed))


def cross_validate(
    run_fold: Callable[[Split, int], Mapping[str, float]],
    event: Sequence[int] | np.ndarray,
    n_folds: int = 5,
    seeds: Sequence[int] = (0,),
    val_fraction: float = 0.2,
    model: str = "model",
    progress: bool = True,
    executor: Any = None,
) -> pd.DataFrame:
    """Run ``run_fold(split, seed) -> {metric: value}`` over every seed and fold.

    For each seed the folds are ``cv_splits(event, n_folds, val_fraction, seed)``; before each
    call :func:`seed_everything` is called with that seed, so a fold's result does not depend on
    which folds ran before it.

    Args:
        executor: where the fold x seed tasks run: ``None`` (serially, here), any
            :class:`concurrent.futures.Executor` or a :class:`distributed.Client`. Each task
            seeds itself, so the rows are identical whatever the executor (same seeds, same
            CPU). For worker *processes* ``run_fold`` must be picklable (a module-level
            function or a ``functools.partial`` of one; Dask also ships closures) and its side
            effects on the caller's objects (e.g. ``discrete_cv_fold``'s ``store``) do not come
            back. Threads of one process take turns (global RNGs), so parallelism comes from
            processes: a Dask ``LocalCluster(processes=True, threads_per_worker=1)`` or a
            ``ProcessPoolExecutor``.

    Returns:
        Tidy rows ``model, fold, seed, metric, value`` (see :func:`tidy_results`), in seed then
        fold order whatever the executor.
    """
    from survlib import parallel

    seeds = list(seeds)
    if not seeds:
        raise ValueError("cross_validate: seeds is empty")
    tasks = [(split, int(seed)) for seed in seeds
             for split in cv_splits(event, n_folds=n_folds, val_fraction=val_fraction, seed=seed)]
    rows: list[dict[str, Any]] = []
    bar = tqdm(total=len(tasks), desc=f"cv {model}", disable=not progress, leave=False)

    def add(split: Split, seed: int, metrics: Any) -> None:
        if not isinstance(metrics, Mapping) or not metrics:
            raise ValueError(
                f"cross_validate: run_fold must return a non-empty dict metric -> value, got "
                f"{metrics!r} (fold {split.fold}, seed {seed})"
            )
        for metric, value in metrics.items():
            rows.append({"model": model, "fold": split.fold, "seed": int(seed),
                         "metric": str(metric), "value": float(value)})
        bar.update(1)

    if executor is None:
        for split, seed in tasks:
            add(split, seed, _cv_task(run_fold, split, seed))
    else:
        pool = parallel.check_executor(executor)
        parallel.check_picklable(run_fold, pool, "run_fold")
        futures = [parallel.submit(pool, _cv_task, run_fold, split, seed)
                   for split, seed in tasks]
        try:
            for (split, seed), future in zip(tasks, futures):
                add(split, seed, future.result())
        except BaseException:
            parallel.cancel(pool, futures)
            raise
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


# --------------------------------------------------------------------------------------------
# Bag models with the discrete-time likelihood (SurvPath / SurvPGC chapter)
# --------------------------------------------------------------------------------------------
#
# The recipe of the multimodal chapter: time bins and standardisation fitted on the training
# patients (:func:`survlib.data.multimodal.prepare_fold`), mini-batches of padded bags with a
# fresh random subset of patches per step, the discrete NLL, early stopping on the validation
# split, and metrics on the test fold computed once: C-index, td-AUC at 12/36/60 months from
# survival curves interpolated at those months, iAUC, integrated Brier score.
#
# The authors' released SurvPGC code differs in two ways that inflate its numbers, and both are
# available here as explicit options so the chapter can measure them:
#   * its "validation" loader is the test fold: the epoch it reports (best of epochs 10-20 by
#     C-index) is chosen on the test patients  -> ``select_on="test"``;
#   * its "1-, 3- and 5-year AUC" is taken at 12/36/60 months but scores each patient with
#     1 - S at the *bin-edge* columns of its survival curve (S after bins 2, 3, 4), whatever
#     months those edges are                    -> ``auc_at="released"``.


@dataclass
class DiscreteFit:
    """What :func:`fit_discrete_model` returns.

    Attributes:
        model: the trained model, holding the weights of :attr:`result`'s best epoch, in eval mode.
        data: the fold's prepared data (bins, standardisation).
        split: the cross-validation split.
        result: the :class:`FitResult` of :func:`fit` (per-epoch losses, best epoch).
        selected_on: ``"validation"`` (honest) or ``"test"`` (the authors' protocol).
        select_metric: ``"loss"`` (discrete NLL) or ``"cindex"``.
        trace: with ``track_test=True``, one row per epoch: the selection set's loss and
            C-index, and the test fold's metrics at that epoch (see
            :func:`protocol_comparison`); otherwise ``None``.
        device: where the model lives.
    """

    model: torch.nn.Module
    data: Any
    split: Split
    result: FitResult
    selected_on: str
    select_metric: str
    trace: pd.DataFrame | None
    device: torch.device


def _needs_patches(model: torch.nn.Module) -> bool:
    return "patches" in tuple(getattr(model, "inputs", ()))


def predict_discrete_logits(
    model: torch.nn.Module,
    data: Any,
    indices: Sequence[int] | np.ndarray,
    batch_size: int = 64,
    max_patches: int | None = None,
    device: str | torch.device = "auto",
) -> np.ndarray:
    """Hazard logits ``float64 [len(indices), n_bins]`` of a bag model in eval mode, no gradients.

    Batches come from ``data.batch`` (a :class:`~survlib.data.multimodal.FoldData`); with
    ``max_patches`` bags are subsampled deterministically (evenly spaced patches), else every
    patch is used.
    """
    from survlib.models import predict_logits

    dev = pick_device(device)
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, idx.size, int(batch_size)):
            batch = data.batch(idx[start:start + int(batch_size)], max_patches=max_patches,
                               with_patches=_needs_patches(model)).to(dev)
            out.append(predict_logits(model, batch).double().cpu().numpy())
    return np.concatenate(out)


def _discrete_metrics(
    logits: np.ndarray,
    data: Any,
    split: Split,
    indices: np.ndarray,
    times: Sequence[float],
    auc_at: str,
) -> dict[str, float]:
    """C-index, td-AUC per time, iAUC and integrated Brier for one set of test logits."""
    import warnings

    from survlib import survival as sv

    t_te, e_te = data.time[indices], data.event[indices]
    t_tr, e_tr = data.time[split.train], data.event[split.train]
    risk = sv.discrete_risk(logits)
    out = {"C-index": sv.concordance(risk, t_te, e_te)}
    with warnings.catch_warnings():
        # test follow-up beyond the training range / times outside the test range: NaN, noted
        # in the module docs of survlib.survival
        warnings.simplefilter("ignore", UserWarning)
        if auc_at == "months":
            q = np.asarray(times, dtype=np.float64)
            surv = data.bins.predict_survival(logits, q)
            aucs, mean_auc = sv.td_auc(surv, t_te, e_te, t_tr, e_tr, q)
            for t, a in zip(q, aucs):
                out[f"AUC {t:g}m"] = float(a)
            out["iAUC"] = float(mean_auc)
            try:
                out["IBS"] = sv.integrated_brier(surv, t_te, e_te, t_tr, e_tr, q)
            except ValueError:
                out["IBS"] = float("nan")
        elif auc_at == "released":
            # the released code's "1/3/5-year" AUC (survival.released_td_auc): horizons 12/36/60,
            # scores 1 - S at the bin-edge columns 1.., censoring reference = its train + val +
            # test loaders with val == test (here: the training fold, then the test fold twice)
            q = np.asarray(times, dtype=np.float64)
            ref = np.concatenate([np.asarray(split.train), np.asarray(split.val, dtype=np.int64),
                                  indices, indices])
            aucs, mean_auc = sv.released_td_auc(logits, t_te, e_te, data.time[ref],
                                                data.event[ref], q)
            for t, a in zip(q, aucs):
                out[f"AUC {t:g}m (released)"] = float(a)
            out["iAUC (released)"] = float(mean_auc)
        else:
            raise ValueError(f"auc_at must be 'months' or 'released', got {auc_at!r}")
    return out


def fit_discrete_model(
    model: torch.nn.Module,
    data: Any,
    split: Split,
    *,
    max_epochs: int = 30,
    patience: int | None = 8,
    min_epoch: int = 1,
    lr: float = 2e-4,
    weight_decay: float = 1e-5,
    batch_size: int = 16,
    max_patches: int | None = 512,
    eval_max_patches: int | None = None,
    loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor] | None = None,
    alpha: float = 0.0,
    select_on: str = "validation",
    select_metric: str = "loss",
    track_test: bool = False,
    times: Sequence[float] = (12.0, 36.0, 60.0),
    grad_clip: float | None = None,
    device: str | torch.device = "auto",
    seed: int = 0,
    progress: bool = False,
) -> DiscreteFit:
    r"""Train a bag model with the discrete-time NLL and early stopping; return it with its fold.

    Each epoch shuffles the training patients (``np.random.default_rng([seed, epoch])``),
    batches ``batch_size`` of them with a fresh random subset of at most ``max_patches``
    patches per bag, and takes an Adam step on ``loss_fn`` (default: the discrete NLL
    :func:`survlib.survival.nll_discrete` of ``predict_logits``; for a model with
    ``separate_losses`` (late fusion of separate models), the sum of its members' own NLLs).
    The *selection* set is
    scored after every epoch and :func:`fit` keeps the best weights:

    - ``select_on="validation"`` (honest, the default): ``split.val``, a part of the training
      fold; the test fold is not touched before :func:`evaluate_discrete_model`.
    - ``select_on="test"``: ``split.test`` — the released SurvPGC code's protocol (its
      validation loader *is* the test fold). Only for measuring how much that inflates the
      result; never report it as a test score.

    ``select_metric="loss"`` monitors the discrete NLL, ``"cindex"`` monitors
    :math:`1 - C`. Epochs before ``min_epoch`` are never selected (the paper picks the best
    of epochs 10-20). With ``track_test=True`` every epoch also records the test fold's metrics
    in :attr:`DiscreteFit.trace` (for :func:`protocol_comparison`; the honest selection still
    never sees them).

    Args:
        model: a model with ``inputs`` (see :mod:`survlib.models`).
        data: the fold's :class:`~survlib.data.multimodal.FoldData` (from ``prepare_fold`` on
            ``split.train``).
        split: the cross-validation split.
        max_epochs, patience, min_epoch: the schedule (``patience=None``: run every epoch).
        lr, weight_decay: Adam's.
        batch_size: patients per step.
        max_patches: patches per bag per step (``None``: all).
        eval_max_patches: patches per bag when scoring (``None``: all).
        loss_fn: ``(model, batch) -> loss``; e.g. ``functools.partial(survpgc_loss, beta=0.1)``.
        alpha: the NLL's uncensored weight (default loss only).
        select_on, select_metric, track_test: see above.
        times: month times of the tracked td-AUC.
        grad_clip: max gradient norm.
        device: ``"auto"`` / ``"cpu"`` / ``"cuda"``.
        seed: seeds the weights' initialisation is *not* set here (call
            :func:`seed_everything` first, as :func:`cross_validate` does); it seeds batches.
        progress: progress bar.
    """
    from survlib import survival as sv
    from survlib.models import predict_logits

    if select_on not in ("validation", "test"):
        raise ValueError(f"select_on must be 'validation' or 'test', got {select_on!r}")
    if select_metric not in ("loss", "cindex"):
        raise ValueError(f"select_metric must be 'loss' or 'cindex', got {select_metric!r}")
    select_idx = np.asarray(split.val if select_on == "validation" else split.test, dtype=np.int64)
    if select_idx.size == 0:
        raise ValueError(f"fit_discrete_model: the {select_on} set of fold {split.fold} is empty; "
                         f"use cv_splits(..., val_fraction > 0)")
    dev = pick_device(device)
    model.to(dev)
    with_patches = _needs_patches(model)

    def default_loss(m: torch.nn.Module, batch: Any) -> torch.Tensor:
        if hasattr(m, "separate_losses"):  # separate member models (late fusion): own losses
            return torch.stack(list(m.separate_losses(batch, alpha=alpha).values())).sum()
        return sv.nll_discrete(predict_logits(m, batch), batch.bin_index, batch.event,
                               alpha=alpha)

    objective = loss_fn if loss_fn is not None else default_loss

    def train_batches(epoch: int) -> Iterable[Any]:
        rng = np.random.default_rng([int(seed), int(epoch)])
        for b in data.iter_batches(split.train, batch_size, max_patches, rng, shuffle=True,
                                   with_patches=with_patches):
            yield b.to(dev)

    select_bins = torch.as_tensor(data.bin_index[select_idx])
    select_event = torch.as_tensor(data.event[select_idx])
    trace_rows: list[dict[str, float]] = []
    epoch_counter = [0]

    def score(m: torch.nn.Module) -> float:
        epoch_counter[0] += 1
        epoch = epoch_counter[0]
        logits = predict_discrete_logits(m, data, select_idx, max_patches=eval_max_patches,
                                         device=dev)
        loss = float(sv.nll_discrete(torch.from_numpy(logits), select_bins, select_event,
                                     alpha=alpha))
        c_sel = sv.concordance(sv.discrete_risk(logits), data.time[select_idx],
                               data.event[select_idx])
        row: dict[str, float] = {"epoch": float(epoch), "selection loss": loss,
                                 "selection C-index": c_sel}
        if track_test:
            test_logits = predict_discrete_logits(m, data, split.test,
                                                  max_patches=eval_max_patches, device=dev)
            for auc_at in ("months", "released"):
                row.update({f"test {k}": v for k, v in _discrete_metrics(
                    test_logits, data, split, np.asarray(split.test), times, auc_at).items()})
        trace_rows.append(row)
        if epoch < int(min_epoch):  # outside the selection window: always "improving"
            return 1e9 - epoch
        return loss if select_metric == "loss" else 1.0 - c_sel

    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    result = fit(model, optimizer, train_batches, objective, val_loss=score,
                 max_epochs=max_epochs, patience=patience, grad_clip=grad_clip,
                 progress=progress, desc="discrete-time NLL")
    model.eval()
    trace = pd.DataFrame(trace_rows) if trace_rows else None
    if trace is not None:
        trace["epoch"] = trace["epoch"].astype(int)
    return DiscreteFit(model=model, data=data, split=split, result=result,
                       selected_on=select_on, select_metric=select_metric,
                       trace=trace if track_test else None, device=dev)


def evaluate_discrete_model(
    fitted: DiscreteFit,
    indices: Sequence[int] | np.ndarray | None = None,
    times: Sequence[float] = (12.0, 36.0, 60.0),
    auc_at: str = "months",
    eval_max_patches: int | None = None,
) -> dict[str, float]:
    r"""Test-fold metrics of a fitted discrete model.

    - ``"C-index"``: Harrell's C of the risk :math:`-\sum_k S_k` (SurvPath's risk score);
    - ``auc_at="months"`` (default): ``"AUC 12m"``, ``"AUC 36m"``, ``"AUC 60m"`` — Uno's
      cumulative/dynamic AUC of :math:`1 - \hat S(t)` with the survival curve interpolated
      *at* those months (:meth:`~survlib.survival.TimeBins.predict_survival`), ``"iAUC"``
      their KM-weighted mean and ``"IBS"`` the integrated Brier score over the same months
      (NaN for a time outside the test fold's follow-up);
    - ``auc_at="released"``: the released SurvPGC code's version
      (:func:`survlib.survival.released_td_auc`: horizons 12/36/60 months, each patient scored
      with 1 - S at the bin-edge columns 1.. of its curve; ``"AUC 12m (released)"`` ...,
      ``"iAUC (released)"``), for comparison only.

    Censoring weights come from the training patients (``fitted.split.train``).
    """
    idx = np.asarray(fitted.split.test if indices is None else indices, dtype=np.int64)
    logits = predict_discrete_logits(fitted.model, fitted.data, idx,
                                     max_patches=eval_max_patches, device=fitted.device)
    return _discrete_metrics(logits, fitted.data, fitted.split, idx, times, auc_at)


def protocol_comparison(fitted: DiscreteFit, min_epoch: int = 1) -> dict[str, float]:
    """Honest vs the authors' protocol from one tracked run (``track_test=True``).

    Training does not depend on which epoch is later reported, so one run gives both: the
    honest epoch is the best on the validation split (by the run's ``select_metric``) and the
    authors' epoch is the best by **test** C-index, both among epochs ``>= min_epoch``.

    Returns:
        ``C-index``, ``iAUC`` (12/36/60 months) and ``IBS`` at the honest epoch; ``C-index
        (test-selected)``, ``iAUC (test-selected, released)`` and ``iAUC (test-selected)`` at
        the authors' epoch; ``optimism`` = C-index (test-selected) - C-index; the two epochs.
    """
    if fitted.trace is None or fitted.selected_on != "validation":
        raise ValueError("protocol_comparison needs a run with select_on='validation' and "
                         "track_test=True")
    tr = fitted.trace[fitted.trace["epoch"] >= int(min_epoch)]
    if tr.empty:
        raise ValueError(f"protocol_comparison: no epoch >= {min_epoch} was run")
    key = "selection loss" if fitted.select_metric == "loss" else "selection C-index"
    honest = tr.loc[tr[key].idxmin()] if fitted.select_metric == "loss" else tr.loc[
        tr[key].idxmax()]
    leaky = tr.loc[tr["test C-index"].idxmax()]
    return {
        "C-index": float(honest["test C-index"]),
        "iAUC": float(honest["test iAUC"]),
        "IBS": float(honest["test IBS"]),
        "C-index (test-selected)": float(leaky["test C-index"]),
        "iAUC (test-selected)": float(leaky["test iAUC"]),
        "iAUC (test-selected, released)": float(leaky["test iAUC (released)"]),
        "optimism": float(leaky["test C-index"] - honest["test C-index"]),
        "honest epoch": float(honest["epoch"]),
        "test-selected epoch": float(leaky["epoch"]),
    }


def discrete_cv_fold(
    build_model: Callable[[Any], torch.nn.Module],
    cohort: Any,
    *,
    clinical_tokens: np.ndarray | None = None,
    n_bins: int = 4,
    fold_cache: dict[tuple[int, int], Any] | None = None,
    store: dict[tuple[int, int], dict[str, Any]] | None = None,
    protocol: str = "honest",
    protocol_min_epoch: int = 1,
    **fit_kwargs: Any,
) -> Callable[[Split, int], dict[str, float]]:
    """A ``run_fold`` for :func:`cross_validate` that trains and evaluates one bag model.

    Per fold: :func:`~survlib.data.multimodal.prepare_fold` on ``split.train`` (cached in
    ``fold_cache`` under ``(seed, fold)`` so several models share it), ``build_model(data)``,
    :func:`fit_discrete_model` and :func:`evaluate_discrete_model`.

    Args:
        build_model: ``FoldData -> model``.
        cohort: a :class:`~survlib.data.multimodal.MultimodalCohort`.
        clinical_tokens: ``[N, F, D_t]`` prompt embeddings for models that read them.
        n_bins: time bins.
        fold_cache: optional shared cache of prepared folds.
        store: optional dict receiving, per ``(seed, fold)``, the test indices, test risks, the
            training-median risk threshold, the test logits and the fit (for KM curves,
            attribution and heat maps).
        protocol: ``"honest"`` (metrics of :func:`evaluate_discrete_model`) or ``"both"`` (a
            tracked run; metrics of :func:`protocol_comparison`).
        protocol_min_epoch: first selectable epoch for ``"both"``.
        **fit_kwargs: passed to :func:`fit_discrete_model`.
    """
    from survlib import survival as sv
    from survlib.data.multimodal import prepare_fold

    if protocol not in ("honest", "both"):
        raise ValueError(f"protocol must be 'honest' or 'both', got {protocol!r}")

    def run_fold(split: Split, seed: int) -> dict[str, float]:
        key = (int(seed), int(split.fold))
        data = None if fold_cache is None else fold_cache.get(key)
        if data is None:
            data = prepare_fold(cohort, split.train, n_bins=n_bins,
                                clinical_tokens=clinical_tokens)
            if fold_cache is not None:
                fold_cache[key] = data
        model = build_model(data)
        kwargs = dict(fit_kwargs)
        if protocol == "both":
            kwargs.update(track_test=True, min_epoch=protocol_min_epoch)
        fitted = fit_discrete_model(model, data, split, seed=seed, **kwargs)
        if protocol == "both":
            metrics = protocol_comparison(fitted, min_epoch=protocol_min_epoch)
        else:
            metrics = evaluate_discrete_model(fitted)
        if store is not None:
            logits_te = predict_discrete_logits(fitted.model, data, split.test,
                                                device=fitted.device)
            logits_tr = predict_discrete_logits(fitted.model, data, split.train,
                                                device=fitted.device)
            store[key] = {
                "test": np.asarray(split.test),
                "risk": sv.discrete_risk(logits_te),
                "threshold": float(np.median(sv.discrete_risk(logits_tr))),
                "logits": logits_te,
                "fit": fitted,
            }
        return metrics

    return run_fold
