"""Patch encoders: the :class:`PatchEncoder` protocol and its implementations.

:class:`HandcraftedEncoder` (the offline default: colour, stain and texture statistics),
:class:`FoundationEncoder` (UNI or CONCH, optional: needs their packages and gated weights),
:class:`PrecomputedEncoder` (features made elsewhere, looked up by coordinates), and
:func:`get_encoder` (an encoder by name).
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any, Protocol, runtime_checkable

import numpy as np

from survlib.wsi.features import FeatureFileError, SlideFeatures, read_features
from survlib.wsi.tiling import PatchBatch

__all__ = [
    "EncoderUnavailableError",
    "FoundationEncoder",
    "HandcraftedEncoder",
    "PatchEncoder",
    "PrecomputedEncoder",
    "get_encoder",
]


class EncoderUnavailableError(RuntimeError):
    """An optional patch encoder cannot run here (package or weights missing); says how to fix."""


@runtime_checkable
class PatchEncoder(Protocol):
    """What every patch encoder provides.

    Attributes:
        name: short identifier stored in feature files (``"handcrafted-hed"``, ``"uni"``).
        version: version of the encoder (weights or feature definition).
        dim: feature dimension.
        needs_pixels: whether :meth:`encode` reads ``batch.images`` (False: coordinates only).
    """

    name: str
    version: str
    dim: int
    needs_pixels: bool

    def encode(self, batch: PatchBatch) -> np.ndarray:
        """Return ``float32[B, dim]`` features of the batch's patches."""
        ...


class HandcraftedEncoder:
    """The offline default: documented colour, stain and texture statistics of a patch.

    Deterministic, CPU-only and fast; no learned weights. Per patch (``float32[46]``):

    - colour (8): mean and s.d. of R, G, B (0-1); mean HSV saturation and value;
    - stain (11): colour deconvolution into haematoxylin (H), eosin (E) and residual (D) with
      :func:`skimage.color.rgb2hed` (Ruifrok & Johnston vectors; values are optical density /
      ln(10^6), ~1/6 of OD); mean, s.d., 10th/50th/90th percentiles of H and of E; mean D;
    - nuclei (4): haematoxylin-rich pixels (H > ``nuclear_threshold``, about OD 0.5):
      their fraction; the number of connected blobs (>= 4 px) per 10,000 px; mean blob area
      (px); coefficient of variation of blob area;
    - co-occurrence (8): grey-level co-occurrence matrix (32 grey levels) at distances 1 and
      4 px, averaged over 0 and 90 degrees: contrast, homogeneity, energy, correlation;
    - orientation (2): structure-tensor coherence
      :math:`\\sum(\\lambda_1-\\lambda_2)/\\sum(\\lambda_1+\\lambda_2)`
      (fibres align: high) and mean gradient energy :math:`\\overline{\\lambda_1+\\lambda_2}`;
    - scale (3): mean absolute difference of Gaussians of the grey image at sigma 1-2, 2-4, 4-8 px;
    - local binary patterns (10): histogram of uniform LBP codes (8 neighbours, radius 1).

    These separate the tissue textures of the synthetic slides and are a reasonable honest
    baseline on real H&E; they are no substitute for a pathology foundation model (UNI,
    CONCH), which :class:`FoundationEncoder` loads where the weights are available.
    """

    name = "handcrafted-hed"
    version = "1"
    needs_pixels = True

    def __init__(self, nuclear_threshold: float = 0.08) -> None:
        self.nuclear_threshold = float(nuclear_threshold)
        self.feature_names: tuple[str, ...] = self._names()
        self.dim = len(self.feature_names)

    @staticmethod
    def _names() -> tuple[str, ...]:
        names = [f"rgb_mean_{c}" for c in "rgb"] + [f"rgb_sd_{c}" for c in "rgb"]
        names += ["saturation_mean", "value_mean"]
        for stain in ("h", "e"):
            names += [
                f"{stain}_mean",
                f"{stain}_sd",
                f"{stain}_p10",
                f"{stain}_p50",
                f"{stain}_p90",
            ]
        names += ["d_mean"]
        names += ["nuclear_fraction", "nuclei_per_10k_px", "nucleus_area_mean", "nucleus_area_cv"]
        for d in (1, 4):
            names += [
                f"glcm_{p}_d{d}" for p in ("contrast", "homogeneity", "energy", "correlation")
            ]
        names += ["orientation_coherence", "gradient_energy"]
        names += ["dog_1_2", "dog_2_4", "dog_4_8"]
        names += [f"lbp_{i}" for i in range(10)]
        return tuple(names)

    def __repr__(self) -> str:
        return f"HandcraftedEncoder(nuclear_threshold={self.nuclear_threshold})"

    def encode(self, batch: PatchBatch) -> np.ndarray:
        if batch.images is None:
            raise ValueError("HandcraftedEncoder needs pixels (iter_patches(read_pixels=True))")
        return np.stack([self.encode_patch(im) for im in batch.images]).astype(np.float32)

    def encode_patch(self, image: np.ndarray) -> np.ndarray:
        """Features of one ``uint8[h, w, 3]`` RGB patch (see the class docstring)."""
        from scipy import ndimage
        from skimage.color import rgb2gray, rgb2hed
        from skimage.feature import (
            graycomatrix,
            graycoprops,
            local_binary_pattern,
            structure_tensor,
        )

        rgb = image.astype(np.float64) / 255.0
        feats: list[float] = []
        feats += list(rgb.reshape(-1, 3).mean(0)) + list(rgb.reshape(-1, 3).std(0))
        # HSV saturation (max - min) / max and value max, without a full HSV conversion
        high, low = rgb.max(axis=2), rgb.min(axis=2)
        saturation = np.divide(high - low, high, out=np.zeros_like(high), where=high > 0)
        feats += [saturation.mean(), high.mean()]

        hed = rgb2hed(image)
        for ch in (0, 1):
            v = hed[..., ch].ravel()
            p10, p50, p90 = np.percentile(v, [10, 50, 90])
            feats += [v.mean(), v.std(), p10, p50, p90]
        feats += [hed[..., 2].mean()]

        nuclei = hed[..., 0] > self.nuclear_threshold
        lab, n = ndimage.label(nuclei)
        areas = np.bincount(lab.ravel())[1:] if n else np.zeros(0)
        areas = areas[areas >= 4]
        n_px = nuclei.size
        feats += [
            nuclei.mean(),
            1e4 * len(areas) / n_px,
            areas.mean() if len(areas) else 0.0,
            areas.std() / areas.mean() if len(areas) else 0.0,
        ]

        gray = rgb2gray(image)
        levels = 32
        quant = np.minimum((gray * levels).astype(np.uint8), levels - 1)
        glcm = graycomatrix(
            quant,
            distances=[1, 4],
            angles=[0, np.pi / 2],
            levels=levels,
            symmetric=True,
            normed=True,
        )
        for di in range(2):
            for prop in ("contrast", "homogeneity", "energy", "correlation"):
                value = graycoprops(glcm, prop)[di].mean()
                feats.append(0.0 if not np.isfinite(value) else value)

        arr, arc, acc = structure_tensor(gray, sigma=2.0, order="rc")
        trace = arr + acc
        gap = np.sqrt((arr - acc) ** 2 + 4 * arc**2)  # lambda1 - lambda2
        feats += [gap.sum() / (trace.sum() + 1e-12), trace.mean()]

        blurs = [ndimage.gaussian_filter(gray, s, truncate=3.0) for s in (1, 2, 4, 8)]
        feats += [np.abs(blurs[i] - blurs[i + 1]).mean() for i in range(3)]

        lbp = local_binary_pattern((gray * 255).astype(np.uint8), P=8, R=1, method="uniform")
        feats += list(np.bincount(lbp.astype(int).ravel(), minlength=10)[:10] / lbp.size)
        return np.asarray(feats, dtype=np.float32)


#: How to get each optional foundation model (shown when it cannot be loaded).
_FOUNDATION_HELP = {
    "uni": (
        "UNI (ViT-L/16, 1024-d; Chen et al. 2024) needs `pip install timm huggingface_hub` and "
        "the gated weights: request access at https://huggingface.co/MahmoodLab/UNI, then "
        "`huggingface-cli login` (or set HF_TOKEN), or pass weights='path/to/pytorch_model.bin'."
    ),
    "conch": (
        "CONCH (ViT-B/16, 512-d; Lu et al. 2024) needs its package "
        "(`pip install git+https://github.com/Mahmoodlab/CONCH.git`, which brings open_clip and "
        "timm) and the gated weights: request access at https://huggingface.co/MahmoodLab/CONCH, "
        "then `huggingface-cli login`, or pass weights='path/to/pytorch_model.bin'."
    ),
}


#: Python packages each foundation model needs.
_FOUNDATION_PACKAGES = {"uni": ("timm", "huggingface_hub"), "conch": ("conch", "timm")}


class FoundationEncoder:
    """UNI or CONCH image embeddings, for users who have the weights (optional).

    The packages are not installed by default and the weights are gated on Hugging Face;
    constructing this encoder without them raises :class:`EncoderUnavailableError` with the
    install and access steps. Patches are resized to 224 x 224 and normalised with the
    ImageNet mean and s.d. (UNI's preprocessing; CONCH uses its own ``preprocess``), and the
    frozen model's embedding is returned (UNI: the class token, 1024-d; CONCH:
    ``encode_image(proj_contrastive=False, normalize=False)``, 512-d).

    Args:
        model: ``"uni"`` or ``"conch"``.
        weights: a local checkpoint instead of the Hugging Face download.
        device: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
    """

    needs_pixels = True

    def __init__(
        self,
        model: str = "uni",
        *,
        weights: str | os.PathLike[str] | None = None,
        device: str = "auto",
    ) -> None:
        model = model.lower()
        if model not in _FOUNDATION_HELP:
            raise ValueError(
                f"unknown foundation model {model!r}; choose from {sorted(_FOUNDATION_HELP)}"
            )
        help_text = _FOUNDATION_HELP[model]
        missing = [m for m in _FOUNDATION_PACKAGES[model] if importlib.util.find_spec(m) is None]
        if missing:
            raise EncoderUnavailableError(f"{help_text} (not installed: {', '.join(missing)})")
        import torch

        from survlib._core.device import pick_device

        self.name = model
        self.device = pick_device(device)
        try:
            if model == "uni":
                self._model, self.dim, self._preprocess = _load_uni(weights)
            else:
                self._model, self.dim, self._preprocess = _load_conch(weights)
        except EncoderUnavailableError:
            raise
        except ImportError as exc:
            raise EncoderUnavailableError(f"{help_text} (import failed: {exc})") from exc
        except Exception as exc:  # gated repo, no token, offline, bad checkpoint
            raise EncoderUnavailableError(f"{help_text} (loading failed: {exc})") from exc
        self.version = str(weights) if weights is not None else f"hf-hub:MahmoodLab/{model}"
        self._model.eval().to(self.device)
        self._torch = torch

    def __repr__(self) -> str:
        return f"FoundationEncoder({self.name!r}, dim={self.dim}, device={self.device})"

    def encode(self, batch: PatchBatch) -> np.ndarray:
        if batch.images is None:
            raise ValueError(f"{self.name} needs pixels (iter_patches(read_pixels=True))")
        torch = self._torch
        x = self._preprocess(batch.images).to(self.device)
        with torch.inference_mode():
            if self.name == "conch":
                out = self._model.encode_image(x, proj_contrastive=False, normalize=False)
            else:
                out = self._model(x)
        return out.float().cpu().numpy().astype(np.float32)


def _imagenet_preprocess(size: int = 224) -> Any:
    """uint8[B, h, w, 3] -> float tensor [B, 3, size, size], ImageNet-normalised."""
    import torch
    import torch.nn.functional as F

    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def run(images: np.ndarray) -> Any:
        x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0
        if x.shape[-1] != size or x.shape[-2] != size:
            x = F.interpolate(
                x, size=(size, size), mode="bilinear", antialias=True, align_corners=False
            )
        return (x - mean) / std

    return run


def _load_uni(weights: str | os.PathLike[str] | None) -> tuple[Any, int, Any]:
    import timm
    import torch

    if weights is None:
        model = timm.create_model(
            "hf-hub:MahmoodLab/uni", pretrained=True, init_values=1e-5, dynamic_img_size=True
        )
    else:
        model = timm.create_model(
            "vit_large_patch16_224",
            img_size=224,
            patch_size=16,
            init_values=1e-5,
            num_classes=0,
            dynamic_img_size=True,
            pretrained=False,
        )
        model.load_state_dict(
            torch.load(weights, map_location="cpu", weights_only=True), strict=True
        )
    return model, 1024, _imagenet_preprocess(224)


def _load_conch(weights: str | os.PathLike[str] | None) -> tuple[Any, int, Any]:
    import torch
    from conch.open_clip_custom import create_model_from_pretrained
    from PIL import Image

    source = str(weights) if weights is not None else "hf_hub:MahmoodLab/conch"
    model, preprocess = create_model_from_pretrained("conch_ViT-B-16", source)

    def run(images: np.ndarray) -> Any:
        return torch.stack([preprocess(Image.fromarray(im)) for im in images])

    return model, 512, run


class PrecomputedEncoder:
    """Features computed elsewhere (a survlib or CLAM-style h5 file), looked up by coordinates.

    Behaves like any encoder in :func:`extract_features`, but needs no pixels: each patch's
    level-0 coordinates must appear in the file (a missing one is an error naming it).

    Args:
        features: a :class:`SlideFeatures` (e.g. from :func:`read_features`).
    """

    needs_pixels = False

    def __init__(self, features: SlideFeatures) -> None:
        self.features = features
        self.name = features.encoder
        self.version = features.encoder_version
        self.dim = int(features.features.shape[1])
        self._row = {(int(x), int(y)): i for i, (x, y) in enumerate(features.coords)}

    def __repr__(self) -> str:
        return f"PrecomputedEncoder({self.name!r}, n={len(self._row)}, dim={self.dim})"

    def encode(self, batch: PatchBatch) -> np.ndarray:
        try:
            rows = [self._row[(int(x), int(y))] for x, y in batch.coords]
        except KeyError as exc:
            raise FeatureFileError(
                f"precomputed features of slide {self.features.slide_id!r} have no patch at "
                f"level-0 (x, y) = {exc.args[0]}; were they made with the same magnification, "
                "patch size and tissue mask?"
            ) from None
        return self.features.features[rows].astype(np.float32)


def get_encoder(name: str = "handcrafted", **kwargs: Any) -> PatchEncoder:
    """An encoder by name: ``"handcrafted"`` (default), ``"uni"``, ``"conch"`` or ``"precomputed"``.

    ``kwargs`` go to the encoder (``weights=``, ``device=`` for UNI/CONCH; ``path=`` for
    precomputed features, read with :func:`read_features`).
    """
    key = name.lower()
    if key in ("handcrafted", "handcrafted-hed"):
        return HandcraftedEncoder(**kwargs)
    if key in _FOUNDATION_HELP:
        return FoundationEncoder(key, **kwargs)
    if key == "precomputed":
        if "path" not in kwargs:
            raise ValueError("get_encoder('precomputed', path=...) needs the feature file")
        path = kwargs.pop("path")
        return PrecomputedEncoder(read_features(path, **kwargs))
    raise ValueError(f"unknown encoder {name!r}; choose handcrafted, uni, conch or precomputed")
