"""Opening a whole-slide image: :class:`Slide` (OpenSlide, with clear errors), :class:`SlideError`.

A :class:`Slide` knows its pyramid geometry (level sizes and downsamples), its vendor metadata
(objective power, microns per pixel) and hence its base magnification, and reads RGB regions and
thumbnails (transparent pixels composited on white).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - typing only
    import openslide

__all__ = ["Slide", "SlideError"]


class SlideError(Exception):
    """A slide is missing, unreadable, corrupt, unsupported or lacks needed metadata.

    Attributes:
        path: the slide's path.
        reason: what is wrong, in words.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class Slide:
    """An open whole-slide image (OpenSlide) with the geometry tiling needs.

    Args:
        path: the slide file (any format OpenSlide reads: Aperio ``.svs``/``.tif``, generic
            tiled TIFF, NDPI, MRXS, ...).
        base_magnification: the magnification of level 0, when the file does not say
            (no ``openslide.objective-power`` and no ``openslide.mpp-x``).
        slide_id: identifier stored in feature files (default: the file name without suffix).

    Raises:
        SlideError: the file is missing, not a slide OpenSlide supports, or corrupt.

    Use as a context manager (``with Slide(p) as s: ...``) or call :meth:`close`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        base_magnification: float | None = None,
        slide_id: str | None = None,
    ) -> None:
        import openslide

        self.path = Path(path)
        self.slide_id = slide_id if slide_id is not None else self.path.stem
        if not self.path.exists():
            raise SlideError(self.path, "file not found")
        if not self.path.is_file():
            raise SlideError(self.path, "not a regular file")
        try:
            self._osr: openslide.OpenSlide = openslide.OpenSlide(str(self.path))
        except openslide.OpenSlideUnsupportedFormatError as exc:
            raise SlideError(self.path, _unsupported_reason(self.path, exc)) from exc
        except (openslide.OpenSlideError, OSError) as exc:
            raise SlideError(self.path, f"corrupt or unreadable slide ({exc})") from exc
        # A truncated file opens (its directory comes first) but fails when its missing tiles
        # are read. Pyramid writers store the coarsest level last, so read the last pixel of
        # the last level: one tile, cheap even for a gigapixel slide.
        try:
            last = self._osr.level_count - 1
            w, h = self._osr.level_dimensions[last]
            ds = self._osr.level_downsamples[last]
            corner = (int((w - 1) * ds), int((h - 1) * ds))
            self._osr.read_region(corner, last, (1, 1))
        except openslide.OpenSlideError as exc:
            self._osr.close()
            raise SlideError(self.path, f"corrupt slide: cannot read its pixels ({exc})") from exc
        if base_magnification is not None:
            from survlib._core.validation import check_finite_number

            try:
                base_magnification = check_finite_number(
                    base_magnification, "base_magnification", low=0.0, low_open=True
                )
            except ValueError:
                self._osr.close()
                raise
        self._base_magnification = base_magnification

    # -- context manager
    def __enter__(self) -> Slide:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the OpenSlide handle."""
        self._osr.close()

    def __repr__(self) -> str:
        return (
            f"Slide({self.slide_id!r}, {self.dimensions[0]}x{self.dimensions[1]}, "
            f"levels={self.level_count}, magnification={self._describe_mag()})"
        )

    def _describe_mag(self) -> str:
        try:
            return f"{self.base_magnification:g}x"
        except SlideError:
            return "unknown"

    # -- geometry and metadata
    @property
    def dimensions(self) -> tuple[int, int]:
        """Level-0 ``(width, height)`` in pixels."""
        return self._osr.dimensions

    @property
    def level_count(self) -> int:
        return self._osr.level_count

    @property
    def level_dimensions(self) -> tuple[tuple[int, int], ...]:
        return self._osr.level_dimensions

    @property
    def level_downsamples(self) -> tuple[float, ...]:
        return self._osr.level_downsamples

    @property
    def properties(self) -> dict[str, str]:
        """All OpenSlide properties (vendor metadata included)."""
        return dict(self._osr.properties)

    @property
    def vendor(self) -> str | None:
        return self._osr.properties.get("openslide.vendor")

    @property
    def mpp(self) -> float | None:
        """Microns per level-0 pixel (x), or None when the file does not say."""
        value = self._osr.properties.get("openslide.mpp-x")
        return float(value) if value else None

    @property
    def objective_power(self) -> float | None:
        value = self._osr.properties.get("openslide.objective-power")
        return float(value) if value else None

    @property
    def base_magnification(self) -> float:
        """Magnification of level 0: the override, else the objective power, else ``10 / mpp``.

        The ``10 / mpp`` rule is the usual convention (0.25 um/px ~ 40x, 0.5 um/px ~ 20x).
        """
        if self._base_magnification is not None:
            return float(self._base_magnification)
        if self.objective_power:
            return self.objective_power
        if self.mpp:
            return 10.0 / self.mpp
        raise SlideError(
            self.path,
            "the file records neither objective power nor microns per pixel; "
            "pass Slide(path, base_magnification=40) (or the scanner's value)",
        )

    # -- pixels
    def read_region(
        self, location: tuple[int, int], level: int, size: tuple[int, int]
    ) -> np.ndarray:
        """Read ``size = (w, h)`` pixels of ``level`` whose top-left is level-0 ``location``.

        Returns:
            ``uint8[h, w, 3]`` RGB; transparent pixels (outside scanned areas) become white.
        """
        try:
            rgba = np.asarray(self._osr.read_region(location, level, size))
        except Exception as exc:  # openslide raises OpenSlideError; PIL may raise too
            raise SlideError(
                self.path, f"cannot read {size} pixels at {location}, level {level} ({exc})"
            ) from exc
        return _rgba_on_white(rgba)

    def thumbnail(self, downsample: float = 32.0) -> tuple[np.ndarray, tuple[float, float]]:
        """A small RGB picture of the whole slide.

        Args:
            downsample: requested level-0 pixels per thumbnail pixel.

        Returns:
            ``(image uint8[h, w, 3], (downsample_x, downsample_y))`` where the downsamples are
            the exact level-0/thumbnail size ratios (they differ slightly from the request).
        """
        w0, h0 = self.dimensions
        size = (max(1, round(w0 / downsample)), max(1, round(h0 / downsample)))
        try:
            image = self._osr.get_thumbnail(size).convert("RGBA")
        except Exception as exc:
            raise SlideError(self.path, f"cannot read a thumbnail ({exc})") from exc
        rgb = _rgba_on_white(np.asarray(image))
        return rgb, (w0 / rgb.shape[1], h0 / rgb.shape[0])


def _rgba_on_white(rgba: np.ndarray) -> np.ndarray:
    """Composite RGBA (straight alpha) on white and return RGB uint8."""
    if rgba.shape[-1] == 3:
        return np.ascontiguousarray(rgba, dtype=np.uint8)
    alpha = rgba[..., 3:4]
    if np.all(alpha == 255):
        return np.ascontiguousarray(rgba[..., :3])
    a = alpha.astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32) * a + 255.0 * (1.0 - a)
    return np.rint(rgb).astype(np.uint8)


def _unsupported_reason(path: Path, exc: Exception) -> str:
    """Why OpenSlide refused ``path``: a TIFF that does not parse is usually truncated."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
        size = path.stat().st_size
    except OSError:
        head, size = b"", -1
    if head in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return (
            f"a TIFF file that cannot be parsed ({size} bytes): truncated or corrupt "
            f"(an incomplete download or copy?); OpenSlide said: {exc}"
        )
    return f"not a whole-slide image format OpenSlide supports ({exc})"
