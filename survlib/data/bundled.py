"""Real cohorts that ship inside installed packages, converted to the book's conventions.

Both come from scikit-survival and are *real* patient data (not simulated). At this boundary,
times are converted from days to months (÷ 30.4375) and the event indicator becomes
``event = 1`` (event observed); nothing downstream converts again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survlib._core.validation import validate_survival

DAYS_PER_MONTH = 365.25 / 12


def _finish(frame: pd.DataFrame, name: str, endpoint: str, citation: str) -> pd.DataFrame:
    validate_survival(frame["time"], frame["event"], name=name)
    frame.attrs.update(
        {
            "name": name,
            "simulated": False,
            "endpoint": endpoint,
            "citation": citation,
            "time_unit": "months",
        }
    )
    return frame


def load_gbsg2() -> pd.DataFrame:
    """German Breast Cancer Study Group 2 trial: 686 node-positive patients, 8 covariates.

    Endpoint: recurrence-free survival. Covariates: ``age``, ``estrec``, ``progrec``
    (oestrogen/progesterone receptors, fmol), ``pnodes`` (positive nodes), ``tsize`` (mm),
    ``horTh`` (hormonal therapy yes/no), ``menostat`` (Pre/Post), ``tgrade`` (I/II/III).

    Returns:
        One row per patient with the covariates, ``time`` (months) and ``event``.
    """
    from sksurv.datasets import load_gbsg2 as _load

    x, y = _load()
    frame = x.copy()
    frame["time"] = y["time"] / DAYS_PER_MONTH
    frame["event"] = y["cens"].astype(np.int64)  # sksurv's "cens" is True when the event occurred
    return _finish(frame, "GBSG2", "recurrence-free survival", "schumacher1994gbsg")


def load_breast_cancer() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Desmedt et al. (2007) node-negative breast cancer: 198 patients, 76 probes + clinical.

    Endpoint: distant-metastasis-free survival (``t.tdm``, ``e.tdm``).

    Returns:
        ``(expression, clinical)``: a 198 × 76 frame of log expression of the 76-gene
        signature's probes, and the clinical covariates (``age``, ``er``, ``grade``,
        ``size``) with ``time`` (months) and ``event``.
    """
    from sksurv.datasets import load_breast_cancer as _load

    x, y = _load()
    probes = [c for c in x.columns if c.startswith("X")]
    expression = x[probes].astype(float).copy()
    expression.attrs.update({"name": "breast_cancer_expression", "simulated": False})
    clinical = x.drop(columns=probes).copy()
    clinical["time"] = y["t.tdm"] / DAYS_PER_MONTH
    clinical["event"] = y["e.tdm"].astype(np.int64)
    clinical = _finish(
        clinical, "breast cancer (Desmedt 2007)", "distant-metastasis-free survival", "desmedt2007"
    )
    return expression, clinical


def one_hot_covariates(
    frame: pd.DataFrame, exclude: tuple[str, ...] = ("time", "event")
) -> pd.DataFrame:
    """Numeric design matrix: categoricals one-hot encoded (first level dropped), floats kept."""
    covars = frame.drop(columns=[c for c in exclude if c in frame.columns])
    return pd.get_dummies(covars, drop_first=True, dtype=float)
