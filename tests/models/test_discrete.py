"""The discrete-time recipe for bag models (survlib.models.discrete): fit, evaluate, protocols."""

from __future__ import annotations

import pytest

from survlib.data.multimodal import (
    prepare_fold,
    simulate_multimodal_cohort,
)
from tests.data.multimodal._data import SMALL


def test_fit_and_evaluate_discrete_model_and_protocols() -> None:
    from survlib.models import MODEL_ZOO
    from survlib.models.discrete import (
        discrete_cv_fold,
        evaluate_discrete_model,
        fit_discrete_model,
        protocol_comparison,
    )
    from survlib.train import cv_splits, seed_everything

    c = simulate_multimodal_cohort(160, seed=0, clinical_strength=1.5, **SMALL)
    split = cv_splits(c.event, n_folds=2, seed=0)[0]
    data = prepare_fold(c, split.train)
    seed_everything(0)
    model = MODEL_ZOO["MLP (clinic covariates)"](
        d_patch=None, pathways=None, n_genes=None, d_text=None, n_clinical=data.n_clinical, n_bins=4
    )
    fitted = fit_discrete_model(
        model,
        data,
        split,
        max_epochs=8,
        patience=None,
        lr=5e-3,
        batch_size=16,
        track_test=True,
        device="cpu",
    )
    assert fitted.trace is not None and len(fitted.trace) == 8
    metrics = evaluate_discrete_model(fitted)
    assert {"C-index", "AUC 12m", "AUC 36m", "AUC 60m", "iAUC", "IBS"} <= set(metrics)
    assert metrics["C-index"] > 0.6
    rel = evaluate_discrete_model(fitted, auc_at="released")
    assert {
        "AUC 12m (released)",
        "AUC 36m (released)",
        "AUC 60m (released)",
        "iAUC (released)",
    } <= set(rel)
    # the honest epoch's tracked test C-index is what evaluating the kept weights gives
    best = fitted.trace.set_index("epoch").loc[fitted.result.best_epoch, "test C-index"]
    assert best == pytest.approx(metrics["C-index"])
    both = protocol_comparison(fitted, min_epoch=3)
    assert both["optimism"] >= 0.0  # the max over epochs of the test C-index
    assert both["C-index (test-selected)"] == pytest.approx(
        fitted.trace.loc[fitted.trace.epoch >= 3, "test C-index"].max()
    )
    # the leaky option really selects on the test fold
    seed_everything(0)
    model2 = MODEL_ZOO["MLP (clinic covariates)"](
        d_patch=None, pathways=None, n_genes=None, d_text=None, n_clinical=data.n_clinical, n_bins=4
    )
    leaky = fit_discrete_model(
        model2,
        data,
        split,
        max_epochs=8,
        patience=None,
        lr=5e-3,
        batch_size=16,
        select_on="test",
        select_metric="cindex",
        min_epoch=3,
        device="cpu",
    )
    assert leaky.selected_on == "test"
    assert leaky.result.best_epoch >= 3
    assert evaluate_discrete_model(leaky)["C-index"] == pytest.approx(
        both["C-index (test-selected)"]
    )
    # the cross-validation helper
    store: dict = {}
    run = discrete_cv_fold(
        lambda d: MODEL_ZOO["MLP (genomic)"](
            d_patch=None,
            pathways=d.pathways,
            n_genes=d.n_genes,
            d_text=None,
            n_clinical=None,
            n_bins=4,
            hidden=16,
        ),
        c,
        store=store,
        max_epochs=3,
        patience=None,
        device="cpu",
    )
    out = run(split, 0)
    assert "C-index" in out and (0, 0) in store
    assert store[(0, 0)]["risk"].shape == (len(split.test),)
    with pytest.raises(ValueError, match="select_on"):
        fit_discrete_model(model, data, split, select_on="train")
