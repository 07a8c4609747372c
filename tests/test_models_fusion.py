"""Fusion models and blocks (survlib.models.fusion / blocks) and the MODEL_ZOO contract.

Checks: every zoo model's forward/backward with masks; padding invariance; a padded batch
equals each patient alone; gradients reach exactly the inputs a model declares (and never
padded patches); the grouped pathway encoder equals SurvPath's per-pathway ``nn.ModuleList``;
the co-attention layer equals SurvPGC Eq. (5) with the patch-patch block removed; the SurvPGC
loss (Eq. 14) against ``nn.CosineEmbeddingLoss``.
"""

from __future__ import annotations

import dataclasses
import functools

import pytest
import torch
from torch import nn

from survlib.models import (
    MODEL_ZOO,
    PathwayMembership,
    SurvivalBatch,
    count_parameters,
    discrete_loss,
    predict_logits,
)
from survlib.models.blocks import CoAttention, PathwayEncoder, SNNBlock
from survlib.models.fusion import SurvPGC, cosine_dissimilarity, survpgc_loss
from survlib.survival import nll_discrete
from survlib.train import fit

D_PATCH, N_GENES, D_TEXT, N_FIELDS, N_CLIN, K = 10, 30, 8, 6, 5, 4
SIZES = [9, 4, 1]
FLOAT_FIELDS = ("patches", "genes", "clinical_tokens", "clinical")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def pathways() -> PathwayMembership:
    return PathwayMembership.random(6, N_GENES, sizes=[3, 7, 1, 12, 5, 30], seed=0)


def make_batch(seed: int = 0) -> SurvivalBatch:
    g = torch.Generator().manual_seed(seed)
    b, n = len(SIZES), max(SIZES)
    mask = torch.zeros(b, n, dtype=torch.bool)
    for i, s in enumerate(SIZES):
        mask[i, :s] = True
    patches = torch.randn(b, n, D_PATCH, generator=g).masked_fill(~mask.unsqueeze(-1), 0.0)
    return SurvivalBatch(
        patches=patches, patch_mask=mask, genes=torch.randn(b, N_GENES, generator=g),
        clinical_tokens=torch.randn(b, N_FIELDS, D_TEXT, generator=g),
        clinical=torch.randn(b, N_CLIN, generator=g), bin_index=torch.tensor([0, 3, 1]),
        event=torch.tensor([1, 0, 1]), time=torch.tensor([2.0, 40.0, 10.0]))


def pad_more(batch: SurvivalBatch, extra: int = 5) -> SurvivalBatch:
    g = torch.Generator().manual_seed(7)
    b = len(batch)
    return dataclasses.replace(
        batch,
        patches=torch.cat([batch.patches, 50 * torch.randn(b, extra, D_PATCH, generator=g)], 1),
        patch_mask=torch.cat([batch.patch_mask, torch.zeros(b, extra, dtype=torch.bool)], 1))


def build(name: str, pathways: PathwayMembership, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return MODEL_ZOO[name](d_patch=D_PATCH, pathways=pathways, n_genes=N_GENES, d_text=D_TEXT,
                           n_clinical=N_CLIN, n_bins=K, n_fields=N_FIELDS, hidden=32)


NAMES = list(MODEL_ZOO)


def test_zoo_names() -> None:
    for name in ["ABMIL", "TransMIL", "DSMIL", "MLP (pathology)", "PORPOISE", "MCAT",
                 "SurvPath", "SurvPGC", "SurvPGC (approach a)", "SurvPGC (approach b)",
                 "SurvPGC (approach c)", "SurvPC", "MLP (clinic)", "SNN (clinic)",
                 "MLP (genomic)", "SNN (genomic)"]:
        assert name in MODEL_ZOO


@pytest.mark.parametrize("name", NAMES)
def test_forward_backward(name: str, pathways: PathwayMembership) -> None:
    model = build(name, pathways)
    batch = make_batch()
    assert set(model.inputs) <= {f.name for f in dataclasses.fields(SurvivalBatch)}
    logits = predict_logits(model, batch)
    assert logits.shape == (len(SIZES), K) and torch.isfinite(logits).all()
    discrete_loss(model, batch).backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, f"{name}: {pname} got no gradient"
        assert torch.isfinite(p.grad).all(), f"{name}: {pname}"
    assert count_parameters(model) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", NAMES)
def test_padding_invariance(name: str, pathways: PathwayMembership) -> None:
    model = build(name, pathways).eval()
    batch = make_batch()
    padded = pad_more(batch)
    with torch.no_grad():
        torch.testing.assert_close(predict_logits(model, padded), predict_logits(model, batch),
                                   atol=1e-5, rtol=0)
        if hasattr(model, "attention"):
            a = model.attention(*[getattr(batch, k) for k in model.inputs])
            ap = model.attention(*[getattr(padded, k) for k in model.inputs])
            for key in a:
                torch.testing.assert_close(ap[key][:, : batch.patches.shape[1]], a[key],
                                           atol=1e-5, rtol=0)
                assert (ap[key][~padded.patch_mask] == 0).all()


@pytest.mark.parametrize("name", NAMES)
def test_batch_equals_each_patient_alone(name: str, pathways: PathwayMembership) -> None:
    model = build(name, pathways).eval()
    batch = make_batch()
    with torch.no_grad():
        batched = predict_logits(model, batch)
        for i, n in enumerate(SIZES):
            one = batch.index([i])
            one = dataclasses.replace(one, patches=one.patches[:, :n],
                                      patch_mask=one.patch_mask[:, :n])
            torch.testing.assert_close(batched[i : i + 1], predict_logits(model, one),
                                       atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", NAMES)
def test_gradients_reach_only_declared_inputs(name: str, pathways: PathwayMembership) -> None:
    model = build(name, pathways).eval()
    batch = make_batch()
    leaves = {k: getattr(batch, k).clone().requires_grad_(True) for k in FLOAT_FIELDS}
    batch = dataclasses.replace(batch, **leaves)
    predict_logits(model, batch).sum().backward()
    for k, t in leaves.items():
        if k in model.inputs:
            assert t.grad is not None and t.grad.abs().sum() > 0, f"{name}: no gradient to {k}"
        else:
            assert t.grad is None, f"{name}: gradient reached {k}, not in its inputs"
    if "patches" in model.inputs:
        assert (leaves["patches"].grad[~batch.patch_mask] == 0).all()


# --------------------------------------------------------------------------------------------
# Pathway encoder
# --------------------------------------------------------------------------------------------


class PerPathwayReference(nn.Module):
    """SurvPath's formulation: one SNN per pathway in an nn.ModuleList, looped over."""

    def __init__(self, pathways: PathwayMembership, hidden: tuple[int, int]) -> None:
        super().__init__()
        self.members = [row.nonzero().flatten() for row in pathways.matrix]
        self.nets = nn.ModuleList(
            nn.Sequential(SNNBlock(len(m), hidden[0], 0.25), SNNBlock(hidden[0], hidden[1], 0.25))
            for m in self.members)

    def forward(self, genes: torch.Tensor) -> torch.Tensor:
        return torch.stack([net(genes[:, m]) for net, m in zip(self.nets, self.members)], dim=1)


def test_pathway_encoder_equals_per_pathway_modules(pathways: PathwayMembership) -> None:
    torch.manual_seed(0)
    enc = PathwayEncoder(pathways, hidden=(16, 8)).eval()
    ref = PerPathwayReference(pathways, (16, 8)).eval()
    with torch.no_grad():
        for p, net in enumerate(ref.nets):
            net[0][0].weight.copy_(enc.pathway_weight(p))
            net[0][0].bias.copy_(enc.bias1[p])
            net[1][0].weight.copy_(enc.layers[0].weight[p].T)
            net[1][0].bias.copy_(enc.layers[0].bias[p])
    genes = torch.randn(4, N_GENES)
    torch.testing.assert_close(enc(genes), ref(genes), atol=1e-5, rtol=1e-5)
    assert count_parameters(enc) == count_parameters(ref)
    assert enc(genes).shape == (4, pathways.n_pathways, 8)


def test_pathway_tokens_depend_only_on_their_genes(pathways: PathwayMembership) -> None:
    enc = PathwayEncoder(pathways, hidden=(16, 8)).eval()
    genes = torch.randn(2, N_GENES, requires_grad=True)
    for p in range(pathways.n_pathways):
        (g,) = torch.autograd.grad(enc(genes)[:, p].sum(), genes)
        outside = ~pathways.matrix[p]
        assert (g[:, outside] == 0).all()
        assert (g[:, pathways.matrix[p]].abs().sum() > 0)


def test_pathway_encoder_rejects_wrong_gene_count(pathways: PathwayMembership) -> None:
    enc = PathwayEncoder(pathways, hidden=(8,))
    with pytest.raises(ValueError, match=rf"genes must have shape \[B, {N_GENES}\]"):
        enc(torch.randn(2, N_GENES + 1))


def test_pathway_membership_validation() -> None:
    with pytest.raises(ValueError, match="no gene"):
        PathwayMembership(torch.tensor([[True, False], [False, False]]), ["a", "b"], ["g1", "g2"])
    with pytest.raises(ValueError, match="gene names"):
        PathwayMembership(torch.tensor([[True, False]]), ["a"], ["g1"])
    pm = PathwayMembership.from_sets({"A": ["x", "y"], "B": ["y", "z", "zz"]},
                                     genes=["x", "y", "z"])
    assert pm.matrix.tolist() == [[True, True, False], [False, True, True]]
    assert list(pm.sizes) == [2, 2]


# --------------------------------------------------------------------------------------------
# Co-attention (SurvPGC Eqs. 1-11) and SurvPGC
# --------------------------------------------------------------------------------------------


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


def test_survpgc_fused_vector_follows_eq12(pathways: PathwayMembership) -> None:
    model = build("SurvPGC", pathways).eval()
    batch = make_batch()
    inputs = [getattr(batch, k) for k in SurvPGC.inputs]
    with torch.no_grad():
        fused = model.fused(*inputs)
        torch.testing.assert_close(model.head(fused), model(*inputs))
        x_p = model.patch_projection(batch.patches)
        c_bar, pc_bar, _ = model.clinic_path(model.clinic_projection(batch.clinical_tokens), x_p,
                                             batch.patch_mask)
        g_bar, pg_bar, _ = model.genomic_path(model.pathway_encoder(batch.genes), x_p,
                                              batch.patch_mask)
        torch.testing.assert_close(fused, torch.cat([c_bar, pc_bar, g_bar, pg_bar], dim=1))
        logits, z_c, z_g = model.forward_with_paths(*inputs)
        torch.testing.assert_close(z_c, torch.cat([c_bar, pc_bar], 1))
        torch.testing.assert_close(z_g, torch.cat([g_bar, pg_bar], 1))
    assert [n for n, _ in model.fusion_parts] == ["C->P", "P->C", "G->P", "P->G"]


def test_survpgc_attention_maps(pathways: PathwayMembership) -> None:
    model = build("SurvPGC", pathways).eval()
    batch = make_batch()
    with torch.no_grad():
        maps = model.attention(*[getattr(batch, k) for k in SurvPGC.inputs])
    assert set(maps) == {"clinic->pathology", "genomics->pathology"}
    for a in maps.values():
        assert a.shape == batch.patch_mask.shape
        assert (a[~batch.patch_mask] == 0).all() and (a >= 0).all()
    # cumulative attention of n_c clinical queries: at most n_c in total per patient
    assert (maps["clinic->pathology"].sum(1) <= N_FIELDS + 1e-5).all()


def test_survpgc_loss_eq14(pathways: PathwayMembership) -> None:
    model = build("SurvPGC", pathways).eval()
    batch = make_batch()
    logits, z_c, z_g = model.forward_with_paths(*[getattr(batch, k) for k in SurvPGC.inputs])
    nll = nll_discrete(logits, batch.bin_index, batch.event)
    ref_cos = nn.CosineEmbeddingLoss(margin=0.2)(z_c, z_g, -torch.ones(len(batch)))
    torch.testing.assert_close(cosine_dissimilarity(z_c, z_g), ref_cos)
    torch.testing.assert_close(survpgc_loss(model, batch, beta=0.0), nll)
    torch.testing.assert_close(survpgc_loss(model, batch, beta=0.3), 0.7 * nll + 0.3 * ref_cos)
    with pytest.raises(ValueError, match="beta"):
        survpgc_loss(model, batch, beta=1.5)


def test_survpgc_trains_with_fit(pathways: PathwayMembership) -> None:
    torch.manual_seed(0)
    model = build("SurvPGC", pathways)
    batch = make_batch()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = functools.partial(survpgc_loss, beta=0.1)
    res = fit(model, opt, lambda epoch: [batch], loss_fn, max_epochs=40, patience=None,
              progress=False)
    first, last = res.history["train_loss"].iloc[0], res.history["train_loss"].iloc[-1]
    assert last < 0.7 * first


def test_missing_field_is_named(pathways: PathwayMembership) -> None:
    model = build("SurvPGC", pathways)
    batch = dataclasses.replace(make_batch(), clinical_tokens=None)
    with pytest.raises(ValueError, match="needs batch.clinical_tokens"):
        predict_logits(model, batch)


def test_zoo_checks_gene_count(pathways: PathwayMembership) -> None:
    with pytest.raises(ValueError, match="n_genes=31"):
        MODEL_ZOO["SurvPath"](d_patch=D_PATCH, pathways=pathways, n_genes=31, d_text=None,
                              n_clinical=None, n_bins=K)
    with pytest.raises(ValueError, match="needs pathways"):
        MODEL_ZOO["SurvPath"](d_patch=D_PATCH, pathways=None, n_genes=N_GENES, d_text=None,
                              n_clinical=None, n_bins=K)


def test_batch_to_and_index() -> None:
    batch = make_batch()
    moved = batch.to("cpu")
    assert moved.time is not None and torch.equal(moved.patches, batch.patches)
    sub = batch.index([2, 0])
    assert len(sub) == 2 and torch.equal(sub.genes[1], batch.genes[0])
    assert SurvivalBatch(genes=torch.zeros(3, 2)).to("cpu").patches is None


def test_parameter_counts_reported(pathways: PathwayMembership,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    counts = {name: count_parameters(build(name, pathways)) for name in NAMES}
    assert all(c > 0 for c in counts.values())
    # the grouped pathway encoder has exactly the per-pathway parameter count
    sizes = pathways.sizes
    enc = PathwayEncoder(pathways, hidden=(32, 32))
    assert count_parameters(enc) == int(sum(s * 32 + 32 + 32 * 32 + 32 for s in sizes))
    with capsys.disabled():
        print("\nzoo parameter counts at test sizes (hidden=32):", counts)


# --------------------------------------------------------------------------------------------
# Table 4: approach a (separate models, risks fused) and approach c (a clinical token)
# --------------------------------------------------------------------------------------------


def test_approach_a_members_train_separately(pathways: PathwayMembership) -> None:
    """Each member's gradient is that of its own NLL, and training the pair (Adam on the sum of
    the two losses) leaves each member exactly where training it alone would."""
    from survlib.models.fusion import ClinicalLateFusion

    torch.manual_seed(0)
    model = ClinicalLateFusion(D_PATCH, N_CLIN, K, d=16, dropout=0.0)
    batch = make_batch()
    members = model.member_parameters()
    ids = {n: {id(p) for p in ps} for n, ps in members.items()}
    assert not ids["pathology"] & ids["clinic"] and not ids["fusion"] & (ids["pathology"] | ids["clinic"])
    assert ids["pathology"] | ids["clinic"] | ids["fusion"] == {id(p) for p in model.parameters()}
    # the clinic member's loss sends no gradient to the pathology member (the converse:
    # the pathology model trained alone below matches its copy in the pair)
    model.separate_losses(batch)["clinic"].backward()
    assert all(p.grad is None for p in members["pathology"])
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in members["clinic"])
    model.zero_grad(set_to_none=True)
    # the fusion term reaches the two fusion weights only
    model.separate_losses(batch)["fusion"].backward()
    assert all(p.grad is None for p in members["pathology"] + members["clinic"])
    assert members["fusion"][0].grad.abs().sum() > 0
    model.zero_grad(set_to_none=True)
    torch.manual_seed(0)
    joint = ClinicalLateFusion(D_PATCH, N_CLIN, K, d=16, dropout=0.0)
    torch.manual_seed(0)
    solo = ClinicalLateFusion(D_PATCH, N_CLIN, K, d=16, dropout=0.0)
    opt_j = torch.optim.Adam(joint.parameters(), lr=1e-2)
    opt_p = torch.optim.Adam(solo.member_parameters()["pathology"], lr=1e-2)
    for _ in range(5):
        opt_j.zero_grad()
        discrete_loss(joint, batch).backward()
        opt_j.step()
        opt_p.zero_grad()
        solo.separate_losses(batch)["pathology"].backward()  # the pathology model alone
        opt_p.step()
    for p, q in zip(joint.member_parameters()["pathology"], solo.member_parameters()["pathology"]):
        torch.testing.assert_close(p, q)
    assert not torch.equal(joint.member_parameters()["clinic"][0],
                           solo.member_parameters()["clinic"][0])  # solo's clinic never moved


def test_approach_a_fuses_risks_by_survival_curves(pathways: PathwayMembership) -> None:
    from survlib.models.fusion import ClinicalLateFusion

    model = ClinicalLateFusion(D_PATCH, N_CLIN, K, d=16).eval()
    batch = make_batch()
    with torch.no_grad():
        parts = model.fused_parts(batch.patches, batch.patch_mask, batch.clinical)
        fused = predict_logits(model, batch)
    s_p = torch.cumprod(1 - torch.sigmoid(parts["pathology"]), 1)
    s_c = torch.cumprod(1 - torch.sigmoid(parts["clinic"]), 1)
    s_f = torch.cumprod(1 - torch.sigmoid(fused), 1)
    torch.testing.assert_close(s_f, torch.sqrt(s_p * s_c), atol=1e-5, rtol=0)  # w = 1/2 each
    with torch.no_grad():
        model.head.raw_weight.copy_(torch.tensor([0.03, -0.12]))
        w = torch.nn.functional.softplus(10 * torch.tensor([0.03, -0.12]))
        s_w = torch.cumprod(1 - torch.sigmoid(predict_logits(model, batch)), 1)
    torch.testing.assert_close(s_w, s_p ** w[0] * s_c ** w[1], atol=1e-5, rtol=0)


def test_approach_c_clinical_token_attends_to_patches(pathways: PathwayMembership) -> None:
    model = build("SurvPGC (approach c)", pathways).eval()
    batch = make_batch()
    inputs = [getattr(batch, k) for k in model.inputs]
    with torch.no_grad():
        token = model.clinical_token(batch.clinical)
        maps = model.attention(*inputs)
        c_bar = model.fused_parts(*inputs)["C->P"]
        changed = batch.patches.clone()
        changed[0, 2] += 3.0  # one real patch of patient 0
        c_bar2 = model.fused_parts(changed, batch.patch_mask, batch.clinical)["C->P"]
    assert token.shape == (len(SIZES), 1, 32)
    a = maps["clinic->pathology"]
    assert a.shape == batch.patch_mask.shape and (a[~batch.patch_mask] == 0).all()
    # one token's weights over itself + the real patches sum to 1, so the patches get < 1
    assert (a.sum(1) > 0).all() and (a.sum(1) < 1 + 1e-6).all()
    # the clinical token's output depends on the patches (it attends to them) ...
    assert (c_bar2[0] - c_bar[0]).abs().max() > 1e-4
    torch.testing.assert_close(c_bar2[1:], c_bar[1:])  # ... of its own patient only
    assert [n for n, _ in model.fusion_parts] == ["C->P", "P->C"]
