"""The clinical integration approaches (survlib.models.fusion.clinical, SurvPGC Table 4):
approach a's members train separately and its risks are fused by survival curves; approach c's
clinical token attends to its own patient's patches."""

from __future__ import annotations

import pytest
import torch

from survlib.models import PathwayMembership, discrete_loss, predict_logits
from tests.models.zoo_batch import D_PATCH, N_CLIN, SIZES, K, build, make_batch, make_pathways

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def pathways() -> PathwayMembership:
    return make_pathways()


def test_approach_a_members_train_separately(pathways: PathwayMembership) -> None:
    """Each member's gradient is that of its own NLL, and training the pair (Adam on the sum of
    the two losses) leaves each member exactly where training it alone would."""
    from survlib.models.fusion import ClinicalLateFusion

    torch.manual_seed(0)
    model = ClinicalLateFusion(D_PATCH, N_CLIN, K, d=16, dropout=0.0)
    batch = make_batch()
    members = model.member_parameters()
    ids = {n: {id(p) for p in ps} for n, ps in members.items()}
    assert not ids["pathology"] & ids["clinic"]
    assert not ids["fusion"] & (ids["pathology"] | ids["clinic"])
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
    for p, q in zip(
        joint.member_parameters()["pathology"], solo.member_parameters()["pathology"], strict=True
    ):
        torch.testing.assert_close(p, q)
    assert not torch.equal(
        joint.member_parameters()["clinic"][0], solo.member_parameters()["clinic"][0]
    )  # solo's clinic never moved


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
