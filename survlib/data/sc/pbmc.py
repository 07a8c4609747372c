"""The semi-synthetic single-cell cohort: real PBMCs (scanpy's bundled ``pbmc68k_reduced``, with
counts recovered) resampled into pseudo-patients whose survival is simulated from a planted
real subpopulation (:func:`semi_synthetic_pbmc_cohort`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from survlib.data.sc.sampling import (
    _GROUPS,
    _check_range,
    _draw_patients,
    _patient_truth,
    _survival_times,
)

__all__ = ["pbmc68k_counts", "semi_synthetic_pbmc_cohort"]


def pbmc68k_counts() -> Any:
    """scanpy's bundled ``pbmc68k_reduced`` (700 real PBMCs, offline) with counts in ``X``.

    The bundled object holds *scaled* data in ``X`` (negative values) and, in ``.raw``,
    ``log1p`` of per-cell normalised counts for 765 genes (values stored to 3 decimals). The
    most count-like matrix is recovered from ``.raw``: :math:`e^{x} - 1` is a multiple of the
    cell's size factor, so dividing by the cell's smallest non-zero value (a count of 1)
    and rounding gives integer counts (within 0.12 of an integer before rounding). These are
    counts of the 765 genes kept by the dataset's authors, not of the whole transcriptome.

    Returns:
        AnnData (700 x 765): integer counts (``float32`` CSR) in ``X``, the original ``obs``
        (``bulk_labels``, ``louvain``, ...) and ``obsm["X_umap"]``.
    """
    import anndata as ad
    import scanpy as sc

    src = sc.datasets.pbmc68k_reduced()
    x = sp.csr_matrix(src.raw.X, dtype=np.float64)
    x.data = np.expm1(x.data)
    unit = np.array([x.data[x.indptr[i] : x.indptr[i + 1]].min() for i in range(x.shape[0])])
    counts = sp.csr_matrix(sp.diags(1.0 / unit) @ x)
    counts.data = np.round(counts.data)
    counts = counts.astype(np.float32)
    counts.eliminate_zeros()
    var = pd.DataFrame(index=pd.Index(src.raw.var_names.astype(str)))
    out = ad.AnnData(X=counts, obs=src.obs.copy(), var=var)
    out.obsm["X_umap"] = np.asarray(src.obsm["X_umap"])
    return out


def semi_synthetic_pbmc_cohort(
    n_patients: int = 40,
    cells_per_patient: int = 300,
    risk_cell_type: str = "CD14+ Monocyte",
    seed: int = 0,
    *,
    label_key: str = "bulk_labels",
    lower_risk_cell_type: str | None = None,
    risk_fraction: float = 0.15,
    effect_size: float = 3.0,
    censoring_rate: float = 0.3,
    cells_per_patient_sd: float = 0.3,
    n_batches: int = 1,
    thinning: float = 0.8,
    median_survival: float = 30.0,
    weibull_shape: float = 1.0,
    max_follow_up: float | None = 120.0,
    min_cells: int = 20,
) -> Any:
    r"""A semi-synthetic cohort: real PBMCs resampled into pseudo-patients, simulated survival.

    Cells come from :func:`pbmc68k_counts` (700 real cells of scanpy's bundled
    ``pbmc68k_reduced``, counts recovered from ``.raw``). The cells whose ``label_key`` is
    ``risk_cell_type`` are the planted higher-risk population (and ``lower_risk_cell_type``, if
    given, the lower-risk one). Patient :math:`i` draws :math:`u_i \sim U(0,1)` and gets a
    higher-risk share :math:`\rho(0.2 + 1.6u_i)` (and, with a lower-risk type, the inverse
    share :math:`\rho(0.2 + 1.6(1-u_i))`); its cells (lognormal number around
    ``cells_per_patient``) are drawn with replacement from the matching pools. Survival follows
    :func:`simulate_sc_cohort`: :math:`\eta_i = \beta (h_i - l_i - \bar d) / (2\rho)` from the
    realised fractions (:math:`\bar d` = :math:`\rho` without a lower-risk type, else 0),
    Weibull/exponential times in months, censoring tuned to ``censoring_rate``.

    Because 700 cells are resampled into thousands, each real cell appears many times; with
    ``thinning`` < 1 each copy's counts are binomially thinned,
    :math:`X' \sim \mathrm{Binomial}(X, \text{thinning})`, so copies are distinct draws of the
    same cell (1.0 keeps exact copies). Batches (``n_batches`` > 1) are labels only: the cells
    come from one experiment and no batch effect is added.

    Args:
        n_patients: number of pseudo-patients.
        cells_per_patient: typical cells per patient.
        risk_cell_type: the real subpopulation planted as higher-risk (a value of
            ``obs[label_key]``; e.g. ``"CD14+ Monocyte"`` of ``bulk_labels`` or ``"3"`` of
            ``louvain``).
        seed: seed of ``np.random.default_rng``.
        label_key: ``"bulk_labels"`` or ``"louvain"``.
        lower_risk_cell_type: optional real subpopulation planted as lower-risk.
        risk_fraction: mean share :math:`\rho` of higher-risk cells.
        effect_size: :math:`\beta`.
        censoring_rate: target censored fraction.
        cells_per_patient_sd: log-sd of cells per patient.
        n_batches: number of (label-only) batches.
        thinning: binomial thinning probability of each resampled copy.
        median_survival, weibull_shape, max_follow_up: as in :func:`simulate_sc_cohort`.
        min_cells: fewest cells per patient.

    Returns:
        AnnData with integer counts (``float32`` CSR) in ``X``; ``obs`` as
        :func:`simulate_sc_cohort` (``cell_type`` = the real ``label_key`` annotation, plus
        ``source_cell`` = the original cell's name, and ``louvain``), ``obsm["X_umap"]`` of the
        source cells; ``uns["simulated"] = uns["semi_synthetic"] = True``, ``uns["simulation"]``
        and ``uns["patients"]``.

    Raises:
        ValueError: unknown label key or cell type, or out-of-range parameters.
    """
    args = dict(locals())  # the arguments, for the checks and uns["simulation"]
    import anndata as ad

    pool, labels, known = _pbmc_pool(**args)
    rng = np.random.default_rng(seed)
    state_of_cell, pools = _state_pools(labels, risk_cell_type, lower_risk_cell_type)

    share_high, share_low, n_cells, batch_of_patient, age = _draw_patients(
        rng,
        n_patients,
        risk_fraction,
        cells_per_patient,
        cells_per_patient_sd,
        min_cells,
        n_batches,
        lower=lower_risk_cell_type is not None,
    )
    idx, counts3 = _draw_source_cells(rng, n_cells, share_high, share_low, pools)
    patient_idx = np.repeat(np.arange(n_patients), n_cells)

    frac_high = counts3[:, 1] / n_cells
    frac_low = counts3[:, 2] / n_cells
    centre = 0.0 if lower_risk_cell_type is not None else risk_fraction
    eta = effect_size * (frac_high - frac_low - centre) / (2 * risk_fraction)
    time, event = _survival_times(
        rng, eta, median_survival, weibull_shape, censoring_rate, max_follow_up
    )

    x = _thinned_counts(rng, pool.X[idx], thinning)

    pid_names = np.array([f"P{i:04d}" for i in range(n_patients)])
    batch_names = np.array([f"batch{b}" for b in range(n_batches)])
    obs = _cell_table(
        pool,
        idx,
        labels,
        known,
        state_of_cell,
        patient_idx,
        pid_names,
        time,
        event,
        batch_of_patient,
        batch_names,
        age,
    )
    patients = _patient_truth(
        pid_names,
        time,
        event,
        eta,
        frac_high,
        frac_low,
        batch_names[batch_of_patient],
        age,
        n_cells,
    )
    params = _pbmc_params(**args, n_cells=idx.size, event=event)
    out = ad.AnnData(
        X=x,
        obs=obs,
        var=pool.var.copy(),
        uns={"simulated": True, "semi_synthetic": True, "simulation": params, "patients": patients},
    )
    out.obsm["X_umap"] = pool.obsm["X_umap"][idx]
    return out


def _pbmc_pool(
    *,
    n_patients: int,
    cells_per_patient: int,
    thinning: float,
    risk_fraction: float,
    n_batches: int,
    label_key: str,
    risk_cell_type: str,
    lower_risk_cell_type: str | None,
    **_: Any,
) -> tuple[Any, np.ndarray, list[str]]:
    """Check :func:`semi_synthetic_pbmc_cohort`'s arguments (given by name; the others are
    ignored); return the real cells (:func:`pbmc68k_counts`), their ``label_key`` labels and
    the sorted known labels."""
    _check_range("n_patients", n_patients, 2, None)
    _check_range("cells_per_patient", cells_per_patient, 1, None)
    _check_range("thinning", thinning, 1e-6, 1.0)
    hi_cap = 0.45 if lower_risk_cell_type is not None else 0.6
    _check_range("risk_fraction", risk_fraction, 1e-6, hi_cap)
    _check_range("n_batches", n_batches, 1, None)
    pool = pbmc68k_counts()
    if label_key not in ("bulk_labels", "louvain"):
        raise ValueError(f"label_key must be 'bulk_labels' or 'louvain', got {label_key!r}")
    labels = pool.obs[label_key].astype(str).to_numpy()
    known = sorted(set(labels))
    for name in (risk_cell_type, lower_risk_cell_type):
        if name is not None and name not in known:
            raise ValueError(f"{name!r} is not a value of obs[{label_key!r}]; choose from {known}")
    if lower_risk_cell_type == risk_cell_type:
        raise ValueError("lower_risk_cell_type must differ from risk_cell_type")
    return pool, labels, known


def _state_pools(
    labels: np.ndarray, risk_cell_type: str, lower_risk_cell_type: str | None
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each real cell's planted state (0 neutral, 1 higher-, 2 lower-risk) and each state's pool."""
    state_of_cell = np.zeros(labels.size, dtype=np.int8)
    state_of_cell[labels == risk_cell_type] = 1
    if lower_risk_cell_type is not None:
        state_of_cell[labels == lower_risk_cell_type] = 2
    pools = [np.flatnonzero(state_of_cell == s) for s in range(3)]
    return state_of_cell, pools


def _thinned_counts(rng: np.random.Generator, counts: Any, thinning: float) -> sp.csr_matrix:
    """The resampled cells' counts (``float32`` CSR), binomially thinned when ``thinning`` < 1."""
    x = sp.csr_matrix(counts)
    if thinning < 1.0:
        x.data = rng.binomial(x.data.astype(np.int64), thinning).astype(np.float32)
        x.eliminate_zeros()
    return x.astype(np.float32)


def _draw_source_cells(
    rng: np.random.Generator,
    n_cells: np.ndarray,
    share_high: np.ndarray,
    share_low: np.ndarray,
    pools: list[np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Each patient's real cells, drawn with replacement from the state pools: the source cell
    of every resampled cell (patient by patient) and the per-patient state counts ``[P, 3]``."""
    n_patients = n_cells.size
    src_idx: list[np.ndarray] = []
    counts3 = np.zeros((n_patients, 3), dtype=np.int64)
    for i in range(n_patients):
        probs = np.array([1.0 - share_high[i] - share_low[i], share_high[i], share_low[i]])
        counts3[i] = rng.multinomial(n_cells[i], probs)
        picks = np.concatenate([rng.choice(pools[s], size=counts3[i, s]) for s in range(3)])
        src_idx.append(picks[rng.permutation(picks.size)])
    return np.concatenate(src_idx), counts3


def _cell_table(
    pool: Any,
    idx: np.ndarray,
    labels: np.ndarray,
    known: list[str],
    state_of_cell: np.ndarray,
    patient_idx: np.ndarray,
    pid_names: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    batch_of_patient: np.ndarray,
    batch_names: np.ndarray,
    age: np.ndarray,
) -> pd.DataFrame:
    """The semi-synthetic cohort's ``obs``: one row per resampled cell (source cell ``idx``)."""
    state = state_of_cell[idx].astype(np.int64)
    return pd.DataFrame(
        {
            "patient_id": pd.Categorical.from_codes(patient_idx, categories=list(pid_names)),
            "time": time[patient_idx],
            "event": event[patient_idx],
            "batch": pd.Categorical.from_codes(
                batch_of_patient[patient_idx], categories=list(batch_names)
            ),
            "cell_type": pd.Categorical(labels[idx], categories=known),
            "risk_group": pd.Categorical.from_codes(state, categories=list(_GROUPS)),
            "risk_cell": state == 1,
            "age": age[patient_idx],
            "source_cell": pool.obs_names.to_numpy()[idx].astype(str),
            "louvain": pd.Categorical(pool.obs["louvain"].astype(str).to_numpy()[idx]),
        },
        index=pd.Index([f"cell{c:07d}" for c in range(idx.size)]),
    )


def _pbmc_params(
    *,
    seed: int,
    n_patients: int,
    cells_per_patient: int,
    n_cells: int,
    label_key: str,
    risk_cell_type: str,
    lower_risk_cell_type: str | None,
    risk_fraction: float,
    effect_size: float,
    censoring_rate: float,
    event: np.ndarray,
    cells_per_patient_sd: float,
    n_batches: int,
    thinning: float,
    median_survival: float,
    weibull_shape: float,
    max_follow_up: float | None,
    **_: Any,
) -> dict[str, Any]:
    """``uns["simulation"]``: the parameters of a semi-synthetic cohort (scalars only; given by
    name, the arguments it does not record are ignored)."""
    return {
        "generator": "survlib.data.semi_synthetic_pbmc_cohort",
        "source": "scanpy.datasets.pbmc68k_reduced (.raw, counts recovered)",
        "seed": int(seed),
        "n_patients": int(n_patients),
        "cells_per_patient": int(cells_per_patient),
        "n_cells": int(n_cells),
        "label_key": label_key,
        "risk_cell_type": risk_cell_type,
        "lower_risk_cell_type": lower_risk_cell_type or "none",
        "risk_fraction": float(risk_fraction),
        "effect_size": float(effect_size),
        "censoring_rate": float(censoring_rate),
        "censoring_rate_realised": float(1.0 - event.mean()),
        "cells_per_patient_sd": float(cells_per_patient_sd),
        "n_batches": int(n_batches),
        "thinning": float(thinning),
        "median_survival": float(median_survival),
        "weibull_shape": float(weibull_shape),
        "max_follow_up": float(max_follow_up) if max_follow_up is not None else "none",
        "time_unit": "months",
        "event_coding": "1 = death observed",
    }
