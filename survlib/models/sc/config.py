"""scSurvival's configuration: every architecture and training choice (:class:`ScSurvivalConfig`),
the named presets (:data:`PRESETS`: ``"fast"``, ``"authors"``) and what ``setup_anndata``
records in ``adata.uns`` (:class:`_Setup`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["PRESETS", "ScSurvivalConfig"]

_REGISTRY_KEY = "_scsurvival_setup"


@dataclass(frozen=True)
class ScSurvivalConfig:
    """Every architecture and training choice; a preset fills the defaults.

    Training has three stages (the paper's procedure):

    1. **Pretrain the ZIG-VAE** on cell minibatches (``cell_batch_size``) streamed from the
       AnnData: ``pretrain_steps`` minibatches, but at most ``pretrain_epochs`` passes over
       the cells (either may be None; the "fast" preset: 2,000 minibatches, the same work
       whatever the cohort size, capped at 100 passes on small cohorts; the authors': 200
       passes, work that grows with the cells).  Learning rate ``pretrain_lr``.
    2. **Train AMICR** (attention + hazard network) for ``amicr_steps`` steps on frozen
       embeddings, computed once in chunks and cached in memory for in-memory and backed
       AnnData alike (None: when the cache fits 2 GiB; True / False forces it, see
       ``cache_embeddings``), learning rate ``lr``.
    3. **Jointly fine-tune** for ``finetune_steps`` steps: Cox + ``lambda_rec`` x ZIG-VAE loss
       (on ``rec_cells_per_step`` of the step's cells) + ``lambda_entropy`` x
       relu(entropy - ``entropy_threshold``); encoder learning rate ``lr x encoder_lr_factor``,
       AMICR learning rate ``lr x finetune_head_lr_factor``.

    A step takes ``patient_batch_size`` patients (None: all, the authors' full-cohort step) and
    samples ``cells_per_patient`` cells of each without replacement (None: every cell).  The
    attention pooling is a weighted mean, so a random subsample estimates the full bag's
    representation; prediction always uses every cell.  With ``validation_fraction`` > 0 a
    stratified share of the patients is held out when that share makes at least
    ``min_validation_patients`` patients (and leaves 4 for training, with 2 validation
    events); each stage then keeps the weights with the best validation Cox loss (checked
    every ``eval_every`` steps), stopping after ``patience`` steps without improvement.
    Otherwise (or with ``validation_fraction`` 0), ``patience`` applies to the smoothed
    training loss (the authors' rule).  After a validated fine-tuning, ``refit_steps`` more
    fine-tuning steps take every training patient, the validation ones included, so that
    their outcomes reach the weights too (``refit_encoder`` False: AMICR only, on cached
    embeddings).
    """

    preset: str = "fast"
    feature_flavor: Literal["zigvae", "pca"] = "zigvae"
    # ZIG-VAE
    n_latent: int = 32
    n_hidden: int = 128
    n_layers: int = 2
    encode_batch: bool = False
    scale_input: bool = True
    vae_dropout: float = 0.0
    beta: float = 0.1
    tau: float = 0.2
    # PCA features (feature_flavor="pca": the attention-MIL Cox without the VAE)
    n_pcs: int = 50
    pca_fit_cells: int = 20_000
    # AMICR
    n_heads: int = 4
    head_dim: int = 32
    proj_dim: int = 16
    # hidden units of the hazard network; 0 = a linear head, with which a patient's risk is
    # exactly a sum over heads of attention-weighted means of per-cell hazards.  In our trials
    # the linear head found simulated risk cells about as well (hardest setting, 4 development
    # seeds: mean F1 0.82 vs 0.80; chapter 2's evaluation seeds: within one sd in every row)
    # but lost the planted monocytes of the semi-synthetic PBMC cohort, so the default keeps
    # a hidden layer.
    hazard_hidden: int = 32
    hazard_dropout: float = 0.1
    pool_norm: bool = True
    # clamp of the hazard network's output (None: none); the authors clamp to [-10, 10]
    hazard_clamp: float | None = None
    # losses
    lambda_rec: float = 0.01
    lambda_entropy: float = 1.0
    entropy_threshold: float = 0.7
    cox_ties: Literal["efron", "breslow"] = "efron"
    # optimisation
    lr: float = 5e-4
    encoder_lr_factor: float = 0.1
    finetune_head_lr_factor: float = 0.1
    weight_decay: float = 0.01
    # at most this many passes over the cells (None: no cap); with pretrain_steps it binds
    # below 2,560 cells. With 27 training patients x 50 cells (1,350 cells: 2,000 minibatches
    # are ~180 passes) a cap of 100 passes raised the held-out C by 0.035 and the macro F1 by
    # 0.031 over 5 development seeds with 140 held-out patients, in 0.78x the time; 60 passes
    # lowered both (chapter 3, vs_authors_ablation.json)
    pretrain_epochs: float | None = 100
    pretrain_steps: int | None = 2000
    pretrain_lr: float = 3e-3
    cell_batch_size: int = 128
    stream_block_cells: int = 2048
    stream_blocks: int = 4
    amicr_steps: int = 400
    finetune_steps: int = 200
    patient_batch_size: int | None = 32
    cells_per_patient: int | None = 128
    patience: int | None = 100
    rec_cells_per_step: int | None = 512
    validation_fraction: float = 0.2
    # fewer validation patients than this: no validation, stop on the training loss. The Cox
    # loss of a handful of patients is a noisy stopping signal: with 27 training patients (5
    # held out at 0.2) stopping on the training loss raised the held-out C by 0.037 (95 % CI
    # 0.016 to 0.057) and the risk-cell macro F1 by 0.10 over 5 development seeds with 140
    # held-out patients (benchmarks/bench_vs_authors.py --variants; chapter 3); with 40 training
    # patients (8 held out) it lowered C by 0.016 (-0.040 to 0.008). It is not the default:
    # with 10, chapter 2's smoke-size PBMC cohort lost its planted monocytes (binary F1 0.0),
    # so the default keeps the earlier rule (4)
    min_validation_patients: int = 4
    # after a validated fine-tuning: this many more fine-tuning steps on every training patient,
    # the validation ones included (0: none; at most finetune_steps; training._run_refit).
    # Early stopping picks the weights on 20 % of the patients, whom the model never trains
    # on; refitting lets their outcomes in. Development seeds with 140 held-out patients
    # (bench_vs_authors.py --variants, chapter 3), 200 steps against none: held-out C +0.015
    # (95 % CI 0.002 to 0.033, 10 seeds, 40 training patients) and +0.032 (0.009 to 0.051,
    # 5 seeds, 27), macro F1 +0.017 and +0.099, for about 1.4x the wall time; refitting AMICR
    # alone (refit_encoder=False) lowered C with 40 training patients (-0.008)
    refit_steps: int = 200
    # the refit fine-tunes the encoder too (False: only AMICR, on frozen, cached embeddings)
    refit_encoder: bool = True
    eval_every: int = 10
    cache_embeddings: bool | None = None
    grad_clip: float | None = 5.0

    def __post_init__(self) -> None:
        # checked here, so that a bad configuration is refused when it is made
        # (ScSurvival(...) or train(**overrides)), before any cell is read
        if self.feature_flavor not in ("zigvae", "pca"):
            raise ValueError(
                f"feature_flavor must be 'zigvae' or 'pca', got {self.feature_flavor!r}"
            )
        if self.pretrain_steps is None and self.pretrain_epochs is None:
            raise ValueError(
                "pretrain_steps and pretrain_epochs are both None: set at least one "
                "(0 skips pretraining)"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Named configurations.  ``"authors"`` reproduces the published defaults (hidden/latent 128
#: as passed by their ``scSurvivalRun``, 8 heads, 200 pretraining epochs, up to 500
#: fine-tuning epochs that are each ONE full-cohort gradient step, lr 1e-3 with the encoder at
#: 0.1x, AdamW weight decay 0.01, lambda_rec 0.01, lambda_entropy 1.0 on
#: relu(entropy - 0.7), dropout 0.5 in the hazard network, its output clamped to [-10, 10],
#: patience 100 on the training loss).
#: ``"fast"`` (our default) trains on minibatches of patients with subsampled cells.
PRESETS: dict[str, ScSurvivalConfig] = {
    "fast": ScSurvivalConfig(preset="fast"),
    "authors": ScSurvivalConfig(
        preset="authors",
        n_latent=128,
        n_hidden=128,
        n_layers=2,
        scale_input=False,
        n_heads=8,
        head_dim=16,
        proj_dim=16,
        hazard_hidden=64,
        hazard_dropout=0.5,
        pool_norm=False,
        hazard_clamp=10.0,
        lr=1e-3,
        finetune_head_lr_factor=1.0,
        pretrain_epochs=200,
        pretrain_steps=None,
        pretrain_lr=1e-3,
        cell_batch_size=1024,
        amicr_steps=0,
        finetune_steps=500,
        patient_batch_size=None,
        cells_per_patient=None,
        rec_cells_per_step=None,
        validation_fraction=0.0,
        patience=100,
        grad_clip=None,
    ),
}


@dataclass
class _Setup:
    """What ``setup_anndata`` recorded (stored in ``adata.uns`` as a plain dict)."""

    patient_key: str
    time_key: str
    event_key: str
    batch_key: str | None = None
    covariate_keys: list[str] = field(default_factory=list)
    layer: str | None = None
    expression: str = "counts"
