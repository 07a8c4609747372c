"""Attention layers (survlib.models.blocks.attention): the co-attention equals SurvPGC Eq. (5)
with the patch-patch block removed (fused and explicit paths), and gated attention pooling
follows Ilse et al.'s formula."""

from __future__ import annotations

import pytest
import torch

from survlib.models.blocks import CoAttention, GatedAttentionPool

D = 12  # patch feature width of the pooling test

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_coattention_equals_eq5_without_patch_patch_block() -> None:
    """Eq. (5) on the concatenated tokens with A_{P->P} removed (set to -inf before softmax)."""
    torch.manual_seed(0)
    layer = CoAttention(d=12, d_head=5, n_heads=1)
    n_m, n_p = 3, 7
    x_m, x_p = torch.randn(1, n_m, 12), torch.randn(1, n_p, 12)
    mask = torch.ones(1, n_p, dtype=torch.bool)
    x = layer.norm(torch.cat([x_m, x_p], dim=1))[0]
    q, k, v = layer.qkv(x).chunk(3, dim=-1)
    scores = q @ k.T / 5**0.5
    scores[n_m:, n_m:] = float("-inf")
    ref = torch.softmax(scores, dim=-1) @ v
    for need_weights in (False, True):  # fused SDPA path and explicit-weights path
        out_m, out_p, attn = layer(x_m, x_p, mask, need_weights=need_weights)
        torch.testing.assert_close(out_m[0], ref[:n_m])
        torch.testing.assert_close(out_p[0], ref[n_m:])
    weights = torch.softmax(scores, dim=-1)
    torch.testing.assert_close(attn["M->P"][0, 0], weights[:n_m, n_m:])
    torch.testing.assert_close(attn["P->M"][0, 0], weights[n_m:, :n_m])
    rows = attn["M->M"].sum(-1) + attn["M->P"].sum(-1)
    torch.testing.assert_close(rows, torch.ones_like(rows))


def test_gated_attention_pool_matches_formula() -> None:
    torch.manual_seed(0)
    pool = GatedAttentionPool(D, 8)
    h = torch.randn(1, 5, D)
    mask = torch.ones(1, 5, dtype=torch.bool)
    z, a = pool(h, mask)
    s = pool.score(torch.tanh(pool.tanh_branch[0](h)) * torch.sigmoid(pool.gate_branch[0](h)))
    ref_a = torch.softmax(s[0, :, 0], dim=0)
    torch.testing.assert_close(a[0, :, 0], ref_a)
    torch.testing.assert_close(z[0], (ref_a[:, None] * h[0]).sum(0))
