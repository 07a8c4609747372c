"""Fixtures of the multimodal tests."""

from __future__ import annotations

import pytest

from survlib.data.multimodal import MultimodalCohort, simulate_multimodal_cohort
from tests.data.multimodal._data import SMALL


@pytest.fixture(scope="package")
def cohort() -> MultimodalCohort:
    """A 400-patient simulated cohort (seed 3, :data:`SMALL`), built once for the package."""
    return simulate_multimodal_cohort(400, seed=3, **SMALL)
