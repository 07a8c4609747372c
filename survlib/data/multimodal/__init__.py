"""Multimodal cohorts (clinical, pathway expression, patch bags): container, simulator, folds.

- :mod:`~survlib.data.multimodal.cohort`: :class:`MultimodalCohort` (one row per patient, its
  modalities and, for simulated cohorts, the :class:`CohortTruth`);
- :mod:`~survlib.data.multimodal.pathways`: gene -> pathway membership, simulated
  (:func:`simulate_pathway_membership`) or SurvPath's signatures (:func:`load_survpath_pathways`);
- :mod:`~survlib.data.multimodal.simulator`: :func:`simulate_multimodal_cohort`, a TCGA-like
  cohort with known truth (its docstring states the generative model);
- :mod:`~survlib.data.multimodal.folds`: one cross-validation fold standardised on its training
  patients (:func:`prepare_fold` -> :class:`FoldData`), the clinical design matrix and the
  padding of patch bags into :class:`~survlib.data.batch.SurvivalBatch` es (:func:`pad_bags`).
"""

from survlib.data.multimodal.cohort import (
    CLINICAL_FIELDS,
    PATCH_TYPES,
    CohortTruth,
    MultimodalCohort,
)
from survlib.data.multimodal.folds import (
    FoldData,
    clinical_design_matrix,
    pad_bags,
    prepare_fold,
)
from survlib.data.multimodal.pathways import load_survpath_pathways, simulate_pathway_membership
from survlib.data.multimodal.simulator import simulate_multimodal_cohort

__all__ = [
    "CLINICAL_FIELDS",
    "PATCH_TYPES",
    "CohortTruth",
    "FoldData",
    "MultimodalCohort",
    "clinical_design_matrix",
    "load_survpath_pathways",
    "pad_bags",
    "prepare_fold",
    "simulate_multimodal_cohort",
    "simulate_pathway_membership",
]
