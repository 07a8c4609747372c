"""Training of AMKD's teacher and student through the one loop, :func:`survlib.train.fit`
(mini-batches with events, early stopping on the validation Cox loss), and risk prediction."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from survlib.models.blocks import SurvivalBatch
from survlib.models.calling import model_inputs
from survlib.models.distill.config import AMKDConfig
from survlib.models.distill.losses import amkd_losses
from survlib.models.distill.networks import AMKDStudent, TeacherOutput
from survlib.survival import cox_partial_likelihood
from survlib.train import fit

__all__ = [
    "FitSummary",
    "cox_batches",
    "fit_student",
    "fit_teacher",
    "teacher_targets",
]


def cox_batches(
    idx: np.ndarray, event: np.ndarray, batch_size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Shuffle ``idx`` into mini-batches of about ``batch_size``, each with >= 1 event.

    A batch without an event (where the Cox partial likelihood is undefined) is merged into
    the previous batch; if the whole set has no event a ``ValueError`` is raised.
    """
    idx = np.asarray(idx)
    if not np.asarray(event)[idx].any():
        raise ValueError("cox_batches: no observed event among these patients")
    perm = rng.permutation(idx)
    n_batches = max(1, int(round(len(perm) / max(1, int(batch_size)))))
    out: list[np.ndarray] = []
    for chunk in np.array_split(perm, n_batches):
        if out and not np.asarray(event)[chunk].any():
            out[-1] = np.concatenate([out[-1], chunk])
        else:
            out.append(chunk)
    if not np.asarray(event)[out[0]].any():  # first chunk event-free: merge into the next
        out[1] = np.concatenate([out[0], out[1]])
        out = out[1:]
    return out


def _trim(batch: SurvivalBatch) -> SurvivalBatch:
    """Drop the padding columns that no patient of the batch uses (smaller attention)."""
    if batch.patch_mask is None:
        return batch
    n = int(batch.patch_mask.sum(dim=1).max())
    if n == batch.patch_mask.shape[1]:
        return batch
    return replace(batch, patches=batch.patches[:, :n], patch_mask=batch.patch_mask[:, :n])


@dataclass
class FitSummary:
    """History and timing of :func:`fit_teacher` / :func:`fit_student`."""

    history: pd.DataFrame
    best_epoch: int
    seconds: float
    components: pd.DataFrame = field(default_factory=pd.DataFrame)


def fit_teacher(
    teacher: nn.Module,
    data: SurvivalBatch,
    train_idx: np.ndarray,
    val_idx: np.ndarray,
    lr: float = 1e-3,
    weight_decay: float = 1e-5,
    batch_size: int = 32,
    max_epochs: int = 60,
    patience: int = 10,
    seed: int = 0,
    progress: bool = False,
) -> FitSummary:
    """Train a teacher (or any Cox model with ``inputs``) on the Cox partial likelihood.

    Mini-batches from :func:`cox_batches`; early stopping on the validation Cox loss via
    :func:`survlib.train.fit` (the best weights are restored). The test patients are never
    seen here.
    """
    rng = np.random.default_rng(seed)
    ev = data.event.cpu().numpy()
    opt = torch.optim.Adam(teacher.parameters(), lr=lr, weight_decay=weight_decay)
    val = _trim(data.index(val_idx))

    def batches(epoch: int) -> Iterator[SurvivalBatch]:
        for b in cox_batches(train_idx, ev, batch_size, rng):
            yield _trim(data.index(b))

    def loss_fn(m: nn.Module, b: SurvivalBatch) -> torch.Tensor:
        o = m(*model_inputs(m, b))
        r = o.risk if hasattr(o, "risk") else o.reshape(-1)
        return cox_partial_likelihood(r, b.time, b.event)

    res = fit(
        teacher,
        opt,
        batches,
        loss_fn,
        val_loss=lambda m: float(loss_fn(m, val)),
        max_epochs=max_epochs,
        patience=patience,
        grad_clip=5.0,
        progress=progress,
        desc="teacher",
    )
    teacher.eval()
    return FitSummary(res.history, res.best_epoch, res.seconds)


def teacher_targets(
    teacher: nn.Module, data: SurvivalBatch, idx: np.ndarray, batch_size: int = 128
) -> TeacherOutput:
    """The frozen teacher's risks and :math:`h^t_{g2p}` for the patients ``idx`` (eval, no
    grad), padded to the data's ``N``: computed once, reused every student epoch."""
    teacher.eval()
    risks, feats = [], []
    n_max = data.patches.shape[1]
    with torch.no_grad():
        for start in range(0, len(idx), batch_size):
            b = data.index(idx[start : start + batch_size])
            o = teacher(*model_inputs(teacher, b))
            risks.append(o.risk.reshape(-1))
            feats.append(F.pad(o.g2p, (0, 0, 0, n_max - o.g2p.shape[1])))
    return TeacherOutput(risk=torch.cat(risks), g2p=torch.cat(feats))


def fit_student(
    student: AMKDStudent,
    teacher: nn.Module,
    data: SurvivalBatch,
    train_idx: np.ndarray,
    val_idx: np.ndarray,
    config: AMKDConfig | None = None,
    seed: int = 0,
    progress: bool = False,
) -> FitSummary:
    r"""Train the student with the AMKD objective against a frozen teacher.

    The teacher is put in eval mode and its parameters get ``requires_grad = False``; its
    outputs on the training patients are computed once (:func:`teacher_targets`). Each step
    minimises :func:`amkd_losses`' ``total`` on a mini-batch; early stopping monitors the
    student's **Cox loss on the validation patients** (survival only: the distillation terms
    are training signals, not the model-selection criterion). The student's forward receives
    ``(patches, patch_mask)`` only; genomics enter solely through the teacher's targets.

    Returns:
        A :class:`FitSummary` whose ``components`` holds the mean of every loss term per epoch.
    """
    cfg = config or AMKDConfig()
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    train_idx = np.asarray(train_idx)
    targets = teacher_targets(teacher, data, train_idx)
    pos = {int(i): k for k, i in enumerate(train_idx)}
    rng = np.random.default_rng(seed)
    ev = data.event.cpu().numpy()
    opt = torch.optim.Adam(student.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    val = _trim(data.index(val_idx))
    comp_rows: list[dict[str, float]] = []
    epoch_box = {"epoch": 0}

    def batches(epoch: int) -> Iterator[tuple[SurvivalBatch, TeacherOutput]]:
        epoch_box["epoch"] = epoch
        for b in cox_batches(train_idx, ev, cfg.batch_size, rng):
            rows = torch.as_tensor([pos[int(i)] for i in b], device=targets.risk.device)
            batch = _trim(data.index(b))
            n = batch.patches.shape[1]
            yield batch, TeacherOutput(risk=targets.risk[rows], g2p=targets.g2p[rows, :n])

    warm_cfg = replace(cfg, alpha=1.0)

    def loss_fn(m: nn.Module, item: tuple[SurvivalBatch, TeacherOutput]) -> torch.Tensor:
        batch, t_out = item
        step_cfg = warm_cfg if epoch_box["epoch"] < cfg.arr_warmup else cfg
        losses = amkd_losses(
            m(batch.patches, batch.patch_mask),
            t_out,
            batch.time,
            batch.event,
            batch.patch_mask,
            step_cfg,
        )
        comp_rows.append({"epoch": epoch_box["epoch"] + 1, **losses.as_dict()})
        return losses.total

    def val_loss(m: nn.Module) -> float:
        return float(
            cox_partial_likelihood(m(val.patches, val.patch_mask).risk, val.time, val.event)
        )

    res = fit(
        student,
        opt,
        batches,
        loss_fn,
        val_loss=val_loss,
        max_epochs=cfg.max_epochs,
        patience=cfg.patience,
        grad_clip=cfg.grad_clip,
        progress=progress,
        desc="student",
    )
    student.eval()
    comps = (
        pd.DataFrame(comp_rows).groupby("epoch").mean().reset_index()
        if comp_rows
        else pd.DataFrame()
    )
    return FitSummary(res.history, res.best_epoch, res.seconds, comps)
