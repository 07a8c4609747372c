# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2. scSurvival: survival at single-cell resolution
#
# **Question.** Can a survival model read a patient's prognosis from the *cells* of their tumour
# and, at the same time, point at the cells that drive it? scSurvival (Cancer Discovery, 2026)
# answers with two modules: a zero-inflated Gaussian variational autoencoder (ZIG-VAE) that
# gives every cell a batch-corrected embedding, and an attention-based multiple-instance Cox
# regression (AMICR) that pools a patient's cells into a patient representation, scores it with
# a Cox model, and leaves behind a per-cell attention and an attention-adjusted hazard score.
# The paper reports, in its hardest simulation (risk cells hidden inside a large cluster),
# precision 0.90, recall 0.97 and F1 0.931 for finding the risk-driving cells.
#
# **Data.** Everything in this chapter is *simulated* or *semi-synthetic*: simulated cohorts
# from `survlib.data.simulate_sc_cohort` (over-dispersed, zero-inflated counts with batch
# effects and planted higher- and lower-risk cells, so the truth is known), and a
# *semi-synthetic* cohort of real PBMCs (scanpy's bundled `pbmc68k_reduced`) resampled into
# pseudo-patients whose simulated survival depends on one real cell population.
#
# **What you will see.** The model and its training procedure (pretrain the VAE → train AMICR →
# jointly fine-tune); UMAPs of the simulated cells before and after batch correction; the
# per-cell hazard score; risk-cell precision / recall / F1 in three simulated settings over
# several seeds, beside the paper's numbers and a supervised reference; the baselines the
# paper argues against (pseudobulk Cox, cell-type-proportion Cox, attention-MIL Cox without the
# VAE) under the book's cross-validation protocol; and the semi-synthetic PBMC cohort.
#
# **Prerequisites.** Chapter 1 (Cox partial likelihood, C-index, cross-validation); AnnData and
# scanpy basics; attention-based multiple-instance learning.

# %% [markdown]
# :::{admonition} Run it yourself
# :class: tip
# This chapter has one source file, {download}`02_scsurvival.py <../../notebooks/02_scsurvival.py>`
# (jupytext: Jupyter opens it as a notebook); the download button at the top of the page gives
# the executed notebook (`.ipynb`). From a checkout of the book (`make install` once):
#
# ```bash
# .venv/bin/survlib run 02 --profile smoke
# .venv/bin/survlib run 02 --profile book
# .venv/bin/survlib run 02 --profile paper
# .venv/bin/survlib params 02
# ```
#
# `smoke` runs tiny data (the CI check, exercises included), `book` is what this page shows
# (computed on a 2-core CPU), `paper` runs at paper scale (a GPU and real data where present);
# `params` lists what `-p NAME VALUE` can change.
#
# The executed notebook lands in `book/executed/`. How long this build took and with which
# parameters: the {ref}`run record <02_scsurvival-run-record>` at the end of the chapter, and the
# {doc}`reproducibility report <run_report>` for every chapter of this build.
# :::

# %% tags=["parameters"]
seed = 0  # master seed (simulation and training seeds derive from it)
n_patients = 120  # simulated patients per cohort
cells_per_patient = 80  # typical cells per patient (varies across patients)
n_genes = 300  # genes per simulated cohort
umis_per_cell = 5000  # mean UMIs (total counts) per simulated cell
settings = "distinct,substate,hardest,hardest-ordered,hardest-shallow"  # rows of the P/R/F1 table (see VARIANTS)
n_seeds = 3  # seeds per setting for the P/R/F1 table
walkthrough_setting = "hardest"  # setting of the walk-through and the baselines
n_folds = 3  # cross-validation folds of the baseline comparison
cv_seeds = 1  # repetitions of the cross-validation
umap_cells = 3000  # cells drawn for the UMAP figures
pbmc_patients = 60  # pseudo-patients of the semi-synthetic PBMC cohort
pbmc_cells = 120  # typical cells per pseudo-patient
covariate_effect = 0.5  # simulated log-hazard per 10 years of age in the covariate section
preset = "fast"  # ScSurvival preset of every model here: "fast" (ours) or "authors" (the paper profile)
quick = False  # smoke runs only: shrink the training budgets (the book uses model.train() defaults)
threads = 1  # torch CPU threads (0: torch's default); 1 avoids thread oversubscription on a shared CPU

# %%
from survlib.bench import limit_cpu_threads

limit_cpu_threads(threads)  # before numpy, torch and numba start their thread pools
import time
import warnings
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scanpy as sc

from survlib import survival as sv
from survlib.book import glue, headlines
from survlib.data.sc import semi_synthetic_pbmc_cohort, simulate_sc_cohort
from survlib.explain import (
    batch_mixing,
    identify_risk_cells,
    risk_cell_metrics,
    supervised_risk_cell_probe,
)
from survlib.models.sc import PRESETS, ScSurvival
from survlib.models.sc_baselines import CellTypeProportionCox, PseudobulkCox
from survlib.plots import results_table
from survlib.runner import read_notebook, resolve_notebook, resolve_parameters
from survlib.train import cross_validate, pick_device, seed_everything, summarize

warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=UserWarning)
seed_everything(seed)
SETTINGS = [s.strip() for s in settings.split(",") if s.strip()]
# smoke runs shrink the step budgets; the book profile leaves every training option at its default
TRAIN = dict(pretrain_steps=400, amicr_steps=150, finetune_steps=10) if quick else {}
device = pick_device("auto")
glue("device", str(device))


def simulate(setting: str, sim_seed: int, **options):
    """One simulated cohort (the same call everywhere in this chapter)."""
    options = {"library_size": umis_per_cell, **options}
    return simulate_sc_cohort(n_patients, cells_per_patient, n_genes, setting, sim_seed, **options)


#: Rows of the P/R/F1 table: a label, the simulation setting and simulator options.
VARIANTS = {
    "distinct": ("distinct", "distinct", {}),
    "substate": ("substate", "substate", {}),
    "hardest": ("hardest", "hardest", {}),
    "hardest-ordered": ("hardest, authors' survival design", "hardest", {"survival": "ordered", "censoring_rate": 0.1}),
    "hardest-shallow": ("hardest, 1000 UMIs per cell", "hardest", {"library_size": 1000}),
}
unknown = [v for v in SETTINGS if v not in VARIANTS]
if unknown:
    raise ValueError(f"unknown entries in settings: {unknown}; choose from {list(VARIANTS)}")


# %% [markdown]
# ## A simulated cohort
#
# The simulator follows the authors' design (neutral, higher-risk and lower-risk cells pooled
# into patients whose hazard grows with the share of higher-risk cells and falls with the share
# of lower-risk cells), with variable cells per patient, two batches, exponential survival times
# in months and about 30 % random censoring. In the *hardest* setting the risk cells are not a
# cluster: they are cells of the largest cell type with a small gene programme shifted. Cells
# carry {glue:text}`umis_per_cell` UMIs on average, the depth of a well-sequenced 10x v3 cell
# (Splatter's default, which the authors used, is deeper still: a mean library of about
# $e^{11} \approx$ 60 000 counts); the table below also shows what a shallower 1000 UMIs does.

# %%
t0 = time.perf_counter()
adata = simulate(walkthrough_setting, seed)
patients = adata.uns["patients"]
glue("n_cells", adata.n_obs)
glue("umis_per_cell", umis_per_cell)
glue("n_patients", adata.uns["simulation"]["n_patients"])
glue("n_genes", adata.n_vars)
glue("censored_pct", 100 * (1 - patients["event"].mean()), fmt=".1f")
glue("true_risk_cindex", sv.concordance(patients["true_risk"], patients["time"], patients["event"]), fmt=".3f")
adata.obs[["risk_group", "cell_type"]].value_counts().unstack(fill_value=0)

# %% [markdown]
# The *simulated* cohort has {glue:text}`n_cells` cells from {glue:text}`n_patients` patients
# ({glue:text}`n_genes` genes, {glue:text}`censored_pct:.1f` % censored). Even the planted true
# risk ranks the patients only to a C-index of {glue:text}`true_risk_cindex:.3f`: survival times
# are random given the risk, as in real cohorts. (The authors' simulation set patient $i$'s
# survival time to $i$, a perfectly ordered outcome; that makes their task easier than ours.)
#
# ## The model
#
# **ZIG-VAE.** The encoder sees each cell's log-normalised expression (we standardise genes
# instead of the authors' per-cell layer norm, so weakly expressed programme genes are not
# drowned); the decoder receives the batch at every layer, so the latent code does not need to
# carry it — this is what makes the embedding batch-corrected. The likelihood is a zero-inflated
# Gaussian with one variance per gene:
#
# ```{literalinclude} ../../survlib/models/sc/vae.py
# :pyobject: zig_nll
# ```
#
# **AMICR.** Multi-head gated attention, a softmax over the cells *of each patient* (padding
# masked), one projection per head, a hazard network, the Cox partial likelihood over the
# patients of a minibatch (Efron ties, from `survlib.survival`) and the entropy penalty
# $\operatorname{relu}(\bar H - 0.7)$ that favours sparse attention:
#
# ```{literalinclude} ../../survlib/models/sc/amicr.py
# :pyobject: AMICR
# ```
#
# ```{literalinclude} ../../survlib/models/sc/amicr.py
# :pyobject: attention_entropy
# ```
#
# **Choices where the paper is silent, and why.** (1) The patients' pooled representations
# differ only by small shifts — a few percent of cells change state — so we standardise them
# across the patients of a batch (batch norm) before the hazard network; without it the
# network learned the planted signal far more slowly in our trials. (2) The Cox likelihood
# leaves the level of the hazard network free, so a per-cell hazard is reported *relative to the
# typical cell* (the median over training cells); the attention-adjusted hazard score is the
# cell's attention times that
# relative hazard. (3) The fast default trains on minibatches of 32 patients with 128 cells
# sampled per patient and step, holds out 20 % of the patients for early stopping (when that
# makes at least `min_validation_patients` patients) and afterwards refits on every training
# patient for `refit_steps` fine-tuning steps (chapter 3 shows why), and caps the VAE
# pretraining at 2000 minibatches and, on small cohorts, at 100 passes over the cells (chapter 3
# again); the authors' configuration (one
# full-cohort gradient step per fine-tuning epoch) is the named preset `"authors"`, compared in
# the next chapter.

# %%
pd.DataFrame({"fast (default)": PRESETS["fast"].to_dict(), "authors": PRESETS["authors"].to_dict()}).loc[
    ["n_latent", "n_hidden", "n_heads", "pretrain_steps", "pretrain_epochs", "amicr_steps", "finetune_steps",
     "patient_batch_size", "cells_per_patient", "lr", "encoder_lr_factor", "lambda_rec", "lambda_entropy",
     "entropy_threshold", "validation_fraction", "min_validation_patients", "refit_steps", "pool_norm"]
]

# %% [markdown]
# The training schedule: the authors' published defaults (their code, scSurvival v1.3; the
# article states none), the `book` profile (preset `"fast"`) and the `paper` profile (preset
# `"authors"`):

# %%
def _schedule(c) -> dict[str, str]:
    pre = (f"{c.pretrain_epochs:g} epochs" if c.pretrain_steps is None
           else f"{c.pretrain_steps} minibatches of {c.cell_batch_size} cells"
           + ("" if c.pretrain_epochs is None else f", at most {c.pretrain_epochs:g} passes"))
    batch = "all patients, every cell" if c.patient_batch_size is None else (
        f"{c.patient_batch_size} patients x {c.cells_per_patient} cells")
    stop = "validation Cox loss" if c.validation_fraction > 0 else "smoothed training loss"
    return {"ZIG-VAE pretraining": pre,
            "AMICR on frozen embeddings (steps)": str(c.amicr_steps),
            "joint fine-tuning (steps, max)": str(c.finetune_steps),
            "refit on every patient (steps)": str(c.refit_steps if c.validation_fraction > 0 else 0),
            "one step": batch,
            "patience / monitored": f"{c.patience} / {stop}",
            "learning rate (encoder factor) / weight decay":
                f"{c.lr:g} ({c.encoder_lr_factor:g}x) / AdamW {c.weight_decay:g}"}


_profiles = {p: resolve_parameters(read_notebook(resolve_notebook("02_scsurvival")), "02_scsurvival", p,
                                   None)[1]["preset"] for p in ("book", "paper")}
pd.DataFrame({
    "authors' published defaults": {
        "ZIG-VAE pretraining": "200 epochs", "AMICR on frozen embeddings (steps)": "0 (none)",
        "joint fine-tuning (steps, max)": "500 epochs, one full-cohort step each",
        "one step": "all patients, every cell", "patience / monitored": "100 / training loss",
        "learning rate (encoder factor) / weight decay": "0.001 (0.1x) / AdamW 0.01"},
    **{f"`{p}` profile (preset {v!r})": _schedule(PRESETS[v]) for p, v in _profiles.items()},
    f"this run (preset {preset!r}{', quick' if quick else ''})":
        _schedule(replace(PRESETS[preset], **TRAIN)),
})

# %% [markdown]
# ## Training: pretrain → AMICR → joint fine-tuning

# %%
ScSurvival.setup_anndata(adata, patient_key="patient_id", time_key="time", event_key="event", batch_key="batch")
model = ScSurvival(adata, preset=preset)  # the book: preset="fast"
model.train(seed=seed, progress=False, **TRAIN)
risk = model.predict_risk(adata)  # also writes obsm["X_zigvae"], obs["attention"], obs["hazard_score"]
val = risk.loc[model.validation_patients_ or list(risk.index)]  # all if none held out
glue("walk_train_seconds", sum(model.timings.values()), fmt=".0f")
glue("walk_val_cindex", sv.concordance(val["risk"], val["time"], val["event"]), fmt=".3f")
glue("walk_true_corr", np.corrcoef(risk["risk"], patients.loc[risk.index, "true_risk"])[0, 1], fmt=".3f")
fig, axes = plt.subplots(1, 3, figsize=(12, 3))
for ax, stage in zip(axes, ["pretrain", "amicr_val", "finetune_val"], strict=True):
    ax.plot(model.history.get(stage, []))
    ax.set(title=stage.replace("_val", " (validation Cox loss)"), xlabel="check")
plt.tight_layout()

# %% [markdown]
# Training took {glue:text}`walk_train_seconds:.0f` s on the {glue:text}`device`. On the
# patients held out for early stopping the patient risk reaches a C-index of
# {glue:text}`walk_val_cindex:.3f`, and over all patients it correlates
# {glue:text}`walk_true_corr:.3f` with the planted true risk.
#
# ## Batch correction
#
# Left: a standard PCA → UMAP of log-normalised expression; right: UMAP of the ZIG-VAE
# embedding. Top row coloured by batch, bottom row by the planted risk group (simulated cells).

# %%
rng = np.random.default_rng(seed)
sub = np.sort(rng.choice(adata.n_obs, min(umap_cells, adata.n_obs), replace=False))
view = adata[sub].copy()
sc.pp.normalize_total(view, target_sum=1e4)
sc.pp.log1p(view)
sc.pp.pca(view, n_comps=30, random_state=seed)
before = view.obsm["X_pca"].copy()
sc.pp.neighbors(view, use_rep="X_pca", random_state=seed)
sc.tl.umap(view, random_state=seed)
view.obsm["X_umap_expr"] = view.obsm["X_umap"].copy()
sc.pp.neighbors(view, use_rep="X_zigvae", random_state=seed)
sc.tl.umap(view, random_state=seed)
fig, axes = plt.subplots(2, 2, figsize=(10, 9))
for col, basis in enumerate(["umap_expr", "umap"]):
    for row, key in enumerate(["batch", "risk_group"]):
        sc.pl.embedding(view, basis=basis, color=key, ax=axes[row, col], show=False, size=8,
                        title=f"{'expression PCA' if col == 0 else 'ZIG-VAE'}: {key}")
plt.tight_layout()
glue("mixing_before", batch_mixing(before, view.obs["batch"]), fmt=".3f")
glue("mixing_after", batch_mixing(view.obsm["X_zigvae"], view.obs["batch"]), fmt=".3f")

# %% [markdown]
# Batch mixing (the share of a cell's 15 nearest neighbours from another batch, divided by the
# share expected under perfect mixing; 1 = perfectly mixed) is {glue:text}`mixing_before:.3f`
# in expression space and {glue:text}`mixing_after:.3f` in the ZIG-VAE space.
#
# ## Per-cell hazard scores
#
# Each cell gets an attention $a_i = \max_h \sigma(s_{ih})$ and an attention-adjusted hazard
# score. Ours is the attention times the log hazard ratio of a patient made of copies of this
# cell against the typical training cell, $a_i\,(f([P_h z_i]_h) - \text{ref})$. The authors'
# code (`predict_cells`, its "hazard_adj") gates *each head's* projection by that head's own
# attention before the hazard network, $f([\sigma(s_{ih})\, P_h z_i]_h)$, and reads its sign
# against 0. The two agree (up to the reference level) only when every head gives a cell the
# same attention and $f$ is linear; with four heads and an MLP they are different scores, so
# `cell_scores(..., form="authors")` computes the authors' one too (tested against a hand
# computation), and the risk-cell table below reports both.
#
# ```{literalinclude} ../../survlib/models/sc/amicr.py
# :pyobject: AMICR.cell_scores
# ```

# %%
view.obs["hazard_score"] = adata.obs["hazard_score"].to_numpy()[sub]
view.obs["attention"] = adata.obs["attention"].to_numpy()[sub]
lim = float(np.quantile(np.abs(view.obs["hazard_score"]), 0.98))
fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
sc.pl.umap(view, color="hazard_score", cmap="RdBu_r", vmin=-lim, vmax=lim, ax=axes[0], show=False, size=8)
sc.pl.umap(view, color="attention", ax=axes[1], show=False, size=8)
sc.pl.umap(view, color="risk_group", ax=axes[2], show=False, size=8)
plt.tight_layout()
adata.obs.groupby("risk_group", observed=True)[["attention", "hazard_score"]].mean()

# %% [markdown]
# ## Finding the risk cells
#
# `identify_risk_cells` (in `survlib.explain`, one layer above the model) turns scores into
# calls. Our default rule first averages each cell's
# hazard score over its 30 nearest neighbours in the ZIG-VAE embedding (cells in the same
# state share a neighbourhood, so this removes per-cell noise without mixing states), then
# splits the *absolute* smoothed score with a 1-D 2-means: cells at or above the midpoint of the
# two cluster centres are risk-associated, higher-risk when the score is positive and
# lower-risk when negative. The authors' rule splits the *attention* instead and uses the sign
# of the hazard score. The table reports both, and our rule without the smoothing, so the
# effect of each choice is visible. (We chose the default on simulated cohorts of this
# chapter's kind with seeds 0-2; the table uses seeds 100 and up: with our model the attention separates
# risk cells from neutral ones less sharply than the hazard score does.)
#
# ```{literalinclude} ../../survlib/explain/risk_cells.py
# :pyobject: identify_risk_cells
# ```
#
# Precision and recall are reported two ways: as binary scores for the higher-risk cells, and
# in the authors' definition — averaged over the three classes (higher / lower / neutral), with
# $F_1 = 2PR/(P+R)$ from those averages. Every run below is `ScSurvival(adata).train()` with its
# defaults. Beside it, a *supervised* logistic-regression probe that is told every cell's true
# group (3-fold cross-validation over cells) shows how separable the planted cells are from
# expression at all. It is a reference, not a bound (a non-linear model could do better), but a
# model that learns only from survival outcomes should not be expected to beat it.

# %%
rows = []
for key in SETTINGS:
    label, setting, options = VARIANTS[key]
    for k in range(n_seeds):
        run_seed = 100 + seed + k  # seeds never used while developing the model and the rule
        cohort = simulate(setting, run_seed, **options)
        ScSurvival.setup_anndata(cohort)
        m = ScSurvival(cohort, preset=preset)
        m.train(seed=run_seed, progress=False, **TRAIN)
        authors_rule = identify_risk_cells(m, cohort, rule="authors").copy()
        unsmoothed = identify_risk_cells(m, cohort, smooth_neighbors=1, recompute=False).copy()
        per_head = identify_risk_cells(m, cohort, recompute=False, hazard_form="authors").copy()
        authors_all = identify_risk_cells(m, cohort, rule="authors", recompute=False,
                                          hazard_form="authors").copy()
        identify_risk_cells(m, cohort, recompute=False)  # our default rule
        for method, pred in [("scSurvival", cohort.obs["predicted_risk_group"]),
                             ("scSurvival, no smoothing", unsmoothed),
                             ("scSurvival, authors' rule", authors_rule),
                             ("scSurvival, authors' per-head score", per_head),
                             ("scSurvival, authors' rule + per-head score", authors_all),
                             ("supervised probe", supervised_risk_cell_probe(cohort, seed=run_seed))]:
            scores = risk_cell_metrics(cohort.obs["risk_group"], pred)
            rows += [{"model": f"{label}: {method}", "fold": 0, "seed": run_seed, "metric": k2, "value": v}
                     for k2, v in scores.items()]
prf = summarize(pd.DataFrame(rows))
wide = results_table(prf)[["macro_precision", "macro_recall", "macro_f1", "binary_precision", "binary_recall", "binary_f1"]]
wide["paper (P / R / F1)"] = ["0.90 / 0.97 / 0.931" if i.startswith("hardest") and i.endswith(": scSurvival") else ""
                              for i in wide.index]
wide.columns = [f"{c} (ours, simulated)" if not c.startswith("paper") else
                "paper, its simulation (P / R / F1)" for c in wide.columns]
wide

# %%
def _stat(key: str, method: str, metric: str, stat: str = "mean") -> float:
    label = VARIANTS[key][0]
    r = prf[(prf["model"] == f"{label}: {method}") & (prf["metric"] == metric)]
    return float(r[stat].iloc[0]) if len(r) else float("nan")


for key in VARIANTS:  # NaN for a row this run left out
    name = key.replace("-", "_")
    for metric in ["macro_precision", "macro_recall", "macro_f1", "binary_f1"]:
        glue(f"{name}_{metric}", _stat(key, "scSurvival", metric), fmt=".3f")
        glue(f"{name}_{metric}_sd", _stat(key, "scSurvival", metric, "sd"), fmt=".3f")
    glue(f"{name}_authors_rule_macro_f1", _stat(key, "scSurvival, authors' rule", "macro_f1"), fmt=".3f")
    glue(f"{name}_unsmoothed_macro_f1", _stat(key, "scSurvival, no smoothing", "macro_f1"), fmt=".3f")
    glue(f"{name}_perhead_macro_f1", _stat(key, "scSurvival, authors' per-head score", "macro_f1"), fmt=".3f")
    glue(f"{name}_authors_pipeline_macro_f1",
         _stat(key, "scSurvival, authors' rule + per-head score", "macro_f1"), fmt=".3f")
    glue(f"{name}_probe_macro_f1", _stat(key, "supervised probe", "macro_f1"), fmt=".3f")
glue("target_reached", bool(_stat("hardest", "scSurvival", "macro_f1") >= 0.93))
glue("target_reached_ordered", bool(_stat("hardest-ordered", "scSurvival", "macro_f1") >= 0.93))
glue("n_seeds_prf", n_seeds)
_hard = "hardest" if "hardest" in SETTINGS else SETTINGS[-1]
glue("score_form_setting", VARIANTS[_hard][0])
glue("perhead_vs_ours", "above" if _stat(_hard, "scSurvival, authors' per-head score", "macro_f1")
     > _stat(_hard, "scSurvival", "macro_f1") else "at or below")
glue("perhead_hard_macro_f1", _stat(_hard, "scSurvival, authors' per-head score", "macro_f1"), fmt=".3f")
glue("ours_hard_macro_f1", _stat(_hard, "scSurvival", "macro_f1"), fmt=".3f")
glue("authors_pipeline_hard_macro_f1",
     _stat(_hard, "scSurvival, authors' rule + per-head score", "macro_f1"), fmt=".3f")

# %%
fig, ax = plt.subplots(figsize=(11, 3.6))
methods = ["scSurvival", "scSurvival, no smoothing", "scSurvival, authors' rule",
           "scSurvival, authors' per-head score", "scSurvival, authors' rule + per-head score",
           "supervised probe"]
labels = [VARIANTS[k][0] for k in SETTINGS]
width = 0.8 / len(methods)
for j, method in enumerate(methods):
    means = [_stat(k, method, "macro_f1") for k in SETTINGS]
    sds = [_stat(k, method, "macro_f1", "sd") for k in SETTINGS]
    ax.bar(np.arange(len(SETTINGS)) + (j - (len(methods) - 1) / 2) * width, means, width, yerr=sds, label=method)
ax.axhline(0.931, color="k", ls="--", lw=1, label="paper, hardest (0.931)")
ax.set_xticks(np.arange(len(SETTINGS)), labels, rotation=15, ha="right")
ax.set(ylabel="F1 (authors' definition)", ylim=(0, 1.05), title=f"risk-cell F1, mean ± sd over {n_seeds} seeds")
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
plt.tight_layout()

# %% [markdown]
# Over {glue:text}`n_seeds_prf` seeds per row, scSurvival's F1 in the authors' definition
# is {glue:text}`distinct_macro_f1:.3f` ± {glue:text}`distinct_macro_f1_sd:.3f` (distinct),
# {glue:text}`substate_macro_f1:.3f` ± {glue:text}`substate_macro_f1_sd:.3f` (substate) and
# {glue:text}`hardest_macro_f1:.3f` ± {glue:text}`hardest_macro_f1_sd:.3f` (hardest; precision
# {glue:text}`hardest_macro_precision:.3f`, recall {glue:text}`hardest_macro_recall:.3f`).
# In the hardest setting with the authors' survival design — every patient dies in the order of
# their planted risk, 10 % censored, which is how the paper's cohorts were made — it is
# {glue:text}`hardest_ordered_macro_f1:.3f` ± {glue:text}`hardest_ordered_macro_f1_sd:.3f`
# (precision {glue:text}`hardest_ordered_macro_precision:.3f`, recall
# {glue:text}`hardest_ordered_macro_recall:.3f`), against the paper's 0.90 / 0.97 / 0.931.
# Target F1 ≥ 0.93 reached with the authors' survival design:
# **{glue:text}`target_reached_ordered`**; with our noisier exponential survival times:
# **{glue:text}`target_reached`**.
#
# **The two hazard scores.** In the {glue:text}`score_form_setting` setting, our rule on the
# authors' per-head score reaches F1 {glue:text}`perhead_hard_macro_f1:.3f`,
# {glue:text}`perhead_vs_ours` the {glue:text}`ours_hard_macro_f1:.3f` of our score; the
# authors' whole recipe (their attention rule and their per-head score) reaches
# {glue:text}`authors_pipeline_hard_macro_f1:.3f`. All rows are simulated.
#
# **Reading the differences.** Three things decide how well the cells can be found. *Sequencing
# depth*: at 1000 UMIs per cell much of the hardest programme drowns in sampling noise — even
# the supervised probe, which is *told* every cell's label, reaches only
# {glue:text}`hardest_shallow_probe_macro_f1:.3f` (scSurvival
# {glue:text}`hardest_shallow_macro_f1:.3f`), against {glue:text}`hardest_probe_macro_f1:.3f`
# at {glue:text}`umis_per_cell` UMIs. *The outcome's noise*: scSurvival learns from survival
# alone; with random exponential times a few dozen events pin down the effect of each cell state
# only roughly, so states that carry no risk can pick up spurious hazard, while the authors'
# rank-ordered times leave much less room for that. *Seeds*: the standard deviations show how
# much one simulated cohort of {glue:text}`n_patients` patients varies from the next; a single
# run, like the paper's headline, can land well above or below the mean.
#
# ## Baselines the paper argues against
#
# Held-out patients, the book's protocol (`survlib.train.cross_validate`: stratified folds,
# a validation split inside each training fold, the test fold touched once). All four models
# see the same simulated cohort: pseudobulk Cox (mean log-expression → PCA → penalised Cox),
# cell-type-proportion Cox, the attention-MIL Cox without the VAE (`feature_flavor="pca"`:
# PCA features with per-batch centring instead of the ZIG-VAE), and scSurvival.

# %%
pid = adata.obs["patient_id"].astype(str).to_numpy()
order = np.array(sorted(np.unique(pid)))
events = patients.loc[order, "event"].to_numpy()


def cohort_of(ids):
    sub_ = adata[np.isin(pid, ids)].copy()
    sub_.obs["patient_id"] = sub_.obs["patient_id"].cat.remove_unused_categories()
    outputs = ["attention", "hazard_score", "cell_hazard", "relative_attention", "predicted_risk_group", "predicted_risk_cell"]
    sub_.obs = sub_.obs.drop(columns=outputs, errors="ignore")
    return sub_


def c_index(scores: pd.Series) -> float:
    return sv.concordance(scores.to_numpy(), patients.loc[scores.index, "time"], patients.loc[scores.index, "event"])


def run_baseline(make):
    def run_fold(split, run_seed):
        train = cohort_of(order[np.r_[split.train, split.val]])
        test = cohort_of(order[split.test])
        return {"cindex": c_index(make().fit(train).predict_risk(test)["risk"])}
    return run_fold


def run_mil(flavor):
    def run_fold(split, run_seed):
        train = cohort_of(order[np.r_[split.train, split.val]])
        test = cohort_of(order[split.test])
        ScSurvival.setup_anndata(train)
        m = ScSurvival(train, preset=preset, feature_flavor=flavor) if flavor == "pca" else ScSurvival(train, preset=preset)
        m.train(seed=run_seed, progress=False, **TRAIN)
        return {"cindex": c_index(m.predict_risk(test)["risk"])}
    return run_fold


cv_seed_list = [seed + k for k in range(cv_seeds)]
results = pd.concat([
    cross_validate(run_baseline(PseudobulkCox), events, n_folds, cv_seed_list, model="pseudobulk Cox", progress=False),
    cross_validate(run_baseline(CellTypeProportionCox), events, n_folds, cv_seed_list, model="cell-type-proportion Cox", progress=False),
    cross_validate(run_mil("pca"), events, n_folds, cv_seed_list, model="attention-MIL Cox, no VAE (PCA)", progress=False),
    cross_validate(run_mil("zigvae"), events, n_folds, cv_seed_list, model="scSurvival", progress=False),
])
baselines = summarize(results)
for name, key in [("pseudobulk Cox", "c_pseudobulk"), ("cell-type-proportion Cox", "c_celltype"),
                  ("attention-MIL Cox, no VAE (PCA)", "c_mil_pca"), ("scSurvival", "c_scsurvival")]:
    glue(key, float(baselines.loc[baselines["model"] == name, "mean"].iloc[0]), fmt=".3f")
glue("cv_runs", n_folds * cv_seeds)
results_table(baselines)

# %% [markdown]
# Test-fold C-index (mean over {glue:text}`cv_runs` folds × seeds): pseudobulk Cox
# {glue:text}`c_pseudobulk:.3f`, cell-type-proportion Cox {glue:text}`c_celltype:.3f`,
# attention-MIL Cox without the VAE {glue:text}`c_mil_pca:.3f`, scSurvival
# {glue:text}`c_scsurvival:.3f`. In this simulated setting the planted cells share the host
# cell type's label, so cell-type proportions carry no signal by construction; pseudobulk
# averages the small programme shift over all cells.
#
# ## Patient covariates
#
# Clinical covariates enter the hazard network linearly ($\eta_b = f(r_b) + \gamma^\top c_b$),
# and after training a lifelines Cox model of survival on the covariates plus the model's
# covariate-free risk reports their coefficients. Here the simulated hazard also rises with age
# (the simulator's `covariate_effect`, per 10 years; the model standardises age, whose standard
# deviation is about 10 years, so the two scales are close).

# %%
cov_cohort = simulate_sc_cohort(n_patients, cells_per_patient, n_genes, walkthrough_setting, seed + 1,
                                covariate_effect=covariate_effect)
ScSurvival.setup_anndata(cov_cohort, covariate_keys=["age"])
cov_model = ScSurvival(cov_cohort, preset=preset)
cov_model.train(seed=seed, progress=False, **TRAIN)
glue("age_coef", float(cov_model.covariate_summary_.loc["age", "coef"]), fmt=".2f")
glue("age_p", float(cov_model.covariate_summary_.loc["age", "p"]), fmt=".2g")
glue("age_true", covariate_effect, fmt=".2f")
cov_model.covariate_summary_

# %% [markdown]
# The age coefficient is {glue:text}`age_coef:.2f` (p = {glue:text}`age_p:.2g`) against a
# simulated effect of {glue:text}`age_true:.2f` per 10 years, estimated beside the cells'
# contribution (`scsurvival_risk`).
#
# ## A semi-synthetic cohort of real cells
#
# Real PBMCs from scanpy's bundled `pbmc68k_reduced` are resampled (with binomial thinning)
# into pseudo-patients; a patient's simulated hazard grows with its share of CD14+ monocytes,
# the planted higher-risk population. The cells are real; the survival is simulated.

# %%
pbmc = semi_synthetic_pbmc_cohort(pbmc_patients, pbmc_cells, risk_cell_type="CD14+ Monocyte", seed=seed)
ScSurvival.setup_anndata(pbmc, batch_key=None)
pbmc_model = ScSurvival(pbmc, preset=preset)
pbmc_model.train(seed=seed, progress=False, **TRAIN)
pbmc_risk = pbmc_model.predict_risk(pbmc)
identify_risk_cells(pbmc_model, pbmc)
pbmc_scores = risk_cell_metrics(pbmc.obs["risk_group"], pbmc.obs["predicted_risk_group"])
pbmc_val = pbmc_risk.loc[pbmc_model.validation_patients_ or list(pbmc_risk.index)]  # all if none held out
glue("pbmc_cells", pbmc.n_obs)
glue("pbmc_val_cindex", sv.concordance(pbmc_val["risk"], pbmc_val["time"], pbmc_val["event"]), fmt=".3f")
glue("pbmc_binary_f1", pbmc_scores["binary_f1"], fmt=".3f")
glue("pbmc_binary_precision", pbmc_scores["binary_precision"], fmt=".3f")
glue("pbmc_binary_recall", pbmc_scores["binary_recall"], fmt=".3f")
pbmc.obs.groupby("cell_type", observed=True)[["attention", "hazard_score"]].mean().sort_values("hazard_score")

# %% [markdown]
# On the *semi-synthetic* PBMC cohort ({glue:text}`pbmc_cells` real cells in pseudo-patients),
# the validation-patient C-index is {glue:text}`pbmc_val_cindex:.3f`, and the higher-risk calls
# recover the planted CD14+ monocytes with precision {glue:text}`pbmc_binary_precision:.3f`,
# recall {glue:text}`pbmc_binary_recall:.3f` (F1 {glue:text}`pbmc_binary_f1:.3f`).

# %%
# the summary's verdicts, chosen from the glued numbers so the prose cannot contradict them
_h = headlines()
_f1 = [_h.get(f"{k}_macro_f1", float("nan")) for k in ("distinct", "substate", "hardest")]
glue("summary_recovery", "recovers the planted cells in every setting"
     if all(f >= 0.8 for f in _f1) else "recovers the planted cells only partly in some settings")
glue("summary_hardest_vs_paper", "it falls short"
     if not _h.get("hardest_macro_f1", float("nan")) >= 0.931 else "it reaches the paper's level")
_c = [_h.get(k, float("nan")) for k in ("c_scsurvival", "c_mil_pca", "c_pseudobulk")]
glue("summary_ranking", "all rank patients above chance and below the planted true risk"
     if all(0.5 < c < _h.get("true_risk_cindex", float("nan")) for c in _c)
     else "do not all rank patients between chance and the planted true risk")

# %% [markdown]
# ## Summary
#
# - scSurvival's two modules are small: a ZIG-VAE whose decoder is told the batch, and an
#   attention pooling + Cox head trained on minibatches of padded, masked patients.
# - With cells at {glue:text}`umis_per_cell` UMIs, the neighbourhood-smoothed hazard score
#   {glue:text}`summary_recovery` (simulated; F1 {glue:text}`distinct_macro_f1:.3f`,
#   {glue:text}`substate_macro_f1:.3f`, {glue:text}`hardest_macro_f1:.3f`). In the hardest
#   setting with the authors' survival design it reaches {glue:text}`hardest_ordered_macro_f1:.3f`
#   beside the paper's 0.931; with noisy exponential survival times, and even more at 1000 UMIs
#   per cell, {glue:text}`summary_hardest_vs_paper` — the table says by how much, and the
#   supervised probe says how much of that is the data rather than the model.
# - The authors' attention-threshold rule, their per-head hazard score and our rule without
#   smoothing are in the same table, so the value of each choice can be read off rather than
#   taken on trust.
# - On held-out patients of the hardest simulation, scSurvival ({glue:text}`c_scsurvival:.3f`),
#   the attention-MIL Cox on PCA features ({glue:text}`c_mil_pca:.3f`) and pseudobulk Cox
#   ({glue:text}`c_pseudobulk:.3f`) {glue:text}`summary_ranking`
#   ({glue:text}`true_risk_cindex:.3f`); the cell-type-proportion Cox
#   ({glue:text}`c_celltype:.3f`) cannot see cells that share their host type's label. One
#   cohort and {glue:text}`cv_runs` folds do not order the first three reliably; finding the
#   cells, not ranking the patients, is where the single-cell model earns its keep.
#
# The next chapter times the model from 10⁴ cells upward, streams cells from an h5ad file on
# disk, and compares the authors' full-cohort training with the fast default.

# %% [markdown]
# ## Exercises
#
# Predict first, then open the solution. Every solution is code that runs with the chapter (the
# smoke test executes it), and checks itself. The data are the chapter's *simulated* cohorts.
#
# ```{exercise} 2.1 the cell-share oracle
# :label: ex-02-share
# :nonumber:
# **Implement the missing piece.** The simulator makes a patient's hazard grow with the share
# of *higher*-risk cells and fall with the share of *lower*-risk cells. Compute, from
# `adata.obs`, each patient's share of higher-risk cells minus share of lower-risk cells, and
# its C-index against the patients' (simulated) survival. Is this oracle better or worse than
# the simulator's own `true_risk`, and why?
# ```
#
# ```{solution-start} ex-02-share
# :class: dropdown
# ```

# %% tags=["hide-input"]
groups = adata.obs.groupby("patient_id", observed=True)["risk_group"]
share = (groups.apply(lambda g: (g == "higher").mean() - (g == "lower").mean())
         .reindex(patients["patient_id"]).to_numpy())
c_share = sv.concordance(share, patients["time"], patients["event"])
c_truth = sv.concordance(patients["true_risk"], patients["time"], patients["event"])
print(f"C-index: cell-share oracle {c_share:.3f}, simulator's true risk {c_truth:.3f}")
assert c_share > 0.5  # the planted cells carry the survival signal
# true_risk is the log-hazard itself (shares plus any covariate); the share is one step
# removed, so it is usually a little worse; both are limited by the random survival times.

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise} 2.2 batch mixing by hand
# :label: ex-02-mixing
# :nonumber:
# **Implement the missing piece.** Write the batch-mixing score from its definition in
# `survlib.explain.batch_mixing` (the share of each cell's 15 nearest neighbours that come
# from *another* batch, divided by the share expected if neighbours ignored batch) with a brute
# force distance matrix, and check it against the library on the ZIG-VAE embedding.
# ```
#
# ```{solution-start} ex-02-mixing
# :class: dropdown
# ```

# %% tags=["hide-input"]
from scipy.spatial.distance import cdist


def mixing_score(embedding: np.ndarray, batch: np.ndarray, k: int = 15) -> float:
    """Observed / expected share of other-batch neighbours among the k nearest (brute force)."""
    d = cdist(embedding, embedding)
    np.fill_diagonal(d, np.inf)
    nearest = np.argsort(d, axis=1, kind="stable")[:, :k]
    observed = (batch[nearest] != batch[:, None]).mean()
    share = pd.Series(batch).value_counts(normalize=True)
    expected = np.mean(1.0 - share[batch].to_numpy())
    return float(observed / expected)


batches = view.obs["batch"].astype(str).to_numpy()
ours = mixing_score(np.asarray(view.obsm["X_zigvae"], dtype=float), batches)
theirs = batch_mixing(view.obsm["X_zigvae"], batches)
print(f"batch mixing: ours {ours:.4f}, survlib {theirs:.4f}")
assert abs(ours - theirs) < 1e-9

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise} 2.3 mixing scores of noise
# :label: ex-02-noise
# :nonumber:
# **Predict.** What batch-mixing score does an embedding of pure noise get? And one that puts
# the two batches far apart? What does that tell you about judging a batch correction by its
# mixing score alone?
# ```
#
# ```{solution-start} ex-02-noise
# :class: dropdown
# ```

# %% tags=["hide-input"]
noise = np.random.default_rng(seed).normal(size=(len(batches), 10))
apart = noise + 100.0 * (batches == batches[0])[:, None]
mix_noise, mix_apart = batch_mixing(noise, batches), batch_mixing(apart, batches)
print(f"noise: {mix_noise:.3f}; batches 100 sd apart: {mix_apart:.3f}")
assert mix_noise > 0.85 and mix_apart < 0.05
# Noise mixes perfectly and keeps no biology: a correction must mix batches *and* keep the
# risk cells apart (the chapter's figures show both).

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise} 2.4 heavier censoring
# :label: ex-02-censoring
# :nonumber:
# **Change a parameter and predict.** Simulate the cohort again with `censoring_rate=0.7`
# instead of the default 0.3 (same seed). How does the censored share change? Does the C-index
# of the simulator's true risk go up, down, or stay about the same?
# ```
#
# ```{solution-start} ex-02-censoring
# :class: dropdown
# ```

# %% tags=["hide-input"]
rows = {}
for rate in (0.3, 0.7):
    cohort = simulate(walkthrough_setting, seed, censoring_rate=rate).uns["patients"]
    rows[rate] = {"censored (%)": 100 * (1 - cohort["event"].mean()),
                  "C-index of true risk": sv.concordance(cohort["true_risk"], cohort["time"],
                                                         cohort["event"])}
print(pd.DataFrame(rows).T.round(3))
assert rows[0.7]["censored (%)"] > rows[0.3]["censored (%)"]
# Random censoring removes comparable pairs but does not bias Harrell's C much: it stays in the
# same range and only gets noisier (fewer pairs). Censoring that depends on risk would bias it.

# %% [markdown]
# ```{solution-end}
# ```
