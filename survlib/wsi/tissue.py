"""Tissue masks: where the tissue is on a slide's thumbnail (:func:`tissue_mask`); mask checks.

:func:`mask_iou` compares a mask with a known truth; :func:`_window_fractions` (used by
:meth:`TissueMask.fraction` and :func:`survlib.wsi.tile_grid`) gives the tissue share of level-0
squares.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from survlib.wsi.slide import Slide

__all__ = ["TissueMask", "mask_iou", "tissue_mask"]


@dataclass(frozen=True)
class TissueMask:
    """Tissue found on a thumbnail.

    Attributes:
        mask: ``bool[h, w]`` tissue pixels of the thumbnail.
        pen: ``bool[h, w]`` pixels rejected as marker pen.
        thumbnail: the ``uint8[h, w, 3]`` thumbnail it was computed from.
        downsample: level-0 pixels per mask pixel, ``(x, y)``.
        threshold: the saturation threshold used (Otsu's, unless one was given).
    """

    mask: np.ndarray
    pen: np.ndarray
    thumbnail: np.ndarray
    downsample: tuple[float, float]
    threshold: float

    def fraction(self, x: int, y: int, size: int) -> float:
        """Tissue fraction of the level-0 square ``[x, x+size) x [y, y+size)``."""
        return float(_window_fractions(self, np.array([[x, y]]), size)[0])


def tissue_mask(
    slide: Slide,
    *,
    downsample: float = 32.0,
    threshold: float | None = None,
    min_saturation: float = 0.05,
    pen_hue: tuple[float, float] = (0.17, 0.64),
    median_size: int = 5,
    min_object_um2: float = 2_000.0,
    max_hole_um2: float = 1_000.0,
) -> TissueMask:
    """Find tissue on a thumbnail: saturation + Otsu, with pen marks and specks removed.

    H&E tissue is coloured (saturated) and glass is grey-white, so the HSV saturation of a
    thumbnail separates them (CLAM's default segmentation). Steps:

    1. thumbnail at ``downsample``; HSV; median filter of the saturation (``median_size``);
    2. pen marks: pixels more saturated than ``min_saturation`` whose hue lies in ``pen_hue``
       (green to blue; H&E hues are pink to purple, ~0.67-1.0 and ~0-0.05);
    3. threshold :math:`t` = Otsu's threshold of the saturation of the non-pen pixels (or
       ``threshold``), never below ``min_saturation``; tissue = saturation > t and not pen;
    4. tissue pieces smaller than ``min_object_um2`` are removed and enclosed holes smaller
       than ``max_hole_um2`` filled (areas in square microns when the slide
       records its mpp, else at an assumed 0.25 um/px).

    Args:
        slide: an open :class:`Slide`.
        downsample: level-0 pixels per thumbnail pixel.
        threshold: a fixed saturation threshold in [0, 1] instead of Otsu's.
        min_saturation: floor of the threshold (an all-glass slide yields no tissue).
        pen_hue: hue interval (in [0, 1)) treated as marker ink when saturated.
        median_size: median filter size (thumbnail pixels) applied to the saturation.
        min_object_um2: smallest tissue piece kept.
        max_hole_um2: largest hole filled.

    Returns:
        A :class:`TissueMask`.
    """
    from scipy import ndimage
    from skimage.color import rgb2hsv
    from skimage.filters import threshold_otsu

    from survlib._core.validation import check_finite_number

    if threshold is not None:
        check_finite_number(threshold, "tissue_mask: threshold (a saturation)", low=0.0, high=1.0)
    check_finite_number(min_saturation, "tissue_mask: min_saturation", low=0.0, high=1.0)
    check_finite_number(downsample, "tissue_mask: downsample", low=1.0)
    thumb, ds = slide.thumbnail(downsample)
    hsv = rgb2hsv(thumb)
    hue = hsv[..., 0]
    sat = ndimage.median_filter(hsv[..., 1], size=median_size) if median_size > 1 else hsv[..., 1]

    # Any visibly coloured pixel with an ink hue is pen, including the pale rim where ink
    # and glass mix on the thumbnail.
    pen = (hue >= pen_hue[0]) & (hue < pen_hue[1]) & (hsv[..., 1] > min_saturation)
    rest = sat[~pen]
    if threshold is None:
        threshold = float(threshold_otsu(rest)) if rest.size and np.ptp(rest) > 0 else 1.0
    threshold = max(float(threshold), min_saturation)

    mask = (sat > threshold) & ~pen
    um_per_px = (slide.mpp or 0.25) * math.sqrt(ds[0] * ds[1])
    min_px = max(1, int(round(min_object_um2 / um_per_px**2)))
    hole_px = max(1, int(round(max_hole_um2 / um_per_px**2)))
    mask = _drop_small_components(mask, min_px)
    mask = ~_drop_small_components(~mask, hole_px, keep_border=True) & ~pen
    return TissueMask(mask=mask, pen=pen, thumbnail=thumb, downsample=ds, threshold=threshold)


def _drop_small_components(mask: np.ndarray, min_px: int, keep_border: bool = False) -> np.ndarray:
    """Remove 8-connected components smaller than ``min_px`` pixels.

    With ``keep_border``, components touching the image border are always kept (used on the
    background to fill only enclosed holes).
    """
    from scipy import ndimage

    lab, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return mask.copy()
    sizes = np.bincount(lab.ravel())
    keep = sizes >= min_px
    if keep_border:
        border = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
        keep[border] = True
    keep[0] = False
    return keep[lab]


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two same-shape boolean masks, :math:`|A\\cap B|/|A\\cup B|`."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    if a.shape != b.shape:
        raise ValueError(f"mask_iou: shapes differ, {a.shape} vs {b.shape}")
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def _window_fractions(mask: TissueMask, coords: np.ndarray, size: int) -> np.ndarray:
    """Fraction of mask pixels inside each level-0 square (a summed-area table lookup)."""
    m = mask.mask.astype(np.float64)
    h, w = m.shape
    sat = np.zeros((h + 1, w + 1))
    sat[1:, 1:] = m.cumsum(0).cumsum(1)
    dsx, dsy = mask.downsample
    x0 = np.clip(np.floor(coords[:, 0] / dsx).astype(int), 0, w)
    y0 = np.clip(np.floor(coords[:, 1] / dsy).astype(int), 0, h)
    x1 = np.clip(np.ceil((coords[:, 0] + size) / dsx).astype(int), 0, w)
    y1 = np.clip(np.ceil((coords[:, 1] + size) / dsy).astype(int), 0, h)
    area = np.maximum((x1 - x0) * (y1 - y0), 1)
    total = sat[y1, x1] - sat[y0, x1] - sat[y1, x0] + sat[y0, x0]
    return total / area
