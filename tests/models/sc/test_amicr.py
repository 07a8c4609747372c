"""survlib.models.sc.amicr: the attention entropy and its penalty, padding invariance, the
per-cell hazard forms against hand computations, and the hazard clamp of the authors' preset."""

from __future__ import annotations

import pytest
import torch

from survlib.models.blocks import masked_softmax
from survlib.models.sc import AMICR, PRESETS, attention_entropy, entropy_penalty

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_entropy_penalty_sign_and_threshold():
    mask = torch.ones(1, 100, dtype=torch.bool)
    uniform = torch.full((1, 100, 1), 1 / 100)
    onehot = torch.zeros(1, 100, 1)
    onehot[0, 0, 0] = 1.0
    assert attention_entropy(uniform, mask).item() == pytest.approx(1.0, abs=1e-5)
    assert attention_entropy(onehot, mask).item() == pytest.approx(0.0, abs=1e-5)
    # penalty: zero below the threshold, then growing with the entropy
    ents = torch.linspace(0, 1, 11)
    pens = torch.stack([entropy_penalty(e.reshape(1), 0.7) for e in ents])
    assert torch.all(pens[ents <= 0.7] == 0)
    assert torch.all(pens[ents > 0.7] > 0)
    assert torch.all(pens[1:] >= pens[:-1])
    # and its gradient pushes entropy down when attention is too flat
    logits = torch.zeros(1, 100, 1, requires_grad=True)
    pen = entropy_penalty(
        attention_entropy(masked_softmax(logits, mask.unsqueeze(-1), dim=1), mask), 0.7
    )
    pen.backward()
    assert pen.item() > 0


def test_padding_never_changes_a_patients_risk():
    torch.manual_seed(0)
    net = AMICR(6, n_heads=3, head_dim=4, proj_dim=3, n_hidden=5).eval()
    z = torch.randn(2, 7, 6)
    mask = torch.tensor([[1] * 7, [1] * 4 + [0] * 3], dtype=torch.bool)
    risk, w = net(z, mask)
    # garbage in the padding, and extra padding columns
    z2 = torch.cat([z, 100 * torch.randn(2, 5, 6)], dim=1)
    z2[1, 4:] = 1e3 * torch.randn(8, 6)
    mask2 = torch.cat([mask, torch.zeros(2, 5, dtype=torch.bool)], dim=1)
    risk2, w2 = net(z2, mask2)
    assert torch.allclose(risk, risk2, atol=1e-5)
    assert torch.all(w2[~mask2] == 0)
    assert torch.allclose(w2.sum(1), torch.ones(2, 3), atol=1e-5)
    # the second patient alone (no padding at all) gives the same risk
    risk_alone, _ = net(z[1:, :4], torch.ones(1, 4, dtype=torch.bool))
    assert torch.allclose(risk_alone, risk[1:], atol=1e-5)


def test_linear_head_risk_is_the_attention_weighted_mean_of_cell_hazards():
    """With a linear hazard head (``hazard_hidden=0``, one head), a patient's risk decomposes
    exactly into its cells: f(sum_i a_i P z_i) = sum_i a_i f(P z_i)."""
    amicr = AMICR(6, n_heads=1, head_dim=4, proj_dim=3, n_hidden=0, dropout=0.0).eval()
    with torch.no_grad():
        amicr.norm.running_mean.normal_()
        amicr.norm.running_var.uniform_(0.5, 2.0)
        z = torch.randn(2, 7, 6)
        mask = torch.ones(2, 7, dtype=torch.bool)
        mask[1, 5:] = False
        risk, w = amicr(z, mask)
        cell = amicr.raw_cell_hazard(z.reshape(-1, 6)).reshape(2, 7)
        expected = (w[..., 0] * cell).sum(1)
    torch.testing.assert_close(risk, expected, atol=1e-5, rtol=1e-5)


def test_authors_per_head_hazard_score_equals_hand_computation():
    """form="authors": f([sigmoid(s_ih) P_h z_i]_h), every step written out from the weights."""
    torch.manual_seed(0)
    net = AMICR(6, n_heads=4, head_dim=5, proj_dim=3, n_hidden=7, dropout=0.0)
    net.norm.running_mean.normal_()  # non-trivial batch-norm statistics
    net.norm.running_var.uniform_(0.5, 2.0)
    net.eval()
    z = torch.randn(11, 6)
    with torch.no_grad():
        got = net.cell_scores(z, form="authors")
        ours = net.cell_scores(z)
        att = net.attention
        g = torch.tanh(z @ att.V.weight.T) * torch.sigmoid(z @ att.U.weight.T)  # [N, H * hd]
        s = (g.view(11, 4, 5) * att.w).sum(-1)  # s_ih
        gated = torch.sigmoid(s).unsqueeze(-1) * (
            z @ net.projector.weight.T + net.projector.bias
        ).view(11, 4, 3)
        bn = net.norm
        x = (gated.reshape(11, 12) - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps)
        x = x * bn.weight + bn.bias
        lin1, lin2 = net.hazard[1], net.hazard[4]
        hand = (torch.relu(x @ lin1.weight.T + lin1.bias) @ lin2.weight.T + lin2.bias)[:, 0]
    torch.testing.assert_close(got["hazard_score"], hand, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got["attention"], torch.sigmoid(s).max(-1).values)
    # with four heads and an MLP f the two forms are different scores
    assert not torch.allclose(got["hazard_score"], ours["hazard_score"], atol=1e-3)
    with pytest.raises(ValueError, match="form"):
        net.cell_scores(z, form="vibes")


def test_per_head_form_reduces_to_ours_for_one_head_and_linear_f():
    """One head and a linear f: f(a P z) = a f(P z) + (1 - a) f(0), the docstring's claim."""
    torch.manual_seed(1)
    net = AMICR(6, n_heads=1, head_dim=5, proj_dim=3, n_hidden=0, dropout=0.0).eval()
    z = torch.randn(9, 6)
    with torch.no_grad():
        authors = net.cell_scores(z, form="authors")["hazard_score"]
        a = net.cell_scores(z)["attention"]
        f0 = net.hazard(torch.zeros(1, 3))[0, 0]
        ours = net.cell_scores(z, reference=f0)["hazard_score"]  # a * (f(Pz) - f(0))
    torch.testing.assert_close(authors, ours + f0, atol=1e-5, rtol=1e-5)
    assert torch.allclose(a, torch.sigmoid(net.attention(z))[:, 0])


def test_authors_preset_clamps_the_hazard_network_like_the_authors() -> None:
    assert PRESETS["authors"].hazard_clamp == 10.0 and PRESETS["fast"].hazard_clamp is None
    torch.manual_seed(0)
    net = AMICR(
        4,
        n_heads=2,
        head_dim=4,
        proj_dim=2,
        n_hidden=0,
        dropout=0.0,
        pool_norm=False,
        hazard_clamp=10.0,
    )
    with torch.no_grad():
        net.hazard[-1].weight.fill_(100.0)
    z = torch.randn(3, 5, 4)
    risk, _ = net(z, torch.ones(3, 5, dtype=torch.bool))
    assert risk.abs().max().item() <= 10.0 and (risk.abs() == 10.0).any()
    assert net.raw_cell_hazard(z[0]).abs().max().item() <= 10.0
    with pytest.raises(ValueError, match="hazard_clamp"):
        AMICR(4, hazard_clamp=0.0)


def test_the_shared_masked_softmax_is_the_old_per_patient_softmax():
    """AMICR uses survlib.models.blocks.masked_softmax; on every bag with at least one real cell
    it equals the per-patient softmax scSurvival had (padding at 0), values and gradients."""
    torch.manual_seed(0)
    for _ in range(20):
        B, N, H = torch.randint(1, 6, (3,)).tolist()
        logits = (torch.randn(B, N, H) * 10).requires_grad_(True)
        mask = torch.arange(N)[None] < torch.randint(1, N + 1, (B,))[:, None]
        g = torch.randn(B, N, H)
        m = mask.unsqueeze(-1)
        old = (
            torch.nan_to_num(torch.softmax(logits.masked_fill(~m, float("-inf")), dim=1), nan=0.0)
            * m
        )
        (old * g).sum().backward()
        old_grad, logits.grad = logits.grad.clone(), None
        new = masked_softmax(logits, m, dim=1)
        (new * g).sum().backward()
        assert torch.equal(new, old) and torch.equal(logits.grad, old_grad)
