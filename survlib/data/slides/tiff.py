"""Writing a pyramid as an Aperio-style tiled TIFF that OpenSlide reads like a scanner's.

The file layout follows the DESIGN page: tifffile, deflate compression, ``metadata=None``,
256x256 tiles, one top-level page per pyramid level (no SubIFDs), the TIFF resolution tags set
from the microns per pixel, and an ImageDescription that starts with ``Aperio Image Library``
and carries ``|AppMag = 40|MPP = 0.25``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tifffile

from survlib._core.io import atomic_write

__all__ = ["aperio_description", "write_pyramid_tiff"]


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
