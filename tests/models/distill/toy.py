"""A small simulated batch for the AMKD tests: bags of patches with padding, genes whose
pathways are random, and survival times that depend on both."""

from __future__ import annotations

import torch

from survlib.models.blocks import PathwayMembership, SurvivalBatch


def toy_data(
    n: int = 24, n_patches: int = 9, d_patch: int = 6, n_genes: int = 40, seed: int = 0
) -> tuple[SurvivalBatch, PathwayMembership]:
    g = torch.Generator().manual_seed(seed)
    pw = PathwayMembership.random(8, n_genes, seed=seed)
    sizes = torch.randint(3, n_patches + 1, (n,), generator=g)
    mask = torch.arange(n_patches)[None, :] < sizes[:, None]
    patches = torch.randn(n, n_patches, d_patch, generator=g).masked_fill(~mask[..., None], 0.0)
    genes = torch.randn(n, n_genes, generator=g)
    risk = patches[..., 0].sum(1) / sizes + genes[:, :5].mean(1)
    time = torch.exp(-risk + 0.3 * torch.randn(n, generator=g)) * 20 + 1
    event = (torch.rand(n, generator=g) < 0.7).long()
    event[:2] = 1
    return SurvivalBatch(patches=patches, patch_mask=mask, genes=genes, event=event, time=time), pw
