"""The simulated external site (survlib.data.domain_shift): a disjoint, labelled external split,
a shift that changes what it says it changes, and a concatenation that keeps the order and the
source statistics."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def small_cohort():
    from survlib.data.multimodal import simulate_multimodal_cohort

    return simulate_multimodal_cohort(
        40, seed=3, n_pathways=6, n_genes=40, d_patch=8, patches_per_patient=(10, 20)
    )


def test_split_external_is_disjoint_and_labelled(small_cohort) -> None:
    from survlib.data.domain_shift import split_external

    src, ext = split_external(small_cohort, 12, seed=0, case_mix=1.0)
    assert len(src) == 28 and len(ext) == 12
    assert not set(src.clinical.index) & set(ext.clinical.index)
    for c in (src, ext):
        assert c.attrs["simulated"] and c.clinical.attrs["simulated"]
        assert len(c.truth.risk) == len(c) == len(c.bags) == len(c.truth.planted)
    assert ext.attrs["site"] == "external"
    pos = {p: i for i, p in enumerate(small_cohort.clinical.index)}
    i0 = pos[ext.clinical.index[0]]
    assert np.array_equal(ext.bags[0], small_cohort.bags[i0])
    assert ext.truth.risk[0] == small_cohort.truth.risk[i0]
    with pytest.raises(ValueError, match="n_external"):
        split_external(small_cohort, 40)


def test_domain_shift_changes_what_it_says(small_cohort) -> None:
    from survlib.data.domain_shift import DomainShift, apply_domain_shift

    same = apply_domain_shift(small_cohort, DomainShift.none(), seed=0)
    assert all(
        np.allclose(a, b, atol=1e-5) for a, b in zip(same.bags, small_cohort.bags, strict=True)
    )
    assert np.allclose(same.expression.to_numpy(), small_cohort.expression.to_numpy(), atol=1e-3)
    assert np.array_equal(same.time, small_cohort.time)
    assert DomainShift().scaled(0.0) == replace_shift(DomainShift(), 0.0)
    assert DomainShift().scaled(2.5) == replace_shift(DomainShift(), 2.5)

    shift = DomainShift(patch_fraction=0.5, max_follow_up=24.0)
    out = apply_domain_shift(small_cohort, shift, seed=1)
    sizes = np.array([len(b) for b in small_cohort.bags])
    assert np.array_equal([len(b) for b in out.bags], np.maximum(1, np.round(0.5 * sizes)))
    assert all(len(p) == len(b) for p, b in zip(out.truth.planted, out.bags, strict=True))
    assert out.time.max() <= 24.0
    late = small_cohort.time > 24.0
    assert (out.event[late] == 0).all()
    assert np.array_equal(out.event[~late], small_cohort.event[~late])
    assert out.attrs["simulated"] and out.attrs["domain_shift"]["max_follow_up"] == 24.0
    moved = np.concatenate(out.bags).mean(0) - np.concatenate(small_cohort.bags).mean(0)
    assert np.abs(moved).max() > 0.05
    again = apply_domain_shift(small_cohort, shift, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(out.bags, again.bags, strict=True))
    with pytest.raises(ValueError, match="patch_fraction"):
        DomainShift(patch_fraction=0.0)
    with pytest.raises(ValueError, match=">= 0"):
        DomainShift(encoder_noise=-1.0)


def replace_shift(shift, factor):
    """``shift`` with every field scaled by ``factor`` except the two that are not strengths."""
    from dataclasses import fields, replace

    names = [f.name for f in fields(shift) if f.name not in ("patch_fraction", "max_follow_up")]
    return replace(shift, **{n: factor * getattr(shift, n) for n in names})


def test_concat_cohorts_keeps_order_and_source_statistics(small_cohort) -> None:
    from survlib.data.domain_shift import apply_domain_shift, concat_cohorts, split_external
    from survlib.data.multimodal import prepare_fold

    src, ext = split_external(small_cohort, 10, seed=0)
    ext = apply_domain_shift(ext, seed=0)
    both, a, b = concat_cohorts(src, ext)
    assert len(both) == 40 and list(a) == list(range(30)) and list(b) == list(range(30, 40))
    assert both.attrs["simulated"]
    assert np.array_equal(both.bags[30], ext.bags[0])
    fold = prepare_fold(both, a[:20])  # statistics from source training patients only
    ref = prepare_fold(src, np.arange(20))
    assert np.allclose(fold.patch_mean, ref.patch_mean)
    with pytest.raises(ValueError, match="share patient ids"):
        concat_cohorts(src, src)
