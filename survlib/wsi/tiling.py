"""Tiling: which pyramid level to read (:func:`best_level`), the patch grid (:func:`tile_grid`),
reading patches (:func:`read_patch`, :func:`iter_patches`).

Coordinates are always level-0 pixels ``(x, y)`` of a patch's top-left corner, whatever level
the pixels were read from; ``grid.size_level0`` is the patch's footprint at level 0.

Choosing the level (the recurring tiling bug). A 256-px patch at 20x on a 40x scan covers
512 x 512 level-0 pixels. The right read is: take the coarsest pyramid level whose downsample
does not exceed the needed one (``40 / 20 = 2``), read ``256 * 2 / level_downsample`` pixels
there and resize to 256. Reading 256 pixels at level 0 (a 40x patch, a quarter of the tissue),
or saving coordinates in the read level's pixels instead of level 0, are the mistakes this
module's tests guard against. Comparing downsamples uses a relative tolerance, because
OpenSlide reports e.g. 4.000244 for a level whose size was rounded.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from survlib.wsi.slide import Slide, SlideError
from survlib.wsi.tissue import TissueMask, _window_fractions

__all__ = [
    "DOWNSAMPLE_RTOL",
    "PatchBatch",
    "TileGrid",
    "best_level",
    "iter_patches",
    "read_patch",
    "tile_grid",
]

#: Relative tolerance when comparing pyramid downsamples (OpenSlide's are rounded ratios).
DOWNSAMPLE_RTOL = 1e-3


def best_level(
    level_downsamples: Sequence[float], downsample: float, rtol: float = DOWNSAMPLE_RTOL
) -> int:
    """The coarsest pyramid level whose downsample does not exceed ``downsample``.

    That level has at least the requested resolution, and is the cheapest to read from: a
    level with a larger downsample would have to be upsampled (blurred). Downsamples within
    ``rtol`` of the request count as equal (OpenSlide reports 4.000244 for a 4x level whose
    size was rounded).

    Example: levels ``(1, 4, 16)``, 20x from a 40x scan (downsample 2) -> level 0;
    10x (downsample 4) -> level 1; 5x (downsample 8) -> level 1.
    """
    if downsample < 1 - rtol:
        raise ValueError(
            f"downsample {downsample} < 1: the slide has no resolution finer than level 0"
        )
    ok = [i for i, d in enumerate(level_downsamples) if d <= downsample * (1 + rtol)]
    return max(ok, key=lambda i: level_downsamples[i])


@dataclass(frozen=True)
class TileGrid:
    """Where the patches of a slide are and how to read them.

    Attributes:
        coords: ``int64[N, 2]`` level-0 ``(x, y)`` of each patch's top-left corner.
        magnification: the magnification patches are delivered at (e.g. 20).
        base_magnification: the magnification of level 0 (e.g. 40).
        patch_size: patch side in pixels at ``magnification`` (what the encoder sees).
        level: pyramid level the pixels are read from.
        level_downsample: that level's downsample.
        read_size: pixels read at ``level`` (then resized to ``patch_size``).
        size_level0: the patch footprint in level-0 pixels
            (``patch_size * base_magnification / magnification``).
        step_level0: distance between neighbouring patches at level 0.
        tissue_fraction: ``float[N]`` tissue share of each patch (1 when no mask was used).
        slide_id: the slide's identifier.
    """

    coords: np.ndarray
    magnification: float
    base_magnification: float
    patch_size: int
    level: int
    level_downsample: float
    read_size: int
    size_level0: int
    step_level0: int
    tissue_fraction: np.ndarray
    slide_id: str

    def __len__(self) -> int:
        return int(len(self.coords))


def tile_grid(
    slide: Slide,
    magnification: float = 20.0,
    patch_size: int = 256,
    *,
    mask: TissueMask | None = None,
    min_tissue: float = 0.5,
    overlap: float = 0.0,
) -> TileGrid:
    """Lay a grid of ``patch_size`` patches at ``magnification`` over the slide.

    The footprint of a patch at level 0 is :math:`s_0 = p \\cdot M_0 / M` (``p`` the patch size,
    ``M_0`` the base magnification, ``M`` the requested one); patches start at multiples of
    the step :math:`s_0 (1 - \\text{overlap})` and must fit inside level 0. The pixels are read
    from :func:`best_level` ``L`` as a square of :math:`p \\cdot (M_0/M) / d_L` pixels (``d_L`` the
    level's downsample) and resized to ``p``.

    Args:
        slide: an open :class:`Slide`.
        magnification: requested magnification (e.g. 20 for 20x); at most the base one.
        patch_size: patch side at that magnification.
        mask: keep only patches with at least ``min_tissue`` tissue (None keeps all).
        min_tissue: minimum tissue fraction of a kept patch.
        overlap: fraction of a patch shared with its neighbour (0 = non-overlapping).

    Returns:
        A :class:`TileGrid`; its ``coords`` are level-0 pixels, row-major (y, then x).

    Raises:
        SlideError: the slide's base magnification is unknown, or lower than requested.
    """
    from survlib._core.validation import check_finite_number

    magnification = check_finite_number(
        magnification, "tile_grid: magnification", low=0.0, low_open=True
    )
    if isinstance(patch_size, bool) or not isinstance(patch_size, int | np.integer):
        raise ValueError(
            f"tile_grid: patch_size must be a whole number of pixels, got {patch_size!r}"
        )
    if patch_size < 1:
        raise ValueError(f"patch_size must be positive, got {patch_size}")
    if not 0.0 <= overlap < 1.0:
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    check_finite_number(min_tissue, "tile_grid: min_tissue", low=0.0, high=1.0)
    base = slide.base_magnification
    target_ds = base / float(magnification)
    if target_ds < 1 - DOWNSAMPLE_RTOL:
        raise SlideError(
            slide.path,
            f"cannot tile at {magnification:g}x: level 0 is {base:g}x (survlib never upsamples)",
        )
    level = best_level(slide.level_downsamples, target_ds)
    level_ds = slide.level_downsamples[level]
    read_size = max(1, int(round(patch_size * target_ds / level_ds)))
    size0 = int(round(patch_size * target_ds))
    step0 = max(1, int(round(size0 * (1.0 - overlap))))
    w0, h0 = slide.dimensions
    xs = np.arange(0, w0 - size0 + 1, step0, dtype=np.int64)
    ys = np.arange(0, h0 - size0 + 1, step0, dtype=np.int64)
    gy, gx = np.meshgrid(ys, xs, indexing="ij")
    coords = np.stack([gx.ravel(), gy.ravel()], axis=1)
    if mask is not None:
        frac = _window_fractions(mask, coords, size0)
        keep = frac >= min_tissue
        coords, frac = coords[keep], frac[keep]
    else:
        frac = np.ones(len(coords))
    if len(coords) == 0:
        side = f"{w0}x{h0}"
        why = (
            f"the patch footprint ({size0} level-0 pixels) is larger than the slide ({side})"
            if size0 > min(w0, h0)
            else f"no patch has a tissue fraction >= min_tissue={min_tissue:g} (blank slide, "
            "or a threshold too strict)"
        )
        raise SlideError(
            slide.path,
            f"0 patches at {magnification:g}x with patch_size={patch_size}: {why}; "
            "an empty bag cannot be encoded",
        )
    return TileGrid(
        coords=coords,
        magnification=float(magnification),
        base_magnification=float(base),
        patch_size=int(patch_size),
        level=int(level),
        level_downsample=float(level_ds),
        read_size=read_size,
        size_level0=size0,
        step_level0=step0,
        tissue_fraction=frac.astype(np.float64),
        slide_id=slide.slide_id,
    )


def read_patch(slide: Slide, grid: TileGrid, x: int, y: int) -> np.ndarray:
    """Read the patch whose level-0 top-left is ``(x, y)`` as ``uint8[p, p, 3]``.

    Reads ``grid.read_size`` pixels at ``grid.level`` and resizes them to ``grid.patch_size``
    with area averaging (PIL's box filter, the way pyramid levels are made).
    """
    from PIL import Image

    pixels = slide.read_region((int(x), int(y)), grid.level, (grid.read_size, grid.read_size))
    if grid.read_size != grid.patch_size:
        image = Image.fromarray(pixels).resize(
            (grid.patch_size, grid.patch_size), Image.Resampling.BOX
        )
        pixels = np.asarray(image)
    return pixels


@dataclass(frozen=True)
class PatchBatch:
    """A batch of patches: pixels (None for encoders that do not need them) and coordinates.

    Attributes:
        images: ``uint8[B, p, p, 3]`` or None.
        coords: ``int64[B, 2]`` level-0 ``(x, y)``.
        index: positions of these patches in the grid.
    """

    images: np.ndarray | None
    coords: np.ndarray
    index: np.ndarray


def iter_patches(
    slide: Slide,
    grid: TileGrid,
    *,
    batch_size: int = 32,
    read_pixels: bool = True,
    progress: bool = True,
) -> Iterator[PatchBatch]:
    """Yield the grid's patches in batches, with a progress bar.

    Args:
        slide: the slide the grid was made for.
        grid: from :func:`tile_grid`.
        batch_size: patches per batch.
        read_pixels: False yields coordinates only (for precomputed features).
        progress: show a tqdm progress bar (patches).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    n = len(grid)
    with tqdm(total=n, desc=f"patches {grid.slide_id}", unit="patch", disable=not progress) as bar:
        for start in range(0, n, batch_size):
            index = np.arange(start, min(n, start + batch_size))
            coords = grid.coords[index]
            images = (
                np.stack([read_patch(slide, grid, x, y) for x, y in coords])
                if read_pixels
                else None
            )
            bar.update(len(index))
            yield PatchBatch(images=images, coords=coords, index=index)
