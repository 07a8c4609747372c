"""The cross-validation protocol: splits, folds x seeds, tidy results.

- :func:`cv_splits`: stratified k-fold by event for the test folds, and inside each training fold
  a stratified train / validation split for early stopping (the test fold is used once).
- :func:`cross_validate`, :func:`tidy_results`, :func:`summarize`: folds x seeds as tidy rows
  ``(model, fold, seed, metric, value)`` and a mean +- sd table; the tasks run serially or on any
  executor (:mod:`survlib.parallel`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from survlib._core.device import seed_everything

__all__ = ["RESULT_COLUMNS", "Split", "cross_validate", "cv_splits", "summarize", "tidy_results"]

RESULT_COLUMNS = ["model", "fold", "seed", "metric", "value"]


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
        splits.append(Split(fold=fold, train=np.sort(train), val=np.sort(val), test=np.sort(test)))
    return splits


# --------------------------------------------------------------------------------------------
# the training loop
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
    tasks = [
        (split, int(seed))
        for seed in seeds
        for split in cv_splits(event, n_folds=n_folds, val_fraction=val_fraction, seed=seed)
    ]
    rows: list[dict[str, Any]] = []
    bar = tqdm(total=len(tasks), desc=f"cv {model}", disable=not progress, leave=False)

    def add(split: Split, seed: int, metrics: Any) -> None:
        if not isinstance(metrics, Mapping) or not metrics:
            raise ValueError(
                f"cross_validate: run_fold must return a non-empty dict metric -> value, got "
                f"{metrics!r} (fold {split.fold}, seed {seed})"
            )
        for metric, value in metrics.items():
            rows.append(
                {
                    "model": model,
                    "fold": split.fold,
                    "seed": int(seed),
                    "metric": str(metric),
                    "value": float(value),
                }
            )
        bar.update(1)

    if executor is None:
        for split, seed in tasks:
            add(split, seed, _cv_task(run_fold, split, seed))
    else:
        pool = parallel.check_executor(executor)
        parallel.check_picklable(run_fold, pool, "run_fold")
        futures = [parallel.submit(pool, _cv_task, run_fold, split, seed) for split, seed in tasks]
        try:
            for (split, seed), future in zip(tasks, futures, strict=True):
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
        df = (
            pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)
        )
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
        f"{m:.3f} ± {s:.3f}" if np.isfinite(s) else f"{m:.3f}"
        for m, s in zip(out["mean"], out["sd"], strict=True)
    ]
    return out
