"""Chapter 5's experiments (SurvPGC, Hou et al. 2025): the paper's tables rebuilt with one recipe.

Every model of the chapter is a :data:`~survlib.models.MODEL_ZOO` entry trained with the
discrete-time recipe of :mod:`survlib.models.discrete` (:class:`Recipe` holds its schedule and
the cross-validation), or a lifelines Cox model on the clinical covariates
(:func:`cox_clinical_fold`). The functions here run the chapter's loops and return tidy rows or
tables; the notebook glues and shows them.

The recipe (:mod:`~survlib.protocols.survpgc.recipe`)
    :class:`Recipe`, :func:`build_model`, :func:`model_overview`, :func:`cox_clinical_fold`,
    :func:`zoo_cv`
Simulated cohort (:mod:`~survlib.protocols.survpgc.tables`)
    :func:`run_main_tables` (Tables 1, 2 and 4: every model, one run), :func:`zoo_cv`,
    :func:`paired_bootstrap_folds` (SurvPGC vs SurvPath per fold), :func:`ig_shares`
    (Table 3), :func:`template_count_cv` (Table 5), :func:`authors_protocol_cv` (honest vs
    test-selected epoch of the same run), :func:`attention_on_planted` and
    :func:`top_patch_tissue` (Figure 4)
Real patients (:mod:`~survlib.protocols.survpgc.real`)
    :func:`load_real_cohorts` and :class:`RealRuns` (Tables 1 and 5 on the authors' TCGA files
    and splits, the exact published protocol), :func:`build_tabular_model` (cohorts without
    slides)
"""

from survlib.protocols.survpgc.real import REAL_KEYS, RealRuns, load_real_cohorts
from survlib.protocols.survpgc.recipe import (
    INPUT_LABELS,
    Recipe,
    build_model,
    build_tabular_model,
    cox_clinical_fold,
    model_overview,
    zoo_cv,
)
from survlib.protocols.survpgc.tables import (
    attention_on_planted,
    authors_protocol_cv,
    cosine_row_name,
    ig_shares,
    paired_bootstrap_folds,
    run_main_tables,
    template_count_cv,
    top_patch_tissue,
)

__all__ = [
    "INPUT_LABELS",
    "REAL_KEYS",
    "Recipe",
    "RealRuns",
    "attention_on_planted",
    "authors_protocol_cv",
    "build_model",
    "build_tabular_model",
    "cosine_row_name",
    "cox_clinical_fold",
    "ig_shares",
    "load_real_cohorts",
    "model_overview",
    "paired_bootstrap_folds",
    "run_main_tables",
    "template_count_cv",
    "top_patch_tissue",
    "zoo_cv",
]
