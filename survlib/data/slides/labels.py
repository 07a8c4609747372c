"""The planted regions of a synthetic slide (:data:`REGION_NAMES`, :data:`TISSUE_REGIONS`) and
its ground truth, a :class:`LabelMask` aligned with level 0 (read back by :func:`read_label_mask`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["REGION_NAMES", "TISSUE_REGIONS", "LabelMask", "read_label_mask"]

#: Region names, indexed by label value.
REGION_NAMES: tuple[str, ...] = ("background", "tumour", "stroma", "lymphocytes", "necrosis", "pen")
#: Label values that count as tissue (what a tissue mask should find).
TISSUE_REGIONS: tuple[int, ...] = (1, 2, 3, 4)


@dataclass(frozen=True)
class LabelMask:
    """A region label image aligned with a slide's level 0.

    Attributes:
        labels: ``uint8[h, w]``; pixel ``(i, j)`` covers level-0 pixels
            ``[j*downsample, (j+1)*downsample) x [i*downsample, (i+1)*downsample)``.
        downsample: level-0 pixels per label pixel (an integer).
        names: region name of each label value.
    """

    labels: np.ndarray
    downsample: int
    names: tuple[str, ...] = REGION_NAMES

    def tissue(self) -> np.ndarray:
        """Boolean tissue truth (tumour, stroma, lymphocytes, necrosis), same shape as labels."""
        return np.isin(self.labels, TISSUE_REGIONS)

    def resample(self, shape: tuple[int, int], downsample: tuple[float, float]) -> np.ndarray:
        """Labels on another grid (e.g. a thumbnail's), sampled at each target pixel's centre.

        Args:
            shape: ``(h, w)`` of the target grid.
            downsample: level-0 pixels per target pixel, ``(x, y)``.
        """
        h, w = shape
        rows = ((np.arange(h) + 0.5) * downsample[1] // self.downsample).astype(np.intp)
        cols = ((np.arange(w) + 0.5) * downsample[0] // self.downsample).astype(np.intp)
        rows = np.clip(rows, 0, self.labels.shape[0] - 1)
        cols = np.clip(cols, 0, self.labels.shape[1] - 1)
        return self.labels[rows[:, None], cols[None, :]]

    def _windows(self, coords: np.ndarray, size: int) -> Iterator[np.ndarray]:
        """The label pixels under each level-0 square ``[x, x+size) x [y, y+size)``."""
        ds = self.downsample
        for x, y in np.asarray(coords, dtype=np.int64).reshape(-1, 2):
            x0, y0 = x // ds, y // ds
            x1, y1 = max(x0 + 1, -(-(x + size) // ds)), max(y0 + 1, -(-(y + size) // ds))
            yield self.labels[y0:y1, x0:x1]

    def share(self, coords: np.ndarray, size: int, label: int) -> np.ndarray:
        """Fraction of each square patch covered by region ``label`` (``float[N]``).

        Args:
            coords: ``int[N, 2]`` level-0 ``(x, y)`` of each patch's top-left corner.
            size: patch side in level-0 pixels.
            label: the region's label value.
        """
        return np.array(
            [np.mean(w == label) for w in self._windows(coords, size)], dtype=np.float64
        )

    def majority(self, coords: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
        """The most common label under each square patch, and its share of the patch.

        Args:
            coords: ``int[N, 2]`` level-0 ``(x, y)`` of each patch's top-left corner.
            size: patch side in level-0 pixels.

        Returns:
            ``(label[N], purity[N])``: the majority label and the fraction of the patch it covers.
        """
        n = len(np.asarray(coords).reshape(-1, 2))
        out = np.zeros(n, dtype=np.int64)
        purity = np.zeros(n, dtype=np.float64)
        for i, window in enumerate(self._windows(coords, size)):
            counts = np.bincount(window.ravel(), minlength=len(self.names))
            out[i] = int(np.argmax(counts))
            purity[i] = counts[out[i]] / max(window.size, 1)
        return out, purity


def read_label_mask(path: str | os.PathLike[str]) -> LabelMask:
    """Read a label mask saved by :func:`write_synthetic_slide` (``<slide stem>_labels.npz``)."""
    with np.load(Path(path), allow_pickle=False) as data:
        return LabelMask(
            labels=data["labels"].astype(np.uint8),
            downsample=int(data["downsample"]),
            names=tuple(str(n) for n in data["names"]),
        )
