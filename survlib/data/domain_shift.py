r"""A simulated *external* cohort: same biology, other patients, another site's data.

AMKD's Table 4 trains on TCGA-HNSC and tests, without any tuning, on CPTAC-HNSC: different
hospitals, slide preparation, scanners and follow-up. This module makes the simulated analogue
of that setting from one :func:`~survlib.data.multimodal.simulate_multimodal_cohort` draw:

1. :func:`split_external` splits the simulated patients into a *source* cohort (training,
   validation and internal test) and an *external* one. Both share the simulator's biology
   (patch-type prototypes, prognostic pathways, gene loadings, hazard model), which a second
   simulator call with another seed would not: there the seed draws the biology too.
   ``case_mix > 0`` tilts who goes to the external site toward higher clinical risk (a
   referral centre).
2. :func:`apply_domain_shift` then changes how the external site's data look, per
   :class:`DomainShift` (all simulated, all documented):

   * **stain / scanner** - every patch feature goes through one site-specific affine map,
     :math:`x' = x\,(I + \gamma G/\sqrt D) + b_\text{site}` (``stain_mix`` :math:`\gamma`,
     ``G`` standard normal, :math:`b_\text{site} \sim N(0, \text{site\_offset}^2 I)`), plus a
     per-slide stain jitter :math:`b_i \sim N(0, \text{stain\_jitter}^2 I)`;
   * **encoder noise** - extra per-patch Gaussian noise (``encoder_noise``), as from a
     different patch encoder version / compression;
   * **smaller tissue samples** - a random ``patch_fraction`` of each bag is kept;
   * **expression platform** - per-gene offset and scale (``gene_offset`` and ``gene_scale``
     in units of the gene's s.d.) and extra noise (``gene_noise``);
   * **follow-up** - administrative censoring at ``max_follow_up`` months (CPTAC's follow-up
     is shorter than TCGA's).

Models are then applied with the *source* training fold's standardisation (build one
:class:`~survlib.data.multimodal.FoldData` on :func:`concat_cohorts` with the source training
indices): re-standardising on the external patients would already be tuning on them.

Every cohort returned keeps ``attrs["simulated"] = True``; the external one also records
``attrs["domain_shift"]`` (the parameters) and ``attrs["site"]``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from survlib.data.multimodal import CohortTruth, MultimodalCohort, simulate_multimodal_cohort

__all__ = [
    "DomainShift",
    "apply_domain_shift",
    "concat_cohorts",
    "simulate_external_pair",
    "split_external",
    "subset_cohort",
]


#: The fields of :class:`DomainShift` that set a strength (each >= 0; scaled by ``scaled``).
_STRENGTHS = (
    "site_offset",
    "stain_mix",
    "stain_jitter",
    "encoder_noise",
    "gene_offset",
    "gene_scale",
    "gene_noise",
)


@dataclass(frozen=True)
class DomainShift:
    """How the external site's data differ (see the module docstring for the equations).

    Attributes:
        site_offset: s.d. of the site's fixed shift of each patch-feature channel (the
            simulator's patch prototypes have unit scale and within-type noise 1).
        stain_mix: strength :math:`\\gamma` of the site's random linear mixing of channels.
        stain_jitter: s.d. of an extra per-slide shift of each channel.
        encoder_noise: s.d. of extra per-patch noise.
        patch_fraction: share of each bag's patches kept, in ``(0, 1]``.
        gene_offset: s.d. of a per-gene offset, in units of that gene's s.d.
        gene_scale: s.d. of a per-gene log scale factor.
        gene_noise: s.d. of extra per-value gene noise, in units of the gene's s.d.
        max_follow_up: administrative censoring (months), or ``None`` (default: the external
            site follows patients as long as the source; a shorter follow-up keeps only early,
            easier-to-rank events and raises every model's C-index, the true risk's included).
    """

    site_offset: float = 0.4
    stain_mix: float = 0.3
    stain_jitter: float = 0.3
    encoder_noise: float = 0.5
    patch_fraction: float = 0.6
    gene_offset: float = 0.3
    gene_scale: float = 0.2
    gene_noise: float = 0.3
    max_follow_up: float | None = None

    def __post_init__(self) -> None:
        for name in _STRENGTHS:
            if getattr(self, name) < 0:
                raise ValueError(f"DomainShift.{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 < self.patch_fraction <= 1.0:
            raise ValueError(
                f"DomainShift.patch_fraction must lie in (0, 1], got {self.patch_fraction}"
            )
        if self.max_follow_up is not None and self.max_follow_up <= 0:
            raise ValueError(f"DomainShift.max_follow_up must be > 0, got {self.max_follow_up}")

    def scaled(self, factor: float) -> DomainShift:
        """The same kind of shift, ``factor`` times as strong (offsets, mixing, jitter and
        noise scaled; ``patch_fraction`` and ``max_follow_up`` unchanged)."""
        if factor < 0:
            raise ValueError(f"DomainShift.scaled: factor must be >= 0, got {factor}")
        return replace(self, **{n: factor * getattr(self, n) for n in _STRENGTHS})

    @classmethod
    def none(cls) -> DomainShift:
        """No shift at all (the external cohort is then just unseen patients of the source)."""
        return cls(0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, None)


def _take(items: list[Any] | None, idx: np.ndarray) -> list[Any] | None:
    return None if items is None else [items[int(i)] for i in idx]


def subset_cohort(
    cohort: MultimodalCohort, idx: np.ndarray | list[int], name: str | None = None
) -> MultimodalCohort:
    """The patients ``idx`` of ``cohort`` (every per-patient field and the truth, subset)."""
    idx = np.asarray(idx, dtype=np.int64).reshape(-1)
    if idx.size == 0:
        raise ValueError("subset_cohort: no patients selected")
    if idx.min() < 0 or idx.max() >= len(cohort):
        raise ValueError(f"subset_cohort: indices must lie in [0, {len(cohort) - 1}]")
    truth = cohort.truth
    if truth is not None:
        truth = replace(
            truth,
            risk=truth.risk[idx],
            components=truth.components.iloc[idx],
            planted=_take(truth.planted, idx),
            shared_latent=truth.shared_latent[idx],
        )
    clinical = cohort.clinical.iloc[idx].copy()
    expression = cohort.expression.iloc[idx].copy()
    attrs = dict(cohort.attrs)
    if name is not None:
        attrs["name"] = name
    for frame in (clinical, expression):
        frame.attrs.update(cohort.clinical.attrs)
    return MultimodalCohort(
        clinical=clinical,
        expression=expression,
        pathways=cohort.pathways,
        bags=_take(cohort.bags, idx),
        patch_types=_take(cohort.patch_types, idx),
        patch_type_names=cohort.patch_type_names,
        coords=_take(cohort.coords, idx),
        slide_paths=_take(cohort.slide_paths, idx),
        size_level0=cohort.size_level0,
        truth=truth,
        attrs=attrs,
    )


def split_external(
    cohort: MultimodalCohort, n_external: int, seed: int = 0, case_mix: float = 0.0
) -> tuple[MultimodalCohort, MultimodalCohort]:
    """Split a simulated cohort into a source and an external cohort (disjoint patients).

    Args:
        cohort: the simulated cohort.
        n_external: patients sent to the external site.
        seed: seed of the draw.
        case_mix: selection tilt: patient ``i`` goes external with probability proportional to
            :math:`\\exp(\\text{case\\_mix} \\cdot \\tilde r^C_i)` (standardised clinical risk
            from the truth); 0 = at random.

    Returns:
        ``(source, external)``, both labelled simulated; ``external.attrs["site"] =
        "external"``.
    """
    n = len(cohort)
    n_external = int(n_external)
    if not 0 < n_external < n:
        raise ValueError(f"split_external: n_external must lie in [1, {n - 1}], got {n_external}")
    rng = np.random.default_rng(seed)
    if case_mix and cohort.truth is not None:
        w = np.exp(float(case_mix) * cohort.truth.components["clinical"].to_numpy())
        p = w / w.sum()
    else:
        p = None
    ext = np.sort(rng.choice(n, size=n_external, replace=False, p=p))
    src = np.setdiff1d(np.arange(n), ext)
    base = cohort.attrs.get("name", "cohort")
    source = subset_cohort(cohort, src, name=f"{base}: source site")
    external = subset_cohort(cohort, ext, name=f"{base}: external site")
    source.attrs["site"] = "source"
    external.attrs.update({"site": "external", "case_mix": float(case_mix)})
    return source, external


def apply_domain_shift(
    cohort: MultimodalCohort, shift: DomainShift | None = None, seed: int = 0
) -> MultimodalCohort:
    """The same patients as another site would record them (see the module docstring).

    Patch features, bags, expression and follow-up change; the truth (true risk, planted
    patches of the kept patches) is carried along. Deterministic given ``seed``.
    """
    shift = shift or DomainShift()
    rng = np.random.default_rng([int(seed), 2026])
    clinical = cohort.clinical.copy()
    expression = cohort.expression.copy()

    bags = patch_types = coords = planted = None
    if cohort.bags is not None:
        d = cohort.d_patch
        mix = np.eye(d) + shift.stain_mix * rng.standard_normal((d, d)) / np.sqrt(d)
        site = shift.site_offset * rng.standard_normal(d)
        bags, patch_types, coords, planted = [], [], [], []
        for i, bag in enumerate(cohort.bags):
            n_i = len(bag)
            keep = np.sort(
                rng.choice(n_i, size=max(1, int(round(shift.patch_fraction * n_i))), replace=False)
            )
            x = bag[keep].astype(np.float64) @ mix + site
            x += shift.stain_jitter * rng.standard_normal(d)
            x += shift.encoder_noise * rng.standard_normal(x.shape)
            bags.append(x.astype(np.float32))
            if cohort.patch_types is not None:
                patch_types.append(cohort.patch_types[i][keep])
            if cohort.coords is not None:
                coords.append(cohort.coords[i][keep])
            if cohort.truth is not None and cohort.truth.planted is not None:
                planted.append(cohort.truth.planted[i][keep])
        patch_types = patch_types or None
        coords = coords or None
        planted = planted or None

    x = expression.to_numpy(dtype=np.float64)
    sd = x.std(axis=0)
    sd = np.where(sd > 1e-8, sd, 1.0)
    g = x.shape[1]
    offset = shift.gene_offset * sd * rng.standard_normal(g)
    scale = np.exp(shift.gene_scale * rng.standard_normal(g))
    mean = x.mean(axis=0)
    x = mean + (x - mean) * scale + offset + shift.gene_noise * sd * rng.standard_normal(x.shape)
    expression = pd.DataFrame(
        x.astype(np.float32), index=expression.index, columns=expression.columns
    )

    if shift.max_follow_up is not None:
        t = clinical["time"].to_numpy(dtype=np.float64)
        e = clinical["event"].to_numpy(dtype=np.int64)
        late = t > shift.max_follow_up
        clinical["time"] = np.where(late, shift.max_follow_up, t)
        clinical["event"] = np.where(late, 0, e)

    truth = cohort.truth
    if truth is not None and planted is not None:
        truth = replace(truth, planted=planted)
    attrs = {
        **cohort.attrs,
        "simulated": True,
        "domain_shift": asdict(shift),
        "shift_seed": int(seed),
    }
    for frame in (clinical, expression):
        frame.attrs.update({**cohort.clinical.attrs, "simulated": True})
    return MultimodalCohort(
        clinical=clinical,
        expression=expression,
        pathways=cohort.pathways,
        bags=bags,
        patch_types=patch_types,
        patch_type_names=cohort.patch_type_names,
        coords=coords,
        slide_paths=cohort.slide_paths,
        size_level0=cohort.size_level0,
        truth=truth,
        attrs=attrs,
    )


def concat_cohorts(
    first: MultimodalCohort, second: MultimodalCohort, name: str | None = None
) -> tuple[MultimodalCohort, np.ndarray, np.ndarray]:
    """Stack two cohorts with the same genes and pathways (e.g. source + external).

    Used to prepare one :class:`~survlib.data.multimodal.FoldData` whose statistics come from
    the source training patients only, so the external patients are scored exactly as the
    source's test patients are.

    Returns:
        ``(combined, first_idx, second_idx)``: positions of each input's patients.
    """
    if list(first.expression.columns) != list(second.expression.columns):
        raise ValueError("concat_cohorts: the cohorts have different genes")
    if (first.bags is None) != (second.bags is None):
        raise ValueError("concat_cohorts: one cohort has patch bags and the other not")
    if first.bags is not None and first.d_patch != second.d_patch:
        raise ValueError(
            f"concat_cohorts: patch features of width {first.d_patch} and {second.d_patch}"
        )
    clinical = pd.concat([first.clinical, second.clinical])
    if clinical.index.has_duplicates:
        raise ValueError("concat_cohorts: the cohorts share patient ids")
    expression = pd.concat([first.expression, second.expression])

    def cat(a: list[Any] | None, b: list[Any] | None) -> list[Any] | None:
        return None if a is None or b is None else list(a) + list(b)

    truth: CohortTruth | None = None
    if first.truth is not None and second.truth is not None:
        truth = replace(
            first.truth,
            risk=np.concatenate([first.truth.risk, second.truth.risk]),
            components=pd.concat([first.truth.components, second.truth.components]),
            planted=cat(first.truth.planted, second.truth.planted),
            shared_latent=np.concatenate([first.truth.shared_latent, second.truth.shared_latent]),
        )
    simulated = bool(first.attrs.get("simulated")) or bool(second.attrs.get("simulated"))
    for frame in (clinical, expression):
        frame.attrs = {"simulated": simulated}
    combined = MultimodalCohort(
        clinical=clinical,
        expression=expression,
        pathways=first.pathways,
        bags=cat(first.bags, second.bags),
        patch_types=cat(first.patch_types, second.patch_types),
        patch_type_names=first.patch_type_names,
        coords=cat(first.coords, second.coords),
        slide_paths=cat(first.slide_paths, second.slide_paths),
        size_level0=first.size_level0,
        truth=truth,
        attrs={
            "simulated": simulated,
            "name": name
            or f"{first.attrs.get('name', 'first')} + {second.attrs.get('name', 'second')}",
        },
    )
    n1 = len(first)
    return combined, np.arange(n1), np.arange(n1, n1 + len(second))


def simulate_external_pair(
    n_source: int,
    n_external: int,
    seed: int = 0,
    shift: DomainShift | None = None,
    case_mix: float = 0.0,
    **simulate_kwargs: Any,
) -> tuple[MultimodalCohort, MultimodalCohort]:
    """A simulated source cohort and a shifted external cohort with the same biology.

    One :func:`~survlib.data.multimodal.simulate_multimodal_cohort` call with
    ``n_source + n_external`` patients (``simulate_kwargs`` passed on), then
    :func:`split_external` and :func:`apply_domain_shift`.

    Returns:
        ``(source, external)``, both ``attrs["simulated"] = True``.
    """
    cohort = simulate_multimodal_cohort(
        int(n_source) + int(n_external), seed=seed, **simulate_kwargs
    )
    source, external = split_external(cohort, n_external, seed=seed, case_mix=case_mix)
    external = apply_domain_shift(external, shift, seed=seed)
    external.attrs["name"] = f"simulated external cohort (shifted site, seed {seed})"
    source.attrs["name"] = f"simulated source cohort (seed {seed})"
    return source, external
