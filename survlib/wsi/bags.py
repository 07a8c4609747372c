"""Patient-level bags: one patient's slides combined into one bag (:func:`patient_bag`).

Patient-level bags (several slides per patient). A patient's bag is the concatenation of the
patches of all of that patient's slides, as in CLAM/PORPOISE/MCAT-style survival pipelines:
slides must share encoder, encoder version, magnification and patch size (otherwise the
features are not comparable and :func:`patient_bag` refuses), each patch remembers its slide
(``slide_index``), and no slide is dropped or averaged away. A cap on the number of patches,
when asked for, samples uniformly across the whole bag with a seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from survlib.wsi.features import SlideFeatures

__all__ = ["PatientBag", "patient_bag"]


@dataclass(frozen=True)
class PatientBag:
    """All patches of one patient (the union of their slides' bags).

    Attributes:
        patient_id: the patient.
        features: ``float32[N, D]``.
        coords: ``int64[N, 2]`` level-0 coordinates within each patch's own slide.
        slide_index: ``int64[N]`` which of ``slide_ids`` each patch comes from.
        slide_ids: the slides, in order.
        encoder, encoder_version, magnification, patch_size: shared by all slides.
    """

    patient_id: str
    features: np.ndarray
    coords: np.ndarray
    slide_index: np.ndarray
    slide_ids: tuple[str, ...]
    encoder: str
    encoder_version: str
    magnification: float
    patch_size: int

    def __len__(self) -> int:
        return int(len(self.features))


def patient_bag(
    slides: Sequence[SlideFeatures],
    patient_id: str | None = None,
    *,
    max_patches: int | None = None,
    seed: int = 0,
) -> PatientBag:
    """Combine one patient's slides into one bag (the policy in the module docstring).

    Patches of all slides are concatenated in slide order; ``slide_index`` records the
    source. Slides must agree on encoder, encoder version, magnification and patch size.
    With ``max_patches``, a uniform random subset (``np.random.default_rng(seed)``, order
    kept) of the whole bag is returned.

    Raises:
        ValueError: no slides, slides of different patients, or incompatible features.
    """
    if not slides:
        raise ValueError("patient_bag: no slides given")
    first = slides[0]
    pids = {s.patient_id for s in slides if s.patient_id}
    if len(pids) > 1:
        raise ValueError(f"patient_bag: slides belong to several patients {sorted(pids)}")
    pid = patient_id if patient_id is not None else (pids.pop() if pids else first.slide_id)
    for s in slides[1:]:
        for key in ("encoder", "encoder_version", "magnification", "patch_size"):
            if getattr(s, key) != getattr(first, key):
                raise ValueError(
                    f"patient_bag({pid!r}): slide {s.slide_id!r} has {key}={getattr(s, key)!r} "
                    f"but {first.slide_id!r} has {getattr(first, key)!r}; "
                    "features are not comparable"
                )
        if s.features.shape[1] != first.features.shape[1]:
            raise ValueError(f"patient_bag({pid!r}): feature dimensions differ")
    features = np.concatenate([s.features for s in slides])
    coords = np.concatenate([s.coords for s in slides])
    slide_index = np.concatenate([np.full(len(s), i, dtype=np.int64) for i, s in enumerate(slides)])
    if max_patches is not None and len(features) > max_patches:
        keep = np.sort(
            np.random.default_rng(seed).choice(len(features), max_patches, replace=False)
        )
        features, coords, slide_index = features[keep], coords[keep], slide_index[keep]
    return PatientBag(
        patient_id=pid,
        features=features,
        coords=coords,
        slide_index=slide_index,
        slide_ids=tuple(s.slide_id for s in slides),
        encoder=first.encoder,
        encoder_version=first.encoder_version,
        magnification=first.magnification,
        patch_size=first.patch_size,
    )
