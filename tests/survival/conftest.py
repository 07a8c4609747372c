"""Fixtures shared by the survival tests: lifelines' Rossi data and its Cox fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def rossi() -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """lifelines' Rossi recidivism data (432 rows, weekly times: many ties), standardised."""
    from lifelines.datasets import load_rossi

    df = load_rossi()
    cols = [c for c in df.columns if c not in ("week", "arrest")]
    x = df[cols].to_numpy(dtype=np.float64)
    x = (x - x.mean(0)) / x.std(0)
    return x, df["week"].to_numpy(np.float64), df["arrest"].to_numpy(np.int64), cols


@pytest.fixture(scope="module")
def lifelines_cph(rossi):
    from lifelines import CoxPHFitter

    x, t, e, cols = rossi
    df = pd.DataFrame(x, columns=cols).assign(week=t, arrest=e)
    return CoxPHFitter(penalizer=0.0).fit(df, "week", "arrest")
