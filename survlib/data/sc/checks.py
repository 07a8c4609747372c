"""Checks of single-cell survival cohorts: the patient table (:func:`validate_sc_cohort`), the
expression matrix against the declared ``expression`` and against a model's training data
(:func:`check_same_normalisation`), and the genes (:func:`check_same_genes`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from survlib._core.validation import require_columns, validate_survival
from survlib.data.sc.expression import check_expression, is_integer_valued, matrix_values

__all__ = ["check_same_genes", "check_same_normalisation", "validate_sc_cohort"]


def validate_sc_cohort(
    adata: Any,
    patient_key: str = "patient_id",
    time_key: str = "time",
    event_key: str = "event",
    batch_key: str | None = None,
    *,
    expression: str | None = None,
    layer: str | None = None,
    max_cells_checked: int = 200_000,
    require_events: bool = True,
) -> pd.DataFrame:
    """Check a single-cell survival cohort and return its patient table.

    Checks, each raising an error that names the problem:

    - ``KeyError``: a key missing from ``obs`` (or ``layer`` missing from ``layers``).
    - ``ValueError``: no cells; a cell without a patient; times that are not numeric, NaN,
      infinite or negative; events not 0/1 (1 = death observed); time or event not constant
      within a patient; a patient with no cells (an unused category of a categorical
      ``patient_key``, e.g. left by subsetting a plain DataFrame); a missing batch; no
      observed event (unless ``require_events=False``).
    - With ``expression="counts"``: negative or non-integer values in the matrix (the model
      wants raw counts; pass ``layer=`` if they live in a layer). With
      ``expression="log-normalized"``: negative values (scaled data) or a matrix that looks
      like raw counts (all integers with a maximum above 30). Matrix checks read at most
      ``max_cells_checked`` cells (the first ones of a backed file).

    Args:
        adata: the cohort, one row per cell (in memory or backed).
        patient_key, time_key, event_key, batch_key: ``obs`` columns.
        expression: ``"counts"``, ``"log-normalized"`` or None (matrix not checked).
        layer: matrix to check instead of ``X``.
        max_cells_checked: cap on cells read for the matrix checks.
        require_events: raise when every patient is censored.

    Returns:
        One row per patient (index = patient id, in order of first appearance): ``time``,
        ``event`` (int), ``n_cells`` and, with ``batch_key``, ``batch`` (the patient's batch,
        or the batches joined by ``"+"`` when its cells span several).
    """
    where = "adata.obs"
    keys = [patient_key, time_key, event_key] + ([batch_key] if batch_key is not None else [])
    require_columns(adata.obs, keys, where=where)
    if adata.n_obs == 0:
        raise ValueError("the cohort has no cells (adata.n_obs == 0)")
    obs = adata.obs
    pid = obs[patient_key]
    _check_patient_ids(pid, patient_key)
    t, e = _check_outcomes(obs, pid, time_key, event_key)
    if batch_key is not None and obs[batch_key].isna().any():
        bad_b = obs[batch_key].isna().to_numpy()
        raise ValueError(
            f"obs[{batch_key!r}] is missing for cells of patient(s) {_names(pid[bad_b].unique())}"
        )

    frame = pd.DataFrame({"pid": pid.astype(str).to_numpy(), "time": t, "event": e})
    g = frame.groupby("pid", sort=False)
    for col, key in (("time", time_key), ("event", event_key)):
        n_distinct = g[col].nunique()
        varying = n_distinct.index[n_distinct > 1]
        if len(varying):
            raise ValueError(
                f"obs[{key!r}] must be constant within a patient (a patient-level outcome); "
                f"it varies within patient(s) {_names(varying)}"
            )
    table = pd.DataFrame(
        {
            "time": g["time"].first(),
            "event": g["event"].first().astype(np.int64),
            "n_cells": g.size(),
        }
    )
    table.index.name = patient_key
    if batch_key is not None:
        frame["batch"] = obs[batch_key].astype(str).to_numpy()
        table["batch"] = frame.groupby("pid", sort=False)["batch"].agg(
            lambda s: "+".join(sorted(set(s)))
        )
    if require_events:
        validate_survival(table["time"].to_numpy(), table["event"].to_numpy(), name="patients")
    if expression is not None:
        _check_matrix(adata, expression, layer, max_cells_checked)
    return table


def _check_patient_ids(pid: pd.Series, patient_key: str) -> None:
    """Every cell has a patient, and every category of a categorical patient column has cells."""
    obs_index = pid.index
    if pid.isna().any():
        rows = np.flatnonzero(pid.isna().to_numpy())
        raise ValueError(f"obs[{patient_key!r}] is missing for cells {_names(obs_index[rows])}")
    if isinstance(pid.dtype, pd.CategoricalDtype):
        used = set(pid.unique())
        empty = [c for c in pid.cat.categories if c not in used]
        if empty:
            raise ValueError(
                f"patient(s) with no cells: {_names(empty)} (unused categories of "
                f"obs[{patient_key!r}]); drop them with "
                f"adata.obs[{patient_key!r}] = "
                f"adata.obs[{patient_key!r}].cat.remove_unused_categories()"
            )


def _check_outcomes(
    obs: pd.DataFrame, pid: pd.Series, time_key: str, event_key: str
) -> tuple[np.ndarray, np.ndarray]:
    """Per-cell times (numeric, finite, non-negative months) and events (0/1) as float64."""
    time = pd.to_numeric(obs[time_key], errors="coerce")
    bad = time.isna() & obs[time_key].notna()
    if bad.any():
        raise ValueError(
            f"obs[{time_key!r}] must be numeric (months); non-numeric values "
            f"{obs.loc[bad, time_key].astype(str).unique()[:5].tolist()} for patient(s) "
            f"{_names(pid[bad].unique())}"
        )
    t = time.to_numpy(dtype=np.float64)
    for mask, what in ((~np.isfinite(t), "NaN or infinite"), (t < 0, "negative")):
        if mask.any():
            raise ValueError(
                f"obs[{time_key!r}] has {what} values for patient(s) {_names(pid[mask].unique())}"
            )
    ev_raw = obs[event_key]
    ev = pd.to_numeric(ev_raw.astype(object) if ev_raw.dtype == bool else ev_raw, errors="coerce")
    if ev_raw.dtype == bool:
        ev = ev_raw.astype(np.int64)
    e = ev.to_numpy(dtype=np.float64)
    bad_e = ~np.isin(e, (0.0, 1.0))
    if bad_e.any():
        shown = ev_raw[bad_e].astype(str).unique()[:5].tolist()
        raise ValueError(
            f"obs[{event_key!r}] must be 0/1 (1 = death observed); got {shown} for patient(s) "
            f"{_names(pid[bad_e].unique())}"
        )
    return t, e


def _names(values: Any, k: int = 5) -> str:
    vals = [str(v) for v in list(values)]
    shown = ", ".join(vals[:k])
    return f"[{shown}{', ...' if len(vals) > k else ''}] ({len(vals)} in all)"


def _check_matrix(adata: Any, expression: str, layer: str | None, max_cells: int) -> None:
    """Check the first ``max_cells`` cells of the matrix against the declared ``expression``."""
    check_expression(expression)
    if layer is not None and layer not in adata.layers:
        raise KeyError(f"layer {layer!r} not in adata.layers {list(adata.layers.keys())}")
    name = "X" if layer is None else f"layers[{layer!r}]"
    vals = matrix_values(adata, layer, max_cells)
    if vals.size == 0:
        return
    if not np.isfinite(vals).all():
        raise ValueError(f"{name} has NaN or infinite values")
    if (vals < 0).any():
        hint = (
            "raw counts expected"
            if expression == "counts"
            else "log-normalised expression expected (this looks scaled/centred)"
        )
        raise ValueError(f"{name} has negative values (min {vals.min():.3g}); {hint}")
    integer = is_integer_valued(vals)
    if expression == "counts" and not integer:
        frac = vals[vals != np.round(vals)][:3]
        raise ValueError(
            f"{name} does not look like raw counts: non-integer values such as {frac.tolist()}; "
            "pass the counts layer with layer=..., or log-normalised data with "
            "expression='log-normalized'"
        )
    if expression == "log-normalized" and integer and vals.max() >= 2:
        raise ValueError(
            f"{name} looks like raw counts (all integers, max {vals.max():.0f}) but "
            "log-normalised expression was expected (expression='log-normalized'); run "
            "scanpy.pp.normalize_total and scanpy.pp.log1p first (or use expression='counts')"
        )
    if expression == "log-normalized" and vals.max() > 30:
        raise ValueError(
            f"{name} has values up to {vals.max():.3g}, too large for log1p-normalised "
            "expression (log1p(1e4) is about 9.2): normalised but not log-transformed? Run "
            "scanpy.pp.log1p, or use expression='counts' for raw counts"
        )


def _median_total(adata: Any, layer: str | None, expm1: bool, max_cells: int = 2000) -> float:
    m = adata.X if layer is None else adata.layers[layer]
    block = m[: min(adata.n_obs, max_cells)]
    block = block.toarray() if hasattr(block, "toarray") else np.asarray(block)
    block = np.asarray(block, dtype=np.float64)
    return float(np.median((np.expm1(block) if expm1 else block).sum(axis=1)))


def check_same_normalisation(
    adata: Any,
    reference: Any,
    expression: str,
    layer: str | None = None,
    max_cells_checked: int = 2000,
) -> None:
    """Check that ``adata`` holds expression of the kind a model was set up with.

    ``expression`` is the registration of ``reference`` (``"counts"`` or
    ``"log-normalized"``). Counts must be non-negative integers; log-normalised data must not
    look like counts, and its per-cell total of ``expm1`` (the ``normalize_total`` target) must
    be within a factor of 3 of the reference's. Raises ``ValueError`` naming the mismatch.
    """
    try:
        _check_matrix(adata, expression, layer, max_cells_checked)
    except ValueError as err:
        raise ValueError(
            f"adata is not normalised like the training data (registered by setup_anndata "
            f"with expression={expression!r}): {err}"
        ) from err
    if expression == "log-normalized" and adata.n_obs and reference.n_obs:
        new = _median_total(adata, layer, True, max_cells_checked)
        ref = _median_total(reference, layer, True, max_cells_checked)
        if ref > 0 and not (ref / 3 <= new <= 3 * ref):
            raise ValueError(
                f"adata is not normalised like the training data: median per-cell total of "
                f"expm1(X) is {new:.4g} here but {ref:.4g} in training (a different "
                "normalize_total target_sum?); normalise both the same way"
            )


def check_same_genes(
    var_names_fit: Sequence[str] | pd.Index,
    var_names_new: Sequence[str] | pd.Index,
    *,
    allow_reorder: bool = True,
) -> np.ndarray:
    """Check that new data has the genes a model was fitted on; return how to reorder it.

    Args:
        var_names_fit: genes at fit time, in the model's order.
        var_names_new: genes of the new data.
        allow_reorder: accept the same genes in another order (else that is an error too).

    Returns:
        Integer positions ``idx`` such that ``new[:, idx]`` has the fit genes in fit order.

    Raises:
        ValueError: listing genes missing from the new data, extra genes, duplicated gene
            names, or (with ``allow_reorder=False``) a different order.
    """
    fit = pd.Index([str(g) for g in var_names_fit])
    new = pd.Index([str(g) for g in var_names_new])
    for label, idx in (("fit", fit), ("new", new)):
        if idx.has_duplicates:
            dups = _names(idx[idx.duplicated()].unique())
            raise ValueError(f"duplicated gene names in the {label} data: {dups}")
    missing = fit.difference(new, sort=False)
    extra = new.difference(fit, sort=False)
    if len(missing) or len(extra):
        parts = []
        if len(missing):
            parts.append(
                f"{len(missing)} gene(s) of the fitted model missing from the new data: "
                f"{_names(missing)}"
            )
        if len(extra):
            parts.append(f"{len(extra)} extra gene(s) not seen at fit time: {_names(extra)}")
        raise ValueError(
            "genes differ between fit and predict; "
            + "; ".join(parts)
            + ". Subset/reorder the new data to the fitted genes (adata[:, fit_genes])."
        )
    idx = new.get_indexer(fit)
    if not allow_reorder and not np.array_equal(idx, np.arange(len(fit))):
        raise ValueError("the new data has the fitted genes in a different order")
    return idx
