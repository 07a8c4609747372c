"""Chapter 5's protocol helpers (survlib.protocols.survpgc): the recipe's cross-validation
keywords, the per-fold paired bootstrap, the zoo models sized for a fold's data, and the
overview table's parameter counts."""

from __future__ import annotations

import numpy as np
import pytest

from survlib import survival as sv
from survlib.models import count_parameters
from survlib.protocols import survpgc


def test_recipe_cross_validation_keywords() -> None:
    recipe = survpgc.Recipe(fit={"max_epochs": 2}, n_folds=4, seeds=(3, 4), val_fraction=0.1)
    event = np.array([1, 0, 1])
    kw = recipe.cv(event)
    assert kw["event"] is event and kw["seeds"] == [3, 4]
    assert (kw["n_folds"], kw["val_fraction"], kw["progress"]) == (4, 0.1, False)


def test_paired_bootstrap_folds_is_the_per_fold_paired_test() -> None:
    rng = np.random.default_rng(0)
    time, event = rng.exponential(10, 60), rng.integers(0, 2, 60)
    tests = {(0, 0): np.arange(30), (0, 1): np.arange(30, 60)}
    a = {k: {"test": t, "risk": -time[t] + rng.normal(0, 1, 30)} for k, t in tests.items()}
    b = {k: {"test": t, "risk": rng.normal(0, 1, 30)} for k, t in tests.items()}
    out = survpgc.paired_bootstrap_folds(a, b, time, event, n_boot=20, seed=5)
    assert list(out[["seed", "fold"]].itertuples(index=False, name=None)) == [(0, 0), (0, 1)]
    ref = sv.paired_bootstrap_cindex(
        a[(0, 1)]["risk"], b[(0, 1)]["risk"], time[30:], event[30:], n_boot=20, seed=5 + 1
    )
    assert out.iloc[1]["diff"] == pytest.approx(ref["diff"])
    assert out.iloc[1]["p"] == pytest.approx(ref["p"])


def test_zoo_models_sized_for_a_fold_and_the_overview() -> None:
    from survlib.data.multimodal import prepare_fold, simulate_multimodal_cohort

    cohort = simulate_multimodal_cohort(
        30, seed=0, n_pathways=4, n_genes=20, d_patch=6, patches_per_patient=(4, 8)
    )
    data = prepare_fold(cohort, np.arange(20), n_bins=3)
    model = survpgc.build_model("SurvPath", data, width=8)
    assert model.inputs == ("patches", "patch_mask", "genes")
    table = survpgc.model_overview(["ABMIL", "MLP (genomic)"], data, width=8)
    assert list(table["inputs"]) == ["P", "G"]
    assert table.loc["ABMIL", "parameters (this width)"] == count_parameters(
        survpgc.build_model("ABMIL", data, 8)
    )
    assert (table["parameters (width 256)"] > table["parameters (this width)"]).all()
