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

The slide is deterministic given its ``seed`` and the size arguments; it is simulated data
and says so in its description.

Modules (import the names from here, ``from survlib.data.slides import write_synthetic_slide``):

- :mod:`survlib.data.slides.labels`     the regions and the ground-truth :class:`LabelMask`
- :mod:`survlib.data.slides.paint`      layout and stain textures (Beer-Lambert), private
- :mod:`survlib.data.slides.tiff`       the pyramidal Aperio-style TIFF writer
- :mod:`survlib.data.slides.synthetic`  :func:`write_synthetic_slide`, :class:`SyntheticSlide`
"""

from survlib.data.slides.labels import REGION_NAMES, TISSUE_REGIONS, LabelMask, read_label_mask
from survlib.data.slides.synthetic import SyntheticSlide, write_synthetic_slide
from survlib.data.slides.tiff import aperio_description, write_pyramid_tiff

__all__ = [
    "REGION_NAMES",
    "TISSUE_REGIONS",
    "LabelMask",
    "SyntheticSlide",
    "aperio_description",
    "read_label_mask",
    "write_pyramid_tiff",
    "write_synthetic_slide",
]
