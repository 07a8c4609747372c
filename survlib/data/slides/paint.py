"""Painting a synthetic slide: the region layout (:func:`_layout`), nuclei and stain textures,
and the Beer-Lambert rendering of level-0 rows (:func:`_render_band`). Private to
:mod:`survlib.data.slides`; everything here draws from one seeded ``np.random.Generator``.

How colours are made (Beer-Lambert): each pixel has stain amounts :math:`c_H, c_E` (and ink
:math:`c_I`), and its optical density is :math:`OD = c_H v_H + c_E v_E + c_I v_I + OD_{glass}`
with the unit stain vectors :math:`v` of Ruifrok & Johnston (2001), the same ones
:func:`skimage.color.rgb2hed` inverts; the RGB value is :math:`255 \\cdot 10^{-OD}`. So a
colour-deconvolution encoder sees the planted stain amounts back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from survlib.data.slides.labels import REGION_NAMES, TISSUE_REGIONS

# Unit optical-density vectors (rows: R, G, B absorbance) of haematoxylin and eosin
# (Ruifrok & Johnston 2001, as in skimage.color.rgb_from_hed) and of marker inks.
_OD_H = np.array([0.65, 0.70, 0.29], dtype=np.float32)
_OD_E = np.array([0.07, 0.99, 0.11], dtype=np.float32)
_OD_INK = {
    # green ink absorbs red and blue; blue ink absorbs red and green.
    "green": np.array([0.80, 0.18, 0.70], dtype=np.float32),
    "blue": np.array([0.90, 0.45, 0.05], dtype=np.float32),
}
_OD_GLASS = 0.025  # a faint grey: glass and mounting medium absorb a little


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Gaussian-smoothed white noise scaled to zero mean and unit variance."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")
    return (field - field.mean()) / (field.std() + 1e-12)


def _layout(rng: np.random.Generator, shape: tuple[int, int], pen: bool) -> np.ndarray:
    """Region labels on a coarse grid: one tissue blob cut into textured regions, plus pen."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    # Tissue: a centred ellipse deformed by smooth noise, thresholded; keep the largest piece.
    r = np.hypot((xx - w / 2) / (0.42 * w), (yy - h / 2) / (0.40 * h))
    field = 1.0 - r + 0.22 * _smooth_noise(rng, shape, sigma=max(h, w) / 14)
    tissue = field > 0.0
    lab, n = ndimage.label(tissue)
    if n > 1:
        sizes = ndimage.sum(tissue, lab, index=np.arange(1, n + 1))
        tissue = lab == (1 + int(np.argmax(sizes)))
    tissue = ndimage.binary_fill_holes(tissue)

    # Regions: a warped Voronoi partition of the tissue; every tissue class gets >= 2 seeds.
    classes = np.array(list(TISSUE_REGIONS) * 3)
    rng.shuffle(classes)
    ty, tx = np.nonzero(tissue)
    pick = rng.choice(len(ty), size=len(classes), replace=False)
    seeds_y, seeds_x = ty[pick].astype(np.float64), tx[pick].astype(np.float64)
    warp_x = 0.06 * max(h, w) * _smooth_noise(rng, shape, sigma=max(h, w) / 20)
    warp_y = 0.06 * max(h, w) * _smooth_noise(rng, shape, sigma=max(h, w) / 20)
    d = (xx[None] + warp_x[None] - seeds_x[:, None, None]) ** 2 + (
        yy[None] + warp_y[None] - seeds_y[:, None, None]
    ) ** 2
    labels = np.where(tissue, classes[np.argmin(d, axis=0)], 0).astype(np.uint8)

    if pen:
        # A hand-drawn loop around part of the tissue, crossing glass and tissue.
        t = np.linspace(0, 2 * np.pi * rng.uniform(0.65, 0.85), 400)
        t0 = rng.uniform(0, 2 * np.pi)
        cx, cy = w * rng.uniform(0.40, 0.60), h * rng.uniform(0.40, 0.60)
        rx, ry = w * rng.uniform(0.30, 0.38), h * rng.uniform(0.30, 0.38)
        wobble = 1 + 0.04 * np.sin(3 * t + rng.uniform(0, 2 * np.pi))
        px = cx + rx * wobble * np.cos(t + t0)
        py = cy + ry * wobble * np.sin(t + t0)
        stroke = np.zeros(shape, dtype=bool)
        ok = (px >= 0) & (px < w) & (py >= 0) & (py < h)
        stroke[py[ok].astype(int), px[ok].astype(int)] = True
        width = max(1.0, 0.012 * min(h, w))
        stroke = ndimage.distance_transform_edt(~stroke) <= width
        labels[stroke] = REGION_NAMES.index("pen")
    return labels


@dataclass(frozen=True)
class _Nuclei:
    """Nuclei on a jittered grid: at most one per ``cell`` x ``cell`` square, fully inside it.

    Because a nucleus never leaves its cell, a pixel only needs its own cell's nucleus, which
    makes rendering a vectorised gather instead of a loop over nuclei.
    """

    region: int
    cell: int
    present: np.ndarray  # bool[ny, nx]
    cx: np.ndarray  # centre, level-0 pixels
    cy: np.ndarray
    a: np.ndarray  # semi-axes
    b: np.ndarray
    cos: np.ndarray
    sin: np.ndarray
    stain: np.ndarray  # haematoxylin amount at the centre

    @classmethod
    def sample(
        cls,
        rng: np.random.Generator,
        region: int,
        size: tuple[int, int],
        cell: int,
        density: float,
        radius: tuple[float, float],
        elongation: tuple[float, float],
        stain: tuple[float, float],
    ) -> _Nuclei:
        w, h = size
        ny, nx = -(-h // cell), -(-w // cell)
        a = rng.uniform(*radius, size=(ny, nx)) * rng.uniform(*elongation, size=(ny, nx))
        b = rng.uniform(*radius, size=(ny, nx))
        a = np.minimum(a, cell / 2 - 1)
        b = np.minimum(b, a)
        margin = a + 1  # keeps the whole nucleus inside its cell
        cx = (np.arange(nx)[None, :] * cell + rng.uniform(margin, cell - margin)).astype(np.float32)
        cy = (np.arange(ny)[:, None] * cell + rng.uniform(margin, cell - margin)).astype(np.float32)
        angle = rng.uniform(0, np.pi, size=(ny, nx))
        return cls(
            region=region,
            cell=cell,
            present=rng.random((ny, nx)) < density,
            cx=cx,
            cy=cy,
            a=a.astype(np.float32),
            b=b.astype(np.float32),
            cos=np.cos(angle).astype(np.float32),
            sin=np.sin(angle).astype(np.float32),
            stain=rng.uniform(*stain, size=(ny, nx)).astype(np.float32),
        )

    def render(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Haematoxylin amount at level-0 pixels ``(x[i], y[i])`` (flat float arrays)."""
        iy = (y // self.cell).astype(np.intp)
        ix = (x // self.cell).astype(np.intp)
        dx = x - self.cx[iy, ix]
        dy = y - self.cy[iy, ix]
        c, s = self.cos[iy, ix], self.sin[iy, ix]
        u = (dx * c + dy * s) / self.a[iy, ix]
        v = (-dx * s + dy * c) / self.b[iy, ix]
        edge = np.clip((1.0 - (u * u + v * v)) * 3.0, 0.0, 1.0)  # a soft rim of about a pixel
        return np.where(self.present[iy, ix], edge * self.stain[iy, ix], 0.0).astype(np.float32)


def _sample_nuclei(rng: np.random.Generator, size: tuple[int, int]) -> dict[int, _Nuclei]:
    """The nuclei of each tissue region of a level-0 ``size = (width, height)`` slide."""
    region = {name: k for k, name in enumerate(REGION_NAMES)}
    # Nuclei per region: (cell, density, radius, elongation, haematoxylin amount).
    return {
        # tumour: large, pleomorphic, crowded, dark
        region["tumour"]: _Nuclei.sample(
            rng, region["tumour"], size, 44, 0.85, (11, 17), (1.0, 1.5), (0.8, 1.2)
        ),
        # stroma: sparse thin spindle (fibroblast) nuclei
        region["stroma"]: _Nuclei.sample(
            rng, region["stroma"], size, 64, 0.25, (3, 4), (3.0, 4.5), (0.5, 0.8)
        ),
        # lymphocytes: small, round, very dark, packed
        region["lymphocytes"]: _Nuclei.sample(
            rng, region["lymphocytes"], size, 22, 0.9, (6, 8), (1.0, 1.1), (1.2, 1.6)
        ),
        # necrosis: fragments of nuclear debris
        region["necrosis"]: _Nuclei.sample(
            rng, region["necrosis"], size, 20, 0.35, (1.5, 3.5), (1.0, 2.0), (0.5, 0.9)
        ),
    }


@dataclass(frozen=True)
class _Style:
    """Seeded constants of the smooth textures (fibre direction and waviness, stain drift)."""

    angle: float
    period: float
    wave_amp: tuple[float, float]
    wave_len: tuple[float, float]
    drift_len: tuple[float, float]
    phase: float

    @classmethod
    def sample(cls, rng: np.random.Generator) -> _Style:
        return cls(
            angle=float(rng.uniform(0, np.pi)),
            period=float(rng.uniform(16, 22)),
            wave_amp=(float(rng.uniform(30, 60)), float(rng.uniform(30, 60))),
            wave_len=(float(rng.uniform(120, 200)), float(rng.uniform(120, 200))),
            drift_len=(float(rng.uniform(500, 900)), float(rng.uniform(500, 900))),
            phase=float(rng.uniform(0, 2 * np.pi)),
        )

    def drift(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Slow stain-intensity drift in [0, 1] (staining is never perfectly even)."""
        return 0.5 + 0.5 * np.sin(x / self.drift_len[0] + self.phase) * np.cos(
            y / self.drift_len[1]
        )

    def fibres(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Thin wavy parallel fibres in [0, 1]: stripes along a direction, bent by two waves."""
        along = (
            x * np.cos(self.angle)
            + y * np.sin(self.angle)
            + self.wave_amp[0] * np.sin(x / self.wave_len[0] + self.phase)
            + self.wave_amp[1] * np.sin(y / self.wave_len[1])
        )
        return (0.5 + 0.5 * np.sin(2 * np.pi * along / self.period)) ** 3

    @staticmethod
    def mottle(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Blotchy, irregular variation in [0, 1] (necrotic smudge)."""
        return 0.5 + 0.5 * np.sin(x / 37.0 + 2.0 * np.cos(y / 23.0)) * np.cos(y / 29.0 - x / 71.0)


def _stains(
    region: int, x: np.ndarray, y: np.ndarray, style: _Style, nuclei: dict[int, _Nuclei]
) -> tuple[np.ndarray, np.ndarray, np.ndarray | float]:
    """Haematoxylin, eosin and neutral-grey amounts of one region's pixels ``(x, y)``."""
    name = REGION_NAMES[region]
    drift = style.drift(x, y)
    haem = nuclei[region].render(x, y) if region in nuclei else np.zeros_like(x)
    if name == "tumour":  # purple-pink cytoplasm, faintly basophilic
        return haem + 0.10, 0.22 + 0.06 * drift, 0.0
    if name == "stroma":  # pink collagen fibres
        return haem, 0.12 + 0.38 * style.fibres(x, y) + 0.04 * drift, 0.0
    if name == "lymphocytes":  # little cytoplasm between packed nuclei
        return haem, 0.10 + 0.04 * drift, 0.0
    if name == "necrosis":  # pale, smudged, greyish pink with nuclear debris
        mottle = style.mottle(x, y)
        return haem + 0.03 + 0.04 * mottle, 0.14 + 0.14 * mottle, 0.06
    raise ValueError(f"no texture for region {name!r}")


def _render_band(
    y0: int,
    y1: int,
    width: int,
    labels: np.ndarray,
    label_ds: int,
    nuclei: dict[int, _Nuclei],
    style: _Style,
    ink: np.ndarray,
) -> np.ndarray:
    """Paint level-0 rows ``[y0, y1)`` as ``uint8[y1-y0, width, 3]`` (Beer-Lambert)."""
    rows, cols = np.arange(y0, y1), np.arange(width)
    lab = labels[(rows // label_ds)[:, None], (cols // label_ds)[None, :]]
    od = np.full((*lab.shape, 3), _OD_GLASS, dtype=np.float32)
    for region in range(1, len(REGION_NAMES)):
        ys, xs = np.nonzero(lab == region)
        if ys.size == 0:
            continue
        x, y = xs.astype(np.float32), (ys + y0).astype(np.float32)
        if REGION_NAMES[region] == "pen":
            od[ys, xs] += (0.55 + 0.15 * style.drift(x, y))[:, None] * _unit(ink)
            continue
        haem, eosin, grey = _stains(region, x, y, style, nuclei)
        od[ys, xs] += haem[:, None] * _unit(_OD_H) + eosin[:, None] * _unit(_OD_E) + grey
    return np.clip(np.rint(255.0 * np.power(10.0, -od)), 0, 255).astype(np.uint8)
