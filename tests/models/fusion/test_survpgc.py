"""SurvPGC (survlib.models.fusion.survpgc): the fused vector follows Eq. (12), the attention maps
are per-patch and 0 on padding, the loss of Eq. (14) against ``nn.CosineEmbeddingLoss``, and the
model trains with survlib.train.fit."""

from __future__ import annotations

import functools

import pytest
import torch
from torch import nn

from survlib.models import PathwayMembership
from survlib.models.fusion import SurvPGC, cosine_dissimilarity, survpgc_loss
from survlib.survival import nll_discrete
from survlib.train import fit
from tests.models.zoo_batch import N_FIELDS, build, make_batch, make_pathways

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def pathways() -> PathwayMembership:
    return make_pathways()


def test_survpgc_fused_vector_follows_eq12(pathways: PathwayMembership) -> None:
    model = build("SurvPGC", pathways).eval()
    batch = make_batch()
    inputs = [getattr(batch, k) for k in SurvPGC.inputs]
    with torch.no_grad():
        fused = model.fused(*inputs)
        torch.testing.assert_close(model.head(fused), model(*inputs))
        x_p = model.patch_projection(batch.patches)
        c_bar, pc_bar, _ = model.clinic_path(
            model.clinic_projection(batch.clinical_tokens), x_p, batch.patch_mask
        )
        g_bar, pg_bar, _ = model.genomic_path(
            model.pathway_encoder(batch.genes), x_p, batch.patch_mask
        )
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
    res = fit(
        model, opt, lambda epoch: [batch], loss_fn, max_epochs=40, patience=None, progress=False
    )
    first, last = res.history["train_loss"].iloc[0], res.history["train_loss"].iloc[-1]
    assert last < 0.7 * first
