"""The cohort container (survlib.data.multimodal.cohort) around real tables."""

from __future__ import annotations

import numpy as np

from survlib.data.multimodal import (
    MultimodalCohort,
    prepare_fold,
)


def test_from_tables_wraps_a_real_cohort() -> None:
    from survlib.data.bundled import load_breast_cancer

    expression, clinical = load_breast_cancer()
    c = MultimodalCohort.from_tables(clinical, expression, name="Desmedt 2007")
    assert len(c) == 198 and c.bags is None and not c.attrs["simulated"]
    data = prepare_fold(c, np.arange(150))
    b = data.batch(np.arange(5))
    assert b.patches is None and b.genes.shape == (5, 76)
