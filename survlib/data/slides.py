"""Synthetic whole-slide images with a known region layout (the embedded, offline default).

:func:`write_synthetic_slide` paints a small H&E-like slide and writes it as a pyramidal,
tiled TIFF that OpenSlide reads as an Aperio slide (vendor ``aperio``, objective power and
microns per pixel in its properties). Every pixel of the slide belongs to one planted region,
and the region layout is returned and saved next to the slide as a ground-truth label mask,
so tissue detection, tiling and patch features can be checked against the truth.

Regions (label value: name):

====  ============  ===========================================================
 0    background    bare glass, near white
 1    tumour        dense, large, irregular purple nuclei on pink-purple cytoplasm
 2    stroma        pink eosinophilic fibres (wavy stripes), sparse spindle nuclei
 3    lymphocytes   crowded small round dark nuclei on pale pink
 4    necrosis      pale, mottled pink with scattered nuclear debris
 5    pen           a marker-pen stroke (green by default) over glass and tissue
====  ============  ===========================================================

How colours are made (Beer-Lambert): each pixel has stain amounts :math:`c_H, c_E` (and ink
:math:`c_I`), and its optical density is :math:`OD = c_H v_H + c_E v_E + c_I v_I + OD_{glass}`
with the unit stain vectors :math:`v` of Ruifrok & Johnston (2001), the same ones
:func:`skimage.color.rgb2hed` inverts; the RGB value is :math:`255 \\cdot 10^{-OD}`. So a
colour-deconvolution encoder sees the planted stain amounts back.

The file layout follows the DESIGN page: tifffile, deflate compression, ``metadata=None``,
256x256 tiles, one top-level page per pyramid level (no SubIFDs), the TIFF resolution tags set
from the microns per pixel, and an ImageDescription that starts with ``Aperio Image Library``
and carries ``|AppMag = 40|MPP = 0.25``. The slide is deterministic given its ``seed`` and the
size arguments; it is simulated data and says so in its description.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile
from scipy import ndimage

from survlib._core.io import atomic_write

__all__ = [
    "REGION_NAMES",
    "TISSUE_REGIONS",
    "LabelMask",
    "SyntheticSlide",
    "read_label_mask",
    "write_pyramid_tiff",
    "write_synthetic_slide",
]

#: Region names, indexed by label value.
REGION_NAMES: tuple[str, ...] = ("background", "tumour", "stroma", "lymphocytes", "necrosis", "pen")
#: Label values that count as tissue (what a tissue mask should find).
TISSUE_REGIONS: tuple[int, ...] = (1, 2, 3, 4)

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


def read_label_mask(path: str | os.PathLike[str]) -> LabelMask:
    """Read a label mask saved by :func:`write_synthetic_slide` (``<slide stem>_labels.npz``)."""
    with np.load(Path(path), allow_pickle=False) as data:
        return LabelMask(
            labels=data["labels"].astype(np.uint8),
            downsample=int(data["downsample"]),
            names=tuple(str(n) for n in data["names"]),
        )


def aperio_description(
    width: int, height: int, tile_size: int, objective_power: float, mpp: float, note: str
) -> str:
    """An Aperio-style ImageDescription for level 0.

    OpenSlide's Aperio reader recognises a TIFF whose first ImageDescription starts with
    ``Aperio`` and reads the ``|``-separated ``key = value`` pairs as ``aperio.*`` properties;
    ``AppMag`` becomes ``openslide.objective-power`` and ``MPP`` becomes ``openslide.mpp-x/y``.
    """
    return (
        f"Aperio Image Library survlib\r\n"
        f"{width}x{height} [0,0 {width}x{height}] ({tile_size}x{tile_size}) Deflate"
        f"|AppMag = {objective_power:g}|MPP = {mpp:g}|Title = {note}"
    )


def write_pyramid_tiff(
    path: str | os.PathLike[str],
    levels: Sequence[np.ndarray],
    *,
    mpp: float = 0.25,
    objective_power: float = 40.0,
    tile_size: int = 256,
    note: str = "synthetic slide (survlib)",
) -> Path:
    """Write RGB pyramid levels as an Aperio-style tiled TIFF, atomically.

    Args:
        path: output file (``.tif`` or ``.svs``); replaced atomically.
        levels: ``uint8[h_k, w_k, 3]`` images, level 0 first, each smaller than the one before.
        mpp: microns per level-0 pixel (``MPP`` in the description, and the resolution tags).
        objective_power: magnification of level 0 (``AppMag``).
        tile_size: TIFF tile side (a multiple of 16).
        note: free text stored as the slide ``Title``.

    Returns:
        ``Path(path)``.
    """
    path = Path(path)
    if not levels:
        raise ValueError("write_pyramid_tiff: no levels given")
    h0, w0 = levels[0].shape[:2]
    description = aperio_description(w0, h0, tile_size, objective_power, mpp, note)
    buffer = io.BytesIO()  # the slide is small; tifffile wants a named file or a buffer
    with tifffile.TiffWriter(buffer, bigtiff=False) as tif:
        for k, level in enumerate(levels):
            if level.dtype != np.uint8 or level.ndim != 3 or level.shape[2] != 3:
                raise ValueError(f"write_pyramid_tiff: level {k} must be uint8[h, w, 3]")
            ds = w0 / level.shape[1]
            px_per_cm = 1e4 / (mpp * ds)
            tif.write(
                level,
                photometric="rgb",
                tile=(tile_size, tile_size),
                compression="zlib",
                resolution=(px_per_cm, px_per_cm),
                resolutionunit="CENTIMETER",
                description=description if k == 0 else f"Aperio Image Library survlib\r\nlevel {k}",
                metadata=None,
                software=False,
            )
    with atomic_write(path, mode="wb") as fh:
        fh.write(buffer.getbuffer())
    return path


# ----------------------------------------------------------------------------- layout


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


# ----------------------------------------------------------------------------- texture


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

    The slide is a pyramidal tiled TIFF (see the module docstring for the format) that
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
    if downsamples[0] != 1 or any(b <= a for a, b in zip(downsamples, downsamples[1:])):
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
    region = {name: k for k, name in enumerate(REGION_NAMES)}
    # Nuclei per region: (cell, density, radius, elongation, haematoxylin amount).
    nuclei = {
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
    style = _Style.sample(rng)
    ink = _OD_INK[pen_colour]

    levels = [np.empty((height // d, width // d, 3), dtype=np.uint8) for d in downsamples]
    band = max(tile_size, downsamples[-1])
    band -= band % downsamples[-1]
    for y0 in range(0, height, band):
        y1 = min(height, y0 + band)
        rgb = _render_band(y0, y1, width, labels, label_downsample, nuclei, style, ink)
        for level, d in zip(levels, downsamples):
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
