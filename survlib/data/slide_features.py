"""Bring your own slide features: CLAM/TRIDENT ``.h5`` patch-feature files become a cohort's bags.

:func:`attach_slide_features` joins a folder of per-slide feature files (datasets ``features``
``[n, D]`` and ``coords`` ``[n, 2]``, named by the metadata's ``slide_id``) to the patients of a
real cohort read by :func:`survlib.data.tcga.read_cohort`.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from survlib.data.multimodal import MultimodalCohort

__all__ = ["attach_slide_features"]

PathLike = str | os.PathLike[str]


def _subset(cohort: MultimodalCohort, keep: np.ndarray) -> MultimodalCohort:
    """The cohort restricted to positions ``keep`` (bags and attrs follow)."""
    keep = np.asarray(keep, dtype=np.int64)
    attrs = dict(cohort.attrs)
    ids = cohort.clinical.index[keep]
    if "slides" in attrs:
        attrs["slides"] = {p: attrs["slides"][p] for p in ids}

    def pick(xs):
        return None if xs is None else [xs[i] for i in keep]

    return replace(
        cohort,
        clinical=cohort.clinical.iloc[keep],
        expression=cohort.expression.iloc[keep],
        bags=pick(cohort.bags),
        coords=pick(cohort.coords),
        patch_types=pick(cohort.patch_types),
        attrs=attrs,
    )


def attach_slide_features(
    cohort: MultimodalCohort, directory: PathLike, suffix: str = ".h5"
) -> MultimodalCohort:
    """Give a real cohort its bags from a folder of CLAM/TRIDENT patch-feature files.

    Each slide's file is ``<directory>/<slide_id><suffix>`` where ``slide_id`` is the
    metadata's (with or without its ``.svs`` extension); it holds ``features`` ``[n, D]`` (a
    leading singleton axis, as CLAM writes, is squeezed) and ``coords`` ``[n, 2]``. A patient's
    bag is the concatenation of its slides' patches; patients with no file are dropped and
    added to ``attrs["dropped"]``.

    Raises:
        NotADirectoryError: ``directory`` does not exist.
        ValueError: a file lacks ``features``/``coords``, the two disagree in length, or the
            slides have different feature dimensions; the message names the file.
    """
    import h5py

    folder = Path(directory)
    if not folder.is_dir():
        raise NotADirectoryError(
            f"attach_slide_features: directory={str(directory)!r} is not an existing folder"
        )
    slides: dict[str, list[str]] = cohort.attrs.get("slides") or {}
    bags, coords, keep, dropped, dims = [], [], [], [], set()
    for i, patient in enumerate(cohort.clinical.index):
        feats, cds = [], []
        for slide in slides.get(patient, []):
            stem = slide[:-4] if slide.lower().endswith(".svs") else slide
            path = next(
                (
                    p
                    for p in (folder / f"{slide}{suffix}", folder / f"{stem}{suffix}")
                    if p.is_file()
                ),
                None,
            )
            if path is None:
                continue
            with h5py.File(path, "r") as fh:
                if "features" not in fh or "coords" not in fh:
                    raise ValueError(
                        f"slide feature file {str(path)!r} needs datasets "
                        f"'features' and 'coords', has {sorted(fh.keys())}"
                    )
                f = np.asarray(fh["features"], dtype=np.float32)
                c = np.asarray(fh["coords"])
            f = f.reshape(-1, f.shape[-1]) if f.ndim == 3 and f.shape[0] == 1 else f
            c = c.reshape(-1, c.shape[-1]) if c.ndim == 3 and c.shape[0] == 1 else c
            if f.ndim != 2 or c.ndim != 2 or len(f) != len(c) or len(f) == 0:
                raise ValueError(
                    f"slide feature file {str(path)!r}: features {f.shape} and "
                    f"coords {c.shape} must be [n, D] and [n, 2] with n >= 1"
                )
            dims.add(f.shape[1])
            if len(dims) > 1:
                raise ValueError(
                    f"slide feature file {str(path)!r}: {f.shape[1]}-d features, "
                    f"other slides have {sorted(dims - {f.shape[1]})}"
                )
            feats.append(f)
            cds.append(c.astype(np.int64))
        if feats:
            keep.append(i)
            bags.append(np.concatenate(feats))
            coords.append(np.concatenate(cds))
        else:
            dropped.append(
                {"patient": patient, "modality": "slides", "reason": f"no feature file in {folder}"}
            )
    if not keep:
        raise ValueError(
            f"attach_slide_features: no slide of the cohort has a feature file in "
            f"{str(folder)!r} (expected names like <slide_id>{suffix})"
        )
    out = _subset(cohort, np.asarray(keep))
    report = cohort.attrs.get("dropped", pd.DataFrame(columns=["patient", "modality", "reason"]))
    out.attrs["dropped"] = pd.concat(
        [report, pd.DataFrame(dropped, columns=report.columns)], ignore_index=True
    )
    out.bags, out.coords = bags, coords
    out.__post_init__()
    return out
