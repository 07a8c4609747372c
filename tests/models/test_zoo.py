"""The bag models' contract (survlib.models.zoo and MODEL_ZOO): every zoo model's forward/backward
with masks; padding invariance; a padded batch equals each patient alone; gradients reach
exactly the inputs a model declares (and never padded patches); missing fields are named.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from survlib.models import (
    MODEL_ZOO,
    PathwayMembership,
    SurvivalBatch,
    count_parameters,
    discrete_loss,
    predict_logits,
)
from survlib.models.blocks import PathwayEncoder
from tests.models.zoo_batch import (
    D_PATCH,
    FLOAT_FIELDS,
    N_GENES,
    SIZES,
    K,
    build,
    make_batch,
    make_pathways,
    pad_more,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def pathways() -> PathwayMembership:
    return make_pathways()


NAMES = list(MODEL_ZOO)


def test_zoo_names() -> None:
    for name in [
        "ABMIL",
        "TransMIL",
        "DSMIL",
        "MLP (pathology)",
        "PORPOISE",
        "MCAT",
        "SurvPath",
        "SurvPGC",
        "SurvPGC (approach a)",
        "SurvPGC (approach b)",
        "SurvPGC (approach c)",
        "SurvPC",
        "MLP (clinic)",
        "SNN (clinic)",
        "MLP (genomic)",
        "SNN (genomic)",
    ]:
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
        torch.testing.assert_close(
            predict_logits(model, padded), predict_logits(model, batch), atol=1e-5, rtol=0
        )
        if hasattr(model, "attention"):
            a = model.attention(*[getattr(batch, k) for k in model.inputs])
            ap = model.attention(*[getattr(padded, k) for k in model.inputs])
            for key in a:
                torch.testing.assert_close(
                    ap[key][:, : batch.patches.shape[1]], a[key], atol=1e-5, rtol=0
                )
                assert (ap[key][~padded.patch_mask] == 0).all()


@pytest.mark.parametrize("name", NAMES)
def test_batch_equals_each_patient_alone(name: str, pathways: PathwayMembership) -> None:
    model = build(name, pathways).eval()
    batch = make_batch()
    with torch.no_grad():
        batched = predict_logits(model, batch)
        for i, n in enumerate(SIZES):
            one = batch.index([i])
            one = dataclasses.replace(
                one, patches=one.patches[:, :n], patch_mask=one.patch_mask[:, :n]
            )
            torch.testing.assert_close(
                batched[i : i + 1], predict_logits(model, one), atol=1e-5, rtol=0
            )


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


def test_missing_field_is_named(pathways: PathwayMembership) -> None:
    model = build("SurvPGC", pathways)
    batch = dataclasses.replace(make_batch(), clinical_tokens=None)
    with pytest.raises(ValueError, match="needs batch.clinical_tokens"):
        predict_logits(model, batch)


def test_zoo_checks_gene_count(pathways: PathwayMembership) -> None:
    with pytest.raises(ValueError, match="n_genes=31"):
        MODEL_ZOO["SurvPath"](
            d_patch=D_PATCH, pathways=pathways, n_genes=31, d_text=None, n_clinical=None, n_bins=K
        )
    with pytest.raises(ValueError, match="needs pathways"):
        MODEL_ZOO["SurvPath"](
            d_patch=D_PATCH, pathways=None, n_genes=N_GENES, d_text=None, n_clinical=None, n_bins=K
        )


def test_parameter_counts_reported(
    pathways: PathwayMembership, capsys: pytest.CaptureFixture[str]
) -> None:
    counts = {name: count_parameters(build(name, pathways)) for name in NAMES}
    assert all(c > 0 for c in counts.values())
    # the grouped pathway encoder has exactly the per-pathway parameter count
    sizes = pathways.sizes
    enc = PathwayEncoder(pathways, hidden=(32, 32))
    assert count_parameters(enc) == int(sum(s * 32 + 32 + 32 * 32 + 32 for s in sizes))
    with capsys.disabled():
        print("\nzoo parameter counts at test sizes (hidden=32):", counts)
