"""survlib.models.sc.training: every ScSurvival stage runs through survlib.train.fit, stops at
the first non-finite step with an error naming the model, the stage and the step (issue 10),
and keeps the meaning of history / steps_run / timings / stage_windows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from survlib._core.finite import NonFiniteError
from survlib.models.sc import ScSurvival
from tests.models.sc.helpers import GUARD_TINY as TINY
from tests.models.sc.helpers import TINY as SMALL
from tests.models.sc.helpers import cohort

pytestmark = pytest.mark.usefixtures("one_torch_thread")

HUGE_LR = 1e30


@pytest.fixture(scope="module")
def sc_cohort():
    adata = cohort(16, 24, 60, 0)
    ScSurvival.setup_anndata(adata)
    return adata


@pytest.mark.parametrize(
    ("stage", "overrides"),
    [
        ("pretrain", {"pretrain_lr": HUGE_LR}),
        ("amicr", {"lr": HUGE_LR, "grad_clip": None}),
        ("finetune", {"amicr_steps": 0, "lr": HUGE_LR, "grad_clip": None}),
    ],
)
def test_scsurvival_stage_stops_on_divergence(sc_cohort, stage: str, overrides: dict) -> None:
    model = ScSurvival(sc_cohort, **TINY)
    with pytest.raises(
        NonFiniteError, match=rf"ScSurvival, stage '{stage}', step epoch \d+ batch \d+"
    ):
        model.train(progress=False, seed=0, **overrides)
    assert not model.is_trained
    with pytest.raises(RuntimeError, match="train the model first"):
        model.predict_risk()


def test_stage_bookkeeping_with_validation_and_early_stopping():
    """With validation patients a stage is evaluated every eval_every steps (and at its last
    step), stops once `patience` steps pass without improvement, and records per-step losses."""
    adata = cohort(24, 24, 60, 1)
    ScSurvival.setup_anndata(adata)
    small_split = {"min_validation_patients": 4}  # 5 of 24 patients
    m = ScSurvival(
        adata, **{**SMALL, "amicr_steps": 80, "finetune_steps": 7, "patience": 10, **small_split}
    )
    m.train(progress=False, seed=1)
    assert m.validation_patients_  # a validation split exists
    h, steps = m.history, m.steps_run
    assert (
        steps["pretrain"] == SMALL["pretrain_steps"] and len(h["pretrain"]) == 1
    )  # every 50 steps + last
    assert steps["amicr"] == len(h["amicr"]) < 80 and steps["amicr"] % 5 == 0  # stopped early
    assert len(h["amicr_val"]) == steps["amicr"] // 5
    assert len(h["amicr_val"]) >= math.ceil(10 / 5) + 1
    best = min(range(len(h["amicr_val"])), key=h["amicr_val"].__getitem__)
    assert len(h["amicr_val"]) - 1 - best == math.ceil(10 / 5)  # patience in steps -> evaluations
    assert steps["finetune"] == 7 and len(h["finetune_val"]) == math.ceil(7 / 5)
    assert set(m.timings) == set(m.stage_windows) == {"checks", "pretrain", "amicr", "finetune"}
    assert all(a <= b for a, b in m.stage_windows.values())


def test_stage_bookkeeping_without_validation():
    """Without validation the smoothed training loss is monitored, one evaluation per step."""
    adata = cohort(16, 24, 60, 2)
    ScSurvival.setup_anndata(adata)
    m = ScSurvival(adata, **{**SMALL, "validation_fraction": 0.0, "patience": 6})
    m.train(progress=False, seed=0)
    assert m.validation_patients_ == [] and m.history["amicr_val"] == []
    assert m.steps_run["amicr"] == len(m.history["amicr"]) <= SMALL["amicr_steps"]
    assert m.steps_run["finetune"] == len(m.history["finetune"])


@pytest.mark.parametrize(
    ("n_patients", "min_val", "expected"),
    [(27, 10, 0), (40, 10, 0), (50, 10, 10), (120, 10, 24), (27, 4, 6), (40, 4, 8)],
)
def test_validation_needs_min_validation_patients(n_patients, min_val, expected) -> None:
    """Patients are held out only when 20 % makes at least ``min_validation_patients`` of them
    (the default 4; with 10 the small cohorts of chapter 3's side-by-side stop on the training
    loss); the split is stratified by event."""
    from dataclasses import replace

    from survlib.models.sc.config import PRESETS
    from survlib.models.sc.training import _split_validation

    cfg = replace(PRESETS["fast"], min_validation_patients=min_val)
    events = np.tile([1, 0], n_patients)[:n_patients]
    groups = [np.arange(3) + 3 * i for i in range(n_patients)]
    train, val, cells = _split_validation(cfg, events, groups, np.random.default_rng(0))
    assert val.size == expected and train.size == n_patients - expected
    assert (cells is None) == (expected == 0)
    if expected:
        assert abs(events[val].mean() - events.mean()) < 0.1  # stratified by event
    assert PRESETS["fast"].min_validation_patients == 4


def test_refit_trains_on_the_validation_patients_too(monkeypatch):
    """``refit_steps`` more fine-tuning steps after the validated fine-tuning draw their
    minibatches from every patient, validation ones included; the validated stages never
    see a validation patient; without a validation split nothing more runs."""
    from survlib.models.sc import training

    seen: dict[str, set[int]] = {"stages": set(), "refit": set()}
    original = training._batch_loss

    def spy(data, pidx, joint):
        key = "stages" if data.val_cells is not None else "refit"
        seen[key].update(int(p) for p in pidx)
        return original(data, pidx, joint)

    monkeypatch.setattr(training, "_batch_loss", spy)
    adata = cohort(24, 24, 60, 1)
    ScSurvival.setup_anndata(adata)
    opts = {
        **SMALL,
        "patience": None,
        "min_validation_patients": 4,
        "refit_steps": 12,
        "finetune_steps": 20,
    }
    m = ScSurvival(adata, **opts).train(progress=False, seed=3)
    order = sorted(adata.obs[m.setup.patient_key].astype(str).unique())  # training order
    val = {order.index(p) for p in m.validation_patients_}
    assert val and seen["stages"] and not (seen["stages"] & val)
    assert val <= seen["refit"]
    assert m.steps_run["refit"] == len(m.history["refit"]) == 12
    assert set(m.timings) == {"checks", "pretrain", "amicr", "finetune"}  # refit is in finetune
    plain = ScSurvival(adata, **{**opts, "refit_steps": 0}).train(progress=False, seed=3)
    assert "refit" not in plain.steps_run
    assert not np.allclose(m.predict_risk(), plain.predict_risk())
    none = ScSurvival(adata, **{**opts, "validation_fraction": 0.0}).train(progress=False, seed=3)
    assert "refit" not in none.steps_run
    capped = ScSurvival(adata, **{**opts, "finetune_steps": 5}).train(progress=False, seed=3)
    assert capped.steps_run["refit"] == 5  # at most the fine-tuning budget
    skipped = ScSurvival(adata, **{**opts, "finetune_steps": 0}).train(progress=False, seed=3)
    assert "refit" not in skipped.steps_run  # no fine-tuning, no refit


def test_refit_without_the_encoder_leaves_the_features_alone():
    """``refit_encoder=False`` refits only AMICR (on cached embeddings): the ZIG-VAE's weights
    are those of the run without a refit, while AMICR's differ; with the encoder both move."""
    import torch

    adata = cohort(24, 24, 60, 1)
    ScSurvival.setup_anndata(adata)
    opts = {**SMALL, "patience": None, "min_validation_patients": 4, "finetune_steps": 20}

    def trained(**extra):
        return ScSurvival(adata, **{**opts, **extra}).train(progress=False, seed=3)

    def same(a, b) -> bool:
        sa, sb = a.state_dict(), b.state_dict()
        return all(torch.equal(sa[k], sb[k]) for k in sa)

    plain = trained(refit_steps=0)
    head = trained(refit_steps=12, refit_encoder=False)
    both = trained(refit_steps=12, refit_encoder=True)
    assert head.steps_run["refit"] == both.steps_run["refit"] == 12
    assert same(head.features, plain.features) and not same(head.amicr, plain.amicr)
    assert not same(both.features, plain.features)


def test_pretrain_budget_is_the_fewer_of_steps_and_epochs():
    """pretrain_steps minibatches, at most pretrain_epochs passes over the cells; the fast
    preset's cap binds only below 2,560 cells, the authors' preset counts epochs only."""
    from dataclasses import replace

    from survlib.models.sc import PRESETS
    from survlib.models.sc.training import pretrain_budget

    fast, authors = PRESETS["fast"], PRESETS["authors"]
    assert fast.cell_batch_size == 128
    assert (fast.pretrain_steps, fast.pretrain_epochs) == (2000, 100)
    assert pretrain_budget(fast, 10**6) == 2000
    assert pretrain_budget(fast, 2560) == 2000  # 20 minibatches a pass: the cap just binds
    assert pretrain_budget(fast, 1350) == 1100  # ceil(1350 / 128) = 11 minibatches a pass
    assert pretrain_budget(replace(fast, pretrain_epochs=None), 1350) == fast.pretrain_steps
    assert pretrain_budget(authors, 4000) == 200 * 4  # ceil(4000 / 1024) = 4 batches an epoch
    assert pretrain_budget(replace(fast, pretrain_epochs=2.5), 640) == 12  # int(2.5 * 5)
    with pytest.raises(ValueError, match="pretrain_steps and pretrain_epochs are both None"):
        replace(fast, pretrain_epochs=None, pretrain_steps=None)  # refused when it is made


def test_pretraining_stops_at_the_epoch_cap(sc_cohort):
    """A trained model's pretraining ran the capped number of minibatches: 3 passes over the
    cohort's cells in minibatches of 64, fewer than the 40 steps asked for."""
    m = ScSurvival(sc_cohort, **{**TINY, "pretrain_steps": 40, "pretrain_epochs": 3})
    m.train(progress=False, seed=0)
    expected = 3 * math.ceil(sc_cohort.n_obs / 64)
    assert expected < 40
    assert m.steps_run["pretrain"] == expected


def test_no_pretraining_budget_fails_at_construction(sc_cohort):
    """Both budgets None is refused when the model is built, and by train(**overrides) before
    a single step; the model keeps its configuration."""
    with pytest.raises(ValueError, match="pretrain_steps and pretrain_epochs are both None"):
        ScSurvival(sc_cohort, **{**TINY, "pretrain_steps": None, "pretrain_epochs": None})
    m = ScSurvival(sc_cohort, **TINY)
    before = m.config
    with pytest.raises(ValueError, match="pretrain_steps and pretrain_epochs are both None"):
        m.train(progress=False, pretrain_steps=None, pretrain_epochs=None)
    assert m.config == before and not m.is_trained and m.steps_run == {}


def test_unknown_feature_flavor_is_refused_by_the_configuration(sc_cohort):
    """The feature flavour is checked where the configuration is made, for the model and for
    train(**overrides) alike, naming the value."""
    from dataclasses import replace

    from survlib.models.sc import PRESETS

    with pytest.raises(ValueError, match="feature_flavor must be 'zigvae' or 'pca', got 'umap'"):
        replace(PRESETS["fast"], feature_flavor="umap")
    with pytest.raises(ValueError, match="got 'umap'"):
        ScSurvival(sc_cohort, **{**TINY, "feature_flavor": "umap"})
    m = ScSurvival(sc_cohort, **TINY)
    with pytest.raises(ValueError, match="got 'umap'"):
        m.train(progress=False, feature_flavor="umap")
    assert m.config.feature_flavor == "zigvae" and not m.is_trained
