"""ScSurvival's training stages, each run by the one training loop :func:`survlib.train.fit`.

1. **Pretraining** (:func:`_pretrain`): the ZIG-VAE on cell minibatches streamed from the
   AnnData; one ``fit`` with ``max_steps`` = the step budget, no early stopping, "epochs" of
   :data:`PRETRAIN_STEPS_PER_EPOCH` minibatches (for the progress bar), the running loss
   recorded per step through ``on_step``.
2. **AMICR** and 3. **fine-tuning** (:func:`_run_stage`): minibatches of patients
   (:class:`_PatientSampler`) scored by the Cox loss + entropy penalty (+ reconstruction when
   joint, :func:`_batch_loss`). With validation patients, one ``fit`` epoch is ``eval_every``
   steps followed by the validation Cox loss (:func:`_validation_loss`), and the best weights
   are restored; without, one epoch is one step and the monitored value is the exponential
   moving average of the training loss (the authors' rule; the last weights are kept).

:class:`_StageModules` presents AMICR (and, when fine-tuning jointly, the ZIG-VAE) to ``fit``
as one module whose ``train()`` / ``eval()`` set the modes each stage uses.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor, nn

from survlib.models.sc.amicr import AMICR, attention_entropy, entropy_penalty
from survlib.models.sc.config import ScSurvivalConfig
from survlib.models.sc.reader import csr_to_dense_tensor
from survlib.models.sc.state import ModelState
from survlib.models.sc.vae import ZIGVAE
from survlib.survival import cox_partial_likelihood
from survlib.train import fit

#: Pretraining minibatches per ``fit`` epoch (the unit of its progress bar); the running loss
#: is recorded every this many steps too.
PRETRAIN_STEPS_PER_EPOCH = 50
#: Minimum decrease of the monitored loss that counts as an improvement.
MIN_DELTA = 1e-4


# ------------------------------------------------------------------------------- pretraining


def _cell_minibatches(
    model: ModelState, bcodes_t: Tensor | None, rng: np.random.Generator
) -> Iterator[tuple[Tensor, Tensor | None]]:
    """Endless ``(x, batch)`` cell minibatches for pretraining, streamed from the AnnData.

    The cells are visited in blocks: ``stream_blocks`` random contiguous blocks of
    ``stream_block_cells`` cells are read together (contiguous reads are what a backed HDF5
    file does fast), shuffled, and cut into minibatches of ``cell_batch_size`` (a last
    minibatch of one cell is skipped); then the next blocks. One pass over all blocks is an
    epoch of the authors' budget.
    """
    cfg, reader, dev = model.config, model.reader, model.device
    n, bs, block = reader.n_cells, cfg.cell_batch_size, int(cfg.stream_block_cells)
    starts = np.arange(0, n, block)
    while True:
        perm = rng.permutation(starts)
        for g in range(0, perm.size, cfg.stream_blocks):
            chosen = np.sort(perm[g : g + cfg.stream_blocks])
            idx = np.concatenate([np.arange(s, min(s + block, n)) for s in chosen])
            m = sp.vstack([reader.read_slice(int(s), int(min(s + block, n))) for s in chosen])
            x_all = csr_to_dense_tensor(m, dev)
            order = rng.permutation(idx.size)
            for j in range(0, idx.size, bs):
                sel = order[j : j + bs]
                if sel.size < 2:
                    continue
                x = x_all[torch.from_numpy(sel).to(dev)]
                b = bcodes_t[torch.from_numpy(idx[sel])].to(dev) if bcodes_t is not None else None
                yield x, b


def pretrain_budget(cfg: ScSurvivalConfig, n_cells: int) -> int:
    """Pretraining minibatches for ``n_cells`` cells: ``pretrain_steps``, but no more than
    ``pretrain_epochs`` passes over the cells (minibatches of ``cell_batch_size``).

    The fast preset's 2,000 minibatches are the same work whatever the cohort size; its cap of
    100 passes only binds on small cohorts (under 2,560 cells at 128 a batch), where 2,000
    minibatches would be hundreds of passes over the same cells and the VAE fits them too
    closely (chapter 3 measures it).  The authors' preset sets
    ``pretrain_steps`` to None: 200 epochs, work that grows with the cells.
    """
    budgets = []  # not both None: ScSurvivalConfig refuses that when it is made
    if cfg.pretrain_steps is not None:
        budgets.append(int(cfg.pretrain_steps))
    if cfg.pretrain_epochs is not None:
        budgets.append(int(cfg.pretrain_epochs * math.ceil(n_cells / cfg.cell_batch_size)))
    return min(budgets)


def _pretrain(
    model: ModelState,
    vae: ZIGVAE,
    bcodes_t: Tensor | None,
    rng: np.random.Generator,
    progress: bool,
) -> None:
    """ZIG-VAE pretraining on cell minibatches streamed from the AnnData
    (:func:`_cell_minibatches`).

    The budget is :func:`pretrain_budget`: ``pretrain_steps`` minibatches, at most
    ``pretrain_epochs`` passes over the cells (either may be None).
    ``model.history["pretrain"]`` gets the running loss (exponential moving average, weight
    0.02) every :data:`PRETRAIN_STEPS_PER_EPOCH` steps and at the last step.
    """
    cfg = model.config
    total_steps = pretrain_budget(cfg, model.reader.n_cells)
    if total_steps <= 0:
        return
    opt = torch.optim.Adam(vae.parameters(), lr=cfg.pretrain_lr)
    stream = _cell_minibatches(model, bcodes_t, rng)
    running: list[float] = []

    def on_step(step: int, loss: float) -> None:
        running[:] = [loss if not running else 0.98 * running[0] + 0.02 * loss]
        if step % PRETRAIN_STEPS_PER_EPOCH == 0 or step == total_steps:
            model.history["pretrain"].append(running[0])
        model.steps_run["pretrain"] = step

    vae.train()
    fit(
        vae,
        opt,
        lambda epoch: itertools.islice(stream, PRETRAIN_STEPS_PER_EPOCH),
        lambda m, xb: m.loss(xb[0], xb[1], cfg.beta, cfg.tau).mean(),
        max_epochs=math.ceil(total_steps / PRETRAIN_STEPS_PER_EPOCH),
        max_steps=total_steps,
        patience=None,
        restore_best=False,
        progress=progress,
        desc="pretrain",
        model_name="ScSurvival",
        on_step=on_step,
    )
    vae.eval()


# ------------------------------------------------------------------------------- AMICR stages


@dataclass
class _StageData:
    """What the AMICR and fine-tuning stages read.

    Attributes:
        model: the :class:`~survlib.models.sc.ScSurvival` being trained.
        groups: the cell indices of each patient (training patient order).
        bcodes: batch code per cell (CPU), or None.
        time, event, covariates: per-patient tensors on the device (covariates encoded).
        cache: frozen embeddings of every cell (AMICR stage), or None to embed on the fly.
        train_patients: positions of the training patients.
        val_patients: positions of the validation patients (empty: no validation).
        val_cells: the validation patients' cells (a fixed subsample), or None.
        rng: the training run's generator (patient and cell sampling).
        progress: show the progress bar.
    """

    model: ModelState
    groups: list[np.ndarray]
    bcodes: Tensor | None
    time: Tensor
    event: Tensor
    covariates: Tensor | None
    cache: Tensor | None
    train_patients: np.ndarray
    val_patients: np.ndarray
    val_cells: list[np.ndarray] | None
    rng: np.random.Generator
    progress: bool


class _StageModules(nn.Module):
    """AMICR (and the ZIG-VAE when fine-tuning jointly) as one module for :func:`fit`.

    ``train(True)`` puts AMICR in training mode and the cell features in training mode only
    when ``joint`` (frozen features stay in eval mode); ``train(False)`` / ``eval()`` put both
    in eval mode. The jointly trained ZIG-VAE is registered as ``vae`` (so a non-finite error
    names its parameters ``vae.<name>``, AMICR's ``amicr.<name>``); frozen features are not
    part of the module's parameters or state.
    """

    def __init__(self, amicr: AMICR, features: nn.Module, joint: bool) -> None:
        super().__init__()
        self.amicr = amicr
        if joint:
            self.vae = features
        self._features = [features]  # a list: not registered as a submodule
        self.joint = joint

    def train(self, mode: bool = True) -> _StageModules:
        self.training = mode
        self.amicr.train(mode)
        self._features[0].train(mode and self.joint)
        return self


class _PatientSampler:
    """Minibatches of training patients: a random permutation cut into consecutive batches of
    ``batch_size`` (sorted), redrawn when fewer than ``batch_size`` patients are left."""

    def __init__(self, rng: np.random.Generator, patients: np.ndarray, batch_size: int) -> None:
        self.rng, self.patients, self.batch_size = rng, patients, batch_size
        self.perm, self.pos = rng.permutation(patients), 0

    def batches(self, n: int) -> Iterator[np.ndarray]:
        """The next ``n`` minibatches (drawn lazily, one at a time)."""
        for _ in range(n):
            if self.pos + self.batch_size > self.patients.size:
                self.perm, self.pos = self.rng.permutation(self.patients), 0
            pidx = np.sort(self.perm[self.pos : self.pos + self.batch_size])
            self.pos += self.batch_size
            yield pidx


def _pad(z: Tensor, sizes: list[int]) -> tuple[Tensor, Tensor]:
    """Flat ``[sum(sizes), D]`` -> padded ``[B, max(sizes), D]`` and mask ``[B, max]``."""
    B, N = len(sizes), max(sizes)
    dev = z.device
    rows = torch.repeat_interleave(torch.arange(B, device=dev), torch.tensor(sizes, device=dev))
    starts = torch.tensor(np.concatenate([[0], np.cumsum(sizes)[:-1]]), device=dev)
    cols = torch.arange(z.shape[0], device=dev) - starts[rows]
    out = z.new_zeros(B, N, z.shape[-1])
    out[rows, cols] = z
    mask = torch.zeros(B, N, dtype=torch.bool, device=dev)
    mask[rows, cols] = True
    return out, mask


def _batch_loss(data: _StageData, pidx: np.ndarray, joint: bool) -> Tensor:
    r"""Loss of one minibatch of patients ``pidx``:
    :math:`\text{Cox} + \lambda_\text{ent}\,\text{penalty} + \lambda_\text{rec}\,\text{ZIG-VAE}`.

    Each patient contributes ``cells_per_patient`` cells sampled without replacement (all when
    None). Joint: the encoder runs with gradients and the ZIG-VAE loss is taken on
    ``rec_cells_per_step`` of the cells; otherwise the embeddings are frozen (cached or
    recomputed without gradients). A batch without events has a zero Cox term.
    """
    model, cfg, rng = data.model, data.model.config, data.rng
    dev = data.time.device
    cells = []
    for p in pidx:
        g = data.groups[p]
        k = g.size if cfg.cells_per_patient is None else min(g.size, cfg.cells_per_patient)
        cells.append(g if k == g.size else rng.choice(g, k, replace=False))
    sizes = [c.size for c in cells]
    flat = np.concatenate(cells)
    b = data.bcodes[flat].to(dev) if data.bcodes is not None else None
    assert model.features is not None and model.amicr is not None
    rec = torch.zeros((), device=dev)
    if not joint and data.cache is not None:
        mu = data.cache[torch.from_numpy(flat).to(dev)]
    else:
        x = model.reader.read(flat, dev)
        if joint and isinstance(model.features, ZIGVAE):
            mu, logvar = model.features.encode(x, b)
            n_rec = (
                flat.size
                if cfg.rec_cells_per_step is None
                else min(flat.size, cfg.rec_cells_per_step)
            )
            r = torch.from_numpy(rng.choice(flat.size, n_rec, replace=False)).to(dev)
            rec = model.features.loss(
                x[r], None if b is None else b[r], cfg.beta, cfg.tau, mu[r], logvar[r]
            ).mean()
        else:
            with torch.no_grad():
                mu = model._embed(x, b)
    zp, mask = _pad(mu, sizes)
    pt = torch.as_tensor(pidx, device=dev)
    risk, w = model.amicr(zp, mask, None if data.covariates is None else data.covariates[pt])
    ev = data.event[pt]
    cox = (
        cox_partial_likelihood(risk, data.time[pt], ev, ties=cfg.cox_ties)
        if ev.sum() > 0
        else risk.sum() * 0.0
    )
    ent = attention_entropy(w, mask)
    pen = entropy_penalty(ent, cfg.entropy_threshold)
    return cox + cfg.lambda_entropy * pen + cfg.lambda_rec * rec


def _validation_loss(data: _StageData, joint: bool) -> float:
    """Cox loss of the validation patients on their fixed cells (called by :func:`fit` in eval
    mode, without gradients)."""
    model, cfg = data.model, data.model.config
    assert data.val_cells is not None and model.amicr is not None and model.features is not None
    dev = data.time.device
    flat = np.concatenate(data.val_cells)
    if not joint and data.cache is not None:
        mu = data.cache[torch.from_numpy(flat).to(dev)]
    else:
        b = data.bcodes[flat].to(dev) if data.bcodes is not None else None
        mu = model._embed(model.reader.read(flat, dev), b)
    zp, mask = _pad(mu, [c.size for c in data.val_cells])
    pt = torch.as_tensor(data.val_patients, device=dev)
    risk, _ = model.amicr(zp, mask, None if data.covariates is None else data.covariates[pt])
    return float(cox_partial_likelihood(risk, data.time[pt], data.event[pt], ties=cfg.cox_ties))


def _stopping(cfg: ScSurvivalConfig, steps: int, steps_per_epoch: int) -> tuple[int, int | None]:
    """``fit``'s ``max_epochs`` and ``patience`` for a stage of ``steps`` steps.

    ``cfg.patience`` counts steps: each non-improving evaluation adds ``steps_per_epoch`` to
    the steps without improvement, and training stops when they reach ``cfg.patience``, i.e.
    after :math:`\\lceil \\text{patience} / \\text{steps\\_per\\_epoch} \\rceil` non-improving
    epochs. ``patience <= 0`` stops after the first evaluation.
    """
    max_epochs = math.ceil(steps / steps_per_epoch)
    if cfg.patience is None:
        return max_epochs, None
    if cfg.patience <= 0:
        return 1, None
    return max_epochs, math.ceil(cfg.patience / steps_per_epoch)


def _run_stage(data: _StageData, name: str, steps: int, joint: bool) -> None:
    """Train AMICR (``joint``: and the ZIG-VAE encoder) for up to ``steps`` steps with AdamW.

    Records the per-step loss in ``model.history[name]``, the validation losses in
    ``model.history[name + "_val"]`` and the steps run in ``model.steps_run[name]``; leaves
    AMICR and the features in eval mode.
    """
    model, cfg = data.model, data.model.config
    assert model.amicr is not None and model.features is not None
    if steps <= 0:
        return
    joint = joint and isinstance(model.features, ZIGVAE)
    head_lr = cfg.lr * (cfg.finetune_head_lr_factor if joint else 1.0)
    groups_params = [{"params": list(model.amicr.parameters()), "lr": head_lr}]
    if joint:
        groups_params.append(
            {"params": list(model.features.parameters()), "lr": cfg.lr * cfg.encoder_lr_factor}
        )
    opt = torch.optim.AdamW(groups_params, weight_decay=cfg.weight_decay)
    n_tr = data.train_patients.size
    bs = n_tr if cfg.patient_batch_size is None else min(cfg.patient_batch_size, n_tr)
    sampler = _PatientSampler(data.rng, data.train_patients, bs)
    validate = data.val_cells is not None
    per_epoch = cfg.eval_every if validate else 1
    history = model.history.setdefault(name, [])
    hist_val = model.history.setdefault(name + "_val", [])
    smooth: list[float] = []

    def on_step(step: int, loss: float) -> None:
        history.append(loss)
        if not validate:
            smooth[:] = [loss if not smooth else 0.9 * smooth[0] + 0.1 * loss]

    def monitored(_: nn.Module) -> float:
        if not validate:
            return smooth[0]
        value = _validation_loss(data, joint)
        hist_val.append(value)
        return value

    max_epochs, patience = _stopping(cfg, steps, per_epoch)
    fit(
        _StageModules(model.amicr, model.features, joint),
        opt,
        lambda epoch: sampler.batches(per_epoch),
        lambda m, pidx: _batch_loss(data, pidx, joint),
        val_loss=monitored,
        max_epochs=max_epochs,
        max_steps=steps,
        patience=patience,
        min_delta=MIN_DELTA,
        grad_clip=cfg.grad_clip or None,
        progress=data.progress,
        desc=name,
        restore_best=validate,
        model_name="ScSurvival",
        on_step=on_step,
    )
    model.steps_run[name] = len(history)
    model.amicr.eval()
    model.features.eval()


def _run_refit(data: _StageData, steps: int, joint: bool) -> None:
    """After a validated fine-tuning, ``steps`` more fine-tuning steps on every training
    patient, the validation patients included (``cfg.refit_steps``, recorded as stage
    ``"refit"``). Early stopping chose the weights on patients the model never saw; this lets
    those patients' outcomes reach the weights too. Nothing runs without a validation split
    (every patient was already trained on) or with ``steps <= 0``. The training-loss patience
    rule applies, as in any stage without validation. The refit takes at most as many steps
    as the fine-tuning budget (``cfg.finetune_steps``) and none after a fine-tuning that did
    not run.
    """
    steps = min(steps, data.model.config.finetune_steps)
    if steps <= 0 or data.val_cells is None or not data.model.steps_run.get("finetune"):
        return
    every = np.arange(len(data.groups))
    _run_stage(
        replace(data, train_patients=every, val_patients=every[:0], val_cells=None),
        "refit",
        steps,
        joint,
    )


def _split_validation(
    cfg: ScSurvivalConfig, events: np.ndarray, groups: list[np.ndarray], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray] | None]:
    """Patients held out for early stopping (stratified by event), never trained on.

    A share ``validation_fraction`` of each event group is held out when that makes at least
    ``min_validation_patients`` (and at least 4) validation patients, leaves at least 4 for
    training and holds 2 validation events; each validation patient keeps a fixed
    subsample of ``cells_per_patient`` cells. Returns ``(train, validation, validation cells)``
    (positions; no validation: an empty array and None).
    """
    n_pat = events.size
    train_pat, val_pat = np.arange(n_pat), np.zeros(0, dtype=np.int64)
    if cfg.validation_fraction > 0:
        n_val = int(round(cfg.validation_fraction * n_pat))
        if n_val >= max(4, cfg.min_validation_patients) and n_pat - n_val >= 4:
            val_parts = []
            for e in (0, 1):
                ids = rng.permutation(np.flatnonzero(events == e))
                val_parts.append(ids[: int(round(cfg.validation_fraction * ids.size))])
            val_pat = np.sort(np.concatenate(val_parts))
            if events[val_pat].sum() < 2:
                val_pat = np.zeros(0, dtype=np.int64)
            train_pat = np.setdiff1d(np.arange(n_pat), val_pat)
    val_cells = None
    if val_pat.size:
        k = cfg.cells_per_patient
        val_cells = [
            groups[p]
            if k is None or groups[p].size <= k
            else np.sort(rng.choice(groups[p], k, replace=False))
            for p in val_pat
        ]
    return train_pat, val_pat, val_cells


def _stage_data(
    model: ModelState,
    patients: Any,
    groups: list[np.ndarray],
    bcodes: np.ndarray | None,
    cache: Tensor | None,
    rng: np.random.Generator,
    progress: bool,
) -> _StageData:
    """The per-patient tensors on the model's device, the validation split
    (:func:`_split_validation`, drawn from ``rng``) and the cells, for :func:`_run_stage`."""
    dev = model.device
    table = model.patients.loc[patients]
    time_t = torch.tensor(table["time"].to_numpy(), dtype=torch.float32, device=dev)
    event_t = torch.tensor(table["event"].to_numpy(), dtype=torch.float32, device=dev)
    cov_t = None
    if model.covariates is not None:
        cov_t = torch.tensor(model.covariates.transform(table), dtype=torch.float32, device=dev)
    train_pat, val_pat, val_cells = _split_validation(
        model.config, table["event"].to_numpy(), groups, rng
    )
    bcodes_t = torch.from_numpy(bcodes) if bcodes is not None else None
    return _StageData(
        model,
        groups,
        bcodes_t,
        time_t,
        event_t,
        cov_t,
        cache,
        train_pat,
        val_pat,
        val_cells,
        rng,
        progress,
    )
