r"""Multimodal survival models: pathology + genomics (+ clinical information), and baselines.

Every model takes named fields of a :class:`~survlib.models.blocks.SurvivalBatch` (its class
attribute ``inputs``, in forward's order), handles padded bags exactly, and returns
discrete-time hazard logits ``[B, n_bins]``. The fusion models derive from
:class:`~survlib.models.blocks.FusionModel`: ``forward = head(fused(...))`` with one declared
order of the fused vector (``fusion_parts``), which integrated gradients reuse
(:func:`survlib.explain.modality_attribution`).

Pathology + genomics (:mod:`~survlib.models.fusion.pathology_genomics`)::

    :class:`PORPOISE`   ABMIL + SNN, gated Kronecker (bilinear) fusion (Chen et al. 2022)
    :class:`MCAT`       genomics-guided co-attention over patches (Chen et al. 2021), with
                        pathway tokens as the genomic queries (SurvPath's "MCAT (pathways)")
    :class:`SurvPath`   pathway tokens <-> patches co-attention (Jaume et al. 2024)

Pathology + genomics + clinical prompts (Hou et al. 2025, "SurvPGC";
:mod:`~survlib.models.fusion.survpgc`)::

    :class:`SurvPGC`    dual-path bidirectional cross-attention clinic<->pathology and
                        genomics<->pathology; :func:`survpgc_loss` (NLL + beta * cosine)
    :class:`SurvPC`     the clinic<->pathology path alone (Table 4, "SurvPC (ours)")

Clinical integration approaches of SurvPGC Fig. 1 / Table 4, clinic + pathology
(:mod:`~survlib.models.fusion.clinical`)::

    :class:`ClinicalLateFusion`        a: separate clinical and pathology models, each trained
                                       on its own loss; their risks fused
    :class:`ClinicalConcatFusion`      b: standardised covariates concatenated to the slide
                                       embedding (released ``MLPPC_concat``)
    :class:`ClinicalProjectionFusion`  c: covariates encoded by an SNN into one token that
                                       co-attends with the patches (released ``SurvPC``)

Unimodal baselines of Table 1, clinic and genomics (:mod:`~survlib.models.fusion.tabular`)::

    :class:`GenomicMLP`, :class:`ClinicalMLP`, :class:`ClinicalPromptMLP` (MLP or SNN)
"""

from survlib.models.fusion.clinical import (
    ClinicalConcatFusion,
    ClinicalLateFusion,
    ClinicalProjectionFusion,
)
from survlib.models.fusion.pathology_genomics import MCAT, PORPOISE, KroneckerFusion, SurvPath
from survlib.models.fusion.survpgc import SurvPC, SurvPGC, cosine_dissimilarity, survpgc_loss
from survlib.models.fusion.tabular import ClinicalMLP, ClinicalPromptMLP, GenomicMLP

__all__ = [
    "MCAT",
    "PORPOISE",
    "ClinicalConcatFusion",
    "ClinicalLateFusion",
    "ClinicalMLP",
    "ClinicalProjectionFusion",
    "ClinicalPromptMLP",
    "GenomicMLP",
    "KroneckerFusion",
    "SurvPC",
    "SurvPGC",
    "SurvPath",
    "cosine_dissimilarity",
    "survpgc_loss",
]
