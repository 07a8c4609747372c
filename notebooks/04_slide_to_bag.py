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
# # 4. From slide to bag
#
# **Question.** SurvPGC {cite}`hou2025survpgc` and AMKD {cite}`xu2026amkd` never look at a
# whole-slide image directly. Both follow the CLAM recipe {cite}`lu2021clam`: find the tissue,
# cut it into
# 256 x 256-pixel patches at 20x magnification, and turn each patch into a feature vector with
# a frozen encoder (UNI {cite}`chen2024uni`). A patient becomes a *bag* of patch vectors, and
# every later chapter trains on bags. How is that bag made, and how do we know each step did
# what it claims — the right tissue, the right magnification, features that see the tissue?
#
# **Data.** A *synthetic* slide, written by `survlib` and read back through OpenSlide exactly
# like a scanner's file (an Aperio-style pyramidal TIFF at 40x, 0.25 um per pixel). Because we
# painted it, we know which region every pixel belongs to: tumour-like dense purple nuclei,
# pink stromal fibres, crowded lymphocyte-like dots, pale necrosis-like debris, bare glass and
# a green marker-pen loop. No real patient slide is used in this chapter; every picture of a
# slide below is of the synthetic one.
#
# **What you will see.** Opening a slide and reading its metadata; a tissue mask beside the
# truth; tiling at a requested magnification, with the level choice that tiling code often
# gets wrong; patch features from a documented, offline encoder (stain deconvolution and
# texture statistics) and a check that they separate the planted textures; feature files that
# carry their own metadata; a heat map of a score over the slide and a gallery of its top
# patches — the figures SurvPGC and AMKD draw from attention weights.
#
# **Prerequisites.** Chapter 1's conventions. No deep learning is needed here.

# %% [markdown]
# :::{admonition} Run it yourself
# :class: tip
# This chapter has one source file,
# {download}`04_slide_to_bag.py <../../notebooks/04_slide_to_bag.py>`
# (jupytext: Jupyter opens it as a notebook); the download button at the top of the page gives
# the executed notebook (`.ipynb`). From a checkout of the book (`make install` once):
#
# ```bash
# .venv/bin/survlib run 04 --profile smoke
# .venv/bin/survlib run 04 --profile book
# .venv/bin/survlib run 04 --profile paper
# .venv/bin/survlib params 04
# ```
#
# `smoke` runs tiny data (the CI check, exercises included), `book` is what this page shows
# (computed on a 2-core CPU), `paper` runs at paper scale (a GPU and real data where present);
# `params` lists what `-p NAME VALUE` can change.
#
# The executed notebook lands in `book/executed/`. How long this build took and with which
# parameters: the {ref}`run record <04_slide_to_bag-run-record>` at the end of the chapter, and the
# {doc}`reproducibility report <run_report>` for every chapter of this build.
# :::

# %% tags=["parameters"]
seed = 0  # seed of the synthetic slide (layout and textures)
slide_size = 4096  # level-0 side of the synthetic slide in pixels (40x, 0.25 um per pixel)
magnification = 20.0  # magnification of the patches (both papers: 20x)
patch_size = 128  # patch side in pixels at that magnification (the papers: 256; see text)
mask_downsample = 32.0  # level-0 pixels per thumbnail pixel for the tissue mask
min_tissue = 0.5  # keep patches with at least this tissue fraction
min_purity = 0.5  # texture check: a patch's majority region must cover this share of it
n_folds = 5  # cross-validation folds of the texture classifier
embedding = "umap"  # 2-D map of the features: "umap" or "pca" (fast)
umap_neighbors = 15  # UMAP neighbourhood size
top_k = 8  # patches in the gallery
batch_size = 32  # patches read and encoded at a time

# %%
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from survlib import plots, wsi
from survlib.book import glue
from survlib.data.slides import REGION_NAMES, TISSUE_REGIONS, write_synthetic_slide

workdir = Path(tempfile.mkdtemp(prefix="survlib_04_"))  # slide and feature file live here
REGION_COLOURS = {
    "background": "#d9d9d9",
    "tumour": "#6a3d9a",
    "stroma": "#e7298a",
    "lymphocytes": "#1f78b4",
    "necrosis": "#b2a05a",
    "pen": "#33a02c",
}

# %% [markdown]
# ## A synthetic slide that OpenSlide reads like a scanner's
#
# Real slides are gigapixel pyramids: the full-resolution image (level 0) plus smaller copies
# (levels 1, 2, ...), each cut into tiles, in one TIFF file with vendor metadata. The writer
# paints stain amounts and turns them into colour with the Beer–Lambert law,
# $I = 255 \cdot 10^{-(c_H v_H + c_E v_E)}$, using the haematoxylin and eosin absorbance
# vectors $v_H, v_E$ of Ruifrok and Johnston {cite}`ruifrok2001hed`; then it stores the
# pyramid with 256 x 256 tiles and deflate compression, and an Aperio-style description
# (`Aperio Image Library ... |AppMag = 40|MPP = 0.25`) from which OpenSlide reads the vendor,
# the objective power and the pixel size.

# %%
t0 = time.perf_counter()
synthetic = write_synthetic_slide(
    workdir / "synthetic_slide.tif", seed=seed, width=slide_size, height=slide_size
)
write_seconds = time.perf_counter() - t0
slide = wsi.Slide(synthetic.path)
slide_mb = synthetic.path.stat().st_size / 1e6
glue("slide_mb", slide_mb, fmt=".1f")
glue("slide_mm", slide.dimensions[0] * slide.mpp / 1000, fmt=".2f")
pd.DataFrame(
    {
        "vendor": [slide.vendor],
        "objective power": [slide.objective_power],
        "um per pixel": [slide.mpp],
        "level-0 size": [f"{slide.dimensions[0]} x {slide.dimensions[1]}"],
        "level downsamples": [", ".join(f"{d:g}" for d in slide.level_downsamples)],
        "file (MB)": [round(slide_mb, 2)],
    }
)

# %% [markdown]
# The synthetic slide's thumbnail, and the region layout it was painted from (the ground
# truth that the rest of the chapter is checked against):

# %%
thumb, thumb_ds = slide.thumbnail(mask_downsample)
truth = synthetic.truth.resample(thumb.shape[:2], thumb_ds)
region_cmap = plt.matplotlib.colors.ListedColormap([REGION_COLOURS[n] for n in REGION_NAMES])
fig, axes = plt.subplots(1, 2, figsize=(9, 4.5))
axes[0].imshow(thumb)
axes[0].set_title("synthetic slide (thumbnail)")
axes[1].imshow(
    truth, cmap=region_cmap, vmin=-0.5, vmax=len(REGION_NAMES) - 0.5, interpolation="nearest"
)
axes[1].set_title("planted regions (truth)")
handles = [plt.matplotlib.patches.Patch(color=REGION_COLOURS[n], label=n) for n in REGION_NAMES]
axes[1].legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
for ax in axes:
    ax.set_axis_off()
fig.tight_layout()

# %% [markdown]
# ## Where is the tissue?
#
# Stained tissue is coloured and glass is grey, so the saturation channel of a thumbnail
# separates them; Otsu's method picks the threshold that best splits its histogram in two
# (CLAM's default). Marker pen is coloured too, so pixels with an ink hue (green to blue, which
# haematoxylin and eosin never are) are removed first. `survlib.wsi.tissue_mask` does this and
# then drops specks and fills small holes. We score the mask by its intersection over union
# (IoU) with the planted tissue.

# %%
mask = wsi.tissue_mask(slide, downsample=mask_downsample)
tissue_truth = np.isin(truth, TISSUE_REGIONS)
mask_iou = wsi.mask_iou(mask.mask, tissue_truth)
glue("mask_iou", mask_iou, fmt=".3f")
glue("otsu_threshold", mask.threshold, fmt=".3f")

fig, axes = plt.subplots(1, 3, figsize=(12, 4))
axes[0].imshow(thumb)
axes[0].set_title("synthetic slide")
axes[1].imshow(mask.mask, cmap="gray")
axes[1].set_title("tissue mask (saturation + Otsu)")
agreement = np.zeros((*mask.mask.shape, 3))
agreement[mask.mask & tissue_truth] = (0.85, 0.85, 0.85)
agreement[mask.mask & ~tissue_truth] = (0.9, 0.2, 0.1)
agreement[~mask.mask & tissue_truth] = (0.1, 0.4, 0.9)
axes[2].imshow(agreement, interpolation="nearest")
axes[2].set_title(f"vs truth: IoU {mask_iou:.3f}\n(red: extra, blue: missed)")
for ax in axes:
    ax.set_axis_off()
fig.tight_layout()

# %% [markdown]
# The mask agrees with the planted tissue at IoU {glue:text}`mask_iou:.3f` (Otsu threshold on
# saturation {glue:text}`otsu_threshold:.3f`). The pen loop is excluded even where it crosses
# tissue; the disagreements are one-pixel rims at region edges, where a thumbnail pixel is
# part glass, part tissue.

# %% [markdown]
# ## Tiling at 20x from a 40x scan
#
# A patch of $p$ pixels at magnification $M$ covers $s_0 = p \cdot M_0 / M$ pixels of level 0
# (magnification $M_0$). The pixels should come from the *coarsest* level whose downsample
# $d_L$ does not exceed $M_0/M$: read $p \cdot (M_0/M)/d_L$ pixels there and shrink them to $p$.
# Two mistakes recur in tiling code and its bug reports: reading $p$ pixels at level 0 (a 40x
# patch, a quarter of the intended field of view), and storing coordinates in the read level's
# pixels instead of level 0's. `survlib` stores level-0 coordinates always, and its tests
# check the count and the coordinates of 20x patches read from a 40x slide against a slide
# whose every patch position is painted its own colour.
#
# ```{literalinclude} ../../survlib/wsi/tiling.py
# :pyobject: best_level
# ```
#
# ```{literalinclude} ../../survlib/wsi/tiling.py
# :pyobject: read_patch
# ```
#
# This slide has levels with downsamples 1, 4 and 16, so each magnification is read as follows:

# %%
rows = []
for mag in (40.0, 20.0, 10.0, 5.0):
    g = wsi.tile_grid(slide, magnification=mag, patch_size=256)
    rows.append(
        {
            "magnification": f"{mag:g}x",
            "read level": g.level,
            "level downsample": g.level_downsample,
            "pixels read": g.read_size,
            "level-0 footprint": g.size_level0,
            "patches (no mask)": len(g),
        }
    )
pd.DataFrame(rows)

# %% [markdown]
# Now the grid used in the rest of the chapter, keeping patches that are at least
# half tissue:

# %%
grid = wsi.tile_grid(
    slide, magnification=magnification, patch_size=patch_size, mask=mask, min_tissue=min_tissue
)
paper_grid = wsi.tile_grid(
    slide, magnification=20.0, patch_size=256, mask=mask, min_tissue=min_tissue
)
glue("n_patches", len(grid))
glue("n_patches_256", len(paper_grid))
glue("read_level", grid.level)
glue("read_size", grid.read_size)
glue("patch_size", grid.patch_size)
glue("size_level0", grid.size_level0)

fig, ax = plt.subplots(figsize=(5, 5))
ax.imshow(thumb)
for x, y in grid.coords:
    ax.add_patch(
        plt.Rectangle(
            (x / thumb_ds[0], y / thumb_ds[1]),
            grid.size_level0 / thumb_ds[0],
            grid.size_level0 / thumb_ds[1],
            fill=False,
            lw=0.6,
            ec="k",
        )
    )
ax.set_title(f"synthetic slide: {len(grid)} patches, {patch_size} px at {magnification:g}x")
ax.set_axis_off()

# %% [markdown]
# The grid has {glue:text}`n_patches` patches. Each is read as a square of
# {glue:text}`read_size` pixels at level {glue:text}`read_level` and shrunk to
# {glue:text}`patch_size` pixels; its side spans {glue:text}`size_level0` level-0 pixels. With the
# papers' 256-pixel patches the same slide would give only {glue:text}`n_patches_256`: it is
# {glue:text}`slide_mm:.2f` mm across, while a real slide often carries a square centimetre of
# tissue or more. AMKD's Table 1 lists how
# many patches the real cohorts yield:

# %%
amkd_table1 = pd.DataFrame(
    {
        "cohort": ["TCGA-BRCA", "TCGA-STAD", "TCGA-HNSC", "TCGA-CRAD", "CPTAC-HNSC"],
        "WSIs": [929, 343, 414, 301, 364],
        "patches": [2_608_105, 1_089_079, 1_183_322, 981_941, 1_069_112],
    }
)
amkd_table1["patches per WSI"] = (amkd_table1["patches"] / amkd_table1["WSIs"]).round()
amkd_table1

# %% [markdown]
# So the synthetic slide uses smaller patches (a profile parameter) to have enough of them
# for the checks below; the `paper` profile tiles a larger synthetic slide at 256 pixels.
#
# ## Patch features
#
# The papers encode patches with UNI, a ViT-L trained on 100 million pathology patches. Its
# weights are gated and cannot be installed here, so the default encoder is an honest,
# documented one: colour statistics; stain amounts from colour deconvolution into haematoxylin
# (nuclei) and eosin (cytoplasm, collagen); the size and density of haematoxylin-rich blobs;
# grey-level co-occurrence, structure-tensor orientation, difference-of-Gaussians and
# local-binary-pattern texture statistics. `survlib.wsi.FoundationEncoder("uni")` (or
# `"conch"`) plugs in the foundation models for readers with access, and features computed
# elsewhere (e.g. by CLAM) are read with `survlib.wsi.read_features`.

# %%
encoder = wsi.HandcraftedEncoder()
t0 = time.perf_counter()
feats = wsi.extract_features(
    slide, grid, encoder, batch_size=batch_size, patient_id="synthetic-patient-0", progress=False
)
encode_seconds = time.perf_counter() - t0
glue("n_features", encoder.dim)
glue("patches_per_second", len(grid) / encode_seconds, fmt=".1f")
features_path = wsi.write_features(workdir / "synthetic_slide.h5", feats)
stored = wsi.read_features(features_path)
pd.Series(
    {
        "patches": len(stored),
        "features": stored.features.shape[1],
        "encoder": stored.encoder,
        "encoder version": stored.encoder_version,
        "magnification": stored.magnification,
        "patch size": stored.patch_size,
        "read level": stored.level,
        "level-0 footprint": stored.size_level0,
        "slide": stored.slide_id,
        "patient": stored.patient_id,
    },
    name="feature file (read back)",
).to_frame()

# %% [markdown]
# Each slide's feature file keeps the features, the level-0 coordinates and everything needed
# to trust them later: encoder name and version, magnification, patch size, read level. The
# {glue:text}`n_features` features of {glue:text}`n_patches` patches took about
# {glue:text}`patches_per_second:.0f` patches per second to read and encode on this machine.
#
# **Several slides per patient.** TCGA patients often have more than one diagnostic slide.
# `survlib.wsi.patient_bag` makes one bag per patient by concatenating the patches of all
# their slides (the CLAM/PORPOISE/MCAT convention), refuses slides whose encoder,
# magnification or patch size differ, and records which slide each patch came from so that
# attention can be mapped back.
#
# ```{literalinclude} ../../survlib/wsi/bags.py
# :pyobject: patient_bag
# ```

# %% [markdown]
# ## Do the features see the tissue?
#
# Every patch gets the planted region covering most of it (keeping patches where that region
# covers at least a share {glue:text}`min_purity` of the patch). If the features carry tissue
# information, a plain
# logistic regression should tell the regions apart on patches it was not trained on. We
# report stratified cross-validated accuracy, beside the accuracy of always guessing the most
# common region.

# %%
region_of_patch, purity = synthetic.truth.majority(grid.coords, grid.size_level0)
usable = np.isin(region_of_patch, TISSUE_REGIONS) & (purity >= min_purity)
X, y = feats.features[usable], region_of_patch[usable]
smallest_region = int(np.bincount(y)[np.unique(y)].min())
cv = StratifiedKFold(
    n_splits=max(2, min(n_folds, smallest_region)), shuffle=True, random_state=seed
)
classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
predicted = cross_val_predict(classifier, X, y, cv=cv)
texture_accuracy = float(np.mean(predicted == y))
chance_accuracy = float(np.bincount(y).max() / len(y))
glue("texture_accuracy", texture_accuracy, fmt=".3f")
glue("chance_accuracy", chance_accuracy, fmt=".3f")
glue("n_checked", int(usable.sum()))
glue("min_purity", min_purity)
pd.crosstab(
    pd.Series([REGION_NAMES[i] for i in y], name="planted region"),
    pd.Series([REGION_NAMES[i] for i in predicted], name="predicted (cross-validated)"),
)

# %%
scaled = StandardScaler().fit_transform(X)
if embedding == "umap":
    import umap

    reducer = umap.UMAP(n_neighbors=min(umap_neighbors, len(X) - 1), random_state=seed, n_jobs=1)
    coords_2d = reducer.fit_transform(scaled)
else:
    coords_2d = PCA(n_components=2, random_state=seed).fit_transform(scaled)
fig, ax = plt.subplots(figsize=(5.5, 4.5))
for region in np.unique(y):
    sel = y == region
    ax.scatter(
        *coords_2d[sel].T,
        s=18,
        color=REGION_COLOURS[REGION_NAMES[region]],
        label=REGION_NAMES[region],
    )
ax.set_title(f"{embedding.upper()} of patch features (synthetic slide), coloured by planted region")
ax.set_xticks([])
ax.set_yticks([])
ax.legend(frameon=False, fontsize=8)
fig.tight_layout()

# %% [markdown]
# On {glue:text}`n_checked` patches the classifier names the planted region with
# cross-validated accuracy {glue:text}`texture_accuracy:.3f` (always guessing the most common
# region: {glue:text}`chance_accuracy:.3f`), and the map shows the regions as separate
# groups. This is a check that the pipeline delivers the right pixels to the encoder and that
# the default features are informative — not a claim that handcrafted statistics match UNI on
# real tissue, where textures are far less clean than on a synthetic slide.

# %% [markdown]
# ## Heat maps and top patches
#
# SurvPGC shows attention matrices as heat maps over the slide thumbnail and the top 50
# patches by attention; AMKD draws pathway-specific heat maps. The same two figures work for
# any per-patch score. Here we plant one: each patch's share of tumour (the truth), and set
# beside it the classifier's cross-validated probability of "tumour". Each score is painted
# over its patch's footprint on the thumbnail:
#
# ```{literalinclude} ../../survlib/wsi/heatmap.py
# :pyobject: score_heatmap
# ```

# %%
tumour = REGION_NAMES.index("tumour")
planted_score = synthetic.truth.share(grid.coords, grid.size_level0, tumour)
proba = cross_val_predict(classifier, X, y, cv=cv, method="predict_proba")
tumour_proba = np.full(len(grid), np.nan)
tumour_proba[usable] = proba[:, list(np.unique(y)).index(tumour)]
score_corr = float(spearmanr(planted_score[usable], tumour_proba[usable]).statistic)
glue("score_corr", score_corr, fmt=".3f")

fig, axes = plt.subplots(1, 2, figsize=(11, 5))
plots.plot_heatmap(
    thumb,
    wsi.score_heatmap(planted_score, grid.coords, grid.size_level0, thumb.shape[:2], thumb_ds),
    ax=axes[0],
    title="planted score: tumour share (synthetic)",
    label="tumour share",
    vmin=0,
    vmax=1,
)
plots.plot_heatmap(
    thumb,
    wsi.score_heatmap(
        tumour_proba[usable], grid.coords[usable], grid.size_level0, thumb.shape[:2], thumb_ds
    ),
    ax=axes[1],
    title="classifier P(tumour), cross-validated",
    label="probability",
    vmin=0,
    vmax=1,
)
fig.tight_layout()

# %%
labels_text = [REGION_NAMES[r] for r in region_of_patch]
gallery = plots.plot_top_patches(
    slide,
    grid,
    planted_score,
    k=top_k,
    ncols=4,
    labels=labels_text,
    title=f"top {top_k} patches by planted score (synthetic slide)",
)

# %% [markdown]
# The two heat maps agree (Spearman correlation {glue:text}`score_corr:.3f` between the
# planted score and the predicted probability, over patches), the hot areas sit on the
# tumour-like regions of the thumbnail, and the gallery — read back from the slide through the
# same coordinates — shows dense purple nuclei. Had the coordinates been stored at the wrong
# level or scale, the heat map would be shifted or shrunk against the thumbnail and the
# gallery would show other tissue.
#
# ## Summary
#
# - A slide is read through OpenSlide; missing, corrupt and unsupported files raise a
#   `SlideError` that names the file.
# - The tissue mask (saturation + Otsu, pen removed) matched the planted tissue at IoU
#   {glue:text}`mask_iou:.3f`.
# - Patches at a requested magnification are read from the coarsest sufficient pyramid level
#   and resized; coordinates are always level-0 pixels.
# - The offline encoder's features recover the planted textures (accuracy
#   {glue:text}`texture_accuracy:.3f`); UNI and CONCH plug in behind the same interface, and
#   precomputed features are read with their metadata.
# - Heat maps and top-patch galleries map any per-patch score (attention, risk) back onto
#   the slide. The next chapters train attention models on bags like this one.

# %%
slide.close()

# %% [markdown]
# ## Exercises
#
# Predict first, then open the solution. Every solution is code that runs with the chapter (the
# smoke test executes it), and checks itself. The slide is the chapter's *synthetic* slide.
#
# ```{exercise} 4.1 choosing the read level
# :label: ex-04-level
# :nonumber:
# **Implement the missing piece.** Given the slide's objective power $M_0$ and its level
# downsamples $d_L$, a patch of $p$ pixels at magnification $M$ covers $p\,M_0/M$ level-0 pixels;
# it is read from the coarsest level with $d_L \le M_0/M$, as a square of $p\,(M_0/M)/d_L$
# pixels. Write that choice yourself and check it against `survlib.wsi.tile_grid` at 40x, 20x,
# 10x and 5x.
# ```
#
# ```{solution-start} ex-04-level
# :class: dropdown
# ```

# %% tags=["hide-input"]
slide = wsi.Slide(synthetic.path)  # reopened: the chapter closed it above


def read_plan(
    objective: float, downsamples: list[float], mag: float, p: int
) -> tuple[int, int, int]:
    """(read level, pixels read, level-0 footprint) of a p-pixel patch at magnification mag."""
    target = objective / mag
    level = max((i for i, d in enumerate(downsamples) if d <= target * (1 + 1e-3)),
                key=lambda i: downsamples[i])
    return level, round(p * target / downsamples[level]), round(p * target)


for mag in (40.0, 20.0, 10.0, 5.0):
    g = wsi.tile_grid(slide, magnification=mag, patch_size=256)
    ours = read_plan(slide.objective_power, list(slide.level_downsamples), mag, 256)
    print(f"{mag:g}x: level {ours[0]}, read {ours[1]} px, footprint {ours[2]} px")
    assert ours == (g.level, g.read_size, g.size_level0)

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise} 4.2 intersection over union
# :label: ex-04-iou
# :nonumber:
# **Implement the missing piece.** Write the intersection over union of two boolean masks and
# check it against `survlib.wsi.mask_iou` on the tissue mask and the planted tissue. What is the
# IoU of the mask with itself, and with its complement?
# ```
#
# ```{solution-start} ex-04-iou
# :class: dropdown
# ```

# %% tags=["hide-input"]
def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


assert iou(mask.mask, tissue_truth) == wsi.mask_iou(mask.mask, tissue_truth)
assert iou(mask.mask, mask.mask) == 1.0 and iou(mask.mask, ~mask.mask) == 0.0
print(f"IoU with the planted tissue {iou(mask.mask, tissue_truth):.3f}; with itself 1; "
      "with its complement 0")

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise} 4.3 bigger patches, stricter tissue
# :label: ex-04-patch-size
# :nonumber:
# **Change a parameter and predict.** Tile the slide at 20x with 512-pixel patches instead of
# 256. How do the level-0 footprint and the number of tissue patches change? Then raise
# `min_tissue` to 0.9 with 256-pixel patches: more or fewer patches?
# ```
#
# ```{solution-start} ex-04-patch-size
# :class: dropdown
# ```

# %% tags=["hide-input"]
big = wsi.tile_grid(slide, magnification=20.0, patch_size=512, mask=mask, min_tissue=min_tissue)
strict = wsi.tile_grid(slide, magnification=20.0, patch_size=256, mask=mask, min_tissue=0.9)
print(f"256 px: {len(paper_grid)} patches of {paper_grid.size_level0} level-0 px; "
      f"512 px: {len(big)} patches of {big.size_level0} px; "
      f"256 px with min_tissue 0.9: {len(strict)}")
assert big.size_level0 == 2 * paper_grid.size_level0
assert len(big) < len(paper_grid)  # about a quarter: each patch covers four times the area
assert len(strict) <= len(paper_grid)  # a stricter tissue threshold can only drop patches

# %% [markdown]
# ```{solution-end}
# ```

# %%
slide.close()
