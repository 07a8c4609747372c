"""Encoding many slides: :func:`encode_slides` runs the single-slide pipeline once per slide,
serially or on an executor (:mod:`survlib.parallel`), resumably, one feature file per slide.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from survlib.wsi.encoders import PatchEncoder, get_encoder
from survlib.wsi.features import SlideFeatures, _plain, write_features
from survlib.wsi.slide import Slide
from survlib.wsi.tiling import TileGrid, iter_patches, tile_grid
from survlib.wsi.tissue import tissue_mask

__all__ = ["SLIDE_SUFFIXES", "encode_slides", "extract_features"]


#: File suffixes :func:`encode_slides` picks up when given a folder (OpenSlide's formats).
SLIDE_SUFFIXES = (
    ".svs",
    ".tif",
    ".tiff",
    ".ndpi",
    ".vms",
    ".vmu",
    ".scn",
    ".mrxs",
    ".svslide",
    ".bif",
)

_ENCODERS: dict[tuple[str, str], PatchEncoder] = {}


def extract_features(
    slide: Slide,
    grid: TileGrid,
    encoder: PatchEncoder,
    *,
    batch_size: int = 32,
    patient_id: str = "",
    progress: bool = True,
) -> SlideFeatures:
    """Encode every patch of ``grid`` with ``encoder`` (reading pixels only if it needs them)."""
    chunks = [
        encoder.encode(batch)
        for batch in iter_patches(
            slide, grid, batch_size=batch_size, read_pixels=encoder.needs_pixels, progress=progress
        )
    ]
    dim = int(encoder.dim)
    features = np.concatenate(chunks) if chunks else np.zeros((0, dim), np.float32)
    return SlideFeatures(
        features=features,
        coords=grid.coords.copy(),
        slide_id=grid.slide_id,
        encoder=encoder.name,
        encoder_version=str(encoder.version),
        magnification=grid.magnification,
        patch_size=grid.patch_size,
        level=grid.level,
        size_level0=grid.size_level0,
        base_magnification=grid.base_magnification,
        mpp=slide.mpp if slide.mpp is not None else float("nan"),
        patient_id=patient_id,
        feature_names=getattr(encoder, "feature_names", None),
    )


def _worker_encoder(encoder: str | PatchEncoder, kwargs: dict[str, Any]) -> PatchEncoder:
    """The encoder a task uses: built once per process from its name (weights load once)."""
    if not isinstance(encoder, str):
        return encoder
    from survlib.parallel import PROCESS_LOCK

    key = (encoder, repr(sorted(kwargs.items())))
    with PROCESS_LOCK:
        if key not in _ENCODERS:
            _ENCODERS[key] = get_encoder(encoder, **kwargs)
        return _ENCODERS[key]


def _features_match(path: Path, enc: PatchEncoder, magnification: float, patch_size: int) -> bool:
    """Whether ``path`` is a complete feature file of this encoder, magnification and size."""
    import h5py

    try:
        with h5py.File(path, "r") as h5:
            attrs = {k: _plain(v) for k, v in h5.attrs.items()}
            complete = "features" in h5 and "coords" in h5
    except OSError:
        return False
    return (
        complete
        and attrs.get("encoder") == enc.name
        and str(attrs.get("encoder_version")) == str(enc.version)
        and math.isclose(float(attrs.get("magnification", math.nan)), float(magnification))
        and int(attrs.get("patch_size", -1)) == int(patch_size)
    )


def _encode_slide_task(
    slide_path: str,
    out_path: str,
    encoder: str | PatchEncoder,
    encoder_kwargs: dict[str, Any],
    options: dict[str, Any],
) -> dict[str, Any]:
    """Encode one slide into one feature file (skipped when a matching file exists)."""
    import time

    import h5py

    start = time.perf_counter()
    out = Path(out_path)
    row: dict[str, Any] = {
        "slide": slide_path,
        "features": out_path,
        "status": "encoded",
        "n_patches": 0,
        "seconds": 0.0,
        "error": "",
    }
    try:
        enc = _worker_encoder(encoder, encoder_kwargs)
        if (
            not options["overwrite"]
            and out.is_file()
            and _features_match(out, enc, options["magnification"], options["patch_size"])
        ):
            with h5py.File(out, "r") as h5:
                row.update(status="skipped", n_patches=int(h5["features"].shape[0]))
            return row
        with Slide(slide_path, base_magnification=options["base_magnification"]) as slide:
            mask = tissue_mask(slide, downsample=options["mask_downsample"])
            grid = tile_grid(
                slide,
                magnification=options["magnification"],
                patch_size=options["patch_size"],
                mask=mask,
                min_tissue=options["min_tissue"],
            )
            feats = extract_features(
                slide,
                grid,
                enc,
                batch_size=options["batch_size"],
                patient_id=options["patient_id"],
                progress=False,
            )
        write_features(out, feats)
        row["n_patches"] = len(feats)
    except Exception as exc:  # noqa: BLE001 - recorded; the other slides go on
        row.update(status="failed", error=f"{type(exc).__name__}: {exc}")
    row["seconds"] = time.perf_counter() - start
    return row


def _slide_paths(
    slides: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> list[Path]:
    """The slide files of a folder or a list, refusing none and ids (stems) that collide."""
    if isinstance(slides, str | os.PathLike):
        folder = Path(slides)
        if not folder.is_dir():
            raise ValueError(
                f"slides={str(slides)!r} is not a folder; pass a folder or a list of slide paths"
            )
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in SLIDE_SUFFIXES)
        if not paths:
            raise ValueError(
                f"slides={str(slides)!r}: no slide files ({', '.join(SLIDE_SUFFIXES)})"
            )
    else:
        paths = [Path(p) for p in slides]
        if not paths:
            raise ValueError("slides is empty: pass a folder or a list of slide paths")
    seen: dict[str, Path] = {}
    for p in paths:
        if p.stem in seen:
            raise ValueError(
                f"slides {seen[p.stem]} and {p} share the id {p.stem!r}; "
                "their feature files would collide"
            )
        seen[p.stem] = p
    return paths


def encode_slides(
    slides: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    executor: Any = None,
    encoder: str | PatchEncoder = "handcrafted",
    encoder_kwargs: dict[str, Any] | None = None,
    magnification: float = 20.0,
    patch_size: int = 256,
    min_tissue: float = 0.5,
    mask_downsample: float = 32.0,
    base_magnification: float | None = None,
    batch_size: int = 32,
    patient_ids: dict[str, str] | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> Any:
    """Encode many slides, one task per slide, into ``out_dir/<slide stem>.h5``; resumable.

    Each task runs the single-slide pipeline (:func:`tissue_mask`, :func:`tile_grid`,
    :func:`extract_features`) and :func:`write_features` (atomic: an interrupted run leaves
    the previous file or none, never half of one). A slide whose feature file already exists
    with the same encoder, encoder version, magnification and patch size is skipped, so
    re-running the same call after an interruption encodes only what is missing. A slide that
    fails (missing, corrupt, no tissue...) is recorded with its error; the others go on.

    Args:
        slides: a folder (every file with a suffix in :data:`SLIDE_SUFFIXES`) or a list of
            slide paths. Slide ids (and output names) are the file stems; they must be unique.
        out_dir: folder of the feature files (created).
        executor: ``None`` (serial), a :class:`concurrent.futures.Executor` or a
            :class:`distributed.Client` (see :mod:`survlib.parallel`).
        encoder: a name for :func:`get_encoder` (each worker process builds it once, so
            UNI's weights load once per worker) or an encoder object (sent to the workers).
        encoder_kwargs: keyword arguments for :func:`get_encoder` (``weights=``, ``device=``).
        magnification, patch_size, min_tissue: the tiling (:func:`tile_grid`).
        mask_downsample: thumbnail downsample of :func:`tissue_mask`.
        base_magnification: level-0 magnification for slides that do not record it.
        batch_size: patches per encoder call.
        patient_ids: optional slide id -> patient id, stored in the files.
        overwrite: re-encode even slides whose files match.
        progress: a progress bar over slides.

    Returns:
        A DataFrame, one row per slide in input order: ``slide``, ``slide_id``, ``features``
        (path), ``status`` (``"encoded"``, ``"skipped"`` or ``"failed"``), ``n_patches``,
        ``seconds``, ``error``.
    """
    import pandas as pd

    from survlib import parallel

    paths = _slide_paths(slides)
    if int(patch_size) < 1 or float(magnification) <= 0:
        raise ValueError(
            f"patch_size must be >= 1 and magnification > 0, got "
            f"patch_size={patch_size}, magnification={magnification}"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pool = parallel.check_executor(executor)
    parallel.check_picklable(encoder, pool, "encoder")
    ids = patient_ids or {}
    tasks = []
    for p in paths:
        options = {
            "magnification": float(magnification),
            "patch_size": int(patch_size),
            "min_tissue": float(min_tissue),
            "mask_downsample": float(mask_downsample),
            "base_magnification": base_magnification,
            "batch_size": int(batch_size),
            "patient_id": str(ids.get(p.stem, "")),
            "overwrite": bool(overwrite),
        }
        tasks.append(
            (str(p), str(out / f"{p.stem}.h5"), encoder, dict(encoder_kwargs or {}), options)
        )
    futures = [parallel.submit(pool, _encode_slide_task, *task, retries=1) for task in tasks]
    rows = []
    try:
        for future in tqdm(futures, desc="slides", disable=not progress, leave=False):
            rows.append(future.result())
    except BaseException:
        parallel.cancel(pool, futures)
        raise
    table = pd.DataFrame(
        rows, columns=["slide", "features", "status", "n_patches", "seconds", "error"]
    )
    table.insert(1, "slide_id", [p.stem for p in paths])
    failed = table[table["status"] == "failed"]
    if len(failed):
        import warnings

        pairs = zip(failed["slide_id"], failed["error"], strict=True)
        warnings.warn(
            f"encode_slides: {len(failed)} of {len(table)} slide(s) failed: "
            + "; ".join(f"{s}: {e}" for s, e in pairs),
            RuntimeWarning,
            stacklevel=2,
        )
    return table
