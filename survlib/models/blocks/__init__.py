r"""Shared building blocks of the multimodal survival models (MIL, fusion, SurvPGC, AMKD).

Data containers (defined in :mod:`survlib.data.batch`, re-exported here)::

    :class:`SurvivalBatch`      one padded mini-batch of patients (patches + mask, genes,
                                clinical prompt tokens, clinical covariates, survival targets)
    :class:`PathwayMembership`  gene -> pathway boolean matrix ``[n_pathways, G]`` with names

Functions and layers (every one respects the patch mask exactly: padded patches change nothing)::

    :mod:`~survlib.models.blocks.masks`
        :func:`zero_padding`, :func:`check_mask`, :func:`masked_mean`, :func:`masked_softmax`
    :mod:`~survlib.models.blocks.layers`
        :class:`SNNBlock`           Linear -> ELU -> AlphaDropout (the "SNN block" of MCAT,
                                    PORPOISE and SurvPath)
        :class:`FeedForward`, :class:`DiscreteHead`
        :class:`GroupedLinear`      one linear map per group, as one batched matmul
    :mod:`~survlib.models.blocks.attention`
        :class:`GatedAttentionPool` gated attention pooling of a bag (Ilse et al. 2018)
        :class:`CrossAttention`     multi-head cross-attention with a key mask
        :class:`CoAttention`        bidirectional co-attention of SurvPath / SurvPGC (Eqs. 1-11)
        :class:`CoAttentionFusion`  CoAttention -> feed-forward -> LayerNorm -> two masked means
    :mod:`~survlib.models.blocks.pathways`
        :class:`PathwayEncoder`     all pathway SNNs of SurvPath as one block-sparse layer +
                                    grouped layers: genes ``[B, G]`` -> tokens ``[B, P, d]``
    :mod:`~survlib.models.blocks.fusion_model`
        :class:`FusionModel`        base class of the fusion models: ``forward = head(fused)``,
                                    one declared order of the fused vector (used by IG)

Every model in :mod:`survlib.models.mil` and :mod:`survlib.models.fusion` takes named fields of a
:class:`SurvivalBatch` (listed in the class attribute ``inputs``) and returns hazard logits
``[B, n_bins]``; see :func:`survlib.models.predict_logits`.
"""

from survlib.data.batch import PathwayMembership, SurvivalBatch
from survlib.models.blocks.attention import (
    CoAttention,
    CoAttentionFusion,
    CrossAttention,
    GatedAttentionPool,
)
from survlib.models.blocks.fusion_model import FusionModel
from survlib.models.blocks.layers import DiscreteHead, FeedForward, GroupedLinear, SNNBlock
from survlib.models.blocks.masks import check_mask, masked_mean, masked_softmax, zero_padding
from survlib.models.blocks.pathways import PathwayEncoder

__all__ = [
    "CoAttention",
    "CoAttentionFusion",
    "CrossAttention",
    "DiscreteHead",
    "FeedForward",
    "FusionModel",
    "GatedAttentionPool",
    "GroupedLinear",
    "PathwayEncoder",
    "PathwayMembership",
    "SNNBlock",
    "SurvivalBatch",
    "check_mask",
    "masked_mean",
    "masked_softmax",
    "zero_padding",
]
