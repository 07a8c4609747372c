"""The AMICR stage's embedding cache (survlib/models/sc/model.py, training.py): on a backed
.h5ad, the frozen encoder's output for every cell is cached once and the stage's steps read no
cells from disk; training from the cache gives the results of training without it (same seed);
the cached embeddings equal the encoder's output."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from survlib.models.sc import ScSurvival
from tests.models.sc.helpers import TINY
from tests.models.sc.helpers import cohort as _cohort

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _train(adata, cache: bool | None, **overrides):
    """Train on ``adata``; return the model, the number of ``reader.read`` calls and the
    cache ``_embed_all`` built (None if none)."""
    model = ScSurvival(adata, **{**TINY, "stream_block_cells": 32, **overrides})
    reads, built = [0], []
    read, embed_all = model.reader.read, model._embed_all

    def counting_read(idx, device="cpu"):
        reads[0] += 1
        return read(idx, device)

    def keeping_embed_all(*args, **kwargs):
        built.append(embed_all(*args, **kwargs))
        return built[-1]

    model.reader.read = counting_read  # type: ignore[method-assign]
    model._embed_all = keeping_embed_all  # type: ignore[method-assign]
    model.train(progress=False, seed=3, cache_embeddings=cache)
    return model, reads[0], (built[0] if built else None)


@pytest.fixture(scope="module")
def backed(tmp_path_factory):
    path = tmp_path_factory.mktemp("cache") / "cohort.h5ad"
    adata = _cohort(n_patients=12, cells=20, write_h5ad=path)
    assert adata.isbacked
    ScSurvival.setup_anndata(adata)
    yield adata
    adata.file.close()


def test_backed_amicr_stage_trains_from_the_cache(backed):
    cached, cached_reads, cache = _train(backed, None, finetune_steps=0)  # default: cache
    direct, direct_reads, none = _train(backed, False, finetune_steps=0)
    assert cache is not None and none is None
    assert cache.shape == (backed.n_obs, TINY["n_latent"])
    # uncached: every AMICR step (and each validation) reads its cells from the file; cached:
    # only the typical-cell reference after training reads cells
    steps = cached.steps_run["amicr"]
    assert steps == direct.steps_run["amicr"] and steps > 0
    assert direct_reads >= steps and cached_reads <= 1
    # the same training, step by step (float32 matmuls over different row sets may differ in
    # the last bits, hence a tolerance)
    np.testing.assert_allclose(cached.history["amicr"], direct.history["amicr"], rtol=1e-5)
    np.testing.assert_allclose(
        cached.predict_risk(backed, write=False)["risk"].to_numpy(),
        direct.predict_risk(backed, write=False)["risk"].to_numpy(),
        rtol=1e-4,
        atol=1e-6,
    )
    # the cache is the frozen encoder's output (finetune_steps=0: the encoder is unchanged)
    with torch.no_grad():
        x = cached.reader.read(np.arange(backed.n_obs))
        np.testing.assert_allclose(cache.numpy(), cached._embed(x, None).numpy(), atol=1e-5)


def test_cache_is_skipped_when_too_large_or_switched_off(backed, monkeypatch):
    import survlib.models.sc.model as model_module

    monkeypatch.setattr(model_module, "EMBEDDING_CACHE_MAX_BYTES", 100)
    _, reads, cache = _train(backed, None, finetune_steps=0, amicr_steps=3)
    assert cache is None and reads >= 3
    _, _, cache = _train(backed, True, finetune_steps=0, amicr_steps=3)  # forced on
    assert cache is not None
