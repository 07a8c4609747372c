r"""Simulated TCGA-like multimodal cohorts with known truth, and the batching of patch bags.

A SurvPGC-style patient has three modalities: a clinical record (age, sex, tumour stage, AJCC
staging edition, tumour subtype, race — the GDC fields the paper turns into prompts), a bulk
expression profile organised by biological pathways (SurvPath's 331 Reactome/Hallmark sets),
and a whole-slide image seen as a *bag* of patch feature vectors. :func:`simulate_multimodal_cohort`
makes such a cohort whose ground truth is known; :class:`FoldData` turns a cohort and a
training fold into padded, masked :class:`~survlib.models.blocks.SurvivalBatch` es.

The generative model (all of it **simulated**; every table carries ``attrs["simulated"] = True``):

1. A shared latent :math:`z_i \sim N(0, 1)` couples the modalities (``modality_correlation``
   :math:`\rho`): each modality's own latent is :math:`\sqrt\rho\, z_i + \sqrt{1-\rho}\,\epsilon_i`.
2. **Clinical.** The clinical latent picks the stage group (I-IV at LIHC-like frequencies,
   sub-stages drawn within a group, 6 % "not reported"); age, sex, staging edition, subtype and
   race are drawn at TCGA-LIHC-like frequencies. Clinical risk
   :math:`r^C = 0.35\,(\text{age} - 61)/10 + \beta_\text{stage} + \beta_\text{subtype}`
   (stage effects 0, 0.5, 1.1, 1.7 for I-IV). Sex, race and edition carry no risk.
3. **Genomics.** Pathway activities :math:`a_{ip} \sim N(0,1)`; ``n_prognostic_pathways`` of
   them load on the shared latent. Gene :math:`g` has log-expression
   :math:`x_{ig} = \mu_g + \sigma_g\big(\sum_{p \ni g} w_{pg} a_{ip} / \sqrt{k_g} + \nu\,\epsilon_{ig}\big)`
   (:math:`k_g` the number of pathways holding the gene, :math:`w_{pg}` mostly positive
   loadings, :math:`\nu` = ``expression_noise``). Genomic risk
   :math:`r^G = \sum_{p \in P^*} b_p a_{ip}`. Membership is simulated with SurvPath-like
   (log-normal) set sizes, or read from SurvPath's signature file when it is cached.
4. **Morphology.** Each patch has a tissue type (tumour, stroma, lymphocytes, necrosis,
   normal, artefact). The morphology latent :math:`m_i` shifts the type proportions,
   :math:`\pi_i = \text{softmax}(\log \pi^0 + m_i v)` with :math:`v` = +1 for necrosis, -1 for
   lymphocytes (the *planted* prognostic patch types), and :math:`r^P = m_i`. Fast mode
   (``patch_source="gaussian"``, default): a patch is its type's prototype plus noise plus a
   per-patient stain shift. Slow mode (``patch_source="slides"``): every patient gets a
   synthetic slide (:func:`survlib.data.slides.write_synthetic_slide`), tiled at 20x and encoded by
   :class:`survlib.wsi.HandcraftedEncoder`; a patch's type is its majority planted region and
   :math:`m_i` is the standardised difference of the patient's necrosis and lymphocyte shares.
5. **Survival.** :math:`\eta_i = s_C \tilde r^C_i + s_G \tilde r^G_i + s_P \tilde r^P_i
   + s_{GP}\,\widetilde{r^G r^P}_i` (tildes: standardised over the cohort, :math:`s` the
   per-modality ``*_strength``), Weibull proportional-hazards event times with median
   ``median_survival`` months at :math:`\eta = 0`, exponential censoring tuned so that the
   censored fraction equals ``censoring_rate`` (the papers' cohorts: 65-86 %), and
   administrative censoring at ``max_follow_up`` months.

The truth (:class:`CohortTruth`) keeps :math:`\eta` ("true risk"), each modality's component,
the prognostic pathways and patch types, and which patches are planted.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import torch

from survlib.data.validation import validate_survival

if TYPE_CHECKING:  # pragma: no cover - typing only
    from survlib.data.batch import PathwayMembership, SurvivalBatch
    from survlib.survival import TimeBins

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

#: Clinical fields of the simulated cohort (the paper's six characteristics, GDC-like).
CLINICAL_FIELDS: tuple[str, ...] = ("age", "sex", "stage", "stage_edition", "subtype", "race")

#: Patch tissue types of the fast mode; necrosis and lymphocytes are the planted prognostic ones.
PATCH_TYPES: tuple[str, ...] = ("tumour", "stroma", "lymphocytes", "necrosis", "normal", "artefact")
_TYPE_BASE = np.array([0.40, 0.22, 0.10, 0.06, 0.18, 0.04])  # baseline proportions
_TYPE_SHIFT = np.array([0.0, 0.0, -1.0, 1.0, 0.0, 0.0])  # d log-proportion / d morphology latent
_SLIDE_PROGNOSTIC = ("necrosis", "lymphocytes")

# TCGA-LIHC-like clinical frequencies (rounded; the cohort is simulated, not sampled from GDC).
_STAGE_GROUP_P = np.array([0.47, 0.25, 0.23, 0.05])
_STAGE_EFFECT = np.array([0.0, 0.5, 1.1, 1.7])
_SUBSTAGES = (
    (("Stage I",), (1.0,)),
    (("Stage II",), (1.0,)),
    (("Stage IIIA", "Stage IIIB", "Stage IIIC"), (0.7, 0.15, 0.15)),
    (("Stage IV", "Stage IVA", "Stage IVB"), (0.4, 0.3, 0.3)),
)
_EDITIONS = (("5th", "6th", "7th", "not reported"), (0.05, 0.30, 0.60, 0.05))
_SUBTYPES = (
    ("Hepatocellular carcinoma, NOS", "Hepatocellular carcinoma, clear cell type",
     "Combined hepatocellular carcinoma and cholangiocarcinoma",
     "Hepatocellular carcinoma, fibrolamellar", "Hepatocellular carcinoma, spindle cell variant"),
    (0.86, 0.05, 0.04, 0.03, 0.02),
    (0.0, 0.0, 0.6, -0.8, 0.5),
)
_RACES = (("white", "asian", "black or african american", "not reported"),
          (0.50, 0.42, 0.05, 0.03))


# ============================================================================ containers


@dataclass
class CohortTruth:
    """What the simulator knows and a model has to find.

    Attributes:
        risk: ``[N]`` the true linear predictor :math:`\\eta` (higher = earlier death).
        components: ``[N, 4]`` standardised clinical, pathway, morphology and interaction risk
            (columns ``clinical, pathway, morphology, interaction``) before the strengths.
        strengths: the weight of each component in :math:`\\eta`.
        prognostic_pathways: names of the pathways that carry genomic risk.
        pathway_effects: their coefficients :math:`b_p`.
        prognostic_patch_types: the planted patch types.
        patch_type_effects: each type's shift of the log-proportion per unit morphology latent.
        planted: per patient, ``bool [n_i]``: is the patch of a planted type.
        shared_latent: ``[N]`` the latent that couples the modalities.
    """

    risk: np.ndarray
    components: pd.DataFrame
    strengths: dict[str, float]
    prognostic_pathways: list[str]
    pathway_effects: np.ndarray
    prognostic_patch_types: list[str]
    patch_type_effects: dict[str, float]
    planted: list[np.ndarray] | None
    shared_latent: np.ndarray


@dataclass
class MultimodalCohort:
    """A cohort with clinical, expression and (optionally) patch-bag modalities.

    Attributes:
        clinical: one row per patient (index: patient ids) with the clinical fields plus
            ``time`` (months) and ``event`` (1 = death observed).
        expression: ``[N, G]`` log-expression, columns in ``pathways.genes`` order.
        pathways: gene -> pathway membership (``None`` when the expression has no pathways).
        bags: per patient ``float32 [n_i, D_p]`` patch features, or ``None``.
        patch_types: per patient ``int [n_i]`` index into ``patch_type_names``, or ``None``.
        patch_type_names: names of the patch types.
        coords: per patient ``int [n_i, 2]`` level-0 patch coordinates (slow mode only).
        slide_paths: per patient slide file (slow mode only).
        size_level0: patch footprint at level 0 (slow mode only).
        truth: the known truth (simulated cohorts only).
        attrs: ``simulated`` (bool), the simulator's parameters, a name.
    """

    clinical: pd.DataFrame
    expression: pd.DataFrame
    pathways: PathwayMembership | None = None
    bags: list[np.ndarray] | None = None
    patch_types: list[np.ndarray] | None = None
    patch_type_names: tuple[str, ...] = PATCH_TYPES
    coords: list[np.ndarray] | None = None
    slide_paths: list[Path] | None = None
    size_level0: int | None = None
    truth: CohortTruth | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate_survival(self.clinical["time"].to_numpy(), self.clinical["event"].to_numpy(),
                          name="MultimodalCohort.clinical")
        if len(self.expression) != len(self.clinical):
            raise ValueError(f"MultimodalCohort: {len(self.expression)} expression rows for "
                             f"{len(self.clinical)} patients")
        if self.pathways is not None and list(self.expression.columns) != list(self.pathways.genes):
            raise ValueError("MultimodalCohort: expression columns must be the pathway genes, "
                             "in PathwayMembership.genes order")
        if self.bags is not None:
            if len(self.bags) != len(self.clinical):
                raise ValueError(f"MultimodalCohort: {len(self.bags)} bags for "
                                 f"{len(self.clinical)} patients")
            empty = [i for i, b in enumerate(self.bags) if len(b) == 0]
            if empty:
                raise ValueError(f"MultimodalCohort: patient(s) {empty[:5]} have no patches")
        self._check_features()

    def _check_features(self) -> None:
        """Expression and patch features: numeric, finite, ``[N, G]`` / ``[n_i, D]`` with one D."""
        from survlib._core.validation import check_features

        check_features(self.expression.to_numpy(), "MultimodalCohort.expression", ndim=2,
                       shape=(len(self.clinical), None))
        if self.bags is None:
            return
        ids = self.clinical.index
        d = None
        for i, bag in enumerate(self.bags):
            arr = check_features(bag, f"MultimodalCohort.bags[{i}] (patient {ids[i]!r})",
                                 ndim=2, shape=(None, d))
            d = arr.shape[1] if d is None else d

    def __len__(self) -> int:
        return len(self.clinical)

    def __repr__(self) -> str:
        kind = "simulated" if self.attrs.get("simulated") else "real"
        bags = "no bags" if self.bags is None else (
            f"{int(np.mean([len(b) for b in self.bags]))} patches/patient x {self.d_patch}-d")
        return (f"MultimodalCohort({kind}, {len(self)} patients, "
                f"{100 * self.censoring_rate:.0f}% censored, {self.expression.shape[1]} genes, "
                f"{bags})")

    @property
    def time(self) -> np.ndarray:
        return self.clinical["time"].to_numpy(dtype=np.float64)

    @property
    def event(self) -> np.ndarray:
        return self.clinical["event"].to_numpy(dtype=np.int64)

    @property
    def censoring_rate(self) -> float:
        return float(1.0 - self.event.mean())

    @property
    def d_patch(self) -> int:
        return 0 if not self.bags else int(self.bags[0].shape[1])

    @property
    def clinical_fields(self) -> list[str]:
        """The clinical columns (everything but ``time`` and ``event``)."""
        return [c for c in self.clinical.columns if c not in ("time", "event")]

    def summary(self) -> pd.DataFrame:
        """One-row overview: patients, censoring, median follow-up, genes, pathways, patches."""
        row: dict[str, Any] = {
            "patients": len(self),
            "events": int(self.event.sum()),
            "censored (%)": round(100 * self.censoring_rate, 1),
            "median follow-up (months)": round(float(np.median(self.time)), 1),
            "genes": self.expression.shape[1],
            "pathways": 0 if self.pathways is None else self.pathways.n_pathways,
        }
        if self.bags is not None:
            sizes = np.array([len(b) for b in self.bags])
            row.update({"patches per patient (median)": int(np.median(sizes)),
                        "patch feature dim": self.d_patch})
        row["simulated"] = bool(self.attrs.get("simulated", False))
        return pd.DataFrame([row], index=[self.attrs.get("name", "cohort")])

    @classmethod
    def from_tables(
        cls,
        clinical: pd.DataFrame,
        expression: pd.DataFrame,
        pathways: PathwayMembership | None = None,
        name: str = "cohort",
        simulated: bool = False,
    ) -> MultimodalCohort:
        """Wrap a clinical table (with ``time``, ``event``) and an expression table (no bags),
        e.g. a real cohort for the clinic and genomic unimodal models."""
        clinical = clinical.copy()
        expression = expression.copy()
        expression.index = clinical.index
        for frame in (clinical, expression):
            frame.attrs["simulated"] = bool(simulated)
        return cls(clinical=clinical, expression=expression, pathways=pathways,
                   attrs={"simulated": bool(simulated), "name": name})


# ============================================================================ pathways


def simulate_pathway_membership(
    n_pathways: int, n_genes: int, seed: int = 0, median_size: float = 30.0,
    size_sigma: float = 0.9, min_size: int = 5, max_size: int = 400,
) -> PathwayMembership:
    """Simulated gene -> pathway membership with a SurvPath-like size distribution.

    Pathway sizes are log-normal (median ``median_size``, log-sd ``size_sigma``, clipped to
    ``[min_size, min(max_size, n_genes)]``): many small Reactome-like sets and a tail of large
    Hallmark-like ones. Genes are drawn with Zipf-like popularity, so a few genes sit in many
    pathways, as in the real sets; every gene ends up in at least one pathway (uncovered genes
    join a random pathway). Names: ``pathway_000 ...``, genes ``gene_0000 ...``.
    """
    from survlib.data.batch import PathwayMembership

    if n_pathways < 1 or n_genes < min_size:
        raise ValueError(f"simulate_pathway_membership: need n_pathways >= 1 and n_genes >= "
                         f"{min_size}, got {n_pathways}, {n_genes}")
    rng = np.random.default_rng(seed)
    sizes = np.exp(np.log(median_size) + size_sigma * rng.standard_normal(n_pathways))
    sizes = np.clip(np.rint(sizes), min_size, min(max_size, n_genes)).astype(int)
    popularity = 1.0 / np.arange(1, n_genes + 1) ** 0.6
    popularity = rng.permutation(popularity / popularity.sum())
    m = np.zeros((n_pathways, n_genes), dtype=bool)
    for p, s in enumerate(sizes):
        m[p, rng.choice(n_genes, size=int(s), replace=False, p=popularity)] = True
    uncovered = np.flatnonzero(~m.any(axis=0))
    m[rng.integers(0, n_pathways, uncovered.size), uncovered] = True
    width = len(str(n_genes - 1))
    return PathwayMembership(
        torch.from_numpy(m),
        [f"pathway_{p:03d}" for p in range(n_pathways)],
        [f"gene_{g:0{width}d}" for g in range(n_genes)],
    )


def load_survpath_pathways(path: str | Path | None = None, download: bool = False
                           ) -> PathwayMembership | None:
    """SurvPath's 331 Reactome + Hallmark signatures (``combine_signatures.csv``), if available.

    The file (one column per pathway, gene symbols down the rows) is the manifest entry
    ``survpath_combine_signatures``. Without ``path`` it is read from the survlib cache when a
    previous :func:`survlib.data.fetch` left it there; with ``download=True`` it is fetched
    (network). Returns ``None`` when it is not available, so callers can fall back to
    :func:`simulate_pathway_membership` offline.
    """
    from survlib.data.batch import PathwayMembership

    if path is None:
        from survlib.data.fetch import DataUnavailableError, fetch, load_manifest

        entry = load_manifest().get("survpath_combine_signatures")
        if entry is None:
            return None
        from survlib.data.fetch import cache_dir

        cached = cache_dir() / entry.name / entry.filename
        if not cached.is_file() and not download:
            return None
        try:
            path = fetch("survpath_combine_signatures", progress=False)
        except (DataUnavailableError, OSError, ValueError):
            return None
    table = pd.read_csv(path)
    sets = {str(c): sorted({str(g).strip() for g in table[c].dropna() if str(g).strip()})
            for c in table.columns if not str(c).startswith("Unnamed")}
    sets = {k: v for k, v in sets.items() if v}
    return PathwayMembership.from_sets(sets)


# ============================================================================ simulator


def _standardise(x: np.ndarray) -> np.ndarray:
    sd = float(np.std(x))
    return (x - np.mean(x)) / (sd if sd > 0 else 1.0)


def _weibull_times(rng: np.random.Generator, eta: np.ndarray, median_survival: float,
                   shape: float) -> np.ndarray:
    r"""Event times with :math:`S(t\mid\eta) = \exp(-(t/\lambda)^k e^\eta)`, median
    ``median_survival`` at :math:`\eta = 0`."""
    scale = median_survival / np.log(2.0) ** (1.0 / shape)
    return scale * (rng.exponential(size=eta.size) * np.exp(-eta)) ** (1.0 / shape)


def _censor(t_event: np.ndarray, unit_exp: np.ndarray, target: float,
            max_follow_up: float) -> tuple[np.ndarray, np.ndarray]:
    """Exponential censoring ``unit_exp / rate`` with the rate found by bisection (on its log)
    so that the censored share is as close as possible to ``target``; then administrative
    censoring at ``max_follow_up``."""

    def censored_share(log_rate: float) -> float:
        c = np.minimum(unit_exp / np.exp(log_rate), max_follow_up)
        return float(np.mean(c < t_event))

    if censored_share(-30.0) >= target:  # administrative censoring alone is enough
        c = np.full_like(t_event, max_follow_up)
    else:
        lo, hi = -30.0, 10.0
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if censored_share(mid) < target else (lo, mid)
        best = min((lo, hi), key=lambda r: abs(censored_share(r) - target))
        c = np.minimum(unit_exp / np.exp(best), max_follow_up)
    event = (t_event <= c).astype(np.int64)
    time = np.minimum(t_event, c)
    return np.maximum(time, 0.1), event  # follow-up of at least 3 days


def _choice(rng: np.random.Generator, values: Sequence[str], p: Sequence[float],
            n: int) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=np.asarray(p))]


def _simulate_clinical(rng: np.random.Generator, latent: np.ndarray
                       ) -> tuple[pd.DataFrame, np.ndarray]:
    n = latent.size
    age = np.clip(np.rint(61 + 13 * rng.standard_normal(n)), 18, 90).astype(int)
    sex = _choice(rng, ("male", "female"), (0.67, 0.33), n)
    # stage group from the clinical latent (plus noise), at the target frequencies
    score = latent + 0.5 * rng.standard_normal(n)
    cuts = np.quantile(score, np.cumsum(_STAGE_GROUP_P)[:-1])
    group = np.searchsorted(cuts, score)
    stage = np.empty(n, dtype=object)
    for g, (names, probs) in enumerate(_SUBSTAGES):
        sel = group == g
        stage[sel] = _choice(rng, names, probs, int(sel.sum()))
    stage[rng.random(n) < 0.06] = "not reported"
    edition = _choice(rng, *_EDITIONS, n)
    sub_idx = rng.choice(len(_SUBTYPES[0]), size=n, p=np.asarray(_SUBTYPES[1]))
    subtype = np.asarray(_SUBTYPES[0], dtype=object)[sub_idx]
    race = _choice(rng, *_RACES, n)
    risk = 0.35 * (age - 61) / 10 + _STAGE_EFFECT[group] + np.asarray(_SUBTYPES[2])[sub_idx]
    table = pd.DataFrame({"age": age, "sex": sex, "stage": stage, "stage_edition": edition,
                          "subtype": subtype, "race": race})
    return table, risk


def _simulate_expression(rng: np.random.Generator, membership: PathwayMembership, n: int,
                         shared: np.ndarray, rho: float, n_prognostic: int, noise: float
                         ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    m = membership.matrix.numpy()
    n_paths, n_genes = m.shape
    sizes = m.sum(axis=1)
    eligible = np.flatnonzero(sizes >= 5) if (sizes >= 5).sum() >= n_prognostic else np.arange(n_paths)
    prognostic = np.sort(rng.choice(eligible, size=min(n_prognostic, eligible.size), replace=False))
    effects = rng.uniform(0.5, 1.0, prognostic.size) * rng.choice([-1.0, 1.0], prognostic.size)
    activity = rng.standard_normal((n, n_paths))
    activity[:, prognostic] = (np.sqrt(rho) * np.sign(effects)[None, :] * shared[:, None]
                               + np.sqrt(1 - rho) * activity[:, prognostic])
    loadings = m * rng.uniform(0.5, 1.5, m.shape) * np.where(rng.random(m.shape) < 0.85, 1.0, -1.0)
    k = np.maximum(m.sum(axis=0), 1)
    signal = activity @ loadings / np.sqrt(k)[None, :]
    mu = rng.uniform(2.0, 10.0, n_genes)
    sd = rng.uniform(0.5, 2.0, n_genes)
    x = mu[None, :] + sd[None, :] * (signal + noise * rng.standard_normal((n, n_genes)))
    expression = pd.DataFrame(x.astype(np.float32), columns=list(membership.genes))
    risk = activity[:, prognostic] @ effects
    return expression, risk, prognostic, effects


def _gaussian_bags(rng: np.random.Generator, morph: np.ndarray, d_patch: int,
                   patches: tuple[int, int], noise: float, stain_shift: float
                   ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    prototypes = rng.standard_normal((len(PATCH_TYPES), d_patch))
    bags, types = [], []
    for m_i in morph:
        logits = np.log(_TYPE_BASE) + m_i * _TYPE_SHIFT
        p = np.exp(logits - logits.max())
        p /= p.sum()
        n_i = int(rng.integers(patches[0], patches[1] + 1))
        t = rng.choice(len(PATCH_TYPES), size=n_i, p=p)
        shift = stain_shift * rng.standard_normal(d_patch)
        x = prototypes[t] + shift[None, :] + noise * rng.standard_normal((n_i, d_patch))
        bags.append(x.astype(np.float32))
        types.append(t.astype(np.int64))
    return bags, types


def _slide_bags(n: int, seed: int, workdir: Path, slide_size: int, patch_size: int,
                progress: bool) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray],
                                         list[Path], int]:
    from tqdm.auto import tqdm

    from survlib import wsi
    from survlib.data.slides import write_synthetic_slide

    encoder = wsi.HandcraftedEncoder()
    bags, types, coords, paths = [], [], [], []
    size0 = 0
    for i in tqdm(range(n), desc="synthetic slides", disable=not progress):
        for attempt in range(5):  # a slide with no tissue patches is redrawn
            slide_seed = int(np.random.default_rng([seed, i, attempt]).integers(2**31))
            synthetic = write_synthetic_slide(workdir / f"patient_{i:04d}.tif", seed=slide_seed,
                                              width=slide_size, height=slide_size)
            with wsi.Slide(synthetic.path) as slide:
                mask = wsi.tissue_mask(slide, downsample=32.0)
                grid = wsi.tile_grid(slide, magnification=20.0, patch_size=patch_size, mask=mask,
                                     min_tissue=0.5)
                if len(grid) == 0:
                    continue
                feats = wsi.extract_features(slide, grid, encoder, patient_id=f"patient_{i:04d}",
                                             progress=False)
            labels, _ = synthetic.truth.majority(grid.coords, grid.size_level0)
            bags.append(feats.features.astype(np.float32))
            types.append(labels.astype(np.int64))
            coords.append(grid.coords.copy())
            paths.append(synthetic.path)
            size0 = grid.size_level0
            break
        else:
            raise RuntimeError(f"simulate_multimodal_cohort: no tissue patches on 5 synthetic "
                               f"slides for patient {i}; use a larger slide_size")
    return bags, types, coords, paths, size0


def simulate_multimodal_cohort(
    n_patients: int = 400,
    seed: int = 0,
    *,
    clinical_strength: float = 0.6,
    pathway_strength: float = 0.6,
    morphology_strength: float = 0.6,
    interaction_strength: float = 0.0,
    modality_correlation: float = 0.3,
    censoring_rate: float = 0.72,
    median_survival: float = 120.0,
    weibull_shape: float = 1.2,
    max_follow_up: float = 150.0,
    n_pathways: int = 50,
    n_genes: int = 600,
    pathways: Literal["auto", "simulated", "survpath"] | PathwayMembership = "simulated",
    n_prognostic_pathways: int = 4,
    expression_noise: float = 1.0,
    patch_source: Literal["gaussian", "slides"] = "gaussian",
    d_patch: int = 64,
    patches_per_patient: tuple[int, int] = (64, 160),
    patch_noise: float = 1.0,
    stain_shift: float = 0.3,
    slide_size: int = 2048,
    slide_patch_size: int = 128,
    workdir: str | Path | None = None,
    progress: bool = False,
) -> MultimodalCohort:
    """Simulate a TCGA-like cohort with clinical, pathway expression and patch-bag modalities.

    The generative model is in the module docstring. Everything is deterministic given
    ``seed`` (``np.random.default_rng``; slow mode also writes slides whose seeds derive from
    it).

    Args:
        n_patients: cohort size (TCGA cohorts: 300-1000).
        seed: the seed.
        clinical_strength, pathway_strength, morphology_strength: weight of each modality's
            standardised risk in the log hazard (0 switches a modality's signal off).
        interaction_strength: weight of the standardised pathway x morphology product.
        modality_correlation: :math:`\\rho`, how much the modality latents share.
        censoring_rate: target censored fraction, in ``[0, 0.95]``.
        median_survival: median event time (months) at :math:`\\eta = 0`.
        weibull_shape: Weibull shape of the event times.
        max_follow_up: administrative censoring (months).
        n_pathways, n_genes: size of the simulated membership.
        pathways: ``"simulated"``; ``"auto"`` (SurvPath's sets when cached, else simulated;
            never downloads); ``"survpath"`` (fetch them; an error if unavailable); or a
            :class:`~survlib.models.blocks.PathwayMembership`.
        n_prognostic_pathways: pathways that carry genomic risk.
        expression_noise: gene-level noise relative to the pathway signal.
        patch_source: ``"gaussian"`` (fast feature bags) or ``"slides"`` (synthetic slides
            through :mod:`survlib.wsi`; slow: use a small ``n_patients``).
        d_patch: patch feature dimension (fast mode; slides give the encoder's 46).
        patches_per_patient: ``(min, max)`` bag size (fast mode).
        patch_noise: within-type patch noise (fast mode; prototypes have unit scale).
        stain_shift: s.d. of a per-patient shift of all its patch features (fast mode).
        slide_size, slide_patch_size: slow mode: level-0 side of each slide and the patch side at
            20x.
        workdir: slow mode: folder for the slides (default: a new temporary folder).
        progress: progress bar over slides (slow mode).

    Returns:
        A :class:`MultimodalCohort` with ``truth`` and ``attrs["simulated"] = True``.
    """
    n = int(n_patients)
    if n < 4:
        raise ValueError(f"simulate_multimodal_cohort: n_patients must be >= 4, got {n_patients}")
    if not 0.0 <= censoring_rate <= 0.95:
        raise ValueError(f"censoring_rate must lie in [0, 0.95], got {censoring_rate}")
    if not 0.0 <= modality_correlation < 1.0:
        raise ValueError(f"modality_correlation must lie in [0, 1), got {modality_correlation}")
    if patch_source not in ("gaussian", "slides"):
        raise ValueError(f"patch_source must be 'gaussian' or 'slides', got {patch_source!r}")
    lo, hi = (int(v) for v in patches_per_patient)
    if not 1 <= lo <= hi:
        raise ValueError(f"patches_per_patient must be (min, max) with 1 <= min <= max, got "
                         f"{patches_per_patient}")
    params = {k: v for k, v in locals().items() if isinstance(v, (int, float, str, bool, tuple))}
    rng = np.random.default_rng(seed)
    rho = float(modality_correlation)

    # membership
    membership: PathwayMembership
    if isinstance(pathways, str):
        real = None
        if pathways in ("auto", "survpath"):
            real = load_survpath_pathways(download=pathways == "survpath")
            if real is None and pathways == "survpath":
                raise RuntimeError("SurvPath's signatures (manifest entry "
                                   "'survpath_combine_signatures') are not available; use "
                                   "pathways='auto' or 'simulated' offline")
        elif pathways != "simulated":
            raise ValueError(f"pathways must be 'auto', 'simulated', 'survpath' or a "
                             f"PathwayMembership, got {pathways!r}")
        membership = real if real is not None else simulate_pathway_membership(
            n_pathways, n_genes, seed=int(rng.integers(2**31)))
        pathway_source = "survpath" if real is not None else "simulated"
    else:
        membership, pathway_source = pathways, "given"

    # morphology (slides first: in slow mode the slides define the morphology latent)
    coords = slide_paths = None
    size0 = None
    if patch_source == "slides":
        folder = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="survlib_slides_"))
        folder.mkdir(parents=True, exist_ok=True)
        bags, types, coords, slide_paths, size0 = _slide_bags(n, seed, folder, slide_size,
                                                              slide_patch_size, progress)
        from survlib.data.slides import REGION_NAMES

        names = tuple(REGION_NAMES)
        nec, lym = names.index("necrosis"), names.index("lymphocytes")
        share = np.array([[np.mean(t == nec), np.mean(t == lym)] for t in types])
        morph = _standardise(share[:, 0] - share[:, 1])
        shared = morph.copy()
        planted_names = list(_SLIDE_PROGNOSTIC)
        type_effects = {"necrosis": 1.0, "lymphocytes": -1.0}
        planted_idx = [names.index(p) for p in planted_names]
    else:
        names = PATCH_TYPES
        shared = rng.standard_normal(n)
        morph = np.sqrt(rho) * shared + np.sqrt(1 - rho) * rng.standard_normal(n)
        bag_rng = np.random.default_rng([int(seed), 7])
        bags, types = _gaussian_bags(bag_rng, morph, int(d_patch), (lo, hi), patch_noise,
                                     stain_shift)
        planted_names = [PATCH_TYPES[k] for k in np.flatnonzero(_TYPE_SHIFT)]
        type_effects = {PATCH_TYPES[k]: float(_TYPE_SHIFT[k]) for k in np.flatnonzero(_TYPE_SHIFT)}
        planted_idx = [PATCH_TYPES.index(p) for p in planted_names]

    clin_latent = np.sqrt(rho) * shared + np.sqrt(1 - rho) * rng.standard_normal(n)
    clinical, r_clin = _simulate_clinical(rng, clin_latent)
    expression, r_path, prog_idx, effects = _simulate_expression(
        rng, membership, n, shared, rho, int(n_prognostic_pathways), float(expression_noise))

    comp = pd.DataFrame({
        "clinical": _standardise(r_clin),
        "pathway": _standardise(r_path),
        "morphology": _standardise(morph),
    })
    comp["interaction"] = _standardise(comp["pathway"].to_numpy() * comp["morphology"].to_numpy())
    strengths = {"clinical": float(clinical_strength), "pathway": float(pathway_strength),
                 "morphology": float(morphology_strength),
                 "interaction": float(interaction_strength)}
    eta = sum(strengths[c] * comp[c].to_numpy() for c in comp.columns)

    surv_rng = np.random.default_rng([int(seed), 11])
    t_event = _weibull_times(surv_rng, eta, float(median_survival), float(weibull_shape))
    time, event = _censor(t_event, surv_rng.exponential(size=n), float(censoring_rate),
                          float(max_follow_up))

    ids = [f"SIM-{seed:03d}-{i:04d}" for i in range(n)]
    clinical.index = pd.Index(ids, name="patient_id")
    clinical["time"] = time
    clinical["event"] = event
    expression.index = clinical.index
    comp.index = clinical.index
    attrs = {"simulated": True, "name": f"simulated TCGA-like cohort (seed {seed})",
             "pathway_source": pathway_source, "patch_source": patch_source, **params}
    for frame in (clinical, expression):
        frame.attrs.update({"simulated": True, "seed": int(seed)})
    planted = [np.isin(t, planted_idx) for t in types]
    truth = CohortTruth(
        risk=np.asarray(eta, dtype=np.float64),
        components=comp,
        strengths=strengths,
        prognostic_pathways=[membership.pathway_names[p] for p in prog_idx],
        pathway_effects=effects,
        prognostic_patch_types=planted_names,
        patch_type_effects=type_effects,
        planted=planted,
        shared_latent=shared,
    )
    return MultimodalCohort(
        clinical=clinical, expression=expression, pathways=membership, bags=bags,
        patch_types=types, patch_type_names=tuple(names), coords=coords,
        slide_paths=slide_paths, size_level0=size0, truth=truth, attrs=attrs,
    )


# ============================================================================ fold data, batches


def clinical_design_matrix(clinical: pd.DataFrame, fields: Sequence[str] | None = None,
                           drop_first: bool = True) -> pd.DataFrame:
    """Numeric design matrix of clinical fields: numbers kept, categories one-hot encoded.

    Args:
        clinical: the clinical table.
        fields: the columns to use (default: all but ``time`` and ``event``).
        drop_first: drop each categorical's first level (a full-rank matrix for Cox models).
    """
    cols = [c for c in clinical.columns if c not in ("time", "event")] if fields is None else list(fields)
    frame = clinical[cols].copy()
    categorical = [c for c in cols if not pd.api.types.is_numeric_dtype(frame[c])]
    for c in categorical:
        frame[c] = frame[c].astype(str)
    return pd.get_dummies(frame, columns=categorical, drop_first=drop_first, dtype=float).astype(float)


def pad_bags(
    bags: Sequence[np.ndarray],
    max_patches: int | None = None,
    rng: np.random.Generator | None = None,
    mean: np.ndarray | None = None,
    sd: np.ndarray | None = None,
) -> tuple[torch.Tensor, torch.Tensor, list[np.ndarray]]:
    """Pad bags of different sizes into one tensor with a mask.

    Bags larger than ``max_patches`` are subsampled without replacement: at random with ``rng``
    (training: a new subset each step), else deterministically at evenly spaced positions
    (evaluation). Padded rows are zero and masked out.

    Args:
        bags: ``B`` arrays ``[n_i, D]`` (every ``n_i >= 1``).
        max_patches: cap on patches per bag (``None``: keep all).
        rng: generator for the random subsets.
        mean, sd: optional ``[D]`` standardisation applied to real rows, ``(x - mean) / sd``.

    Returns:
        ``(patches [B, N, D] float32, mask [B, N] bool, kept)`` where ``N`` is the largest
        kept bag and ``kept[b]`` holds the indices (into bag ``b``) of its rows, in order.
    """
    if len(bags) == 0:
        raise ValueError("pad_bags: no bags")
    kept: list[np.ndarray] = []
    for b, bag in enumerate(bags):
        n_b = len(bag)
        if n_b == 0:
            raise ValueError(f"pad_bags: bag {b} is empty (every patient needs >= 1 patch)")
        if max_patches is not None and n_b > int(max_patches):
            if rng is not None:
                idx = np.sort(rng.choice(n_b, size=int(max_patches), replace=False))
            else:
                idx = np.unique(np.linspace(0, n_b - 1, int(max_patches)).round().astype(np.int64))
        else:
            idx = np.arange(n_b)
        kept.append(idx)
    d = int(bags[0].shape[1])
    n_max = max(len(k) for k in kept)
    patches = np.zeros((len(bags), n_max, d), dtype=np.float32)
    mask = np.zeros((len(bags), n_max), dtype=bool)
    for b, (bag, idx) in enumerate(zip(bags, kept)):
        if bag.shape[1] != d:
            raise ValueError(f"pad_bags: bag {b} has {bag.shape[1]} features, bag 0 has {d}")
        rows = np.asarray(bag[idx], dtype=np.float32)
        if mean is not None:
            rows = (rows - mean) / sd
        patches[b, : len(idx)] = rows
        mask[b, : len(idx)] = True
    return torch.from_numpy(patches), torch.from_numpy(mask), kept


@dataclass
class FoldData:
    """A cohort prepared for one cross-validation fold: everything scaled on training patients.

    Build it with :func:`prepare_fold`. Genes and clinical covariates are z-scored with the
    training patients' means and s.d.; patch features likewise (statistics over all training
    patches); time bins are fitted on the training patients (quartiles of their event times).
    Test patients never influence any of it.

    Attributes:
        genes: ``float32 [N, G]`` standardised expression.
        clinical: ``float32 [N, C]`` standardised clinical design matrix.
        clinical_names: its column names.
        clinical_tokens: ``float32 [N, F, D_t]`` prompt embeddings, or ``None``.
        bags: the cohort's raw bags (standardised when batched), or ``None``.
        patch_mean, patch_sd: ``[D_p]`` patch standardisation.
        time, event: survival outcomes.
        bins: the fitted :class:`~survlib.survival.TimeBins`.
        bin_index: ``int64 [N]`` bin of each patient's time.
        train: the training indices the statistics came from.
        pathways: the cohort's pathway membership (for models that need it).
    """

    genes: np.ndarray
    clinical: np.ndarray
    clinical_names: list[str]
    clinical_tokens: np.ndarray | None
    bags: list[np.ndarray] | None
    patch_mean: np.ndarray | None
    patch_sd: np.ndarray | None
    time: np.ndarray
    event: np.ndarray
    bins: TimeBins
    bin_index: np.ndarray
    train: np.ndarray
    pathways: PathwayMembership | None = None

    def __len__(self) -> int:
        return int(self.time.size)

    @property
    def d_patch(self) -> int:
        return 0 if not self.bags else int(self.bags[0].shape[1])

    @property
    def n_genes(self) -> int:
        return int(self.genes.shape[1])

    @property
    def d_text(self) -> int:
        return 0 if self.clinical_tokens is None else int(self.clinical_tokens.shape[2])

    @property
    def n_clinical(self) -> int:
        return int(self.clinical.shape[1])

    @property
    def n_bins(self) -> int:
        return int(self.bins.n_bins)

    def batch(
        self,
        indices: Sequence[int] | np.ndarray,
        max_patches: int | None = None,
        rng: np.random.Generator | None = None,
        with_patches: bool = True,
    ) -> SurvivalBatch:
        """The :class:`~survlib.models.blocks.SurvivalBatch` of the patients ``indices``.

        Args:
            indices: patient positions.
            max_patches: cap on patches per patient (see :func:`pad_bags`).
            rng: random patch subsets (training); ``None``: deterministic.
            with_patches: ``False`` leaves ``patches``/``patch_mask`` ``None`` (models that do
                not read slides, and cohorts without bags).
        """
        from survlib.data.batch import SurvivalBatch

        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size == 0:
            raise ValueError("FoldData.batch: no patients")
        patches = mask = None
        if with_patches and self.bags is not None:
            patches, mask, _ = pad_bags([self.bags[i] for i in idx], max_patches, rng,
                                        self.patch_mean, self.patch_sd)
        tokens = None if self.clinical_tokens is None else torch.from_numpy(
            self.clinical_tokens[idx])
        return SurvivalBatch(
            patches=patches,
            patch_mask=mask,
            genes=torch.from_numpy(self.genes[idx]),
            clinical_tokens=tokens,
            clinical=torch.from_numpy(self.clinical[idx]),
            bin_index=torch.from_numpy(self.bin_index[idx]),
            event=torch.from_numpy(self.event[idx]),
            time=torch.from_numpy(self.time[idx].astype(np.float32)),
        )

    def iter_batches(
        self,
        indices: Sequence[int] | np.ndarray,
        batch_size: int | None = None,
        max_patches: int | None = None,
        rng: np.random.Generator | None = None,
        shuffle: bool = True,
        with_patches: bool = True,
    ) -> Iterator[SurvivalBatch]:
        """Mini-batches over ``indices`` (shuffled with ``rng`` when ``shuffle``); the last one
        may be smaller. ``batch_size=None``: one batch of everyone."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if shuffle and rng is not None:
            idx = rng.permutation(idx)
        size = idx.size if batch_size is None else int(batch_size)
        for start in range(0, idx.size, size):
            yield self.batch(idx[start:start + size], max_patches, rng, with_patches)


def _zscore_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    sd = x.std(axis=0)
    # a constant column is recognised in float64: in float32 its sd comes out tiny but nonzero
    # and scaling by it explodes (real Xena RNA has genes at the floor value in every sample);
    # the statistics themselves stay in the input's precision (unchanged numbers elsewhere)
    constant = np.asarray(x, dtype=np.float64).std(axis=0) <= 1e-8
    return mean, np.where(constant, 1.0, sd)


def prepare_fold(
    cohort: MultimodalCohort,
    train: Sequence[int] | np.ndarray,
    n_bins: int = 4,
    clinical_tokens: np.ndarray | None = None,
    clinical_fields: Sequence[str] | None = None,
) -> FoldData:
    """Standardise a cohort on its training patients and fit the time bins on them.

    Args:
        cohort: the cohort.
        train: indices of the training patients (statistics and bins come from them only).
        n_bins: number of discrete time bins (quartiles of the training event times for 4).
        clinical_tokens: ``[N, F, D_t]`` prompt embeddings of every patient (optional).
        clinical_fields: columns of the clinical design matrix (default: all clinical fields).
    """
    from survlib.survival import make_time_bins

    train = np.sort(np.asarray(train, dtype=np.int64).reshape(-1))
    if train.size == 0:
        raise ValueError("prepare_fold: no training patients")
    genes = cohort.expression.to_numpy(dtype=np.float32)
    g_mean, g_sd = _zscore_stats(genes[train])
    design = clinical_design_matrix(cohort.clinical, clinical_fields)
    clin = design.to_numpy(dtype=np.float32)
    c_mean, c_sd = _zscore_stats(clin[train])
    if clinical_tokens is not None:
        clinical_tokens = np.asarray(clinical_tokens, dtype=np.float32)
        if clinical_tokens.ndim != 3 or clinical_tokens.shape[0] != len(cohort):
            raise ValueError(f"prepare_fold: clinical_tokens must be [{len(cohort)}, F, D], got "
                             f"{clinical_tokens.shape}")
    p_mean = p_sd = None
    if cohort.bags is not None:
        stacked = np.concatenate([cohort.bags[i] for i in train]).astype(np.float64)
        p_mean, p_sd = (a.astype(np.float32) for a in _zscore_stats(stacked))
    time, event = cohort.time, cohort.event
    bins = make_time_bins(time[train], event[train], n_bins=n_bins)
    return FoldData(
        genes=((genes - g_mean) / g_sd).astype(np.float32),
        clinical=((clin - c_mean) / c_sd).astype(np.float32),
        clinical_names=list(design.columns),
        clinical_tokens=clinical_tokens,
        bags=cohort.bags,
        patch_mean=p_mean,
        patch_sd=p_sd,
        time=time,
        event=event,
        bins=bins,
        bin_index=bins.transform(time),
        train=train,
        pathways=cohort.pathways,
    )
