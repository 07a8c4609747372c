"""Writing a synthetic slide: :func:`write_synthetic_slide` paints the regions of
:mod:`survlib.data.slides.paint`, stores the pyramid with :mod:`survlib.data.slides.tiff` and saves
the ground-truth label mask beside it (:class:`SyntheticSlide` says what was written).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from survlib._core.io import atomic_write
from survlib.data.slides.labels import REGION_NAMES, LabelMask
from survlib.data.slides.paint import _OD_INK, _layout, _render_band, _sample_nuclei, _Style
from survlib.data.slides.tiff import write_pyramid_tiff

__all__ = ["SyntheticSlide", "write_synthetic_slide"]


@dataclass(frozen=True)
class SyntheticSlide:
    """What :func:`write_synthetic_slide` wrote.

    Attributes:
        path: the slide (a pyramidal TIFF that OpenSlide opens as an Aperio slide).
        labels_path: the ground-truth label mask (``.npz``; read it with :func:`read_label_mask`).
        truth: the label mask itself.
        dimensions: level-0 ``(width, height)`` in pixels.
        downsamples: downsample factor of each pyramid level.
        mpp: microns per level-0 pixel.
        objective_power: the scanner magnification recorded in the file (``AppMag``).
        seed: the seed that made it.
    """

    path: Path
    labels_path: Path
    truth: LabelMask
    dimensions: tuple[int, int]
    downsamples: tuple[int, ...]
    mpp: float
    objective_power: float
    seed: int


def write_synthetic_slide(
    path: str | os.PathLike[str],
    seed: int = 0,
    *,
    width: int = 4096,
    height: int = 4096,
    mpp: float = 0.25,
    objective_power: float = 40.0,
    downsamples: Sequence[int] = (1, 4, 16),
    tile_size: int = 256,
    label_downsample: int = 8,
    pen: bool = True,
    pen_colour: str = "green",
) -> SyntheticSlide:
    """Write a small synthetic H&E-like whole-slide image and its ground-truth label mask.

    The slide is a pyramidal tiled TIFF (see :mod:`survlib.data.slides.tiff` for the format) that
    OpenSlide opens with vendor ``aperio``, ``openslide.objective-power == objective_power``
    and ``openslide.mpp-x == mpp``. It is simulated, deterministic given ``seed`` and the size
    arguments, and small (about 1 MB per 4 megapixels of level 0: 2048 x 2048 px).

    Args:
        path: the slide file to write (``.tif`` or ``.svs``); replaced atomically. The label
            mask is written beside it as ``<stem>_labels.npz``.
        seed: seed of the layout and textures (``np.random.default_rng(seed)``).
        width, height: level-0 size in pixels; multiples of ``max(downsamples)`` and of
            ``label_downsample``.
        mpp: microns per level-0 pixel (0.25 is a 40x scan).
        objective_power: magnification of level 0.
        downsamples: integer downsample of each pyramid level, starting with 1.
        tile_size: TIFF tile side.
        label_downsample: level-0 pixels per label-mask pixel.
        pen: draw a marker-pen loop (an artefact a tissue mask must reject).
        pen_colour: ``"green"`` or ``"blue"``.

    Returns:
        A :class:`SyntheticSlide` with the paths, the label mask and the geometry.

    Example::

        slide = write_synthetic_slide("demo.tif", seed=0, width=2048, height=2048)
        slide.truth.tissue().mean()   # fraction of the slide that is tissue
    """
    path = Path(path)
    downsamples = tuple(int(d) for d in downsamples)
    steps = zip(downsamples, downsamples[1:], strict=False)
    if downsamples[0] != 1 or any(b <= a for a, b in steps):
        raise ValueError(f"downsamples must start at 1 and increase, got {downsamples}")
    step = int(np.lcm.reduce([*downsamples, label_downsample]))
    if width % step or height % step or width < 4 * step or height < 4 * step:
        raise ValueError(
            f"width and height must be multiples of {step} (the downsamples and the label "
            f"downsample) and at least {4 * step}; got {width}x{height}"
        )
    if pen_colour not in _OD_INK:
        raise ValueError(f"pen_colour must be one of {sorted(_OD_INK)}, got {pen_colour!r}")

    rng = np.random.default_rng(seed)
    labels = _layout(rng, (height // label_downsample, width // label_downsample), pen)
    size = (width, height)
    nuclei = _sample_nuclei(rng, size)
    style = _Style.sample(rng)
    ink = _OD_INK[pen_colour]

    levels = [np.empty((height // d, width // d, 3), dtype=np.uint8) for d in downsamples]
    band = max(tile_size, downsamples[-1])
    band -= band % downsamples[-1]
    for y0 in range(0, height, band):
        y1 = min(height, y0 + band)
        rgb = _render_band(y0, y1, width, labels, label_downsample, nuclei, style, ink)
        for level, d in zip(levels, downsamples, strict=True):
            if d == 1:
                level[y0:y1] = rgb
            else:  # box-filter (area-average) downsampling, as scanners build pyramids
                blocks = rgb.reshape((y1 - y0) // d, d, width // d, d, 3).astype(np.float32)
                level[y0 // d : y1 // d] = np.rint(blocks.mean(axis=(1, 3))).astype(np.uint8)

    note = f"synthetic slide (survlib, simulated, seed {seed})"
    write_pyramid_tiff(
        path, levels, mpp=mpp, objective_power=objective_power, tile_size=tile_size, note=note
    )
    labels_path = path.with_name(f"{path.stem}_labels.npz")
    with atomic_write(labels_path, mode="wb") as fh:
        np.savez_compressed(
            fh,
            labels=labels,
            downsample=np.int64(label_downsample),
            names=np.array(REGION_NAMES),
            seed=np.int64(seed),
        )
    return SyntheticSlide(
        path=path,
        labels_path=labels_path,
        truth=LabelMask(labels=labels, downsample=label_downsample),
        dimensions=(width, height),
        downsamples=downsamples,
        mpp=float(mpp),
        objective_power=float(objective_power),
        seed=int(seed),
    )
