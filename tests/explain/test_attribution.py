"""survlib.explain: integrated gradients over the fused vector (captum) and attention helpers.

Completeness (Sundararajan et al. 2017, Prop. 1): attributions sum to f(x) - f(baseline).
Training order: each attribution slice belongs to the part the model concatenated there in
training; checked by baselines that differ from the input in one part only.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from survlib.explain import (
    attention_maps,
    integrated_gradients,
    modality_attribution,
    patient_attention,
    risk_from_logits,
    top_patches,
)
from survlib.models import MODEL_ZOO, PathwayMembership, SurvivalBatch, predict_logits, predict_risk
from survlib.survival import discrete_risk

D_PATCH, N_GENES, D_TEXT, N_CLIN, K = 10, 24, 8, 5, 4
FUSION = [
    "SurvPGC",
    "SurvPath",
    "PORPOISE",
    "MCAT",
    "SurvPC",
    "SurvPGC (approach a)",
    "SurvPGC (approach b)",
    "SurvPGC (approach c)",
]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def pathways() -> PathwayMembership:
    return PathwayMembership.random(5, N_GENES, seed=1, sizes=[4, 6, 2, 10, 8])


@pytest.fixture(scope="module")
def batch() -> SurvivalBatch:
    g = torch.Generator().manual_seed(0)
    mask = torch.ones(3, 8, dtype=torch.bool)
    mask[1, 5:] = False
    mask[2, 2:] = False
    return SurvivalBatch(
        patches=torch.randn(3, 8, D_PATCH, generator=g),
        patch_mask=mask,
        genes=torch.randn(3, N_GENES, generator=g),
        clinical_tokens=torch.randn(3, 6, D_TEXT, generator=g),
        clinical=torch.randn(3, N_CLIN, generator=g),
        bin_index=torch.tensor([1, 3, 0]),
        event=torch.tensor([1, 0, 1]),
        time=torch.tensor([10.0, 50.0, 3.0]),
    )


def build(name: str, pathways: PathwayMembership, dtype: torch.dtype = torch.float32):
    torch.manual_seed(0)
    model = MODEL_ZOO[name](
        d_patch=D_PATCH,
        pathways=pathways,
        n_genes=N_GENES,
        d_text=D_TEXT,
        n_clinical=N_CLIN,
        n_bins=K,
        hidden=32,
    )
    return model.to(dtype).eval()


def as_double(batch: SurvivalBatch) -> SurvivalBatch:
    b = copy.copy(batch)
    for k in ("patches", "genes", "clinical_tokens", "clinical"):
        setattr(b, k, getattr(batch, k).double())
    return b


@pytest.mark.parametrize("name", FUSION)
@pytest.mark.parametrize("target", ["risk", "label", 2])
def test_completeness(name: str, target, pathways, batch) -> None:
    model = build(name, pathways, torch.float64)
    res = integrated_gradients(model, as_double(batch), target=target, n_steps=200)
    diff = res.output - res.baseline_output
    gap = (res.attributions.sum(dim=1) - diff).abs()
    # the heads are piecewise linear (ReLU): the path integral has kinks, so the quadrature
    # error shrinks like 1/n_steps rather than vanishing; 200 steps leave well under 2 % of the
    # output change. The error does not scale with a patient's own change (a patient whose
    # output barely moves still crosses kinks), so the 2 % is of the batch's largest change.
    assert (gap <= 0.02 * diff.abs().max() + 1e-5).all(), (gap, diff)
    torch.testing.assert_close(res.delta.abs(), gap, atol=1e-9, rtol=1e-6)


def test_outputs_are_the_model_outputs(pathways, batch) -> None:
    model = build("SurvPGC", pathways)
    res = integrated_gradients(model, batch, target="risk")
    torch.testing.assert_close(res.output, risk_from_logits(predict_logits(model, batch)))
    np.testing.assert_allclose(
        predict_risk(model, batch),
        discrete_risk(predict_logits(model, batch).detach()),
        rtol=1e-5,
    )
    lab = integrated_gradients(model, batch, target="label")
    logits = predict_logits(model, batch).detach()
    torch.testing.assert_close(lab.output, logits[torch.arange(3), batch.bin_index])


@pytest.mark.parametrize("name", ["SurvPGC", "SurvPath", "SurvPGC (approach b)"])
def test_attribution_follows_training_order(name: str, pathways, batch) -> None:
    """A baseline equal to the input except on one modality's slices puts every attribution
    on that modality: the slices IG reports are the ones forward trained."""
    model = build(name, pathways, torch.float64)
    b = as_double(batch)
    inputs = [getattr(b, k) for k in model.inputs]
    with torch.no_grad():
        fused = model.fused(*inputs)
        torch.testing.assert_close(model.head(fused), model(*inputs))
    slices = model.part_slices()
    for modality, parts in model.modality_groups.items():
        base = fused.clone()
        for p in parts:
            base[:, slices[p]] = 0.0
        df = modality_attribution(model, b, baseline=base, n_steps=100)
        np.testing.assert_allclose(df[f"share[{modality}]"], 1.0, atol=1e-12)
        others = [m for m in model.modality_groups if m != modality]
        for m in others:
            np.testing.assert_allclose(df[f"abs[{m}]"], 0.0, atol=1e-12)


def test_survpgc_modality_table(pathways, batch) -> None:
    model = build("SurvPGC", pathways)
    df = modality_attribution(model, batch, patient_ids=["p0", "p1", "p2"])
    assert list(df.index) == ["p0", "p1", "p2"]
    shares = df[["share[Clinic/Pathology]", "share[Genomic/Pathology]"]]
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, rtol=1e-6)
    assert ((shares > 0) & (shares < 1)).all().all()
    np.testing.assert_allclose(
        df["attr[Clinic/Pathology]"] + df["attr[Genomic/Pathology]"],
        df["output"] - df["baseline_output"],
        atol=5e-3,
    )


def test_baseline_tensor_and_errors(pathways, batch) -> None:
    model = build("SurvPath", pathways)
    mean_fused = model.fused(*[getattr(batch, k) for k in model.inputs]).mean(0).detach()
    res = integrated_gradients(model, batch, baseline=mean_fused)
    torch.testing.assert_close(res.baseline, mean_fused.expand_as(res.fused))
    with pytest.raises(ValueError, match="target"):
        integrated_gradients(model, batch, target="hazard")
    with pytest.raises(TypeError, match="not a FusionModel"):
        integrated_gradients(build("ABMIL", pathways), batch)


def test_attention_helpers(pathways, batch) -> None:
    model = build("SurvPGC", pathways)
    maps = attention_maps(model, batch)
    assert set(maps) == {"clinic->pathology", "genomics->pathology"}
    assert all((m[~batch.patch_mask] == 0).all() for m in maps.values())
    one = patient_attention(model, batch, 1)
    assert one["clinic->pathology"].shape == (5,)
    np.testing.assert_allclose(
        one["clinic->pathology"], maps["clinic->pathology"][1, :5].numpy(), rtol=1e-5, atol=1e-7
    )
    idx = top_patches(one["genomics->pathology"], k=3)
    s = one["genomics->pathology"]
    assert list(idx) == list(np.argsort(-s, kind="stable")[:3])
    assert list(top_patches(np.array([0.1, 0.5]), k=50)) == [1, 0]
    with pytest.raises(TypeError, match="no attention"):
        attention_maps(build("SurvPGC (approach b)", pathways), batch)
