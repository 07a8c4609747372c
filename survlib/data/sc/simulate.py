"""The single-cell survival simulator: cells of planted higher-, lower-risk and neutral states
pooled into patients whose survival depends on them (:func:`simulate_sc_cohort`).

The sampling primitives it shares with the semi-synthetic PBMC cohort (patient draws, survival
times, ZINB counts, streaming to ``.h5ad``) live in :mod:`survlib.data.sc.sampling`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from survlib.data.sc.programs import _count_tables, _draw_cells, _draw_genes, _Genes, _profiles
from survlib.data.sc.sampling import (
    _GROUPS,
    _check_range,
    _draw_patients,
    _ordered_survival_times,
    _patient_truth,
    _stream_h5ad,
    _survival_times,
    _zinb_chunk,
)

__all__ = ["SC_SETTINGS", "simulate_sc_cohort"]

#: The simulation settings :func:`simulate_sc_cohort` knows, easiest first.
SC_SETTINGS: tuple[str, ...] = ("distinct", "substate", "hardest")

# Per-setting defaults of the risk-cell expression program and of the host cell type's share
# of the neutral cells. ``program_genes``/``program_log_fc`` describe the shift that turns a host
# cell into a risk cell ("substate", "hardest"); in "distinct" the risk cells are their own cell
# types with a full cell-type program instead.
_SETTING_DEFAULTS: dict[str, dict[str, float]] = {
    "distinct": {"program_genes": 0, "program_log_fc": 0.0, "host_share": 0.25},
    "substate": {"program_genes": 60, "program_log_fc": 1.0, "host_share": 0.30},
    "hardest": {"program_genes": 40, "program_log_fc": 0.7, "host_share": 0.60},
}


def simulate_sc_cohort(
    n_patients: int = 100,
    cells_per_patient: int = 1000,
    n_genes: int = 2000,
    setting: str = "hardest",
    seed: int = 0,
    *,
    risk_fraction: float = 0.1,
    n_batches: int = 2,
    censoring_rate: float = 0.3,
    cells_per_patient_sd: float = 0.3,
    effect_size: float = 3.0,
    covariate_effect: float = 0.0,
    n_cell_types: int = 6,
    program_genes: int | None = None,
    program_log_fc: float | None = None,
    median_survival: float = 30.0,
    weibull_shape: float = 1.0,
    survival: str = "weibull",
    max_follow_up: float | None = 120.0,
    library_size: float = 1000.0,
    library_size_sd: float = 0.4,
    dispersion: float = 0.2,
    zero_inflation: float = 0.3,
    batch_effect_sd: float = 0.25,
    min_cells: int = 20,
    chunk_cells: int | None = None,
    write_h5ad: str | os.PathLike[str] | None = None,
    compression: str | None = None,
    progress: bool = False,
) -> Any:
    r"""Simulate a single-cell survival cohort with planted higher- and lower-risk cells.

    The design follows the authors' Splatter simulation (cells of three groups — neutral,
    higher-risk and lower-risk — pooled into patients whose survival depends on how many
    higher- versus lower-risk cells they carry), written from scratch in numpy and extended
    with varying cells per patient, batches, realistic censoring and an optional covariate.

    **Patients.** Patient :math:`i` draws :math:`u_i \sim U(0, 1)`; its design shares of
    higher- and lower-risk cells are :math:`\rho(0.2 + 1.6u_i)` and :math:`\rho(0.2 + 1.6(1-u_i))`
    (:math:`\rho` = ``risk_fraction``), so the higher-risk share varies across patients, the
    lower-risk share varies inversely and their sum stays :math:`2\rho` (the host cell type's
    size carries no signal). Cells per patient are
    :math:`\max(m, \mathrm{round}(n\,e^{\sigma Z - \sigma^2/2}))` (lognormal around
    ``cells_per_patient`` with log-sd ``cells_per_patient_sd``); each cell's group is drawn from
    the patient's shares, and neutral cells are spread over ``n_cell_types`` types with
    patient-specific Dirichlet proportions. Each patient belongs to one batch (balanced,
    random) and has an age (years, :math:`N(60, 10^2)` clipped to 30-90).

    **Survival.** With the realised fractions :math:`h_i, l_i` of higher-/lower-risk cells,

    .. math::

        \eta_i = \beta\,\frac{h_i - l_i}{2\rho} + \gamma\,\frac{\mathrm{age}_i - 60}{10},
        \qquad S_i(t) = \exp\!\big(-(t/\lambda)^k e^{\eta_i}\big),

    :math:`\beta` = ``effect_size``, :math:`\gamma` = ``covariate_effect``, :math:`k` =
    ``weibull_shape`` (1 = exponential) and :math:`\lambda` chosen so that a patient with
    :math:`\eta = 0` has median survival ``median_survival`` months. Censoring times are
    exponential, with their rate tuned by bisection so that the realised censored fraction is
    as close as possible to ``censoring_rate``, and capped at ``max_follow_up`` months
    (administrative censoring). ``true_risk`` = :math:`\eta_i` is kept as ground truth.

    ``survival="ordered"`` is the authors' design instead: survival is a deterministic function
    of the risk — the patient with the :math:`r`-th highest :math:`\eta_i` dies at month
    :math:`r` — and each patient is censored with probability ``censoring_rate`` at a time
    drawn uniformly before its death (``median_survival``, ``weibull_shape`` and
    ``max_follow_up`` are then unused). It isolates the question "can the cells be found when
    the outcome is known exactly?" from the noise of real survival times.

    **Counts.** Gene base means are Gamma(0.6, 1/0.3) (Splatter's default); each cell type has
    a program (about 10 % of genes with log fold-change :math:`\pm|N(1.5, 0.5^2)|`); each batch
    scales every gene by :math:`e^{N(0, s^2)}` (``batch_effect_sd``) and shifts library sizes.
    The expected count of gene :math:`g` in cell :math:`c` is :math:`\mu_{cg} = L_c p_{s(c) g}`
    (library size :math:`L_c` lognormal around ``library_size``, drawn on a log grid of 2 %
    steps so that cells share a few hundred tables; :math:`p_s` the normalised
    profile of the cell's type, group and batch). Counts are zero-inflated negative binomial,

    .. math::

        X_{cg} \sim \pi_{sg}\,\delta_0 + (1 - \pi_{sg})\,\mathrm{NB}(\mu_{cg}, r_g),
        \qquad \pi_{sg} = \frac{\pi_{\max}}{1 + \bar\mu_{sg}},

    with gene dispersion :math:`1/r_g` = ``dispersion`` :math:`\cdot e^{N(0, 0.5^2)}` and the
    dropout probability :math:`\pi` (``zero_inflation`` = :math:`\pi_{\max}`) falling with the
    gene's typical mean :math:`\bar\mu_{sg}` (Splatter-like logistic dropout). Counts are drawn
    by inverting the ZINB distribution function with one uniform per entry, in chunks of cells,
    so the dense matrix never exists for the whole cohort.

    **Settings** (where the risk cells live):

    - ``"distinct"``: higher- and lower-risk cells are two extra cell types with their own
      full expression program — separate clusters, found by any clustering (and by a
      cell-type-proportion Cox model).
    - ``"substate"``: risk cells are a sub-state inside one cell type (the host, ``type0``,
      about 30 % of neutral cells): ``program_genes`` (60) genes shifted by
      ``program_log_fc`` (1.0, e-fold), up for higher-risk and a different set up for
      lower-risk cells — a sub-cluster within the host type.
    - ``"hardest"``: risk-driving cells are embedded in a large host cluster (about 60 % of
      neutral cells) with no clear boundary: a small program (40 genes, log fold-change 0.7,
      i.e. 2-fold, up in higher-risk cells; another 40 up in lower-risk cells) shifted, which
      does not separate in an unsupervised clustering (k-means on PCA puts the higher-risk
      cells in no cluster of their own) but is learnable from expression (a supervised
      classifier within the host type reaches AUC > 0.9 on held-out cells).

    Program genes are drawn among genes of above-median base mean that are not markers of the
    host type; they are recorded in ``var["program_higher"]`` / ``var["program_lower"]``.

    Args:
        n_patients: number of patients.
        cells_per_patient: typical cells per patient (the lognormal's mean).
        n_genes: number of genes.
        setting: one of :data:`SC_SETTINGS`.
        seed: seed of ``np.random.default_rng``; the same seed gives the same cohort.
        risk_fraction: mean share :math:`\rho` of higher-risk (and of lower-risk) cells.
        n_batches: number of batches (patient-level).
        censoring_rate: target fraction of censored patients (0 = no random censoring).
        cells_per_patient_sd: log-sd of cells per patient (0 = all equal).
        effect_size: :math:`\beta`, log-hazard per unit of :math:`(h - l)/(2\rho)`.
        covariate_effect: :math:`\gamma`, log-hazard per 10 years of age.
        n_cell_types: number of neutral cell types (``type0`` ... ``type{K-1}``; "distinct"
            adds ``type{K}`` (higher-risk) and ``type{K+1}`` (lower-risk)).
        program_genes: genes in each risk program (None = setting default, capped at 5 % of
            ``n_genes``).
        program_log_fc: log fold-change of the risk program (None = setting default).
        median_survival: median survival (months) at :math:`\eta = 0`.
        weibull_shape: Weibull shape :math:`k` of event times (1 = exponential).
        survival: ``"weibull"`` (proportional-hazards times, the default) or ``"ordered"``
            (the authors' design: death at the patient's risk rank, uniform censoring).
        max_follow_up: administrative censoring time in months (None = none).
        library_size: mean total counts per cell.
        library_size_sd: log-sd of library sizes.
        dispersion: typical negative-binomial dispersion :math:`1/r`.
        zero_inflation: maximal extra dropout probability :math:`\pi_{\max}` (0 = plain NB).
        batch_effect_sd: log-sd of the per-batch gene scaling.
        min_cells: fewest cells a patient can have.
        chunk_cells: cells simulated per chunk (default: about 4 million entries per chunk).
            The counts depend on ``seed`` and ``chunk_cells``: the same pair gives the same
            matrix, in memory or streamed to disk.
        write_h5ad: if given, stream the counts chunk by chunk to this ``.h5ad`` file (written
            atomically) and return the file opened backed (``backed="r"``), so a 10^6-cell
            cohort never sits in memory (about 3.5 GB on disk for 10^6 cells x 2000 genes).
        compression: HDF5 compression of the streamed ``X`` (``"gzip"``, ``"lzf"`` or None).
        progress: show a progress bar over chunks.

    Returns:
        AnnData with raw counts (``float32`` CSR, integer values) in ``X``; ``obs`` columns
        ``patient_id`` (categorical), ``time`` (months), ``event`` (int, 1 = death), ``batch``
        (categorical), ``cell_type`` (categorical), ``risk_group`` (categorical: ``"higher"``,
        ``"lower"``, ``"neutral"``), ``risk_cell`` (bool), ``age`` (patient-level, years),
        ``library_size``; ``var`` with ``base_mean``, ``program_higher``, ``program_lower``;
        ``uns["simulated"] = True``, ``uns["simulation"]`` (the parameters, scalars only) and
        ``uns["patients"]`` (DataFrame: ``patient_id``, ``time``, ``event``, ``true_risk``,
        ``frac_higher``, ``frac_lower``, ``batch``, ``age``, ``n_cells``). Cells are stored
        patient by patient.

    Raises:
        ValueError: for an unknown setting or out-of-range parameters.
    """
    args = dict(locals())  # the arguments, for the checks, the draws and uns["simulation"]
    n_prog, prog_fc, host_share = _check_simulation(**args)
    rng = np.random.default_rng(seed)
    genes = _draw_genes(
        rng, n_genes, setting, n_cell_types, n_prog, prog_fc, n_batches, batch_effect_sd, dispersion
    )
    p, pi_profile = _profiles(genes, library_size, zero_inflation)

    # ---- patients
    n_cells, batch_of_patient, age, group_counts, state, ctype = _patients_and_cells(
        rng, host_share, **args
    )
    patient_idx = np.repeat(np.arange(n_patients), n_cells)
    cell_batch = batch_of_patient[patient_idx]
    n_total = int(n_cells.sum())
    profile = ((ctype.astype(np.int64) * 3 + state) * n_batches + cell_batch).astype(np.int64)
    lib, combo, mu_tab, f0_tab, pi_tab, r_g = _count_tables(
        rng, profile, cell_batch, genes, p, pi_profile, library_size, library_size_sd
    )

    # ---- survival
    frac_high = group_counts[:, 1] / n_cells
    frac_low = group_counts[:, 2] / n_cells
    eta = effect_size * (frac_high - frac_low) / (2 * risk_fraction)
    eta = eta + covariate_effect * (age - 60.0) / 10.0
    time, event = _outcomes(rng, eta, **args)

    # ---- tables
    obs, patients = _obs_and_patients(
        patient_idx,
        cell_batch,
        ctype,
        genes.n_types_all,
        state,
        lib,
        n_cells,
        batch_of_patient,
        age,
        eta,
        frac_high,
        frac_low,
        time,
        event,
        n_batches,
    )
    var = _gene_table(genes)
    params = _simulation_params(
        **args, n_total=n_total, event=event, n_prog=n_prog, prog_fc=prog_fc, host_share=host_share
    )
    uns = {"simulated": True, "simulation": params, "patients": patients}

    # ---- counts, chunk by chunk
    tables = (combo, mu_tab, f0_tab, pi_tab, r_g)
    return _write_counts(rng, tables, obs, var, uns, chunk_cells, write_h5ad, compression, progress)


def _check_simulation(
    *,
    n_patients: int,
    cells_per_patient: int,
    n_genes: int,
    setting: str,
    risk_fraction: float,
    n_batches: int,
    censoring_rate: float,
    n_cell_types: int,
    zero_inflation: float,
    dispersion: float,
    weibull_shape: float,
    median_survival: float,
    survival: str,
    program_genes: int | None,
    program_log_fc: float | None,
    **_: Any,
) -> tuple[int, float, float]:
    """Check :func:`simulate_sc_cohort`'s arguments (given by name; the others are ignored);
    return the risk program's size, its log fold-change and the host type's share (the
    setting's defaults unless given)."""
    if setting not in _SETTING_DEFAULTS:
        raise ValueError(f"setting must be one of {SC_SETTINGS}, got {setting!r}")
    _check_range("n_patients", n_patients, 2, None)
    _check_range("cells_per_patient", cells_per_patient, 1, None)
    _check_range("n_genes", n_genes, 50, None)
    _check_range("risk_fraction", risk_fraction, 1e-6, 0.45)
    _check_range("n_batches", n_batches, 1, None)
    _check_range("censoring_rate", censoring_rate, 0.0, 0.95)
    _check_range("n_cell_types", n_cell_types, 1, None)
    _check_range("zero_inflation", zero_inflation, 0.0, 0.99)
    _check_range("dispersion", dispersion, 1e-6, None)
    _check_range("weibull_shape", weibull_shape, 1e-3, None)
    _check_range("median_survival", median_survival, 1e-6, None)
    if survival not in ("weibull", "ordered"):
        raise ValueError(f"survival must be 'weibull' or 'ordered', got {survival!r}")
    defaults = _SETTING_DEFAULTS[setting]
    if program_genes is None:  # setting default, at most 5 % of the genes
        n_prog = min(int(defaults["program_genes"]), max(1, n_genes // 20))
    else:
        n_prog = int(program_genes)
    prog_fc = float(defaults["program_log_fc"] if program_log_fc is None else program_log_fc)
    host_share = float(defaults["host_share"])
    if setting != "distinct" and not 0 < 2 * n_prog <= n_genes // 2:
        raise ValueError(f"program_genes must be in 1..{n_genes // 4} for n_genes={n_genes}")
    return n_prog, prog_fc, host_share


def _outcomes(
    rng: np.random.Generator,
    eta: np.ndarray,
    *,
    survival: str,
    median_survival: float,
    weibull_shape: float,
    censoring_rate: float,
    max_follow_up: float | None,
    **_: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Survival ``(time, event)`` of the patients' risks ``eta`` under the ``survival`` design
    (the other arguments of :func:`simulate_sc_cohort` are ignored)."""
    if survival == "ordered":
        return _ordered_survival_times(rng, eta, censoring_rate)
    return _survival_times(rng, eta, median_survival, weibull_shape, censoring_rate, max_follow_up)


def _patients_and_cells(
    rng: np.random.Generator,
    host_share: float,
    *,
    n_patients: int,
    risk_fraction: float,
    cells_per_patient: int,
    cells_per_patient_sd: float,
    min_cells: int,
    n_batches: int,
    n_cell_types: int,
    setting: str,
    **_: Any,
) -> tuple[np.ndarray, ...]:
    """Draw the patients (cells, batch, age) and their cells' groups, states and types."""
    share_high, share_low, n_cells, batch_of_patient, age = _draw_patients(
        rng,
        n_patients,
        risk_fraction,
        cells_per_patient,
        cells_per_patient_sd,
        min_cells,
        n_batches,
        lower=True,
    )
    group_counts, state, ctype = _draw_cells(
        rng, n_cells, share_high, share_low, n_cell_types, host_share, setting
    )
    return n_cells, batch_of_patient, age, group_counts, state, ctype


def _obs_and_patients(
    patient_idx: np.ndarray,
    cell_batch: np.ndarray,
    ctype: np.ndarray,
    n_types_all: int,
    state: np.ndarray,
    lib: np.ndarray,
    n_cells: np.ndarray,
    batch_of_patient: np.ndarray,
    age: np.ndarray,
    eta: np.ndarray,
    frac_high: np.ndarray,
    frac_low: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    n_batches: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cohort's ``obs`` (one row per cell) and ``uns["patients"]`` (one row per patient)."""
    pid_names = np.array([f"P{i:04d}" for i in range(n_cells.size)])
    batch_names = np.array([f"batch{b}" for b in range(n_batches)])
    obs = _cell_table(
        patient_idx,
        pid_names,
        time,
        event,
        cell_batch,
        batch_names,
        ctype,
        n_types_all,
        state,
        age,
        lib,
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
    return obs, patients


def _gene_table(genes: _Genes) -> pd.DataFrame:
    """The simulated cohort's ``var``: base mean and risk-program membership per gene."""
    return pd.DataFrame(
        {
            "base_mean": genes.base_mean,
            "program_higher": genes.prog_high,
            "program_lower": genes.prog_low,
        },
        index=pd.Index(np.array([f"gene{g:05d}" for g in range(genes.base_mean.size)])),
    )


def _cell_table(
    patient_idx: np.ndarray,
    pid_names: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    cell_batch: np.ndarray,
    batch_names: np.ndarray,
    ctype: np.ndarray,
    n_types_all: int,
    state: np.ndarray,
    age: np.ndarray,
    lib: np.ndarray,
) -> pd.DataFrame:
    """The simulated cohort's ``obs``: one row per cell, patient by patient."""
    type_names = [f"type{t}" for t in range(n_types_all)]
    return pd.DataFrame(
        {
            "patient_id": pd.Categorical.from_codes(patient_idx, categories=list(pid_names)),
            "time": time[patient_idx],
            "event": event[patient_idx],
            "batch": pd.Categorical.from_codes(cell_batch, categories=list(batch_names)),
            "cell_type": pd.Categorical.from_codes(ctype.astype(np.int64), categories=type_names),
            "risk_group": pd.Categorical.from_codes(
                state.astype(np.int64), categories=list(_GROUPS)
            ),
            "risk_cell": state == 1,
            "age": age[patient_idx],
            "library_size": lib.astype(np.float32),
        },
        index=pd.Index([f"cell{c:07d}" for c in range(patient_idx.size)], name=None),
    )


def _simulation_params(
    *,
    setting: str,
    seed: int,
    n_patients: int,
    cells_per_patient: int,
    n_genes: int,
    n_total: int,
    risk_fraction: float,
    n_batches: int,
    censoring_rate: float,
    event: np.ndarray,
    cells_per_patient_sd: float,
    effect_size: float,
    covariate_effect: float,
    n_cell_types: int,
    n_prog: int,
    prog_fc: float,
    host_share: float,
    median_survival: float,
    weibull_shape: float,
    survival: str,
    max_follow_up: float | None,
    library_size: float,
    library_size_sd: float,
    dispersion: float,
    zero_inflation: float,
    batch_effect_sd: float,
    min_cells: int,
    **_: Any,
) -> dict[str, Any]:
    """``uns["simulation"]``: the parameters of a simulated cohort (scalars only; given by
    name, the arguments it does not record are ignored)."""
    return {
        "generator": "survlib.data.simulate_sc_cohort",
        "setting": setting,
        "seed": int(seed),
        "n_patients": int(n_patients),
        "cells_per_patient": int(cells_per_patient),
        "n_genes": int(n_genes),
        "n_cells": n_total,
        "risk_fraction": float(risk_fraction),
        "n_batches": int(n_batches),
        "censoring_rate": float(censoring_rate),
        "censoring_rate_realised": float(1.0 - event.mean()),
        "cells_per_patient_sd": float(cells_per_patient_sd),
        "effect_size": float(effect_size),
        "covariate_effect": float(covariate_effect),
        "n_cell_types": int(n_cell_types),
        "program_genes": n_prog,
        "program_log_fc": prog_fc,
        "host_share": host_share,
        "median_survival": float(median_survival),
        "weibull_shape": float(weibull_shape),
        "survival": survival,
        "max_follow_up": float(max_follow_up) if max_follow_up is not None else "none",
        "library_size": float(library_size),
        "library_size_sd": float(library_size_sd),
        "dispersion": float(dispersion),
        "zero_inflation": float(zero_inflation),
        "batch_effect_sd": float(batch_effect_sd),
        "min_cells": int(min_cells),
        "time_unit": "months",
        "event_coding": "1 = death observed",
    }


def _write_counts(
    rng: np.random.Generator,
    tables: tuple[np.ndarray, ...],
    obs: pd.DataFrame,
    var: pd.DataFrame,
    uns: dict[str, Any],
    chunk_cells: int | None,
    write_h5ad: str | os.PathLike[str] | None,
    compression: str | None,
    progress: bool,
) -> Any:
    """Draw the counts chunk by chunk (:func:`~survlib.data.sc.sampling._zinb_chunk`) into an
    in-memory AnnData, or stream them to ``write_h5ad`` and return the file opened backed."""
    import anndata as ad

    combo, mu_tab, f0_tab, pi_tab, r_g = tables
    n_total, n_genes = obs.shape[0], var.shape[0]
    if chunk_cells is None:
        chunk_cells = max(256, 4_000_000 // n_genes)
    starts = range(0, n_total, chunk_cells)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="simulating cells", unit="chunk")

    def chunks():
        for s in starts:
            e = min(s + chunk_cells, n_total)
            yield _zinb_chunk(rng, combo[s:e], mu_tab, f0_tab, pi_tab, r_g)

    if write_h5ad is None:
        X = sp.vstack(list(chunks()), format="csr")
        return ad.AnnData(X=X, obs=obs, var=var, uns=uns)

    return _stream_h5ad(Path(write_h5ad), obs, var, uns, chunks(), n_genes, compression)
