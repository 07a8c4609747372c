"""The cohort as scSurvival sees it: unique gene and cell names, the patient table with its
survival outcome and patient-level covariates (:func:`_validate_cohort`, on top of
:func:`survlib.data.sc.validate_sc_cohort`), and the covariate encoder fitted on the training
patients (:class:`_CovariateEncoder`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from survlib._core.validation import require_columns
from survlib.data.sc import validate_sc_cohort
from survlib.models.sc.config import _Setup


def _check_unique_names(adata: Any) -> None:
    """Refuse duplicated gene names (``var_names``) and cell names (``obs_names``)."""
    for what, names, fix in (
        ("gene", adata.var_names, "var_names_make_unique"),
        ("cell", adata.obs_names, "obs_names_make_unique"),
    ):
        dup = pd.Index(names)[pd.Index(names).duplicated()]
        if len(dup):
            raise ValueError(
                f"duplicated {what} names in adata ({len(dup)} repeats, e.g. "
                f"{sorted(set(map(str, dup)))[:5]}); genes and cells are matched by name: "
                f"call adata.{fix}() first"
            )


def _validate_cohort(adata: Any, s: _Setup, need_survival: bool = True) -> pd.DataFrame:
    """Check the obs columns and return one row per patient (time, event, n_cells, covariates).

    Survival and patient checks are :func:`survlib.data.sc.validate_sc_cohort` (missing
    columns, missing patient ids, non-numeric / NaN / negative times, events not 0/1, outcomes
    varying within a patient, patients with no cells, missing batches, no events); on top,
    covariates must be present, non-missing and constant within each patient.  Without
    ``need_survival`` (prediction for new patients) only the patient and batch columns are
    needed.  Raises ``KeyError`` / ``ValueError`` naming the problem.
    """
    obs = adata.obs
    if need_survival:
        table = validate_sc_cohort(adata, s.patient_key, s.time_key, s.event_key, s.batch_key)
    else:
        require_columns(
            obs, [s.patient_key] + ([s.batch_key] if s.batch_key else []), where="adata.obs"
        )
        if adata.n_obs == 0:
            raise ValueError("the AnnData has no cells (adata.n_obs == 0)")
        pid = obs[s.patient_key]
        if pid.isna().any():
            raise ValueError(f"obs[{s.patient_key!r}] is missing for some cells")
        if isinstance(pid.dtype, pd.CategoricalDtype):
            empty = sorted(set(pid.cat.categories) - set(pid.unique()))
            if empty:
                raise ValueError(
                    f"patient(s) with no cells: {empty[:5]} (unused categories of "
                    f"obs[{s.patient_key!r}])"
                )
        table = pid.astype(str).value_counts(sort=False).rename("n_cells").to_frame()
        table.index.name = s.patient_key
    table.index = table.index.astype(str)
    codes, patients = pd.factorize(obs[s.patient_key].astype(str), sort=True)
    require_columns(obs, list(s.covariate_keys), where="adata.obs")
    for key in s.covariate_keys:
        col = obs[key]
        if col.isna().any():
            bad = sorted(set(patients[codes[col.isna().to_numpy()]]))
            raise ValueError(f"covariate obs[{key!r}] is missing for patient(s) {bad[:5]}")
        nun = pd.Series(col.astype(str).to_numpy()).groupby(codes).nunique()
        if (nun > 1).any():
            bad = patients[nun.index[nun > 1][:5]].tolist()
            raise ValueError(
                f"covariate obs[{key!r}] varies within patient(s) {bad}; covariates are per patient"
            )
        first = pd.Series(col.to_numpy()).groupby(codes).first()
        table[key] = pd.Series(first.to_numpy(), index=patients).loc[table.index].to_numpy()
    return table


class _CovariateEncoder:
    """Numeric covariates standardised, categorical ones one-hot encoded (first level dropped);
    fitted on the training patients and re-applied to new ones."""

    def __init__(self, table: pd.DataFrame, keys: Sequence[str]) -> None:
        self.keys = list(keys)
        self.numeric: dict[str, tuple[float, float]] = {}
        self.levels: dict[str, list[str]] = {}
        for k in self.keys:
            col = table[k]
            if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
                x = col.to_numpy(float)
                self.numeric[k] = (float(x.mean()), float(x.std()) or 1.0)
            else:
                self.levels[k] = sorted(col.astype(str).unique().tolist())
        self.columns: list[str] = []
        for k in self.keys:
            if k in self.numeric:
                self.columns.append(k)
            else:
                self.columns += [f"{k}[{lv}]" for lv in self.levels[k][1:]]

    def transform(self, table: pd.DataFrame) -> np.ndarray:
        out = []
        for k in self.keys:
            if k in self.numeric:
                m, s = self.numeric[k]
                out.append(((table[k].to_numpy(float) - m) / s)[:, None])
            else:
                v = table[k].astype(str).to_numpy()
                unknown = sorted(set(v) - set(self.levels[k]))
                if unknown:
                    raise ValueError(f"covariate {k!r} has levels {unknown} not seen in training")
                out.append(
                    np.stack([(v == lv).astype(float) for lv in self.levels[k][1:]], 1)
                    if len(self.levels[k]) > 1
                    else np.zeros((len(v), 0))
                )
        return np.concatenate(out, axis=1) if out else np.zeros((len(table), 0))
