"""Tiny simulated cohorts and a tiny ScSurvival configuration for the single-cell tests
(not a good model: just the mechanics)."""

from __future__ import annotations

from survlib.data.sc import simulate_sc_cohort

TINY = dict(
    n_latent=8,
    n_hidden=32,
    n_heads=2,
    head_dim=8,
    proj_dim=4,
    hazard_hidden=8,
    pretrain_steps=40,
    cell_batch_size=64,
    amicr_steps=15,
    finetune_steps=4,
    patient_batch_size=8,
    cells_per_patient=16,
    eval_every=5,
)


#: the divergence tests' configuration (tests/models/sc/test_training.py)
GUARD_TINY = dict(
    n_latent=8,
    n_hidden=32,
    n_heads=2,
    head_dim=8,
    proj_dim=4,
    hazard_hidden=8,
    pretrain_steps=30,
    cell_batch_size=64,
    amicr_steps=12,
    finetune_steps=4,
    patient_batch_size=8,
    cells_per_patient=16,
    eval_every=5,
)


def cohort(n_patients: int = 16, cells: int = 24, genes: int = 60, seed: int = 0, **kw):
    """A small "distinct" cohort (raw counts)."""
    return simulate_sc_cohort(n_patients, cells, genes, "distinct", seed, **kw)
