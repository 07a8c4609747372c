"""The batch containers (survlib.data.batch, re-exported by survlib.models): PathwayMembership
validation and construction from gene sets, SurvivalBatch moves and indexing."""

from __future__ import annotations

import pytest
import torch

from survlib.models import PathwayMembership, SurvivalBatch
from tests.models.zoo_batch import make_batch


def test_pathway_membership_validation() -> None:
    with pytest.raises(ValueError, match="no gene"):
        PathwayMembership(torch.tensor([[True, False], [False, False]]), ["a", "b"], ["g1", "g2"])
    with pytest.raises(ValueError, match="gene names"):
        PathwayMembership(torch.tensor([[True, False]]), ["a"], ["g1"])
    pm = PathwayMembership.from_sets(
        {"A": ["x", "y"], "B": ["y", "z", "zz"]}, genes=["x", "y", "z"]
    )
    assert pm.matrix.tolist() == [[True, True, False], [False, True, True]]
    assert list(pm.sizes) == [2, 2]


def test_batch_to_and_index() -> None:
    batch = make_batch()
    moved = batch.to("cpu")
    assert moved.time is not None and torch.equal(moved.patches, batch.patches)
    sub = batch.index([2, 0])
    assert len(sub) == 2 and torch.equal(sub.genes[1], batch.genes[0])
    assert SurvivalBatch(genes=torch.zeros(3, 2)).to("cpu").patches is None
