"""Single-cell survival cohorts: a simulator with planted risk cells, a semi-synthetic PBMC
cohort, and input checks for the scSurvival chapter.

Everything here follows scanpy habits: functions return (or take) an :class:`anndata.AnnData`
with one row per cell, and the cohort fields live in named ``obs`` columns (``patient_id``,
``time`` in months, ``event`` with 1 = death observed, ``batch``, ``cell_type``) plus the planted
ground truth (``risk_group`` in ``{"higher", "lower", "neutral"}`` and ``risk_cell`` = higher).

Simulated data is labelled: ``adata.uns["simulated"] = True`` (the semi-synthetic cohort also
sets ``adata.uns["semi_synthetic"] = True``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from survlib.data.validation import require_columns, validate_survival

__all__ = [
    "SC_SETTINGS",
    "simulate_sc_cohort",
    "pbmc68k_counts",
    "semi_synthetic_pbmc_cohort",
    "validate_sc_cohort",
    "check_same_genes",
]

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

_GROUPS = ("neutral", "higher", "lower")  # state codes 0, 1, 2
_LIB_STEP = 0.02  # log-step of the library-size grid


# --------------------------------------------------------------------------------------------
# Simulator
# --------------------------------------------------------------------------------------------


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
    import anndata as ad

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

    rng = np.random.default_rng(seed)

    # ---- genes: base means, dispersions, cell-type programs, risk programs, batch effects
    gene_names = np.array([f"gene{g:05d}" for g in range(n_genes)])
    base_mean = rng.gamma(0.6, 1 / 0.3, size=n_genes) + 1e-3
    log_base = np.log(base_mean)
    inv_r = dispersion * np.exp(rng.normal(0.0, 0.5, size=n_genes))  # NB dispersion 1/r_g
    n_types_all = n_cell_types + (2 if setting == "distinct" else 0)
    de = np.zeros((n_types_all, n_genes))
    for t in range(n_types_all):
        is_de = rng.random(n_genes) < 0.1
        sign = np.where(rng.random(n_genes) < 0.5, -1.0, 1.0)
        de[t] = is_de * sign * np.abs(rng.normal(1.5, 0.5, size=n_genes))
    prog = np.zeros((3, n_genes))  # rows: neutral, higher, lower
    prog_high = np.zeros(n_genes, dtype=bool)
    prog_low = np.zeros(n_genes, dtype=bool)
    if setting != "distinct":
        candidates = np.flatnonzero((base_mean > np.median(base_mean)) & (de[0] == 0))
        chosen = rng.choice(candidates, size=2 * n_prog, replace=False)
        prog_high[chosen[:n_prog]] = True
        prog_low[chosen[n_prog:]] = True
        prog[1, prog_high] = prog_fc
        prog[2, prog_low] = prog_fc
    batch_gene = rng.normal(0.0, batch_effect_sd, size=(n_batches, n_genes))
    batch_lib = np.exp(rng.normal(0.0, batch_effect_sd, size=n_batches))

    # profile index = (type * 3 + state) * n_batches + batch
    log_p = (
        log_base[None, None, None, :]
        + de[:, None, None, :]
        + prog[None, :, None, :]
        + batch_gene[None, None, :, :]
    ).reshape(-1, n_genes)
    p = np.exp(log_p - log_p.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    lib_factor = np.tile(batch_lib, n_types_all * 3)  # per profile
    typical_mu = library_size * lib_factor[:, None] * p
    pi_profile = zero_inflation / (1.0 + typical_mu)

    # ---- patients
    u = rng.random(n_patients)
    share_high = risk_fraction * (0.2 + 1.6 * u)
    share_low = risk_fraction * (0.2 + 1.6 * (1.0 - u))
    sd = float(cells_per_patient_sd)
    n_cells = np.round(cells_per_patient * np.exp(sd * rng.standard_normal(n_patients) - sd**2 / 2))
    n_cells = np.maximum(n_cells, min_cells).astype(np.int64)
    batch_of_patient = rng.permutation(np.arange(n_patients) % n_batches)
    age = np.clip(rng.normal(60.0, 10.0, size=n_patients), 30.0, 90.0)
    base_types = np.full(n_cell_types, (1.0 - host_share) / max(n_cell_types - 1, 1))
    base_types[0] = host_share if n_cell_types > 1 else 1.0
    base_types /= base_types.sum()

    group_counts = np.zeros((n_patients, 3), dtype=np.int64)
    cell_state: list[np.ndarray] = []
    cell_type: list[np.ndarray] = []
    for i in range(n_patients):
        probs = np.array([1.0 - share_high[i] - share_low[i], share_high[i], share_low[i]])
        group_counts[i] = rng.multinomial(n_cells[i], probs)
        type_props = rng.dirichlet(50.0 * base_types)
        neutral_types = rng.choice(n_cell_types, size=group_counts[i, 0], p=type_props)
        if setting == "distinct":
            risk_types = (n_cell_types, n_cell_types + 1)
        else:
            risk_types = (0, 0)
        states = np.repeat(np.array([0, 1, 2], dtype=np.int8), group_counts[i])
        types = np.concatenate(
            [
                neutral_types,
                np.full(group_counts[i, 1], risk_types[0]),
                np.full(group_counts[i, 2], risk_types[1]),
            ]
        ).astype(np.int16)
        order = rng.permutation(n_cells[i])
        cell_state.append(states[order])
        cell_type.append(types[order])
    state = np.concatenate(cell_state)
    ctype = np.concatenate(cell_type)
    patient_idx = np.repeat(np.arange(n_patients), n_cells)
    cell_batch = batch_of_patient[patient_idx]
    n_total = int(n_cells.sum())
    profile = ((ctype.astype(np.int64) * 3 + state) * n_batches + cell_batch).astype(np.int64)
    # library sizes on a fine log grid (steps of 2 %), so that cells share a few hundred
    # (profile, library size) combinations whose ZINB tables are computed once
    log_lib = np.log(library_size * batch_lib[cell_batch]) + (
        library_size_sd * rng.standard_normal(n_total) - library_size_sd**2 / 2
    )
    lib_bin = np.round(log_lib / _LIB_STEP).astype(np.int64)
    lib = np.exp(lib_bin * _LIB_STEP)
    combo_key = profile * (lib_bin.max() - lib_bin.min() + 1) + (lib_bin - lib_bin.min())
    uniq, combo = np.unique(combo_key, return_inverse=True)
    combo_profile = profile[np.unique(combo_key, return_index=True)[1]]
    combo_lib = lib[np.unique(combo_key, return_index=True)[1]]
    r_g = 1.0 / inv_r
    mu_tab = (p[combo_profile] * combo_lib[:, None]).astype(np.float32)
    pi_tab = pi_profile[combo_profile].astype(np.float32)
    f0_tab = (
        pi_tab + (1.0 - pi_tab) * np.exp(-r_g * np.log1p(mu_tab / r_g))
    ).astype(np.float32)
    del uniq

    # ---- survival
    frac_high = group_counts[:, 1] / n_cells
    frac_low = group_counts[:, 2] / n_cells
    eta = effect_size * (frac_high - frac_low) / (2 * risk_fraction)
    eta = eta + covariate_effect * (age - 60.0) / 10.0
    if survival == "ordered":
        time, event = _ordered_survival_times(rng, eta, censoring_rate)
    else:
        time, event = _survival_times(
            rng, eta, median_survival, weibull_shape, censoring_rate, max_follow_up
        )

    # ---- tables
    pid_names = np.array([f"P{i:04d}" for i in range(n_patients)])
    batch_names = np.array([f"batch{b}" for b in range(n_batches)])
    type_names = [f"type{t}" for t in range(n_types_all)]
    obs = pd.DataFrame(
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
        index=pd.Index([f"cell{c:07d}" for c in range(n_total)], name=None),
    )
    var = pd.DataFrame(
        {"base_mean": base_mean, "program_higher": prog_high, "program_lower": prog_low},
        index=pd.Index(gene_names),
    )
    patients = _patient_truth(
        pid_names, time, event, eta, frac_high, frac_low, batch_names[batch_of_patient], age,
        n_cells,
    )
    params: dict[str, Any] = {
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
        "cells_per_patient_sd": sd,
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
    uns = {"simulated": True, "simulation": params, "patients": patients}

    # ---- counts, chunk by chunk
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


def _patient_truth(
    patient_id: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    true_risk: np.ndarray,
    frac_higher: np.ndarray,
    frac_lower: np.ndarray,
    batch: np.ndarray,
    age: np.ndarray,
    n_cells: np.ndarray,
) -> pd.DataFrame:
    """The per-patient ground truth stored in ``uns["patients"]`` (one row per patient)."""
    return pd.DataFrame(
        {
            "patient_id": patient_id,
            "time": time,
            "event": event,
            "true_risk": true_risk,
            "frac_higher": frac_higher,
            "frac_lower": frac_lower,
            "batch": batch,
            "age": age,
            "n_cells": n_cells,
        },
        index=pd.Index(patient_id),
    )


def _check_range(name: str, value: float, lo: float | None, hi: float | None) -> None:
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{name}={value!r} is out of range [{lo}, {hi}]")


def _survival_times(
    rng: np.random.Generator,
    eta: np.ndarray,
    median_survival: float,
    weibull_shape: float,
    censoring_rate: float,
    max_follow_up: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Weibull proportional-hazards times with tuned exponential + administrative censoring.

    :math:`T_i = \lambda (E_i e^{-\eta_i})^{1/k}`, :math:`E_i \sim \mathrm{Exp}(1)`, which has
    :math:`S_i(t) = \exp(-(t/\lambda)^k e^{\eta_i})`; :math:`\lambda` puts the median at
    ``median_survival`` for :math:`\eta = 0`. Returns ``(time, event)`` (months, 1 = death).
    """
    n = eta.shape[0]
    scale = median_survival / np.log(2.0) ** (1.0 / weibull_shape)
    t_event = scale * (rng.exponential(size=n) * np.exp(-eta)) ** (1.0 / weibull_shape)
    e_cens = rng.exponential(size=n)
    cens_rate = _tune_censoring(t_event, e_cens, censoring_rate, max_follow_up)
    t_cens = e_cens / cens_rate if cens_rate > 0 else np.full(n, np.inf)
    if max_follow_up is not None:
        t_cens = np.minimum(t_cens, max_follow_up)
    event = (t_event <= t_cens).astype(np.int64)
    time = np.minimum(t_event, t_cens)
    if event.sum() == 0:  # keep the cohort usable by survival models
        j = int(np.argmin(t_event))
        event[j], time[j] = 1, t_event[j]
    return time, event


def _ordered_survival_times(
    rng: np.random.Generator, eta: np.ndarray, censoring_rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """The authors' survival design: death at month = rank of the risk (highest risk first);
    each patient is censored with probability ``censoring_rate`` at a uniform time before it.
    Returns ``(time, event)`` (months, 1 = death)."""
    n = eta.shape[0]
    t_event = np.empty(n)
    t_event[np.argsort(-eta, kind="stable")] = np.arange(1, n + 1, dtype=float)
    censored = rng.random(n) < censoring_rate
    time = np.where(censored, rng.uniform(0.0, 1.0, size=n) * t_event, t_event)
    event = (~censored).astype(np.int64)
    if event.sum() == 0:  # keep the cohort usable by survival models
        j = int(np.argmax(eta))
        event[j], time[j] = 1, t_event[j]
    return time, event


def _tune_censoring(
    t_event: np.ndarray, e_cens: np.ndarray, target: float, max_follow_up: float | None
) -> float:
    """Rate of exponential censoring whose realised censored fraction is closest to ``target``.

    The censored fraction :math:`\\frac1n\\sum_i 1[\\min(E_i/\\text{rate}, T_{\\max}) < T_i]` grows
    with the rate, so a bisection on the log-rate finds it; 0 means no random censoring.
    """
    admin = np.full_like(t_event, np.inf) if max_follow_up is None else np.full_like(
        t_event, max_follow_up
    )

    def frac(rate: float) -> float:
        return float(np.mean(np.minimum(e_cens / rate, admin) < t_event))

    if target <= 0 or np.mean(admin < t_event) >= target:
        return 0.0
    lo, hi = -20.0, 20.0  # log-rate bounds
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if frac(float(np.exp(mid))) < target:
            lo = mid
        else:
            hi = mid
    best = min((lo, hi), key=lambda x: abs(frac(float(np.exp(x))) - target))
    return float(np.exp(best))


def _zinb_chunk(
    rng: np.random.Generator,
    combo: np.ndarray,
    mu_tab: np.ndarray,
    f0_tab: np.ndarray,
    pi_tab: np.ndarray,
    r_g: np.ndarray,
    mu_switch: float = 10.0,
) -> sp.csr_matrix:
    r"""Zero-inflated NB counts for one chunk of cells, by inverse-CDF sampling.

    Cells share a small number of (expression profile, library-size grid point) combinations
    ``combo``; ``mu_tab[combo]`` holds their means :math:`\mu`, ``f0_tab[combo]`` their ZINB
    zero probability :math:`\pi + (1-\pi)(1 + \mu/r)^{-r}` and ``pi_tab[combo]`` the dropout
    :math:`\pi`. One uniform :math:`U` per entry; with :math:`F(k) = \pi + (1 - \pi)F_{NB}(k)`
    the ZINB distribution function, :math:`X = \min\{k: F(k) \ge U\}`. Zeros (most entries)
    cost one table look-up and one comparison; the non-zeros walk up the NB recursion
    :math:`p_k = p_{k-1}\frac{k-1+r}{k}\frac{\mu}{r+\mu}`. Entries with
    :math:`\mu >` ``mu_switch`` are drawn directly as gamma-Poisson mixtures (with the same
    dropout decided by :math:`U < \pi`).
    """
    n, g = combo.shape[0], mu_tab.shape[1]
    u = rng.random((n, g), dtype=np.float32)
    keep = u > f0_tab[combo]
    per_row = np.count_nonzero(keep, axis=1)
    flat = np.flatnonzero(keep)
    del keep
    rows = np.repeat(np.arange(n), per_row)
    cols = flat - rows * g
    tab_flat = combo[rows] * g + cols  # position in the (combo, gene) tables
    mu_f = mu_tab.ravel()[tab_flat].astype(np.float64)
    u_f = u.ravel()[flat].astype(np.float64)
    del u, flat
    pi_f = pi_tab.ravel()[tab_flat].astype(np.float64)
    r_f = r_g[cols]
    values = np.zeros(cols.size, dtype=np.float32)
    is_big = mu_f > mu_switch

    # Large means: an entry kept above has U > F(0), so its value is NB conditioned on >= 1;
    # draw gamma-Poisson and redraw the (rare) zeros.
    jb = np.flatnonzero(is_big)
    if jb.size:
        todo = jb
        for _ in range(100):
            lam = mu_f[todo] * rng.standard_gamma(r_f[todo]) / r_f[todo]
            draw = rng.poisson(lam)
            values[todo] = draw
            todo = todo[draw == 0]
            if not todo.size:
                break

    # inverse CDF for the rest (all known to be >= 1; most are exactly 1)
    js = np.flatnonzero(~is_big)
    if js.size:
        m, r, uu, pz = mu_f[js], r_f[js], u_f[js], pi_f[js]
        f0 = f0_tab.ravel()[tab_flat[js]].astype(np.float64)
        q = m / (r + m)
        pk = (f0 - pz) / (1.0 - pz) * r * q  # NB p_1 = p_0 r q
        cdf = f0 + (1.0 - pz) * pk
        values[js] = 1
        more = np.flatnonzero(cdf < uu)
        pk, cdf, r, q, uu, pz, idx = (a[more] for a in (pk, cdf, r, q, uu, pz, js))
        alive = np.ones(idx.size, dtype=bool)
        n_alive = idx.size
        k = 1
        while n_alive and k < 5000:
            k += 1
            pk *= (k - 1 + r) / k * q
            cdf += (1.0 - pz) * pk
            done = alive & (cdf >= uu)
            values[idx[done]] = k
            alive &= ~done
            n_alive = int(alive.sum())
            if n_alive < 0.5 * alive.size:  # compact the working arrays
                pk, cdf, r, q, uu, pz, idx = (a[alive] for a in (pk, cdf, r, q, uu, pz, idx))
                alive = np.ones(n_alive, dtype=bool)
        if n_alive:  # numerical tail (not reached in practice)
            values[idx[alive]] = k

    nz = values > 0
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[nz], minlength=n), out=indptr[1:])
    return sp.csr_matrix((values[nz], cols[nz].astype(np.int32), indptr), shape=(n, g))


def _stream_h5ad(
    path: Path,
    obs: pd.DataFrame,
    var: pd.DataFrame,
    uns: dict[str, Any],
    chunks: Any,
    n_genes: int,
    compression: str | None = None,
) -> Any:
    """Write an AnnData to ``path`` with ``X`` appended chunk by chunk; return it backed."""
    import anndata as ad
    import h5py
    from anndata.io import sparse_dataset, write_elem

    dataset_kwargs = {} if compression is None else {"compression": compression}

    path.parent.mkdir(parents=True, exist_ok=True)
    # temporary file in the same folder (same file system), replaced atomically at the end
    tmp = str(path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"))
    try:
        skeleton = ad.AnnData(
            X=sp.csr_matrix((0, n_genes), dtype=np.float32), var=var, uns=uns
        )
        skeleton.write_h5ad(tmp)
        with h5py.File(tmp, "a") as f:
            del f["obs"]
            write_elem(f, "obs", obs)
            del f["X"]
            first = True
            n_rows = 0
            for block in chunks:
                if first:  # anndata makes sparse datasets resizable
                    write_elem(f, "X", block, dataset_kwargs=dataset_kwargs)
                    first = False
                else:
                    sparse_dataset(f["X"]).append(block)
                n_rows += block.shape[0]
            if n_rows != obs.shape[0]:
                raise RuntimeError(f"wrote {n_rows} rows of X for {obs.shape[0]} cells")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return ad.read_h5ad(path, backed="r")


# --------------------------------------------------------------------------------------------
# Semi-synthetic cohort from real cells
# --------------------------------------------------------------------------------------------


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
    unit = np.array(
        [x.data[x.indptr[i] : x.indptr[i + 1]].min() for i in range(x.shape[0])]
    )
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
    import anndata as ad

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

    rng = np.random.default_rng(seed)
    state_of_cell = np.zeros(pool.n_obs, dtype=np.int8)
    state_of_cell[labels == risk_cell_type] = 1
    if lower_risk_cell_type is not None:
        state_of_cell[labels == lower_risk_cell_type] = 2
    pools = [np.flatnonzero(state_of_cell == s) for s in range(3)]

    u = rng.random(n_patients)
    share_high = risk_fraction * (0.2 + 1.6 * u)
    share_low = (
        risk_fraction * (0.2 + 1.6 * (1.0 - u))
        if lower_risk_cell_type is not None
        else np.zeros(n_patients)
    )
    sd = float(cells_per_patient_sd)
    n_cells = np.round(cells_per_patient * np.exp(sd * rng.standard_normal(n_patients) - sd**2 / 2))
    n_cells = np.maximum(n_cells, min_cells).astype(np.int64)
    batch_of_patient = rng.permutation(np.arange(n_patients) % n_batches)
    age = np.clip(rng.normal(60.0, 10.0, size=n_patients), 30.0, 90.0)
    src_idx: list[np.ndarray] = []
    counts3 = np.zeros((n_patients, 3), dtype=np.int64)
    for i in range(n_patients):
        probs = np.array([1.0 - share_high[i] - share_low[i], share_high[i], share_low[i]])
        counts3[i] = rng.multinomial(n_cells[i], probs)
        picks = np.concatenate([rng.choice(pools[s], size=counts3[i, s]) for s in range(3)])
        src_idx.append(picks[rng.permutation(picks.size)])
    idx = np.concatenate(src_idx)
    patient_idx = np.repeat(np.arange(n_patients), n_cells)

    frac_high = counts3[:, 1] / n_cells
    frac_low = counts3[:, 2] / n_cells
    centre = 0.0 if lower_risk_cell_type is not None else risk_fraction
    eta = effect_size * (frac_high - frac_low - centre) / (2 * risk_fraction)
    time, event = _survival_times(
        rng, eta, median_survival, weibull_shape, censoring_rate, max_follow_up
    )

    x = sp.csr_matrix(pool.X[idx])
    if thinning < 1.0:
        x.data = rng.binomial(x.data.astype(np.int64), thinning).astype(np.float32)
        x.eliminate_zeros()
    x = x.astype(np.float32)

    pid_names = np.array([f"P{i:04d}" for i in range(n_patients)])
    batch_names = np.array([f"batch{b}" for b in range(n_batches)])
    state = state_of_cell[idx].astype(np.int64)
    obs = pd.DataFrame(
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
    patients = _patient_truth(
        pid_names, time, event, eta, frac_high, frac_low, batch_names[batch_of_patient], age,
        n_cells,
    )
    params: dict[str, Any] = {
        "generator": "survlib.data.semi_synthetic_pbmc_cohort",
        "source": "scanpy.datasets.pbmc68k_reduced (.raw, counts recovered)",
        "seed": int(seed),
        "n_patients": int(n_patients),
        "cells_per_patient": int(cells_per_patient),
        "n_cells": int(idx.size),
        "label_key": label_key,
        "risk_cell_type": risk_cell_type,
        "lower_risk_cell_type": lower_risk_cell_type or "none",
        "risk_fraction": float(risk_fraction),
        "effect_size": float(effect_size),
        "censoring_rate": float(censoring_rate),
        "censoring_rate_realised": float(1.0 - event.mean()),
        "cells_per_patient_sd": sd,
        "n_batches": int(n_batches),
        "thinning": float(thinning),
        "median_survival": float(median_survival),
        "weibull_shape": float(weibull_shape),
        "max_follow_up": float(max_follow_up) if max_follow_up is not None else "none",
        "time_unit": "months",
        "event_coding": "1 = death observed",
    }
    out = ad.AnnData(
        X=x,
        obs=obs,
        var=pool.var.copy(),
        uns={"simulated": True, "semi_synthetic": True, "simulation": params, "patients": patients},
    )
    out.obsm["X_umap"] = pool.obsm["X_umap"][idx]
    return out


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def validate_sc_cohort(
    adata: Any,
    patient_key: str = "patient_id",
    time_key: str = "time",
    event_key: str = "event",
    batch_key: str | None = None,
    *,
    expect: str | None = None,
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
    - With ``expect="counts"``: negative or non-integer values in the matrix (the model wants
      raw counts; pass ``layer=`` if they live in a layer). With ``expect="lognorm"``:
      negative values (scaled data) or a matrix that looks like raw counts (all integers with
      a maximum above 30). Matrix checks read at most ``max_cells_checked`` cells (the first
      ones of a backed file).

    Args:
        adata: the cohort, one row per cell (in memory or backed).
        patient_key, time_key, event_key, batch_key: ``obs`` columns.
        expect: ``"counts"``, ``"lognorm"`` or None (matrix not checked).
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
    if pid.isna().any():
        rows = np.flatnonzero(pid.isna().to_numpy())
        raise ValueError(f"obs[{patient_key!r}] is missing for cells {_names(obs.index[rows])}")
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
    if expect is not None:
        _check_matrix(adata, expect, layer, max_cells_checked)
    return table


def _names(values: Any, k: int = 5) -> str:
    vals = [str(v) for v in list(values)]
    shown = ", ".join(vals[:k])
    return f"[{shown}{', ...' if len(vals) > k else ''}] ({len(vals)} in all)"


def _check_matrix(adata: Any, expect: str, layer: str | None, max_cells: int) -> None:
    if expect not in ("counts", "lognorm"):
        raise ValueError(f"expect must be 'counts', 'lognorm' or None, got {expect!r}")
    if layer is not None and layer not in adata.layers:
        raise KeyError(f"layer {layer!r} not in adata.layers {list(adata.layers.keys())}")
    name = "X" if layer is None else f"layers[{layer!r}]"
    m = adata.X if layer is None else adata.layers[layer]
    n = min(adata.n_obs, max_cells)
    block = m[:n] if n < adata.n_obs or not (sp.issparse(m) or isinstance(m, np.ndarray)) else m
    if sp.issparse(block):
        vals = np.asarray(block.data)
    else:
        vals = np.asarray(block.toarray() if hasattr(block, "toarray") else block).ravel()
    if vals.size == 0:
        return
    if not np.isfinite(vals).all():
        raise ValueError(f"{name} has NaN or infinite values")
    if (vals < 0).any():
        hint = (
            "raw counts expected" if expect == "counts"
            else "log-normalised expression expected (this looks scaled/centred)"
        )
        raise ValueError(f"{name} has negative values (min {vals.min():.3g}); {hint}")
    integer = np.all(vals == np.round(vals))
    if expect == "counts" and not integer:
        frac = vals[vals != np.round(vals)][:3]
        raise ValueError(
            f"{name} does not look like raw counts: non-integer values such as {frac.tolist()}; "
            "pass the counts layer with layer=..., or log-normalised data with expect='lognorm'"
        )
    if expect == "lognorm" and integer and vals.max() >= 2:
        raise ValueError(
            f"{name} looks like raw counts (all integers, max {vals.max():.0f}) but "
            "log-normalised expression was expected (expression='log-normalized'); run "
            "scanpy.pp.normalize_total and scanpy.pp.log1p first (or use expression='counts')"
        )
    if expect == "lognorm" and vals.max() > 30:
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
    adata: Any, reference: Any, expression: str, layer: str | None = None,
    max_cells_checked: int = 2000,
) -> None:
    """Check that ``adata`` holds expression of the kind a model was set up with.

    ``expression`` is the registration of ``reference`` (``"counts"`` or
    ``"log-normalized"``). Counts must be non-negative integers; log-normalised data must not
    look like counts, and its per-cell total of ``expm1`` (the ``normalize_total`` target) must
    be within a factor of 3 of the reference's. Raises ``ValueError`` naming the mismatch.
    """
    expect = "counts" if expression == "counts" else "lognorm"
    try:
        _check_matrix(adata, expect, layer, max_cells_checked)
    except ValueError as err:
        raise ValueError(
            f"adata is not normalised like the training data (registered by setup_anndata "
            f"with expression={expression!r}): {err}"
        ) from err
    if expect == "lognorm" and adata.n_obs and reference.n_obs:
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
            parts.append(f"{len(missing)} gene(s) of the fitted model missing from the new data: "
                         f"{_names(missing)}")
        if len(extra):
            parts.append(f"{len(extra)} extra gene(s) not seen at fit time: {_names(extra)}")
        raise ValueError(
            "genes differ between fit and predict; " + "; ".join(parts)
            + ". Subset/reorder the new data to the fitted genes (adata[:, fit_genes])."
        )
    idx = new.get_indexer(fit)
    if not allow_reorder and not np.array_equal(idx, np.arange(len(fit))):
        raise ValueError("the new data has the fitted genes in a different order")
    return idx
