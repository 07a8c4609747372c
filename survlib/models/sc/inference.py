"""ScSurvival's prediction pass: every cell streamed once (embeddings, per-cell attention and
hazard scores) and every patient's risk pooled over all its cells with an online softmax, so
memory depends neither on the number of cells nor on the cells per patient."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from survlib._core.finite import require_finite
from survlib._core.validation import require_columns
from survlib.models.sc.cohort import _validate_cohort
from survlib.models.sc.reader import CellReader, _raw_matrix_checks, csr_to_dense_tensor
from survlib.models.sc.state import ModelState
from survlib.models.sc.vae import ZIGVAE


@dataclass
class _Streamed:
    """What :func:`_stream_cells` returns: the per-patient online-softmax accumulators (running
    max ``run_max``, normaliser ``run_sum`` and weighted sum of projections ``run_vec``, per
    patient and head) and the per-cell outputs."""

    run_max: Tensor
    run_sum: Tensor
    run_vec: Tensor
    attention: np.ndarray
    hazard: np.ndarray
    cell_hazard: np.ndarray
    logits: np.ndarray
    latent: np.ndarray | None


def _stream_cells(
    model: ModelState,
    reader: CellReader,
    codes: np.ndarray,
    n_patients: int,
    bcodes: np.ndarray | None,
    write: bool,
    chunk_size: int,
) -> _Streamed:
    """One pass over the cells of ``reader`` in chunks: embed, score, and merge each chunk into
    the per-patient online softmax (running max ``m``, normaliser ``s = sum exp(logit - m)`` and
    weighted sum of projected embeddings)."""
    assert model.features is not None and model.amicr is not None
    dev = model.device or torch.device("cpu")
    n_obs = reader.n_cells
    P, H, Pd = n_patients, model.amicr.n_heads, model.amicr.proj_dim
    run_max = torch.full((P, H), float("-inf"), device=dev)
    run_sum = torch.zeros(P, H, device=dev)
    run_vec = torch.zeros(P, H, Pd, device=dev)
    n_out = (
        model.config.n_latent
        if isinstance(model.features, ZIGVAE)
        else int(model.features.components.shape[1])
    )
    latent = np.zeros((n_obs, n_out), dtype=np.float32) if write else None
    attention = np.zeros(n_obs, dtype=np.float32)
    hazard = np.zeros(n_obs, dtype=np.float32)
    cell_hazard = np.zeros(n_obs, dtype=np.float32)
    logits_all = np.zeros((n_obs, H), dtype=np.float32)
    model.features.eval()
    model.amicr.eval()
    for start, stop, rows in reader.iter_slices(chunk_size):
        x = csr_to_dense_tensor(rows, dev)
        b = torch.from_numpy(bcodes[start:stop]).to(dev) if bcodes is not None else None
        z = model._embed(x, b)
        require_finite(z, f"cell embeddings of cells {start}-{stop - 1}", "ScSurvival.predict_risk")
        scores = model.amicr.cell_scores(z, reference=model.cell_reference_)
        logits = scores["logits"]
        proj = model.amicr.project(z)  # [n, H, Pd]
        pc = torch.from_numpy(codes[start:stop]).to(dev)
        cmax = torch.full((P, H), float("-inf"), device=dev).scatter_reduce(
            0, pc[:, None].expand(-1, H), logits, reduce="amax", include_self=True
        )
        new_max = torch.maximum(run_max, cmax)
        safe = torch.where(torch.isinf(new_max), torch.zeros_like(new_max), new_max)
        scale_old = torch.exp(run_max - safe).nan_to_num(0.0)
        e = torch.exp(logits - safe[pc])  # [n, H]
        run_sum = run_sum * scale_old + torch.zeros_like(run_sum).index_add_(0, pc, e)
        run_vec = run_vec * scale_old.unsqueeze(-1) + torch.zeros_like(run_vec).index_add_(
            0, pc, e.unsqueeze(-1) * proj
        )
        run_max = new_max
        attention[start:stop] = scores["attention"].cpu().numpy()
        hazard[start:stop] = scores["hazard_score"].cpu().numpy()
        cell_hazard[start:stop] = scores["cell_hazard"].cpu().numpy()
        logits_all[start:stop] = logits.cpu().numpy()
        if latent is not None:
            latent[start:stop] = z.cpu().numpy()
    return _Streamed(run_max, run_sum, run_vec, attention, hazard, cell_hazard, logits_all, latent)


@torch.no_grad()
def _patient_pass(
    model: ModelState,
    adata: Any,
    with_covariates: bool = True,
    write: bool = False,
    chunk_size: int = 8192,
) -> dict[str, Any]:
    """Stream all cells once: embeddings, per-cell scores and per-patient risk.

    Patient pooling uses every cell with an online (streaming) softmax per patient and head
    (:func:`_stream_cells`), merged chunk by chunk, so memory does not depend on the cells per
    patient. With ``write``, ``obsm["X_zigvae"]`` (``"X_pca_features"``) and ``obs``
    ``attention``, ``hazard_score``, ``cell_hazard`` and ``relative_attention`` are written.
    """
    if not model.is_trained or model.features is None or model.amicr is None:
        raise RuntimeError("train the model first (model.train())")
    order = model._gene_order(adata)
    setup = model.setup
    need = (
        [setup.patient_key]
        + ([setup.batch_key] if model.batches else [])
        + list(setup.covariate_keys if with_covariates else [])
    )
    require_columns(adata.obs, need, where="adata.obs")
    dev = model.device or torch.device("cpu")
    if adata is model.adata:
        reader = model.reader
    else:
        layer = None if getattr(adata, "isbacked", False) else setup.layer
        reader = CellReader(adata, layer, setup.expression, gene_order=order)  # type: ignore[arg-type]
        _raw_matrix_checks(reader)
    codes, patients, bcodes = model._index(adata)
    P = len(patients)
    s = _stream_cells(model, reader, codes, P, bcodes, write, chunk_size)
    lse = (s.run_max + torch.log(s.run_sum.clamp(min=1e-30))).cpu().numpy()  # [P, H]
    n_per = np.bincount(codes, minlength=P).astype(np.float32)
    rel_attention = (np.exp(s.logits - lse[codes]) * n_per[codes, None]).max(axis=1)
    pooled = (s.run_vec / s.run_sum.clamp(min=1e-30).unsqueeze(-1)).flatten(1)
    risk = model.amicr.hazard_without_covariates(pooled)
    if with_covariates and model.covariates is not None and model.amicr.covariate is not None:
        table = _validate_cohort(
            adata, replace(setup, covariate_keys=setup.covariate_keys), need_survival=False
        )
        cov = torch.tensor(
            model.covariates.transform(table.loc[patients]), dtype=torch.float32, device=dev
        )
        risk = risk + model.amicr.covariate(cov).squeeze(-1)
    require_finite(risk, "patient risks", "ScSurvival.predict_risk")
    require_finite(s.hazard, "per-cell hazard scores", "ScSurvival.predict_risk")
    out = pd.DataFrame(
        {"risk": risk.cpu().numpy(), "n_cells": np.bincount(codes, minlength=P)},
        index=pd.Index(patients, name=setup.patient_key),
    )
    if write:
        key = "X_zigvae" if isinstance(model.features, ZIGVAE) else "X_pca_features"
        adata.obsm[key] = s.latent
        adata.obs["attention"] = s.attention
        adata.obs["hazard_score"] = s.hazard
        adata.obs["cell_hazard"] = s.cell_hazard
        adata.obs["relative_attention"] = rel_attention
    return {
        "risk": out["risk"],
        "table": out,
        "attention": s.attention,
        "hazard_score": s.hazard,
        "cell_hazard": s.cell_hazard,
    }
