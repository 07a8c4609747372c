r"""Simulated TCGA-like multimodal cohorts with known truth.

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
   :math:`x_{ig} = \mu_g + \sigma_g\big(\sum_{p \ni g} w_{pg} a_{ip} / \sqrt{k_g}
   + \nu\,\epsilon_{ig}\big)`
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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from survlib.data.multimodal.cohort import PATCH_TYPES, CohortTruth, MultimodalCohort
from survlib.data.multimodal.pathways import load_survpath_pathways, simulate_pathway_membership

if TYPE_CHECKING:  # pragma: no cover - typing only
    from survlib.data.batch import PathwayMembership

__all__ = ["simulate_multimodal_cohort"]

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
    (
        "Hepatocellular carcinoma, NOS",
        "Hepatocellular carcinoma, clear cell type",
        "Combined hepatocellular carcinoma and cholangiocarcinoma",
        "Hepatocellular carcinoma, fibrolamellar",
        "Hepatocellular carcinoma, spindle cell variant",
    ),
    (0.86, 0.05, 0.04, 0.03, 0.02),
    (0.0, 0.0, 0.6, -0.8, 0.5),
)
_RACES = (("white", "asian", "black or african american", "not reported"), (0.50, 0.42, 0.05, 0.03))


def _standardise(x: np.ndarray) -> np.ndarray:
    sd = float(np.std(x))
    return (x - np.mean(x)) / (sd if sd > 0 else 1.0)


def _weibull_times(
    rng: np.random.Generator, eta: np.ndarray, median_survival: float, shape: float
) -> np.ndarray:
    r"""Event times with :math:`S(t\mid\eta) = \exp(-(t/\lambda)^k e^\eta)`, median
    ``median_survival`` at :math:`\eta = 0`."""
    scale = median_survival / np.log(2.0) ** (1.0 / shape)
    return scale * (rng.exponential(size=eta.size) * np.exp(-eta)) ** (1.0 / shape)


def _censor(
    t_event: np.ndarray, unit_exp: np.ndarray, target: float, max_follow_up: float
) -> tuple[np.ndarray, np.ndarray]:
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


def _choice(
    rng: np.random.Generator, values: Sequence[str], p: Sequence[float], n: int
) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=np.asarray(p))]


def _simulate_clinical(
    rng: np.random.Generator, latent: np.ndarray
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
    table = pd.DataFrame(
        {
            "age": age,
            "sex": sex,
            "stage": stage,
            "stage_edition": edition,
            "subtype": subtype,
            "race": race,
        }
    )
    return table, risk


def _simulate_expression(
    rng: np.random.Generator,
    membership: PathwayMembership,
    n: int,
    shared: np.ndarray,
    rho: float,
    n_prognostic: int,
    noise: float,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    m = membership.matrix.numpy()
    n_paths, n_genes = m.shape
    sizes = m.sum(axis=1)
    eligible = (
        np.flatnonzero(sizes >= 5) if (sizes >= 5).sum() >= n_prognostic else np.arange(n_paths)
    )
    prognostic = np.sort(rng.choice(eligible, size=min(n_prognostic, eligible.size), replace=False))
    effects = rng.uniform(0.5, 1.0, prognostic.size) * rng.choice([-1.0, 1.0], prognostic.size)
    activity = rng.standard_normal((n, n_paths))
    activity[:, prognostic] = (
        np.sqrt(rho) * np.sign(effects)[None, :] * shared[:, None]
        + np.sqrt(1 - rho) * activity[:, prognostic]
    )
    loadings = m * rng.uniform(0.5, 1.5, m.shape) * np.where(rng.random(m.shape) < 0.85, 1.0, -1.0)
    k = np.maximum(m.sum(axis=0), 1)
    signal = activity @ loadings / np.sqrt(k)[None, :]
    mu = rng.uniform(2.0, 10.0, n_genes)
    sd = rng.uniform(0.5, 2.0, n_genes)
    x = mu[None, :] + sd[None, :] * (signal + noise * rng.standard_normal((n, n_genes)))
    expression = pd.DataFrame(x.astype(np.float32), columns=list(membership.genes))
    risk = activity[:, prognostic] @ effects
    return expression, risk, prognostic, effects


def _gaussian_bags(
    rng: np.random.Generator,
    morph: np.ndarray,
    d_patch: int,
    patches: tuple[int, int],
    noise: float,
    stain_shift: float,
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


def _slide_bags(
    n: int, seed: int, workdir: Path, slide_size: int, patch_size: int, progress: bool
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], list[Path], int]:
    from tqdm.auto import tqdm

    from survlib import wsi
    from survlib.data.slides import write_synthetic_slide

    encoder = wsi.HandcraftedEncoder()
    bags, types, coords, paths = [], [], [], []
    size0 = 0
    for i in tqdm(range(n), desc="synthetic slides", disable=not progress):
        for attempt in range(5):  # a slide with no tissue patches is redrawn
            slide_seed = int(np.random.default_rng([seed, i, attempt]).integers(2**31))
            synthetic = write_synthetic_slide(
                workdir / f"patient_{i:04d}.tif",
                seed=slide_seed,
                width=slide_size,
                height=slide_size,
            )
            with wsi.Slide(synthetic.path) as slide:
                mask = wsi.tissue_mask(slide, downsample=32.0)
                grid = wsi.tile_grid(
                    slide, magnification=20.0, patch_size=patch_size, mask=mask, min_tissue=0.5
                )
                if len(grid) == 0:
                    continue
                feats = wsi.extract_features(
                    slide, grid, encoder, patient_id=f"patient_{i:04d}", progress=False
                )
            labels, _ = synthetic.truth.majority(grid.coords, grid.size_level0)
            bags.append(feats.features.astype(np.float32))
            types.append(labels.astype(np.int64))
            coords.append(grid.coords.copy())
            paths.append(synthetic.path)
            size0 = grid.size_level0
            break
        else:
            raise RuntimeError(
                f"simulate_multimodal_cohort: no tissue patches on 5 synthetic "
                f"slides for patient {i}; use a larger slide_size"
            )
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
    lo, hi = _check_arguments(
        n_patients, censoring_rate, modality_correlation, patch_source, patches_per_patient
    )
    params = {k: v for k, v in locals().items() if isinstance(v, (int, float, str, bool, tuple))}
    rng = np.random.default_rng(seed)
    rho = float(modality_correlation)
    membership, pathway_source = _membership(pathways, rng, n_pathways, n_genes)
    if patch_source == "slides":  # slides first: in slow mode they define the morphology latent
        m = _slide_morphology(n, seed, workdir, slide_size, slide_patch_size, progress)
    else:
        m = _gaussian_morphology(
            rng, n, seed, rho, int(d_patch), (lo, hi), patch_noise, stain_shift
        )

    clin_latent = np.sqrt(rho) * m.shared + np.sqrt(1 - rho) * rng.standard_normal(n)
    clinical, r_clin = _simulate_clinical(rng, clin_latent)
    expression, r_path, prog_idx, effects = _simulate_expression(
        rng, membership, n, m.shared, rho, int(n_prognostic_pathways), float(expression_noise)
    )
    strengths = {
        "clinical": float(clinical_strength),
        "pathway": float(pathway_strength),
        "morphology": float(morphology_strength),
        "interaction": float(interaction_strength),
    }
    comp, eta = _components(r_clin, r_path, m.morph, strengths)

    time, event = _survival(
        eta, seed, median_survival, weibull_shape, censoring_rate, max_follow_up
    )
    _label_rows(clinical, expression, comp, seed, time, event)
    attrs = {
        "simulated": True,
        "name": f"simulated TCGA-like cohort (seed {seed})",
        "pathway_source": pathway_source,
        "patch_source": patch_source,
        **params,
    }
    truth = _cohort_truth(eta, comp, strengths, membership, prog_idx, effects, m)
    return MultimodalCohort(
        clinical=clinical,
        expression=expression,
        pathways=membership,
        bags=m.bags,
        patch_types=m.types,
        patch_type_names=tuple(m.names),
        coords=m.coords,
        slide_paths=m.slide_paths,
        size_level0=m.size0,
        truth=truth,
        attrs=attrs,
    )


def _survival(
    eta: np.ndarray, seed: int, median: float, shape: float, censoring: float, follow_up: float
) -> tuple[np.ndarray, np.ndarray]:
    """Weibull event times and censoring from their own generator (``[seed, 11]``)."""
    surv_rng = np.random.default_rng([int(seed), 11])
    t_event = _weibull_times(surv_rng, eta, float(median), float(shape))
    unit_exp = surv_rng.exponential(size=eta.size)
    return _censor(t_event, unit_exp, float(censoring), float(follow_up))


def _label_rows(
    clinical: pd.DataFrame,
    expression: pd.DataFrame,
    comp: pd.DataFrame,
    seed: int,
    time: np.ndarray,
    event: np.ndarray,
) -> None:
    """Index the tables by simulated patient ids, add ``time``/``event`` and the sim attrs."""
    ids = [f"SIM-{seed:03d}-{i:04d}" for i in range(len(clinical))]
    clinical.index = pd.Index(ids, name="patient_id")
    clinical["time"] = time
    clinical["event"] = event
    expression.index = clinical.index
    comp.index = clinical.index
    for frame in (clinical, expression):
        frame.attrs.update({"simulated": True, "seed": int(seed)})


def _cohort_truth(
    eta: np.ndarray,
    comp: pd.DataFrame,
    strengths: dict[str, float],
    membership: PathwayMembership,
    prog_idx: np.ndarray,
    effects: np.ndarray,
    m: _Morphology,
) -> CohortTruth:
    """The cohort's ground truth: risk, components, prognostic pathways and patch types."""
    planted = [np.isin(t, m.planted_idx) for t in m.types]
    return CohortTruth(
        risk=np.asarray(eta, dtype=np.float64),
        components=comp,
        strengths=strengths,
        prognostic_pathways=[membership.pathway_names[p] for p in prog_idx],
        pathway_effects=effects,
        prognostic_patch_types=m.planted_names,
        patch_type_effects=m.type_effects,
        planted=planted,
        shared_latent=m.shared,
    )


def _check_arguments(
    n_patients: int,
    censoring_rate: float,
    modality_correlation: float,
    patch_source: str,
    patches_per_patient: tuple[int, int],
) -> tuple[int, int]:
    """Refuse bad simulator arguments, naming them; return the ``(min, max)`` bag size."""
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
        raise ValueError(
            f"patches_per_patient must be (min, max) with 1 <= min <= max, got "
            f"{patches_per_patient}"
        )
    return lo, hi


def _membership(
    pathways: str | PathwayMembership, rng: np.random.Generator, n_pathways: int, n_genes: int
) -> tuple[PathwayMembership, str]:
    """The cohort's gene -> pathway membership and where it came from (``"survpath"``,
    ``"simulated"`` or ``"given"``); a simulated one takes one draw from ``rng``."""
    membership: PathwayMembership
    if isinstance(pathways, str):
        real = None
        if pathways in ("auto", "survpath"):
            real = load_survpath_pathways(download=pathways == "survpath")
            if real is None and pathways == "survpath":
                raise RuntimeError(
                    "SurvPath's signatures (manifest entry "
                    "'survpath_combine_signatures') are not available; use "
                    "pathways='auto' or 'simulated' offline"
                )
        elif pathways != "simulated":
            raise ValueError(
                f"pathways must be 'auto', 'simulated', 'survpath' or a "
                f"PathwayMembership, got {pathways!r}"
            )
        membership = (
            real
            if real is not None
            else simulate_pathway_membership(n_pathways, n_genes, seed=int(rng.integers(2**31)))
        )
        pathway_source = "survpath" if real is not None else "simulated"
    else:
        membership, pathway_source = pathways, "given"
    return membership, pathway_source


@dataclass
class _Morphology:
    """The patch modality of a simulated cohort, before the clinical and genomic draws."""

    bags: list[np.ndarray]
    types: list[np.ndarray]
    names: tuple[str, ...]
    morph: np.ndarray  # the morphology latent
    shared: np.ndarray  # the latent shared by the modalities
    planted_names: list[str]
    type_effects: dict[str, float]
    planted_idx: list[int]
    coords: list[np.ndarray] | None = None
    slide_paths: list[Path] | None = None
    size0: int | None = None


def _slide_morphology(
    n: int,
    seed: int,
    workdir: str | Path | None,
    slide_size: int,
    slide_patch_size: int,
    progress: bool,
) -> _Morphology:
    """Slow mode: bags from synthetic slides; the latent is the standardised difference of each
    patient's necrosis and lymphocyte shares (no draw from the cohort's generator)."""
    folder = (
        Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="survlib_slides_"))
    )
    folder.mkdir(parents=True, exist_ok=True)
    bags, types, coords, slide_paths, size0 = _slide_bags(
        n, seed, folder, slide_size, slide_patch_size, progress
    )
    from survlib.data.slides import REGION_NAMES

    names = tuple(REGION_NAMES)
    nec, lym = names.index("necrosis"), names.index("lymphocytes")
    share = np.array([[np.mean(t == nec), np.mean(t == lym)] for t in types])
    morph = _standardise(share[:, 0] - share[:, 1])
    shared = morph.copy()
    planted_names = list(_SLIDE_PROGNOSTIC)
    type_effects = {"necrosis": 1.0, "lymphocytes": -1.0}
    planted_idx = [names.index(p) for p in planted_names]
    return _Morphology(
        bags,
        types,
        names,
        morph,
        shared,
        planted_names,
        type_effects,
        planted_idx,
        coords,
        slide_paths,
        size0,
    )


def _gaussian_morphology(
    rng: np.random.Generator,
    n: int,
    seed: int,
    rho: float,
    d_patch: int,
    patches: tuple[int, int],
    patch_noise: float,
    stain_shift: float,
) -> _Morphology:
    """Fast mode: the shared and morphology latents (two draws from ``rng``), then Gaussian
    bags from their own generator ``[seed, 7]``."""
    names = PATCH_TYPES
    shared = rng.standard_normal(n)
    morph = np.sqrt(rho) * shared + np.sqrt(1 - rho) * rng.standard_normal(n)
    bag_rng = np.random.default_rng([int(seed), 7])
    bags, types = _gaussian_bags(bag_rng, morph, d_patch, patches, patch_noise, stain_shift)
    planted_names = [PATCH_TYPES[k] for k in np.flatnonzero(_TYPE_SHIFT)]
    type_effects = {PATCH_TYPES[k]: float(_TYPE_SHIFT[k]) for k in np.flatnonzero(_TYPE_SHIFT)}
    planted_idx = [PATCH_TYPES.index(p) for p in planted_names]
    return _Morphology(bags, types, names, morph, shared, planted_names, type_effects, planted_idx)


def _components(
    r_clin: np.ndarray, r_path: np.ndarray, morph: np.ndarray, strengths: dict[str, float]
) -> tuple[pd.DataFrame, np.ndarray]:
    """The standardised risk components and the true log hazard, their weighted sum."""
    comp = pd.DataFrame(
        {
            "clinical": _standardise(r_clin),
            "pathway": _standardise(r_path),
            "morphology": _standardise(morph),
        }
    )
    comp["interaction"] = _standardise(comp["pathway"].to_numpy() * comp["morphology"].to_numpy())
    eta = sum(strengths[c] * comp[c].to_numpy() for c in comp.columns)
    return comp, eta
