"""Single-cell survival cohorts: a simulator with planted risk cells, a semi-synthetic PBMC
cohort, and input checks for the scSurvival chapter.

Everything here follows scanpy habits: functions return (or take) an :class:`anndata.AnnData`
with one row per cell, and the cohort fields live in named ``obs`` columns (``patient_id``,
``time`` in months, ``event`` with 1 = death observed, ``batch``, ``cell_type``) plus the planted
ground truth (``risk_group`` in ``{"higher", "lower", "neutral"}`` and ``risk_cell`` = higher).

Simulated data is labelled: ``adata.uns["simulated"] = True`` (the semi-synthetic cohort also
sets ``adata.uns["semi_synthetic"] = True``).

Modules:

- :mod:`~survlib.data.sc.simulate`: :func:`simulate_sc_cohort` (planted risk cells, ZINB
  counts), its genes and cells in :mod:`~survlib.data.sc.programs`;
- :mod:`~survlib.data.sc.pbmc`: :func:`semi_synthetic_pbmc_cohort` from real PBMCs;
- :mod:`~survlib.data.sc.sampling`: draws shared by both (patients, survival, counts, .h5ad);
- :mod:`~survlib.data.sc.checks`: :func:`validate_sc_cohort`, :func:`check_same_genes`,
  :func:`check_same_normalisation`;
- :mod:`~survlib.data.sc.expression`: ``expression="counts" | "log-normalized"``, the one
  detector (:func:`detect_expression`) and the one log-normalisation (:func:`log_normalise`).
"""

from survlib.data.sc.checks import check_same_genes, check_same_normalisation, validate_sc_cohort
from survlib.data.sc.expression import (
    EXPRESSIONS,
    Expression,
    check_expression,
    detect_expression,
    is_integer_valued,
    log_normalise,
    matrix_values,
)
from survlib.data.sc.pbmc import pbmc68k_counts, semi_synthetic_pbmc_cohort
from survlib.data.sc.simulate import SC_SETTINGS, simulate_sc_cohort

__all__ = [
    "EXPRESSIONS",
    "SC_SETTINGS",
    "Expression",
    "check_expression",
    "check_same_genes",
    "check_same_normalisation",
    "detect_expression",
    "is_integer_valued",
    "log_normalise",
    "matrix_values",
    "pbmc68k_counts",
    "semi_synthetic_pbmc_cohort",
    "simulate_sc_cohort",
    "validate_sc_cohort",
]
