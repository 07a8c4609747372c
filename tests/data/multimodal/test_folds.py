"""Fold preparation and bag batching (survlib.data.multimodal.folds)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from survlib.data.multimodal import (
    MultimodalCohort,
    clinical_design_matrix,
    pad_bags,
    prepare_fold,
)


def test_pad_bags_masks_and_pads() -> None:
    bags = [
        np.ones((3, 2), np.float32),
        2 * np.ones((5, 2), np.float32),
        3 * np.ones((1, 2), np.float32),
    ]
    x, mask, kept = pad_bags(bags)
    assert x.shape == (3, 5, 2) and mask.dtype == torch.bool
    assert mask.sum(dim=1).tolist() == [3, 5, 1]
    assert torch.all(x[~mask] == 0)
    assert torch.all(x[0, :3] == 1) and torch.all(x[2, :1] == 3)
    assert [k.tolist() for k in kept] == [[0, 1, 2], [0, 1, 2, 3, 4], [0]]


def test_pad_bags_subsamples_large_bags() -> None:
    bags = [np.arange(20, dtype=np.float32).reshape(10, 2), np.zeros((3, 2), np.float32)]
    x, mask, kept = pad_bags(bags, max_patches=4)
    assert x.shape == (2, 4, 2) and mask.sum(dim=1).tolist() == [4, 3]
    np.testing.assert_array_equal(kept[0], [0, 3, 6, 9])  # evenly spaced without rng
    rng = np.random.default_rng(0)
    subsets = {tuple(pad_bags(bags, 4, rng)[2][0]) for _ in range(10)}
    assert len(subsets) > 1  # a new random subset each step
    for s in subsets:
        assert len(set(s)) == 4 and list(s) == sorted(s)
    # rows are the kept patches, standardised when asked
    x, _, kept = pad_bags(
        bags, 4, mean=np.array([1.0, 1.0], np.float32), sd=np.array([2.0, 2.0], np.float32)
    )
    np.testing.assert_allclose(x[0].numpy(), (bags[0][kept[0]] - 1.0) / 2.0)


def test_pad_bags_rejects_bad_bags() -> None:
    with pytest.raises(ValueError, match="bag 1 is empty"):
        pad_bags([np.ones((2, 3)), np.ones((0, 3))])
    with pytest.raises(ValueError, match="features"):
        pad_bags([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(ValueError, match="no bags"):
        pad_bags([])


def test_prepare_fold_uses_training_patients_only(cohort: MultimodalCohort) -> None:
    train = np.arange(0, 300)
    data = prepare_fold(cohort, train, n_bins=4)
    np.testing.assert_allclose(data.genes[train].mean(axis=0), 0.0, atol=1e-4)
    # changing test patients' values changes nothing about the training patients' inputs
    other = MultimodalCohort(
        clinical=cohort.clinical,
        expression=cohort.expression.copy(),
        pathways=cohort.pathways,
        bags=[b.copy() for b in cohort.bags],
        attrs=cohort.attrs,
    )
    other.expression.iloc[300:] += 100.0
    for i in range(300, 400):
        other.bags[i] = other.bags[i] + 50.0
    data2 = prepare_fold(other, train, n_bins=4)
    np.testing.assert_allclose(data.genes[train], data2.genes[train])
    np.testing.assert_allclose(data.patch_mean, data2.patch_mean)
    np.testing.assert_allclose(data.bins.edges, data2.bins.edges)
    assert data.bin_index.min() == 0 and data.bin_index.max() == 3


def test_fold_batch_is_a_survival_batch(cohort: MultimodalCohort) -> None:
    tokens = np.random.default_rng(0).standard_normal((len(cohort), 6, 7)).astype(np.float32)
    data = prepare_fold(cohort, np.arange(300), clinical_tokens=tokens)
    idx = np.array([3, 350, 10])
    b = data.batch(idx, max_patches=6)
    n = [min(len(cohort.bags[i]), 6) for i in idx]
    assert b.patches.shape == (3, max(n), 8) and b.patch_mask.sum(dim=1).tolist() == n
    assert b.genes.shape == (3, 120) and b.clinical.shape == (3, data.n_clinical)
    assert b.clinical_tokens.shape == (3, 6, 7)
    assert b.bin_index.dtype == torch.long and b.event.dtype == torch.long
    assert b.time.dtype == torch.float32
    np.testing.assert_allclose(b.time.numpy(), cohort.time[idx], rtol=1e-6)
    assert data.batch(idx, with_patches=False).patches is None
    batches = list(data.iter_batches(np.arange(20), batch_size=8, rng=np.random.default_rng(1)))
    assert [len(x) for x in batches] == [8, 8, 4]


def test_clinical_design_matrix() -> None:
    table = pd.DataFrame(
        {
            "age": [50, 60, 70],
            "sex": ["male", "female", "male"],
            "time": [1.0, 2.0, 3.0],
            "event": [1, 0, 1],
        }
    )
    x = clinical_design_matrix(table)
    assert list(x.columns) == ["age", "sex_male"]
    assert clinical_design_matrix(table, drop_first=False).shape == (3, 3)
