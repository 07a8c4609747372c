"""MIL models (survlib.models.mil): shapes, masks, padding invariance, gradients, batching.

Reference behaviour checked without a reference package: a padded batch must give exactly what
each patient gives alone (unpadded); padded patches must receive no gradient.
"""

from __future__ import annotations

import pytest
import torch

from survlib.models import count_parameters
from survlib.models.mil import ABMIL, DSMIL, MeanMIL, TransMIL

D, K = 12, 4
MODELS = [MeanMIL, ABMIL, TransMIL, DSMIL]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def make_bags(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """Three bags of 9, 5 and 1 real patches, padded to 9 (padding filled with NaN)."""
    g = torch.Generator().manual_seed(seed)
    sizes = [9, 5, 1]
    x = torch.randn(len(sizes), max(sizes), D, generator=g)
    mask = torch.zeros(len(sizes), max(sizes), dtype=torch.bool)
    for i, n in enumerate(sizes):
        mask[i, :n] = True
    x = x.masked_fill(~mask.unsqueeze(-1), float("nan"))
    return x, mask, sizes


def pad_more(
    x: torch.Tensor, mask: torch.Tensor, extra: int = 6
) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(99)
    xp = torch.cat([x, 1e3 * torch.randn(x.shape[0], extra, D, generator=g)], dim=1)
    mp = torch.cat([mask, torch.zeros(x.shape[0], extra, dtype=torch.bool)], dim=1)
    return xp, mp


def build(cls: type, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return cls(D, K)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_forward_backward_with_masks(cls: type) -> None:
    model = build(cls)
    x, mask, _ = make_bags()
    assert cls.inputs == ("patches", "patch_mask")
    out = model(x, mask)
    assert out.shape == (3, K) and torch.isfinite(out).all()
    out.sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, f"{cls.__name__}.{name} got no gradient"
        assert torch.isfinite(p.grad).all(), name


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_padding_invariance(cls: type) -> None:
    model = build(cls).eval()
    x, mask, _ = make_bags()
    xp, mp = pad_more(x, mask)
    with torch.no_grad():
        torch.testing.assert_close(model(xp, mp), model(x, mask), atol=1e-5, rtol=0)
        if hasattr(model, "attention"):
            a, ap = model.attention(x, mask), model.attention(xp, mp)
            for k in a:
                torch.testing.assert_close(ap[k][:, : x.shape[1]], a[k], atol=1e-5, rtol=0)
                assert (ap[k][~mp] == 0).all(), f"{k}: padded patches have attention"


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_batch_equals_each_patient_alone(cls: type) -> None:
    model = build(cls).eval()
    x, mask, sizes = make_bags()
    with torch.no_grad():
        batched = model(x, mask)
        for i, n in enumerate(sizes):
            alone = model(x[i : i + 1, :n], mask[i : i + 1, :n])
            torch.testing.assert_close(batched[i : i + 1], alone, atol=1e-5, rtol=0)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_no_gradient_reaches_padded_patches(cls: type) -> None:
    model = build(cls)
    model.eval()  # dropout off so the gradient pattern is deterministic
    x, mask, _ = make_bags()
    x = torch.nan_to_num(x, nan=3.0).requires_grad_(True)
    model(x, mask).sum().backward()
    assert (x.grad[~mask] == 0).all()
    assert (x.grad[mask].abs().sum(dim=-1) > 0).any()


@pytest.mark.parametrize("cls", [MeanMIL, ABMIL, DSMIL], ids=lambda c: c.__name__)
def test_permutation_invariance(cls: type) -> None:
    model = build(cls).eval()
    x, mask, _ = make_bags()
    perm = torch.randperm(9, generator=torch.Generator().manual_seed(3))
    xs, ms = x[:1, perm], mask[:1, perm]
    with torch.no_grad():
        torch.testing.assert_close(model(xs, ms), model(x[:1], mask[:1]), atol=1e-5, rtol=0)


def test_abmil_attention_is_a_distribution_over_real_patches() -> None:
    model = build(ABMIL).eval()
    x, mask, _ = make_bags()
    a = model.attention(x, mask)["attention"]
    torch.testing.assert_close(a.sum(dim=1), torch.ones(3))
    assert (a[~mask] == 0).all()


def test_dsmil_streams_average_to_forward() -> None:
    model = build(DSMIL).eval()
    x, mask, _ = make_bags()
    y_max, y_bag = model.streams(x, mask)
    torch.testing.assert_close(model(x, mask), 0.5 * (y_max + y_bag))
    # the instance stream is the max over real patches of the per-patch logits
    h = model.encoder(torch.nan_to_num(x, nan=0.0))
    c = model.instance(h)
    torch.testing.assert_close(y_max[1], c[1, :5].max(dim=0).values)


def test_bad_masks_are_rejected() -> None:
    model = build(ABMIL)
    x, mask, _ = make_bags()
    empty = mask.clone()
    empty[2] = False
    with pytest.raises(ValueError, match=r"patient\(s\) \[2\].*no real patch"):
        model(x, empty)
    with pytest.raises(ValueError, match="must be bool"):
        model(x, mask.float())
    with pytest.raises(ValueError, match="patch_mask must have shape"):
        model(x, mask[:, :4])


def test_parameter_counts(capsys: pytest.CaptureFixture[str]) -> None:
    """Counts at the book's default widths (d_patch = 1024, 4 bins), reported and checked."""
    counts = {cls.__name__: count_parameters(cls(1024, 4)) for cls in MODELS}
    # MeanMIL: Linear(1024, 256) + Linear(256, 4)
    assert counts["MeanMIL"] == 1024 * 256 + 256 + 256 * 4 + 4
    # ABMIL: encoder + two attention branches (256 -> 128) + score + rho + head
    assert counts["ABMIL"] == (1024 * 256 + 256) + 2 * (256 * 128 + 128) + (128 + 1) + (
        256 * 256 + 256
    ) + (256 * 4 + 4)
    with capsys.disabled():
        print("\nMIL parameter counts (d_patch=1024, n_bins=4):", counts)
