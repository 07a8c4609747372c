"""SurvPath (survlib.models.fusion.pathology_genomics): the batched, fused forward equals the
model's maths written out step by step from its own weights (per-pathway SNN loop, explicit
co-attention softmaxes, masked means), with and without padded patches, and so do the
gradients of every parameter (the fast paths must not change the maths)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from survlib.models import PathwayMembership
from survlib.models.fusion import SurvPath
from tests.models.zoo_batch import D_PATCH, N_GENES, make_batch, make_pathways

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def written_out_forward(
    model: SurvPath,
    pathways: PathwayMembership,
    patches: torch.Tensor,
    mask: torch.Tensor,
    genes: torch.Tensor,
) -> torch.Tensor:
    """SurvPath's logits, one pathway at a time and with explicit attention matrices."""
    enc = model.pathway_encoder
    tokens = []
    for p in range(pathways.n_pathways):
        h = F.elu(genes[:, pathways.matrix[p]] @ enc.pathway_weight(p).T + enc.bias1[p])
        tokens.append(F.elu(h @ enc.layers[0].weight[p] + enc.layers[0].bias[p]))
    x_m = torch.stack(tokens, dim=1)
    x_p = model.patch_projection(patches.masked_fill(~mask.unsqueeze(-1), 0.0))
    attn = model.path.attn
    q_m, k_m, v_m = attn.qkv(attn.norm(x_m)).chunk(3, dim=-1)
    q_p, k_p, v_p = attn.qkv(attn.norm(x_p)).chunk(3, dim=-1)
    scale = 1.0 / math.sqrt(attn.d_head)
    scores_m = torch.cat([q_m @ k_m.transpose(1, 2), q_m @ k_p.transpose(1, 2)], dim=-1) * scale
    keep = torch.cat([torch.ones(mask.shape[0], x_m.shape[1], dtype=torch.bool), mask], dim=1)
    scores_m = scores_m.masked_fill(~keep.unsqueeze(1), float("-inf"))
    out_m = torch.softmax(scores_m, dim=-1) @ torch.cat([v_m, v_p], dim=1)
    out_p = torch.softmax(q_p @ k_m.transpose(1, 2) * scale, dim=-1) @ v_m
    ff, norm = model.path.feed_forward, model.path.norm
    out_m, out_p = norm(ff(out_m)), norm(ff(out_p))
    m = mask.unsqueeze(-1).to(out_p.dtype)
    p_bar = (out_p * m).sum(dim=1) / m.sum(dim=1)
    return model.head(torch.cat([out_m.mean(dim=1), p_bar], dim=1))


@pytest.mark.parametrize("padded", [True, False], ids=["padded", "no-padding"])
def test_forward_and_gradients_equal_the_written_out_maths(padded: bool) -> None:
    pathways = make_pathways()
    torch.manual_seed(0)
    model = SurvPath(D_PATCH, pathways, n_bins=4, d=16).eval()
    batch = make_batch()
    mask = batch.patch_mask if padded else torch.ones_like(batch.patch_mask)
    patches = batch.patches + 0.0
    if padded:
        patches[~mask] = float("nan")  # padding must not leak into anything
    out = model(patches, mask, batch.genes)
    grads = torch.autograd.grad(out.square().sum(), list(model.parameters()))
    ref = written_out_forward(model, pathways, patches, mask, batch.genes)
    ref_grads = torch.autograd.grad(ref.square().sum(), list(model.parameters()))
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    for (name, _), g, r in zip(model.named_parameters(), grads, ref_grads, strict=True):
        torch.testing.assert_close(g, r, atol=1e-5, rtol=1e-4, msg=f"gradient of {name}")
    assert out.shape == (batch.genes.shape[0], 4) and N_GENES == batch.genes.shape[1]
