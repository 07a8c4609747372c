"""Chapter 5's tables on the simulated cohort: Tables 1, 2 and 4 in one run, the paired
bootstrap of SurvPGC vs SurvPath, integrated-gradients shares (Table 3), the number of templates
(Table 5), the authors' protocol beside the honest one, and Figure 4's attention statistics."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from survlib import explain
from survlib import survival as sv
from survlib.data.multimodal import MultimodalCohort
from survlib.models import discrete_cv_fold, survpgc_loss
from survlib.protocols.survpgc.recipe import Recipe, build_model, cox_clinical_fold, zoo_cv
from survlib.text import clinical_prompts, encode_prompts
from survlib.train import cross_validate, summarize

__all__ = [
    "attention_on_planted",
    "authors_protocol_cv",
    "cosine_row_name",
    "ig_shares",
    "paired_bootstrap_folds",
    "run_main_tables",
    "template_count_cv",
    "top_patch_tissue",
]


def cosine_row_name(beta: float) -> str:
    """The row name of SurvPGC trained with its cosine loss at weight ``beta``."""
    return f"SurvPGC + cosine loss (beta={beta:g})"


def run_main_tables(
    cohort: MultimodalCohort,
    tokens: np.ndarray,
    models: Sequence[str],
    recipe: Recipe,
    times: Sequence[float],
    predictions: dict,
    fold_cache: dict,
    cosine_beta: float = 0.0,
) -> pd.DataFrame:
    """Tables 1, 2 and 4 in one run: the clinical Cox model, every zoo model of ``models`` and,
    with ``cosine_beta > 0``, SurvPGC trained with its cosine loss (:func:`cosine_row_name`).
    Tidy rows of every metric of every fold."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # IPCW notes (see Chapter 1)
        cox = cox_clinical_fold(cohort, times, predictions.setdefault("Cox (clinic)", {}))
        frames = [
            cross_validate(cox, model="Cox (clinic)", **recipe.cv(cohort.event)),
            zoo_cv(models, cohort, tokens, recipe, fold_cache, predictions),
        ]
        if cosine_beta > 0:
            run = discrete_cv_fold(
                partial(build_model, "SurvPGC", width=recipe.width),
                cohort,
                clinical_tokens=tokens,
                n_bins=recipe.n_bins,
                fold_cache=fold_cache,
                loss_fn=partial(survpgc_loss, beta=cosine_beta),
                **recipe.fit,
            )
            frames.append(
                cross_validate(run, model=cosine_row_name(cosine_beta), **recipe.cv(cohort.event))
            )
    return pd.concat(frames)


def paired_bootstrap_folds(
    runs_a: Mapping, runs_b: Mapping, time: np.ndarray, event: np.ndarray, n_boot: int, seed: int
) -> pd.DataFrame:
    """:func:`survlib.survival.paired_bootstrap_cindex` of model A vs model B on each fold's test
    patients (``runs_*``: per ``(seed, fold)`` a dict with ``test`` and ``risk``); the fold's
    resampling seed is ``seed + fold``. One row per fold: ``seed, fold, diff, p, ...``."""
    rows = []
    for (s_, fold), run_a in sorted(runs_a.items()):
        run_b = runs_b[(s_, fold)]
        res = sv.paired_bootstrap_cindex(
            run_a["risk"],
            run_b["risk"],
            time[run_a["test"]],
            event[run_a["test"]],
            n_boot=n_boot,
            seed=seed + fold,
        )
        rows.append({"seed": s_, "fold": fold, **res})
    return pd.DataFrame(rows)


def ig_shares(runs: Mapping, n_steps: int) -> pd.DataFrame:
    """Integrated-gradients shares of each fusion path (Table 3), per fold's trained model on its
    test patients: with the risk as the output (columns named by path) and with the logit of
    each patient's true bin (``"<path> (label)"``), and the largest completeness gap."""
    rows = []
    for (s, fold), run in runs.items():
        fitted = run["fit"]
        batch = fitted.data.batch(run["test"])
        attribution = explain.modality_attribution(fitted.model, batch, n_steps=n_steps)
        shares = attribution.filter(like="share[").mean()
        by_label = (
            explain.modality_attribution(fitted.model, batch, target="label", n_steps=n_steps)
            .filter(like="share[")
            .mean()
        )
        rows.append(
            {
                "seed": s,
                "fold": fold,
                **{c[6:-1]: v for c, v in shares.items()},
                **{c[6:-1] + " (label)": v for c, v in by_label.items()},
                "max completeness gap": float(attribution["delta"].abs().max()),
            }
        )
    return pd.DataFrame(rows)


def template_count_cv(
    cohort: MultimodalCohort,
    counts: Sequence[int],
    encoder: Any,
    recipe: Recipe,
    seed: int,
    model: str = "MLP (clinic)",
) -> tuple[pd.DataFrame, dict[int, np.ndarray]]:
    """Table 5: ``model`` on prompts built from ``N_t`` templates per field, for each ``N_t`` of
    ``counts``. Returns the summary (rows ``"N_t = n"``) and the prompt tokens of each ``N_t``."""
    frames, tokens = [], {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for n_t in counts:
            tokens[n_t] = encode_prompts(
                clinical_prompts(cohort.clinical, n_templates=n_t, seed=seed), encoder
            )
            run = discrete_cv_fold(
                partial(build_model, model, width=recipe.width),
                cohort,
                clinical_tokens=tokens[n_t],
                n_bins=recipe.n_bins,
                **recipe.fit,
            )
            frames.append(cross_validate(run, model=f"N_t = {n_t}", **recipe.cv(cohort.event)))
    return summarize(pd.concat(frames)), tokens


def authors_protocol_cv(
    names: Sequence[str],
    cohort: MultimodalCohort,
    tokens: np.ndarray,
    recipe: Recipe,
    fold_cache: dict,
    epochs: int,
    min_epoch: int,
    lr: float,
) -> pd.DataFrame:
    """The authors' fixed schedule (``epochs`` epochs, no early stopping, C-index selection from
    ``min_epoch`` on) with both selections read from the same run: the honest epoch (validation)
    and the test-selected one (:func:`~survlib.models.protocol_comparison`)."""
    frames = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for name in names:
            run = discrete_cv_fold(
                partial(build_model, name, width=recipe.width),
                cohort,
                clinical_tokens=tokens,
                n_bins=recipe.n_bins,
                fold_cache=fold_cache,
                protocol="both",
                protocol_min_epoch=min_epoch,
                **{
                    **recipe.fit,
                    "max_epochs": epochs,
                    "patience": None,
                    "lr": lr,
                    "select_metric": "cindex",
                },
            )
            frames.append(cross_validate(run, model=name, **recipe.cv(cohort.event)))
    return pd.concat(frames)


# --------------------------------------------------------------------------------------------
# Figure 4: where the clinical and genomic queries look
# --------------------------------------------------------------------------------------------

_MAPS = ("clinic->pathology", "genomics->pathology")


def attention_on_planted(
    model: nn.Module,
    data: Any,
    patients: Sequence[int],
    patch_types: Sequence[np.ndarray],
    planted: Sequence[int],
) -> dict[str, float]:
    """Mean attention on the planted (prognostic) patches relative to the mean attention of all
    patches, per map, averaged over the ``patients`` that have both kinds (1 = no preference)."""
    enrich: dict[str, list[float]] = {k: [] for k in _MAPS}
    for i in patients:
        att = explain.patient_attention(model, data.batch([i]), 0)
        is_planted = np.isin(patch_types[i], planted)
        if is_planted.any() and (~is_planted).any():
            for k in enrich:
                enrich[k].append(att[k][is_planted].mean() / att[k].mean())
    return {k: float(np.mean(v)) for k, v in enrich.items()}


def top_patch_tissue(
    model: nn.Module,
    data: Any,
    patients: Sequence[int],
    patch_types: Sequence[np.ndarray],
    type_names: Sequence[str],
    top_k: int,
) -> tuple[pd.DataFrame, float]:
    """The tissue types of each map's top patches pooled over ``patients`` (% of each map's top
    patches; the top ``top_k``, or the top quarter of a smaller bag), against all patches, and
    the mean share of top patches the two maps have in common."""
    top_types: dict[str, list] = {_MAPS[0]: [], _MAPS[1]: [], "all patches": []}
    overlap = []
    for i in patients:
        att = explain.patient_attention(model, data.batch([i]), 0)
        k = min(int(top_k), max(1, len(att[_MAPS[0]]) // 4))  # small bags: top quarter
        tops = {m: explain.top_patches(att[m], k) for m in _MAPS}
        for m, idx in tops.items():
            top_types[m].extend(patch_types[i][idx])
        top_types["all patches"].extend(patch_types[i])
        overlap.append(len(set(tops[_MAPS[0]]) & set(tops[_MAPS[1]])) / k)
    table = (
        pd.DataFrame(
            {
                f"{m} (simulated)": pd.Series(v)
                .map(dict(enumerate(type_names)))
                .value_counts(normalize=True)
                for m, v in top_types.items()
            }
        )
        .fillna(0.0)
        .mul(100)
        .round(1)
    )
    table.index.name = "tissue type (% of each map's top patches)"
    return table, float(np.mean(overlap))
