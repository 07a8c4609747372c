"""The multimodal cohort container and the truth of a simulated cohort."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from survlib._core.validation import validate_survival

if TYPE_CHECKING:  # pragma: no cover - typing only
    from survlib.data.batch import PathwayMembership

__all__ = ["CLINICAL_FIELDS", "PATCH_TYPES", "CohortTruth", "MultimodalCohort"]

#: Clinical fields of the simulated cohort (the paper's six characteristics, GDC-like).
CLINICAL_FIELDS: tuple[str, ...] = ("age", "sex", "stage", "stage_edition", "subtype", "race")

#: Patch tissue types of the fast mode; necrosis and lymphocytes are the planted prognostic ones.
PATCH_TYPES: tuple[str, ...] = ("tumour", "stroma", "lymphocytes", "necrosis", "normal", "artefact")


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
        validate_survival(
            self.clinical["time"].to_numpy(),
            self.clinical["event"].to_numpy(),
            name="MultimodalCohort.clinical",
        )
        if len(self.expression) != len(self.clinical):
            raise ValueError(
                f"MultimodalCohort: {len(self.expression)} expression rows for "
                f"{len(self.clinical)} patients"
            )
        if self.pathways is not None and list(self.expression.columns) != list(self.pathways.genes):
            raise ValueError(
                "MultimodalCohort: expression columns must be the pathway genes, "
                "in PathwayMembership.genes order"
            )
        if self.bags is not None:
            if len(self.bags) != len(self.clinical):
                raise ValueError(
                    f"MultimodalCohort: {len(self.bags)} bags for {len(self.clinical)} patients"
                )
            empty = [i for i, b in enumerate(self.bags) if len(b) == 0]
            if empty:
                raise ValueError(f"MultimodalCohort: patient(s) {empty[:5]} have no patches")
        self._check_features()

    def _check_features(self) -> None:
        """Expression and patch features: numeric, finite, ``[N, G]`` / ``[n_i, D]`` with one D."""
        from survlib._core.validation import check_features

        check_features(
            self.expression.to_numpy(),
            "MultimodalCohort.expression",
            ndim=2,
            shape=(len(self.clinical), None),
        )
        if self.bags is None:
            return
        ids = self.clinical.index
        d = None
        for i, bag in enumerate(self.bags):
            arr = check_features(
                bag, f"MultimodalCohort.bags[{i}] (patient {ids[i]!r})", ndim=2, shape=(None, d)
            )
            d = arr.shape[1] if d is None else d

    def __len__(self) -> int:
        return len(self.clinical)

    def __repr__(self) -> str:
        kind = "simulated" if self.attrs.get("simulated") else "real"
        bags = (
            "no bags"
            if self.bags is None
            else (f"{int(np.mean([len(b) for b in self.bags]))} patches/patient x {self.d_patch}-d")
        )
        return (
            f"MultimodalCohort({kind}, {len(self)} patients, "
            f"{100 * self.censoring_rate:.0f}% censored, {self.expression.shape[1]} genes, "
            f"{bags})"
        )

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
            row.update(
                {
                    "patches per patient (median)": int(np.median(sizes)),
                    "patch feature dim": self.d_patch,
                }
            )
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
        return cls(
            clinical=clinical,
            expression=expression,
            pathways=pathways,
            attrs={"simulated": bool(simulated), "name": name},
        )
