"""Chapter 5's experiments (SurvPGC, Hou et al. 2025): the paper's tables rebuilt with one recipe.

Every model of the chapter is a :data:`~survlib.models.MODEL_ZOO` entry trained with the
discrete-time recipe of :mod:`survlib.models.discrete` (:class:`Recipe` holds its schedule and
the cross-validation), or a lifelines Cox model on the clinical covariates
(:func:`cox_clinical_fold`). The functions here run the chapter's loops and return tidy rows or
tables; the notebook glues and shows them.

Simulated cohort
    :func:`run_main_tables` (Tables 1, 2 and 4: every model, one run), :func:`zoo_cv`,
    :func:`paired_bootstrap_folds` (SurvPGC vs SurvPath per fold), :func:`ig_shares`
    (Table 3), :func:`template_count_cv` (Table 5), :func:`authors_protocol_cv` (honest vs
    test-selected epoch of the same run), :func:`attention_on_planted` and
    :func:`top_patch_tissue` (Figure 4)
Real patients
    :func:`load_real_cohorts` and :class:`RealRuns` (Tables 1 and 5 on the authors' TCGA files
    and splits, the exact published protocol), :func:`build_tabular_model` (cohorts without
    slides)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from survlib import explain
from survlib import survival as sv
from survlib.data import tcga
from survlib.data.multimodal import MultimodalCohort, clinical_design_matrix
from survlib.models import MODEL_ZOO, count_parameters, discrete_cv_fold, survpgc_loss
from survlib.text import clinical_prompts, encode_prompts
from survlib.train import Split, cross_validate, seed_everything, summarize, tidy_results

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

#: How the overview table names each input field of a model.
INPUT_LABELS: dict[str, str] = {"patches": "P", "genes": "G", "clinical_tokens": "C (prompts)",
                                "clinical": "C (covariates)"}

#: Headline keys of the real-TCGA rows: key -> (model, prompts) of :attr:`RealRuns.rows`.
REAL_KEYS: dict[str, tuple[str, str]] = {
    "c_cox": ("Cox (clinic)", ""), "c_mlp_authors": ("MLP (clinic)", "authors'"),
    "c_snn_authors": ("SNN (clinic)", "authors'"),
    "c_mlp_book": ("MLP (clinic)", "book templates"),
    "c_mlp_genomic": ("MLP (genomic)", "(RNA)"), "c_snn_genomic": ("SNN (genomic)", "(RNA)")}


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
        return dict(event=event, n_folds=self.n_folds, seeds=list(self.seeds),
                    val_fraction=self.val_fraction, progress=False)


def build_model(name: str, data: Any, width: int) -> nn.Module:
    """The zoo model ``name`` sized for a fold's data (a
    :class:`~survlib.data.multimodal.FoldData`)."""
    return MODEL_ZOO[name](d_patch=data.d_patch or None, pathways=data.pathways,
                           n_genes=data.n_genes, d_text=data.d_text or None,
                           n_clinical=data.n_clinical, n_bins=data.n_bins,
                           n_fields=6 if data.clinical_tokens is None
                           else data.clinical_tokens.shape[1],
                           hidden=width)


def build_tabular_model(name: str, data: Any, width: int) -> nn.Module:
    """A zoo model for a cohort without slides or pathways (genes, covariates, prompt tokens)."""
    return MODEL_ZOO[name](d_patch=None, pathways=None, n_genes=data.n_genes,
                           d_text=data.d_text, n_clinical=data.n_clinical, n_bins=data.n_bins,
                           n_fields=data.clinical_tokens.shape[1], hidden=width)


def model_overview(names: Sequence[str], data: Any, width: int,
                   labels: Mapping[str, str] = INPUT_LABELS) -> pd.DataFrame:
    """Each model's inputs and its parameter count at ``width`` and at the papers' 256."""
    names = list(names)
    return pd.DataFrame(
        {"inputs": [" + ".join(labels[f] for f in build_model(n, data, width).inputs
                               if f in labels) for n in names],
         "parameters (this width)": [count_parameters(build_model(n, data, width))
                                     for n in names],
         "parameters (width 256)": [count_parameters(build_model(n, data, 256))
                                    for n in names]},
        index=names)


# --------------------------------------------------------------------------------------------
# The simulated cohort: Tables 1-5
# --------------------------------------------------------------------------------------------


def cox_clinical_fold(cohort: MultimodalCohort, times: Sequence[float],
                      store: dict | None = None, penalizer: float = 0.1
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
            x.iloc[tr].assign(time=t_all[tr], event=e_all[tr]), "time", "event")
        risk_te = cph.predict_log_partial_hazard(x.iloc[split.test]).to_numpy()
        risk_tr = cph.predict_log_partial_hazard(x.iloc[tr]).to_numpy()
        surv = cph.predict_survival_function(x.iloc[split.test], times=q).T.to_numpy()
        if store is not None:
            store[(run_seed, split.fold)] = {
                "test": split.test, "risk": risk_te, "threshold": float(np.median(risk_tr))}
        t_te, e_te, t_tr, e_tr = t_all[split.test], e_all[split.test], t_all[tr], e_all[tr]
        aucs, mean_auc = sv.td_auc(surv, t_te, e_te, t_tr, e_tr, q)
        out = {"C-index": sv.concordance(risk_te, t_te, e_te)}
        out.update({f"AUC {t:g}m": a for t, a in zip(q, aucs, strict=True)})
        out["iAUC"] = mean_auc
        out["IBS"] = sv.integrated_brier(surv, t_te, e_te, t_tr, e_tr, q)
        return out

    return run


def zoo_cv(names: Sequence[str], cohort: MultimodalCohort, tokens: np.ndarray | None,
           recipe: Recipe, fold_cache: dict | None = None, predictions: dict | None = None,
           build: Callable[[str, Any, int], nn.Module] = build_model, **extra: Any
           ) -> pd.DataFrame:
    """Cross-validate zoo models with the recipe (``extra`` overrides its fit keywords).

    ``predictions[name]`` receives each model's test predictions per ``(seed, fold)`` (for the
    figures, the bootstrap and attribution); ``fold_cache`` shares the prepared folds.
    """
    frames = []
    for name in names:
        store = None if predictions is None else predictions.setdefault(name, {})
        run = discrete_cv_fold(partial(build, name, width=recipe.width), cohort,
                               clinical_tokens=tokens, n_bins=recipe.n_bins,
                               fold_cache=fold_cache, store=store, **{**recipe.fit, **extra})
        frames.append(cross_validate(run, model=name, **recipe.cv(cohort.event)))
    return pd.concat(frames)


def cosine_row_name(beta: float) -> str:
    """The row name of SurvPGC trained with its cosine loss at weight ``beta``."""
    return f"SurvPGC + cosine loss (beta={beta:g})"


def run_main_tables(cohort: MultimodalCohort, tokens: np.ndarray, models: Sequence[str],
                    recipe: Recipe, times: Sequence[float], predictions: dict,
                    fold_cache: dict, cosine_beta: float = 0.0) -> pd.DataFrame:
    """Tables 1, 2 and 4 in one run: the clinical Cox model, every zoo model of ``models`` and,
    with ``cosine_beta > 0``, SurvPGC trained with its cosine loss (:func:`cosine_row_name`).
    Tidy rows of every metric of every fold."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # IPCW notes (see Chapter 1)
        cox = cox_clinical_fold(cohort, times, predictions.setdefault("Cox (clinic)", {}))
        frames = [cross_validate(cox, model="Cox (clinic)", **recipe.cv(cohort.event)),
                  zoo_cv(models, cohort, tokens, recipe, fold_cache, predictions)]
        if cosine_beta > 0:
            run = discrete_cv_fold(partial(build_model, "SurvPGC", width=recipe.width), cohort,
                                   clinical_tokens=tokens, n_bins=recipe.n_bins,
                                   fold_cache=fold_cache,
                                   loss_fn=partial(survpgc_loss, beta=cosine_beta), **recipe.fit)
            frames.append(cross_validate(run, model=cosine_row_name(cosine_beta),
                                         **recipe.cv(cohort.event)))
    return pd.concat(frames)


def paired_bootstrap_folds(runs_a: Mapping, runs_b: Mapping, time: np.ndarray,
                           event: np.ndarray, n_boot: int, seed: int) -> pd.DataFrame:
    """:func:`survlib.survival.paired_bootstrap_cindex` of model A vs model B on each fold's test
    patients (``runs_*``: per ``(seed, fold)`` a dict with ``test`` and ``risk``); the fold's
    resampling seed is ``seed + fold``. One row per fold: ``seed, fold, diff, p, ...``."""
    rows = []
    for (s_, fold), run_a in sorted(runs_a.items()):
        run_b = runs_b[(s_, fold)]
        res = sv.paired_bootstrap_cindex(run_a["risk"], run_b["risk"], time[run_a["test"]],
                                         event[run_a["test"]], n_boot=n_boot, seed=seed + fold)
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
        by_label = explain.modality_attribution(fitted.model, batch, target="label",
                                                n_steps=n_steps).filter(like="share[").mean()
        rows.append({"seed": s, "fold": fold,
                     **{c[6:-1]: v for c, v in shares.items()},
                     **{c[6:-1] + " (label)": v for c, v in by_label.items()},
                     "max completeness gap": float(attribution["delta"].abs().max())})
    return pd.DataFrame(rows)


def template_count_cv(cohort: MultimodalCohort, counts: Sequence[int], encoder: Any,
                      recipe: Recipe, seed: int, model: str = "MLP (clinic)"
                      ) -> tuple[pd.DataFrame, dict[int, np.ndarray]]:
    """Table 5: ``model`` on prompts built from ``N_t`` templates per field, for each ``N_t`` of
    ``counts``. Returns the summary (rows ``"N_t = n"``) and the prompt tokens of each ``N_t``."""
    frames, tokens = [], {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for n_t in counts:
            tokens[n_t] = encode_prompts(clinical_prompts(cohort.clinical, n_templates=n_t,
                                                          seed=seed), encoder)
            run = discrete_cv_fold(partial(build_model, model, width=recipe.width), cohort,
                                   clinical_tokens=tokens[n_t], n_bins=recipe.n_bins,
                                   **recipe.fit)
            frames.append(cross_validate(run, model=f"N_t = {n_t}", **recipe.cv(cohort.event)))
    return summarize(pd.concat(frames)), tokens


def authors_protocol_cv(names: Sequence[str], cohort: MultimodalCohort, tokens: np.ndarray,
                        recipe: Recipe, fold_cache: dict, epochs: int, min_epoch: int,
                        lr: float) -> pd.DataFrame:
    """The authors' fixed schedule (``epochs`` epochs, no early stopping, C-index selection from
    ``min_epoch`` on) with both selections read from the same run: the honest epoch (validation)
    and the test-selected one (:func:`~survlib.models.protocol_comparison`)."""
    frames = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for name in names:
            run = discrete_cv_fold(partial(build_model, name, width=recipe.width), cohort,
                                   clinical_tokens=tokens, n_bins=recipe.n_bins,
                                   fold_cache=fold_cache, protocol="both",
                                   protocol_min_epoch=min_epoch,
                                   **{**recipe.fit, "max_epochs": epochs, "patience": None,
                                      "lr": lr, "select_metric": "cindex"})
            frames.append(cross_validate(run, model=name, **recipe.cv(cohort.event)))
    return pd.concat(frames)


# --------------------------------------------------------------------------------------------
# Figure 4: where the clinical and genomic queries look
# --------------------------------------------------------------------------------------------

_MAPS = ("clinic->pathology", "genomics->pathology")


def attention_on_planted(model: nn.Module, data: Any, patients: Sequence[int],
                         patch_types: Sequence[np.ndarray], planted: Sequence[int]
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


def top_patch_tissue(model: nn.Module, data: Any, patients: Sequence[int],
                     patch_types: Sequence[np.ndarray], type_names: Sequence[str], top_k: int
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
    table = pd.DataFrame({
        f"{m} (simulated)": pd.Series(v).map(dict(enumerate(type_names)))
        .value_counts(normalize=True) for m, v in top_types.items()}).fillna(0.0).mul(100).round(1)
    table.index.name = "tissue type (% of each map's top patches)"
    return table, float(np.mean(overlap))


# --------------------------------------------------------------------------------------------
# Real patients: the authors' TCGA tables and splits
# --------------------------------------------------------------------------------------------


def load_real_cohorts(cohorts: Sequence[str], val_fraction: float, seed: int
                      ) -> tuple[dict[str, dict[str, Any]], pd.DataFrame]:
    """Each real cohort (one row per patient, ``N_t = 1`` prompts) with its honest splits, and
    its genomic cohort and splits where it has RNA; and a table describing them (sizes, the
    released split files' ``val == test``, patients in no test fold, who was dropped)."""
    info: dict[str, dict[str, Any]] = {}
    rows = []
    for c in cohorts:
        real_c = tcga.load_cohort(c, n_templates=1, rna=False)
        honest = tcga.load_splits(real_c, protocol="honest", val_fraction=val_fraction,
                                  seed=seed)
        split_table = tcga.describe_splits(tcga.split_files(c))
        row = real_c.summary().drop(columns=["genes", "pathways"])
        row["val == test in all split files"] = bool(split_table["val == test"].all())
        row["patients in no test fold"] = len(real_c) - len(
            set(np.concatenate([s.test for s in honest])))
        info[c] = {"cohort": real_c, "honest": honest}
        if c in tcga.RNA_COHORTS:
            real_g = tcga.load_cohort(c, n_templates=None, rna=True)
            info[c].update(genomic=real_g, honest_g=tcga.load_splits(
                real_g, protocol="honest", val_fraction=val_fraction, seed=seed))
            row["with RNA"] = len(real_g)
            row["pathways"] = real_g.pathways.n_pathways
            drops = real_g.attrs["dropped"]
        else:
            drops = real_c.attrs["dropped"]
        row["dropped (no RNA)"] = int((drops["reason"] == "no rna row").sum())
        rows.append(row.rename(index=lambda i: f"{i} (real)"))
    return info, pd.concat(rows).T if rows else pd.DataFrame()


def _real_cox_fold(cohort: MultimodalCohort, store: dict, penalizer: float = 0.1
                   ) -> Callable[[Split, int], dict[str, float]]:
    """run_fold of a lifelines Cox model on the clinical covariates (no epochs to select)."""
    from lifelines import CoxPHFitter

    x_all = clinical_design_matrix(cohort.clinical)
    t_all, e_all = cohort.time, cohort.event

    def run(split: Split, run_seed: int) -> dict[str, float]:
        tr = np.concatenate([split.train, split.val])
        sd = x_all.iloc[tr].std()
        cols = sd.index[sd > 0]  # a category absent from the training fold is dropped
        x = (x_all[cols] - x_all[cols].iloc[tr].mean()) / sd[cols]
        cph = CoxPHFitter(penalizer=penalizer).fit(
            x.iloc[tr].assign(time=t_all[tr], event=e_all[tr]), "time", "event")
        risk = cph.predict_log_partial_hazard(x.iloc[split.test]).to_numpy()
        store[(run_seed, split.fold)] = {"test": split.test, "risk": risk}
        c = sv.concordance(risk, t_all[split.test], e_all[split.test])
        return {"C-index": c, "C-index (test-selected)": c, "optimism": 0.0}

    return run


@dataclass
class RealRuns:
    """The real-TCGA section: its schedule, and the rows of its tables as they are computed.

    Attributes:
        recipe: the recipe with the authors' fixed schedule in ``fit``.
        min_epoch: the first selectable epoch of the test-selected reading.
        n_folds: how many of the authors' five folds are used.
        n_boot: bootstrap replicates of each honest C-index's 95 % CI.
        seed: seeds every fold (one seed), the CIs and the book's templates.
        paper: ``(model, cohort) -> the paper's C-index text`` (``""`` where it has none).
        rows: Table 1's rows (:meth:`record` appends), one dict per cohort, model and prompts.
    """

    recipe: Recipe
    min_epoch: int
    n_folds: int
    n_boot: int
    seed: int
    paper: Callable[[str, str], str] = lambda model, cohort: ""
    rows: list[dict[str, Any]] = field(default_factory=list)

    def run_on_splits(self, run_fold: Callable, splits: Sequence[Split], model: str
                      ) -> pd.DataFrame:
        """run_fold on the first ``n_folds`` of ``splits`` (one seed), as tidy rows."""
        rows = []
        for split in list(splits)[:self.n_folds]:
            seed_everything(self.seed)
            rows += [{"model": model, "fold": split.fold, "seed": self.seed, "metric": k,
                      "value": v} for k, v in run_fold(split, self.seed).items()]
        return tidy_results(rows)

    def record(self, cohort_name: str, cohort: MultimodalCohort, model: str,
               frame: pd.DataFrame, store: dict, prompts_from: str = "",
               rows: list[dict[str, Any]] | None = None) -> None:
        """Append one row: honest mean ± sd with its bootstrap CI, test-selected, the paper's."""
        s = summarize(frame).set_index("metric")
        folds = [(v["risk"], cohort.time[v["test"]], cohort.event[v["test"]])
                 for v in store.values()]
        ci = sv.bootstrap_cindex(folds, n_boot=self.n_boot, seed=self.seed)
        (self.rows if rows is None else rows).append({
            "cohort": f"TCGA-{cohort_name.upper()}", "model": model, "prompts": prompts_from,
            "C-index (honest)": s.loc["C-index", "mean ± sd"],
            "95% CI": f"[{ci['CI low']:.3f}, {ci['CI high']:.3f}]",
            "C-index (test-selected)": s.loc["C-index (test-selected)", "mean ± sd"],
            "optimism (points)": round(100 * s.loc["optimism", "mean"], 1),
            "paper": self.paper(model, cohort_name),
            "mean": s.loc["C-index", "mean"], "sd": s.loc["C-index", "sd"],
            "low": ci["CI low"], "high": ci["CI high"],
            "test-selected": s.loc["C-index (test-selected)", "mean"]})

    def tracked(self, name: str, cohort: MultimodalCohort, tokens: np.ndarray | None,
                splits: Sequence[Split]) -> tuple[pd.DataFrame, dict]:
        """One tracked run per fold: the honest and the test-selected epoch of the same
        training. Returns the tidy rows and the per-fold test predictions."""
        store: dict = {}
        run = discrete_cv_fold(partial(build_model, name, width=self.recipe.width), cohort,
                               clinical_tokens=tokens, n_bins=self.recipe.n_bins, store=store,
                               protocol="both", protocol_min_epoch=self.min_epoch,
                               **self.recipe.fit)
        return self.run_on_splits(run, splits, name), store

    def table1(self, cohorts: Sequence[str], info: Mapping[str, dict], encoder: Any
               ) -> list[dict[str, Any]]:
        """Table 1's clinical and genomic rows on each real cohort (appended to :attr:`rows`):
        the Cox model on the covariates, MLP and SNN on the authors' and on the book's
        prompts, MLP and SNN on the RNA where the cohort has it. Returns the runs that Table 5
        reuses (``N_t = 1``: the MLP on the authors' prompts)."""
        t5_runs: list[dict[str, Any]] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # IPCW notes (see Chapter 1)
            for c in cohorts:
                real_c, honest = info[c]["cohort"], info[c]["honest"]
                cox_store: dict = {}
                frame = self.run_on_splits(_real_cox_fold(tcga.clinical_covariates(real_c),
                                                          cox_store), honest, "Cox (clinic)")
                self.record(c, real_c, "Cox (clinic)", frame, cox_store)
                tok_authors = encode_prompts(real_c.clinical[tcga.prompt_fields(real_c)],
                                             encoder)
                tok_book = encode_prompts(tcga.book_prompts(real_c, n_templates=1,
                                                            seed=self.seed), encoder)
                for source, toks in (("authors'", tok_authors), ("book templates", tok_book)):
                    for name in ("MLP (clinic)", "SNN (clinic)"):
                        frame, store = self.tracked(name, real_c, toks, honest)
                        self.record(c, real_c, name, frame, store, source)
                        if source == "authors'" and name == "MLP (clinic)":
                            t5_runs.append({"cohort": c, "N_t": 1, "frame": frame,
                                            "store": store})
                if "genomic" in info[c]:
                    real_g, honest_g = info[c]["genomic"], info[c]["honest_g"]
                    for name in ("MLP (genomic)", "SNN (genomic)"):
                        frame, store = self.tracked(name, real_g, None, honest_g)
                        self.record(c, real_g, name, frame, store, "(RNA)")
        return t5_runs

    def table5(self, cohorts: Sequence[str], info: Mapping[str, dict], counts: Sequence[int],
               t5_runs: list[dict[str, Any]], encoder: Any,
               paper: Callable[[int, str], str]) -> list[dict[str, Any]]:
        """Table 5 on real patients: the MLP on the authors' prompts from ``N_t`` templates per
        field, for each ``N_t`` of ``counts`` (``N_t = 1`` reused from ``t5_runs``, which is
        extended). Returns the rows, ``paper(N_t, cohort)`` as their paper column."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            for c in cohorts:
                honest = info[c]["honest"]
                for n_t in counts:
                    if n_t == 1 and any(r["cohort"] == c and r["N_t"] == 1 for r in t5_runs):
                        continue  # the Table 1 run
                    cohort_nt = tcga.load_cohort(c, n_templates=n_t, rna=False)
                    if list(cohort_nt.clinical.index) != list(info[c]["cohort"].clinical.index):
                        raise RuntimeError(f"TCGA-{c.upper()}: the N_t = {n_t} prompts cover "
                                           f"other patients than N_t = 1")
                    toks = encode_prompts(cohort_nt.clinical[tcga.prompt_fields(cohort_nt)],
                                          encoder)
                    frame, store = self.tracked("MLP (clinic)", cohort_nt, toks, honest)
                    t5_runs.append({"cohort": c, "N_t": n_t, "frame": frame, "store": store})
        records: list[dict[str, Any]] = []
        for r in sorted(t5_runs, key=lambda r: (list(cohorts).index(r["cohort"]), r["N_t"])):
            self.record(r["cohort"], info[r["cohort"]]["cohort"], f"N_t = {r['N_t']}",
                        r["frame"], r["store"], rows=records)
            records[-1]["paper"] = paper(r["N_t"], r["cohort"])
        return records

    def published(self, cohorts: Sequence[str], info: Mapping[str, dict], encoder: Any,
                  model: str = "MLP (clinic)") -> list[dict[str, Any]]:
        """The exact published protocol for ``model`` on the authors' prompts: trained on the
        whole training column, the epoch selected on the test fold
        (``tcga.load_splits(..., protocol="published")``), beside the honest row of
        :attr:`rows`. One row per cohort (``"published mean"``: the number)."""
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            for c in cohorts:
                real_c = info[c]["cohort"]
                published = tcga.load_splits(real_c, protocol="published")
                toks = encode_prompts(real_c.clinical[tcga.prompt_fields(real_c)], encoder)
                store: dict = {}
                run = discrete_cv_fold(partial(build_model, model, width=self.recipe.width),
                                       real_c, clinical_tokens=toks, n_bins=self.recipe.n_bins,
                                       store=store,
                                       **{**self.recipe.fit, "min_epoch": self.min_epoch})
                s = summarize(self.run_on_splits(run, published, model)).set_index("metric")
                honest_row = next(r for r in self.rows if r["cohort"] == f"TCGA-{c.upper()}"
                                  and r["model"] == model and r["prompts"] == "authors'")
                out.append({
                    "cohort": f"TCGA-{c.upper()}", "honest": honest_row["C-index (honest)"],
                    "published (exact)": s.loc["C-index", "mean ± sd"],
                    "optimism (points)": round(100 * (s.loc["C-index", "mean"]
                                                      - honest_row["mean"]), 1),
                    "paper": self.paper(model, c),
                    "published mean": s.loc["C-index", "mean"]})
        return out
