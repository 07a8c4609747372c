"""Fixtures of the text tests."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [56.0, 71.4, 38.0, 64.0],
            "sex": ["male", "female", "male", "female"],
            "stage": ["Stage IIA", "Stage I", "not reported", "Stage IVB"],
            "stage_edition": ["7th", "6th", "7th", "not reported"],
            "subtype": ["Hepatocellular carcinoma, NOS"] * 4,
            "race": ["asian", "white", "black or african american", "white"],
            "time": [1.0, 2.0, 3.0, 4.0],
            "event": [1, 0, 0, 1],
        }
    )
