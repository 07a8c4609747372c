"""A small padded batch with every input field, and the zoo model builder at test sizes, for the
tests of the bag models (zoo, fusion, blocks)."""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from survlib.models import MODEL_ZOO, PathwayMembership, SurvivalBatch

D_PATCH, N_GENES, D_TEXT, N_FIELDS, N_CLIN, K = 10, 30, 8, 6, 5, 4
SIZES = [9, 4, 1]
FLOAT_FIELDS = ("patches", "genes", "clinical_tokens", "clinical")


def make_pathways() -> PathwayMembership:
    """Six pathways of different sizes over the test genes (one of a single gene)."""
    return PathwayMembership.random(6, N_GENES, sizes=[3, 7, 1, 12, 5, 30], seed=0)


def make_batch(seed: int = 0) -> SurvivalBatch:
    g = torch.Generator().manual_seed(seed)
    b, n = len(SIZES), max(SIZES)
    mask = torch.zeros(b, n, dtype=torch.bool)
    for i, s in enumerate(SIZES):
        mask[i, :s] = True
    patches = torch.randn(b, n, D_PATCH, generator=g).masked_fill(~mask.unsqueeze(-1), 0.0)
    return SurvivalBatch(
        patches=patches,
        patch_mask=mask,
        genes=torch.randn(b, N_GENES, generator=g),
        clinical_tokens=torch.randn(b, N_FIELDS, D_TEXT, generator=g),
        clinical=torch.randn(b, N_CLIN, generator=g),
        bin_index=torch.tensor([0, 3, 1]),
        event=torch.tensor([1, 0, 1]),
        time=torch.tensor([2.0, 40.0, 10.0]),
    )


def pad_more(batch: SurvivalBatch, extra: int = 5) -> SurvivalBatch:
    g = torch.Generator().manual_seed(7)
    b = len(batch)
    return dataclasses.replace(
        batch,
        patches=torch.cat([batch.patches, 50 * torch.randn(b, extra, D_PATCH, generator=g)], 1),
        patch_mask=torch.cat([batch.patch_mask, torch.zeros(b, extra, dtype=torch.bool)], 1),
    )


def build(name: str, pathways: PathwayMembership, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return MODEL_ZOO[name](
        d_patch=D_PATCH,
        pathways=pathways,
        n_genes=N_GENES,
        d_text=D_TEXT,
        n_clinical=N_CLIN,
        n_bins=K,
        n_fields=N_FIELDS,
        hidden=32,
    )
