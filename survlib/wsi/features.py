"""Feature files: one slide's bag of patch features (:class:`SlideFeatures`), made by
:func:`extract_features`, stored in HDF5 by :func:`write_features` and read back (or read from a
CLAM-style file) by :func:`read_features`.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from survlib._core.io import atomic_write

__all__ = [
    "FEATURE_FORMAT",
    "FEATURE_FORMAT_VERSION",
    "FeatureFileError",
    "SlideFeatures",
    "read_features",
    "write_features",
]


class FeatureFileError(ValueError):
    """A feature file is missing, malformed, or lacks metadata survlib needs."""


FEATURE_FORMAT = "survlib-features"
FEATURE_FORMAT_VERSION = 1


@dataclass
class SlideFeatures:
    """One slide's bag of patch features, with everything needed to trust and map them back.

    Attributes:
        features: ``float32[N, D]``.
        coords: ``int64[N, 2]`` level-0 ``(x, y)`` of each patch's top-left corner.
        slide_id: the slide's identifier.
        encoder, encoder_version: which encoder made the features.
        magnification: magnification of the patches (e.g. 20).
        patch_size: patch side in pixels at that magnification.
        level: pyramid level the pixels were read from.
        size_level0: patch footprint in level-0 pixels.
        base_magnification: magnification of level 0 (NaN if unknown).
        mpp: microns per level-0 pixel (NaN if unknown).
        patient_id: the patient (empty if unknown).
        feature_names: names of the D features, when the encoder has them.
        extra: further string/number attributes to keep.
    """

    features: np.ndarray
    coords: np.ndarray
    slide_id: str
    encoder: str
    encoder_version: str
    magnification: float
    patch_size: int
    level: int
    size_level0: int
    base_magnification: float = float("nan")
    mpp: float = float("nan")
    patient_id: str = ""
    feature_names: tuple[str, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.features = np.asarray(self.features, dtype=np.float32)
        coords = np.asarray(self.coords)
        if coords.size == 0 and coords.ndim == 1:
            coords = coords.reshape(0, 2)
        if coords.ndim != 2 or coords.shape[1] != 2:
            raise FeatureFileError(
                f"slide {self.slide_id!r}: coords must have shape [N, 2] (level-0 x, y), got "
                f"{coords.shape}"
            )
        if coords.size and not np.isfinite(coords.astype(np.float64)).all():
            raise FeatureFileError(f"slide {self.slide_id!r}: coords has NaN or infinite values")
        self.coords = coords.astype(np.int64)
        if self.features.ndim == 2 and len(self.features) == 0:
            raise FeatureFileError(
                f"slide {self.slide_id!r}: 0 patches (features shape {self.features.shape}); "
                "an empty bag carries no information (check the tissue mask and min_tissue)"
            )
        if self.features.ndim == 2 and not np.isfinite(self.features).all():
            rows = np.flatnonzero(~np.isfinite(self.features).all(axis=1))
            raise FeatureFileError(
                f"slide {self.slide_id!r}: features have NaN or infinite values in "
                f"{rows.size} patch(es) (rows {rows[:5].tolist()})"
            )
        if self.features.ndim != 2 or len(self.features) != len(self.coords):
            raise FeatureFileError(
                f"slide {self.slide_id!r}: features {self.features.shape} and coords "
                f"{self.coords.shape} do not describe the same patches"
            )
        if self.feature_names is not None:
            self.feature_names = tuple(self.feature_names)
            if len(self.feature_names) != self.features.shape[1]:
                raise FeatureFileError(
                    f"slide {self.slide_id!r}: {len(self.feature_names)} feature names for "
                    f"{self.features.shape[1]} features"
                )

    def __len__(self) -> int:
        return int(len(self.features))


_REQUIRED_ATTRS = (
    "slide_id",
    "encoder",
    "encoder_version",
    "magnification",
    "patch_size",
    "level",
    "size_level0",
)


def write_features(path: str | os.PathLike[str], feats: SlideFeatures) -> Path:
    """Write a :class:`SlideFeatures` to an HDF5 file, atomically.

    Layout: datasets ``features`` (float32[N, D]) and ``coords`` (int64[N, 2], level-0 x, y;
    with CLAM's ``patch_level = 0``/``patch_size = size_level0`` attributes too), optional
    ``feature_names``;
    root attributes ``format = "survlib-features"``, ``format_version``, ``slide_id``,
    ``patient_id``, ``encoder``, ``encoder_version``, ``magnification``, ``base_magnification``,
    ``patch_size``, ``size_level0``, ``level``, ``mpp``, ``survlib_version`` and any ``extra``.
    """
    import h5py

    from survlib import __version__

    path = Path(path)
    buffer = io.BytesIO()  # h5py needs a readable file; build in memory, then write atomically
    with h5py.File(buffer, "w") as h5:
        h5.create_dataset("features", data=feats.features, compression="gzip", compression_opts=4)
        coords = h5.create_dataset("coords", data=feats.coords)
        # CLAM's convention: a patch is patch_size pixels of level patch_level; stated at level
        # 0 here, so readers that only know CLAM's attributes get the right footprint.
        coords.attrs["patch_level"] = 0
        coords.attrs["patch_size"] = feats.size_level0
        coords.attrs["units"] = "level-0 pixels (x, y) of the top-left corner"
        if feats.feature_names is not None:
            h5.create_dataset(
                "feature_names",
                data=np.array(feats.feature_names, dtype=object),
                dtype=h5py.string_dtype(),
            )
        attrs = {
            "format": FEATURE_FORMAT,
            "format_version": FEATURE_FORMAT_VERSION,
            "slide_id": feats.slide_id,
            "patient_id": feats.patient_id,
            "encoder": feats.encoder,
            "encoder_version": feats.encoder_version,
            "magnification": float(feats.magnification),
            "base_magnification": float(feats.base_magnification),
            "patch_size": int(feats.patch_size),
            "size_level0": int(feats.size_level0),
            "level": int(feats.level),
            "mpp": float(feats.mpp),
            "survlib_version": __version__,
        }
        for key, value in feats.extra.items():
            if key in attrs:
                raise FeatureFileError(f"extra attribute {key!r} would overwrite a standard one")
            attrs[key] = value
        for key, value in attrs.items():
            h5.attrs[key] = value
    with atomic_write(path, mode="wb") as fh:
        fh.write(buffer.getbuffer())
    return path


def read_features(path: str | os.PathLike[str], **metadata: Any) -> SlideFeatures:
    """Read a feature file written by :func:`write_features`, or a CLAM-style h5 file.

    A CLAM-style file has ``features`` and ``coords`` datasets but not survlib's metadata;
    give what is missing as keyword arguments (``encoder=``, ``encoder_version=``,
    ``magnification=``, ``patch_size=``, ``level=``, ``size_level0=``; ``slide_id`` defaults
    to the file name). Keywords override what the file says only where the file is silent;
    a conflicting value is an error.

    Raises:
        FeatureFileError: the file is missing or malformed, or metadata is missing/conflicting.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise FeatureFileError(f"{path}: feature file not found")
    try:
        with h5py.File(path, "r") as h5:
            if "features" not in h5 or "coords" not in h5:
                raise FeatureFileError(
                    f"{path}: needs 'features' and 'coords' datasets, has {sorted(h5)}"
                )
            features = h5["features"][()]
            coords = h5["coords"][()]
            attrs = {k: _plain(v) for k, v in h5.attrs.items()}
            coord_attrs = {k: _plain(v) for k, v in h5["coords"].attrs.items()}
            names = (
                tuple(
                    s.decode() if isinstance(s, bytes) else str(s) for s in h5["feature_names"][()]
                )
                if "feature_names" in h5
                else None
            )
    except FeatureFileError:
        raise
    except (OSError, RuntimeError, ValueError, KeyError) as exc:
        raise FeatureFileError(
            f"{path}: not a readable HDF5 feature file (corrupt or truncated: {exc})"
        ) from exc
    if features.ndim == 3 and features.shape[0] == 1:  # CLAM sometimes stores [1, N, D]
        features = features[0]
    if coords.ndim == 3 and coords.shape[0] == 1:
        coords = coords[0]

    # Fill from CLAM's coords attributes where survlib's are missing.
    if "level" not in attrs and "patch_level" in coord_attrs:
        attrs["level"] = coord_attrs["patch_level"]
    attrs.setdefault("slide_id", path.stem)
    for key, value in metadata.items():
        if key in attrs and attrs[key] != value and key != "slide_id":
            raise FeatureFileError(f"{path}: file says {key}={attrs[key]!r}, caller says {value!r}")
        attrs[key] = value
    if (
        "size_level0" not in attrs
        and coord_attrs.get("patch_level") == 0
        and "patch_size" in coord_attrs
    ):  # CLAM: patch_size pixels at level patch_level; at level 0 that is the footprint
        attrs["size_level0"] = coord_attrs["patch_size"]
    missing = [k for k in _REQUIRED_ATTRS if k not in attrs]
    if missing:
        raise FeatureFileError(
            f"{path}: missing metadata {missing}; pass them to read_features(..., "
            + ", ".join(f"{k}=..." for k in missing)
            + ")"
        )
    known = {
        f
        for f in SlideFeatures.__dataclass_fields__
        if f not in ("features", "coords", "feature_names", "extra")
    }
    skip = {"format", "format_version"}
    extra = {k: v for k, v in attrs.items() if k not in known and k not in skip}
    return SlideFeatures(
        features=features,
        coords=coords,
        feature_names=names,
        extra=extra,
        slide_id=str(attrs["slide_id"]),
        encoder=str(attrs["encoder"]),
        encoder_version=str(attrs["encoder_version"]),
        magnification=float(attrs["magnification"]),
        patch_size=int(attrs["patch_size"]),
        level=int(attrs["level"]),
        size_level0=int(attrs["size_level0"]),
        base_magnification=float(attrs.get("base_magnification", float("nan"))),
        mpp=float(attrs.get("mpp", float("nan"))),
        patient_id=str(attrs.get("patient_id", "")),
    )


def _plain(value: Any) -> Any:
    """An h5py attribute as a plain Python value."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value
