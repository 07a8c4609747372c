"""Chapter 6's experiments (AMKD, Xu et al. 2026): every table's models trained with one Cox
recipe, scored once on the test fold and on the external site.

:func:`run_benchmark_fold` trains the multimodal teacher, the AMKD students (the alpha sweep of
Table 6 and the ablations of Table 5) and the baselines of Table 2 (:func:`build_baseline`) on
one fold; :class:`BenchmarkSpec` holds the sizes and schedule and :class:`FoldRun` what comes
back. :func:`run_benchmark_cv` repeats it over the folds and seeds of the chapter,
:func:`run_real_omics` runs the omics baselines on real TCGA folds, and
:func:`widest_student_within` answers Table 7's size question.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from survlib.data.multimodal import FoldData, MultimodalCohort, prepare_fold
from survlib.models import MODEL_ZOO, count_parameters
from survlib.models.blocks import PathwayMembership, SurvivalBatch
from survlib.models.calling import predict_risk
from survlib.models.distill import (
    AMKDConfig,
    AMKDStudent,
    AMKDTeacher,
    FitSummary,
    MILConcat,
    MILTeacher,
    SparsePathwayMLP,
    fit_student,
    fit_teacher,
)
from survlib.models.mil import ABMIL, TransMIL
from survlib.survival import bootstrap_cindex, concordance
from survlib.train import Split, cv_splits, pick_device, seed_everything, tidy_results

__all__ = [
    "BASELINES",
    "BenchmarkCV",
    "BenchmarkSpec",
    "FirstFold",
    "FoldRun",
    "build_baseline",
    "run_benchmark_cv",
    "run_benchmark_fold",
    "run_real_omics",
    "student_at_width",
    "widest_student_within",
]


#: Baselines of AMKD's Table 2 that :func:`run_benchmark_fold` can train (name -> modality).
BASELINES: dict[str, str] = {
    "ABMIL": "WSI",
    "TransMIL": "WSI",
    "DSMIL": "WSI",
    "SNN": "Omics",
    "MLP": "Omics",
    "SMLP": "Omics",
    "ABMIL (Cat)": "Multi-modal",
    "TransMIL (Cat)": "Multi-modal",
    "MCAT": "Multi-modal",
    "SurvPath": "Multi-modal",
}


@dataclass
class BenchmarkSpec:
    """Sizes and schedule of :func:`run_benchmark_fold` (every model uses the same recipe).

    Attributes:
        width: common width :math:`d` of every model (teacher, student, baselines).
        baselines: names from :data:`BASELINES` to train.
        alphas: the :math:`\\alpha` values of Table 6 (the first of ``config.alpha`` is the
            AMKD row; ``1.0`` doubles as "w/o L_ARR").
        config: the student's objective and schedule (:class:`AMKDConfig`).
        teacher_lr, max_epochs, patience, batch_size: the Cox recipe of the teacher and the
            baselines.
        mil_teachers: also distil from the ABMIL and TransMIL baselines (Table 5).
        device: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``: where data and models
            live during the fold (:func:`survlib.train.pick_device`).
    """

    width: int = 32
    baselines: tuple[str, ...] = tuple(BASELINES)
    alphas: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)
    config: AMKDConfig = field(default_factory=AMKDConfig)
    teacher_lr: float = 1e-3
    max_epochs: int = 40
    patience: int = 8
    batch_size: int = 64
    mil_teachers: bool = True
    device: str = "auto"


def build_baseline(name: str, d_patch: int, pathways: PathwayMembership, width: int) -> nn.Module:
    """A Table-2 baseline with one output (a Cox log hazard), at width ``width``.

    The WSI models, SNN/MLP, MCAT and SurvPath come from :data:`survlib.models.MODEL_ZOO`
    (with ``n_bins=1``); S-MLP and the "(Cat)" models are :class:`SparsePathwayMLP` and
    :class:`MILConcat`.
    """
    kw = dict(
        d_patch=d_patch,
        pathways=pathways,
        n_genes=pathways.n_genes,
        d_text=None,
        n_clinical=None,
        n_bins=1,
        hidden=width,
    )
    zoo_names = {
        "ABMIL": "ABMIL",
        "TransMIL": "TransMIL",
        "DSMIL": "DSMIL",
        "SNN": "SNN (genomic)",
        "MLP": "MLP (genomic)",
        "MCAT": "MCAT",
        "SurvPath": "SurvPath",
    }
    if name in zoo_names:
        return MODEL_ZOO[zoo_names[name]](**kw)
    if name == "SMLP":
        return SparsePathwayMLP(pathways, d=width, d_hidden=width)
    if name == "ABMIL (Cat)":
        return MILConcat(
            ABMIL(d_patch, 1, d_hidden=width, d_attn=width), width, pathways.n_genes, d_gen=width
        )
    if name == "TransMIL (Cat)":
        heads = 4 if width % 4 == 0 else 1
        return MILConcat(
            TransMIL(d_patch, 1, d=width, n_heads=heads), width, pathways.n_genes, d_gen=width
        )
    raise ValueError(f"unknown baseline {name!r}; known: {sorted(BASELINES)}")


def _as_mil_teacher(name: str, model: nn.Module, width: int) -> MILTeacher:
    return MILTeacher(model, "encoder" if name == "ABMIL" else "norm", width)


@dataclass
class FoldRun:
    """What :func:`run_benchmark_fold` returns.

    Attributes:
        rows: tidy rows ``model, metric, value`` (metrics ``"C-index"`` on the test fold and
            ``"C-index (external)"`` on the external cohort when given).
        risks: per test / external patient: ``index``, ``set`` ("test" or "external"),
            ``model``, ``risk``, ``threshold`` (the model's median risk on its *training*
            patients: the high/low cut-off of Table 3).
        models: the trained teacher (``"teacher"``) and AMKD student (``"AMKD"``), in eval mode.
        fits: per model, its :class:`FitSummary`.
    """

    rows: list[dict[str, Any]]
    risks: pd.DataFrame
    models: dict[str, nn.Module]
    fits: dict[str, FitSummary]


def _score_on_sets(
    name: str,
    model: nn.Module,
    data: SurvivalBatch,
    train_idx: np.ndarray,
    sets: dict[str, np.ndarray],
) -> tuple[list[dict[str, Any]], list[pd.DataFrame]]:
    """A trained model's C-index rows and risk frames on each final set (test, external)."""
    time_np = data.time.cpu().numpy().astype(np.float64)
    event_np = data.event.cpu().numpy()
    thr = float(np.median(predict_risk(model, data, train_idx)))
    rows: list[dict[str, Any]] = []
    risk_frames: list[pd.DataFrame] = []
    for set_name, idx in sets.items():
        r = predict_risk(model, data, idx)
        metric = "C-index" if set_name == "test" else "C-index (external)"
        rows.append(
            {
                "model": name,
                "metric": metric,
                "value": concordance(r, time_np[idx], event_np[idx]),
            }
        )
        risk_frames.append(
            pd.DataFrame(
                {"index": idx, "set": set_name, "model": name, "risk": r, "threshold": thr}
            )
        )
    return rows, risk_frames


def run_benchmark_fold(
    data: SurvivalBatch,
    pathways: PathwayMembership,
    train_idx: np.ndarray,
    val_idx: np.ndarray,
    test_idx: np.ndarray,
    external_idx: np.ndarray | None = None,
    spec: BenchmarkSpec | None = None,
    seed: int = 0,
) -> FoldRun:
    """Train every model of the chapter on one fold; score each once on test (and external).

    ``data`` holds all patients (source and external) standardised with the source training
    patients' statistics. Every model - teacher, students and baselines - is trained with the
    same Cox recipe (:func:`fit_teacher` / :func:`fit_student`: mini-batches with events,
    early stopping on the validation patients). Models and their rows:

    * ``"Teacher (multimodal)"``: :class:`AMKDTeacher`;
    * ``"AMKD (alpha=a)"`` for each ``a`` in ``spec.alphas`` (``spec.config`` otherwise); the
      one with ``a == spec.config.alpha`` is also ``"AMKD"``;
    * ``"AMKD, L_ARR from the first step"`` when ``spec.config.arr_warmup > 0``;
    * ``"w/o L_ARR and L_GE"`` (alpha 1, no L_GE);
    * ``"Student, no teacher"``: the student architecture trained on its Cox loss only;
    * ``"AMKD (ABMIL teacher)"``, ``"AMKD (TransMIL teacher)"`` when ``spec.mil_teachers``;
    * each baseline of ``spec.baselines``.

    The test and external patients are used only for the final scores.
    """
    spec = spec or BenchmarkSpec()
    cfg = spec.config
    w = int(spec.width)
    dev = pick_device(spec.device)
    data = data.to(dev)
    d_patch = int(data.patches.shape[-1])
    sets = {"test": np.asarray(test_idx)}
    if external_idx is not None and len(external_idx):
        sets["external"] = np.asarray(external_idx)
    rows: list[dict[str, Any]] = []
    risk_frames: list[pd.DataFrame] = []
    models: dict[str, nn.Module] = {}
    fits: dict[str, FitSummary] = {}
    cox_kw = dict(
        lr=spec.teacher_lr,
        batch_size=spec.batch_size,
        max_epochs=spec.max_epochs,
        patience=spec.patience,
        seed=seed,
    )

    def score(name: str, model: nn.Module) -> None:
        new_rows, frames = _score_on_sets(name, model, data, train_idx, sets)
        rows.extend(new_rows)
        risk_frames.extend(frames)

    def student(name: str, teacher: nn.Module, config: AMKDConfig) -> AMKDStudent:
        seed_everything(seed)
        s = AMKDStudent(d_patch, teacher.d_g2p, d=w, d_enhance=w, d_hidden=w).to(dev)
        fits[name] = fit_student(s, teacher, data, train_idx, val_idx, config, seed=seed)
        score(name, s)
        return s

    seed_everything(seed)
    teacher = AMKDTeacher(d_patch, pathways, d=w, pathway_hidden=w, d_hidden=w).to(dev)
    fits["Teacher (multimodal)"] = fit_teacher(teacher, data, train_idx, val_idx, **cox_kw)
    score("Teacher (multimodal)", teacher)
    models["teacher"] = teacher

    for a in spec.alphas:
        s = student(f"AMKD (alpha={a:g})", teacher, replace(cfg, alpha=float(a)))
        if float(a) == float(cfg.alpha):
            models["AMKD"] = s
    if "AMKD" not in models:
        models["AMKD"] = student("AMKD", teacher, cfg)
    if cfg.arr_warmup > 0 and cfg.alpha < 1.0:
        student("AMKD, L_ARR from the first step", teacher, replace(cfg, arr_warmup=0))
    student("w/o L_ARR and L_GE", teacher, replace(cfg, alpha=1.0, use_ge=False))

    seed_everything(seed)
    alone = AMKDStudent(d_patch, teacher.d_g2p, d=w, d_enhance=w, d_hidden=w).to(dev)

    fits["Student, no teacher"] = fit_teacher(alone, data, train_idx, val_idx, **cox_kw)
    score("Student, no teacher", alone)

    wanted = list(spec.baselines)
    if spec.mil_teachers:
        wanted += [m for m in ("ABMIL", "TransMIL") if m not in wanted]
    for name in wanted:
        seed_everything(seed)
        model = build_baseline(name, d_patch, pathways, w).to(dev)
        fits[name] = fit_teacher(model, data, train_idx, val_idx, **cox_kw)
        if name in spec.baselines:
            score(name, model)
        if spec.mil_teachers and name in ("ABMIL", "TransMIL"):
            student(f"AMKD ({name} teacher)", _as_mil_teacher(name, model, w), cfg)

    for r in rows:
        r["seed"] = int(seed)
    return FoldRun(
        rows=rows, risks=pd.concat(risk_frames, ignore_index=True), models=models, fits=fits
    )


# ============================================================================================
# The chapter's cross-validation: every fold of every seed
# ============================================================================================


@dataclass
class FirstFold:
    """The first fold of the first seed, kept for the chapter's figures.

    Attributes:
        run: its :class:`FoldRun` (trained teacher and student, fits, risks).
        split: its :class:`survlib.train.Split`.
        fold: its :class:`~survlib.data.multimodal.FoldData` (standardisation of its training
            patients).
        data: the standardised :class:`SurvivalBatch` of every patient (source and external).
    """

    run: FoldRun
    split: Split
    fold: FoldData
    data: SurvivalBatch


@dataclass
class BenchmarkCV:
    """What :func:`run_benchmark_cv` returns.

    Attributes:
        results: tidy rows ``model, fold, seed, metric, value``
            (:func:`survlib.train.tidy_results`).
        risks: every fold's :attr:`FoldRun.risks` with ``fold`` and ``seed`` columns.
        first: the first fold of the first seed (:class:`FirstFold`).
        seconds: wall time of the whole cross-validation.
    """

    results: pd.DataFrame
    risks: pd.DataFrame
    first: FirstFold
    seconds: float


def run_benchmark_cv(
    cohort: MultimodalCohort,
    source_event: np.ndarray,
    external_idx: np.ndarray | None,
    spec: BenchmarkSpec,
    seeds: Sequence[int],
    n_folds: int,
    val_fraction: float,
) -> BenchmarkCV:
    """:func:`run_benchmark_fold` on every fold of a stratified cross-validation of the source
    patients, repeated for each seed (splits and initialisations).

    ``cohort`` holds the source patients first (their events are ``source_event``, the ones the
    folds are stratified on) and then the external ones (``external_idx``). Each fold is
    standardised with its *training* patients' statistics
    (:func:`~survlib.data.multimodal.prepare_fold`), and the external patients are scored with
    those same statistics.
    """
    rows: list[dict[str, Any]] = []
    risk_frames: list[pd.DataFrame] = []
    first: FirstFold | None = None
    t0 = time.perf_counter()
    for run_seed in seeds:
        for split in cv_splits(
            source_event, n_folds=n_folds, val_fraction=val_fraction, seed=run_seed
        ):
            fold = prepare_fold(cohort, split.train)  # statistics of the training patients only
            data = fold.batch(np.arange(len(cohort)))
            run = run_benchmark_fold(
                data,
                cohort.pathways,
                split.train,
                split.val,
                split.test,
                external_idx,
                spec,
                seed=run_seed,
            )
            rows += [{**r, "fold": split.fold} for r in run.rows]
            risk_frames.append(run.risks.assign(fold=split.fold, seed=run_seed))
            if first is None:
                first = FirstFold(run=run, split=split, fold=fold, data=data)
    if first is None:
        raise ValueError("run_benchmark_cv: no seed given")
    return BenchmarkCV(
        results=tidy_results(rows),
        risks=pd.concat(risk_frames, ignore_index=True),
        first=first,
        seconds=time.perf_counter() - t0,
    )


# ============================================================================================
# Real patients: the omics baselines on TCGA (no slides needed)
# ============================================================================================


def run_real_omics(
    cohort: MultimodalCohort,
    splits: Sequence[Split],
    models: Sequence[str],
    width: int,
    lr: float,
    batch_size: int,
    max_epochs: int,
    patience: int | None,
    seed: int = 0,
    n_boot: int = 200,
) -> list[dict[str, Any]]:
    """The omics baselines of Table 2 (``"SMLP"``, ``"SNN"``, ``"MLP"``) on a real cohort's folds.

    Each fold is standardised with its training patients' statistics, every model is trained
    with the chapter's Cox recipe (:func:`~survlib.models.distill.fit_teacher`: early stopping
    on ``split.val``) and scored once on ``split.test``. Returns one row per model: ``model``,
    ``"C-index (mean ± sd)"`` over folds, ``"95% CI"`` (:func:`survlib.survival.bootstrap_cindex`,
    test patients resampled within each fold), and the numbers ``mean``, ``sd``, ``low``,
    ``high``.
    """
    rows: list[dict[str, Any]] = []
    for name in models:
        per_fold, cs = [], []
        for split in splits:
            fold = prepare_fold(cohort, split.train)  # statistics of the training patients
            data = fold.batch(np.arange(len(cohort)), with_patches=False)
            torch.manual_seed(seed)
            model = build_baseline(name, 1, cohort.pathways, width)
            fit_teacher(
                model,
                data,
                split.train,
                split.val,
                lr=lr,
                batch_size=batch_size,
                max_epochs=max_epochs,
                patience=patience,
                seed=seed,
            )
            risk = predict_risk(model, data, split.test)
            t_te, e_te = cohort.time[split.test], cohort.event[split.test]
            cs.append(concordance(risk, t_te, e_te))
            per_fold.append((risk, t_te, e_te))
        ci = bootstrap_cindex(per_fold, n_boot=n_boot, seed=seed)
        rows.append(
            {
                "model": name,
                "C-index (mean ± sd)": f"{np.mean(cs):.3f} ± {np.std(cs, ddof=1):.3f}",
                "95% CI": f"[{ci['CI low']:.3f}, {ci['CI high']:.3f}]",
                "mean": float(np.mean(cs)),
                "sd": float(np.std(cs, ddof=1)),
                "low": ci["CI low"],
                "high": ci["CI high"],
            }
        )
    return rows


# ============================================================================================
# Table 7: the student's size at a given width
# ============================================================================================


def student_at_width(width: int, d_patch: int = 1024) -> AMKDStudent:
    """The student on ``d_patch``-wide patches at width ``d`` (g2p width ``d``, the hidden widths
    of the head and the pooling ``d / 2``, the ratio the book uses)."""
    return AMKDStudent(
        d_patch,
        width,
        d=width,
        d_enhance=width,
        d_hidden=max(width // 2, 1),
        d_attn=max(width // 2, 1),
    )


def widest_student_within(budget: int, d_patch: int = 1024, lo: int = 8, hi: int = 1024) -> int:
    """The largest multiple of 8 in ``[lo, hi]`` at which :func:`student_at_width` has at most
    ``budget`` parameters (bisection; the count grows with the width)."""
    while hi - lo > 8:
        mid = (lo + hi) // 16 * 8
        lo, hi = (
            (mid, hi) if count_parameters(student_at_width(mid, d_patch)) <= budget else (lo, mid)
        )
    return lo
