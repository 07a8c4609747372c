"""Chapter 5's recipe: the one training schedule and cross-validation of every model
(:class:`Recipe`), the zoo models sized for a fold's data, the clinical Cox model, and the
cross-validation of a list of zoo models (:func:`zoo_cv`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from survlib import survival as sv
from survlib.data.multimodal import MultimodalCohort, clinical_design_matrix
from survlib.models import MODEL_ZOO, count_parameters, discrete_cv_fold
from survlib.train import Split, cross_validate

__all__ = [
    "INPUT_LABELS",
    "Recipe",
    "build_model",
    "build_tabular_model",
    "cox_clinical_fold",
    "model_overview",
    "zoo_cv",
]


#: How the overview table names each input field of a model.
INPUT_LABELS: dict[str, str] = {
    "patches": "P",
    "genes": "G",
    "clinical_tokens": "C (prompts)",
    "clinical": "C (covariates)",
}


@dataclass
class Recipe:
    """The chapter's one training recipe and cross-validation, shared by every model.

    Attributes:
        fit: keywords of :func:`~survlib.models.fit_discrete_model` (``max_epochs``,
            ``patience``, ``lr``, ``batch_size``, ``max_patches``, ...).
        n_bins: discrete time bins.
        width: the models' main width (``hidden`` of :data:`~survlib.models.MODEL_ZOO`).
        n_folds, seeds, val_fraction: the cross-validation (:func:`survlib.train.cross_validate`).
    """

    fit: dict[str, Any]
    n_bins: int = 4
    width: int = 64
    n_folds: int = 3
    seeds: Sequence[int] = (0,)
    val_fraction: float = 0.2

    def cv(self, event: np.ndarray) -> dict[str, Any]:
        """The keywords of :func:`~survlib.train.cross_validate` for a cohort's ``event``."""
        return dict(
            event=event,
            n_folds=self.n_folds,
            seeds=list(self.seeds),
            val_fraction=self.val_fraction,
            progress=False,
        )


def build_model(name: str, data: Any, width: int) -> nn.Module:
    """The zoo model ``name`` sized for a fold's data (a
    :class:`~survlib.data.multimodal.FoldData`)."""
    return MODEL_ZOO[name](
        d_patch=data.d_patch or None,
        pathways=data.pathways,
        n_genes=data.n_genes,
        d_text=data.d_text or None,
        n_clinical=data.n_clinical,
        n_bins=data.n_bins,
        n_fields=6 if data.clinical_tokens is None else data.clinical_tokens.shape[1],
        hidden=width,
    )


def build_tabular_model(name: str, data: Any, width: int) -> nn.Module:
    """A zoo model for a cohort without slides or pathways (genes, covariates, prompt tokens)."""
    return MODEL_ZOO[name](
        d_patch=None,
        pathways=None,
        n_genes=data.n_genes,
        d_text=data.d_text,
        n_clinical=data.n_clinical,
        n_bins=data.n_bins,
        n_fields=data.clinical_tokens.shape[1],
        hidden=width,
    )


def model_overview(
    names: Sequence[str], data: Any, width: int, labels: Mapping[str, str] = INPUT_LABELS
) -> pd.DataFrame:
    """Each model's inputs and its parameter count at ``width`` and at the papers' 256."""
    names = list(names)
    return pd.DataFrame(
        {
            "inputs": [
                " + ".join(labels[f] for f in build_model(n, data, width).inputs if f in labels)
                for n in names
            ],
            "parameters (this width)": [
                count_parameters(build_model(n, data, width)) for n in names
            ],
            "parameters (width 256)": [count_parameters(build_model(n, data, 256)) for n in names],
        },
        index=names,
    )


def cox_clinical_fold(
    cohort: MultimodalCohort,
    times: Sequence[float],
    store: dict | None = None,
    penalizer: float = 0.1,
) -> Callable[[Split, int], dict[str, float]]:
    """run_fold of a lifelines Cox model on the clinical design matrix (standardised on train).

    No early stopping: it is fitted on the whole training fold (``train`` and ``val``).
    Metrics: C-index, td-AUC at ``times`` (months) from its Breslow survival curves, their
    iAUC and the integrated Brier score. ``store`` receives, per ``(seed, fold)``, the test
    indices, test risks and the training-median risk threshold.
    """
    from lifelines import CoxPHFitter

    x_all = clinical_design_matrix(cohort.clinical)
    t_all, e_all = cohort.time, cohort.event
    q = np.asarray(times)

    def run(split: Split, run_seed: int) -> dict[str, float]:
        tr = np.concatenate([split.train, split.val])  # no early stopping: use the whole fold
        sd = x_all.iloc[tr].std()
        cols = sd.index[sd > 0]  # a category absent from the training fold is dropped
        x = (x_all[cols] - x_all[cols].iloc[tr].mean()) / sd[cols]
        cph = CoxPHFitter(penalizer=penalizer).fit(
            x.iloc[tr].assign(time=t_all[tr], event=e_all[tr]), "time", "event"
        )
        risk_te = cph.predict_log_partial_hazard(x.iloc[split.test]).to_numpy()
        risk_tr = cph.predict_log_partial_hazard(x.iloc[tr]).to_numpy()
        surv = cph.predict_survival_function(x.iloc[split.test], times=q).T.to_numpy()
        if store is not None:
            store[(run_seed, split.fold)] = {
                "test": split.test,
                "risk": risk_te,
                "threshold": float(np.median(risk_tr)),
            }
        t_te, e_te, t_tr, e_tr = t_all[split.test], e_all[split.test], t_all[tr], e_all[tr]
        return sv.fold_metrics(risk_te, surv, t_te, e_te, t_tr, e_tr, q)

    return run


def zoo_cv(
    names: Sequence[str],
    cohort: MultimodalCohort,
    tokens: np.ndarray | None,
    recipe: Recipe,
    fold_cache: dict | None = None,
    predictions: dict | None = None,
    build: Callable[[str, Any, int], nn.Module] = build_model,
    **extra: Any,
) -> pd.DataFrame:
    """Cross-validate zoo models with the recipe (``extra`` overrides its fit keywords).

    ``predictions[name]`` receives each model's test predictions per ``(seed, fold)`` (for the
    figures, the bootstrap and attribution); ``fold_cache`` shares the prepared folds.
    """
    frames = []
    for name in names:
        store = None if predictions is None else predictions.setdefault(name, {})
        run = discrete_cv_fold(
            partial(build, name, width=recipe.width),
            cohort,
            clinical_tokens=tokens,
            n_bins=recipe.n_bins,
            fold_cache=fold_cache,
            store=store,
            **{**recipe.fit, **extra},
        )
        frames.append(cross_validate(run, model=name, **recipe.cv(cohort.event)))
    return pd.concat(frames)
