"""Sampling primitives shared by the single-cell simulators (:mod:`~survlib.data.sc.simulate`,
:mod:`~survlib.data.sc.pbmc`): per-patient draws, survival times with tuned censoring,
zero-inflated negative-binomial counts, the per-patient truth table and ``.h5ad`` streaming.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

_GROUPS = ("neutral", "higher", "lower")  # state codes 0, 1, 2


def _patient_truth(
    patient_id: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    true_risk: np.ndarray,
    frac_higher: np.ndarray,
    frac_lower: np.ndarray,
    batch: np.ndarray,
    age: np.ndarray,
    n_cells: np.ndarray,
) -> pd.DataFrame:
    """The per-patient ground truth stored in ``uns["patients"]`` (one row per patient)."""
    return pd.DataFrame(
        {
            "patient_id": patient_id,
            "time": time,
            "event": event,
            "true_risk": true_risk,
            "frac_higher": frac_higher,
            "frac_lower": frac_lower,
            "batch": batch,
            "age": age,
            "n_cells": n_cells,
        },
        index=pd.Index(patient_id),
    )


def _check_range(name: str, value: float, lo: float | None, hi: float | None) -> None:
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{name}={value!r} is out of range [{lo}, {hi}]")


def _draw_patients(
    rng: np.random.Generator,
    n_patients: int,
    risk_fraction: float,
    cells_per_patient: int,
    cells_per_patient_sd: float,
    min_cells: int,
    n_batches: int,
    lower: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Per-patient design shares, cell counts, batches and ages.

    Patient :math:`i` draws :math:`u_i \sim U(0, 1)`: higher-risk share :math:`\rho(0.2 +
    1.6u_i)` and (with ``lower``) lower-risk share :math:`\rho(0.2 + 1.6(1-u_i))`, else 0;
    cells :math:`\max(m, \mathrm{round}(n\,e^{\sigma Z - \sigma^2/2}))`; a balanced random
    batch; age :math:`N(60, 10^2)` clipped to 30-90 years. Returns ``(share_high, share_low,
    n_cells, batch_of_patient, age)``.
    """
    u = rng.random(n_patients)
    share_high = risk_fraction * (0.2 + 1.6 * u)
    share_low = risk_fraction * (0.2 + 1.6 * (1.0 - u)) if lower else np.zeros(n_patients)
    sd = float(cells_per_patient_sd)
    n_cells = np.round(cells_per_patient * np.exp(sd * rng.standard_normal(n_patients) - sd**2 / 2))
    n_cells = np.maximum(n_cells, min_cells).astype(np.int64)
    batch_of_patient = rng.permutation(np.arange(n_patients) % n_batches)
    age = np.clip(rng.normal(60.0, 10.0, size=n_patients), 30.0, 90.0)
    return share_high, share_low, n_cells, batch_of_patient, age


def _survival_times(
    rng: np.random.Generator,
    eta: np.ndarray,
    median_survival: float,
    weibull_shape: float,
    censoring_rate: float,
    max_follow_up: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Weibull proportional-hazards times with tuned exponential + administrative censoring.

    :math:`T_i = \lambda (E_i e^{-\eta_i})^{1/k}`, :math:`E_i \sim \mathrm{Exp}(1)`, which has
    :math:`S_i(t) = \exp(-(t/\lambda)^k e^{\eta_i})`; :math:`\lambda` puts the median at
    ``median_survival`` for :math:`\eta = 0`. Returns ``(time, event)`` (months, 1 = death).
    """
    n = eta.shape[0]
    scale = median_survival / np.log(2.0) ** (1.0 / weibull_shape)
    t_event = scale * (rng.exponential(size=n) * np.exp(-eta)) ** (1.0 / weibull_shape)
    e_cens = rng.exponential(size=n)
    cens_rate = _tune_censoring(t_event, e_cens, censoring_rate, max_follow_up)
    t_cens = e_cens / cens_rate if cens_rate > 0 else np.full(n, np.inf)
    if max_follow_up is not None:
        t_cens = np.minimum(t_cens, max_follow_up)
    event = (t_event <= t_cens).astype(np.int64)
    time = np.minimum(t_event, t_cens)
    if event.sum() == 0:  # keep the cohort usable by survival models
        j = int(np.argmin(t_event))
        event[j], time[j] = 1, t_event[j]
    return time, event


def _ordered_survival_times(
    rng: np.random.Generator, eta: np.ndarray, censoring_rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """The authors' survival design: death at month = rank of the risk (highest risk first);
    each patient is censored with probability ``censoring_rate`` at a uniform time before it.
    Returns ``(time, event)`` (months, 1 = death)."""
    n = eta.shape[0]
    t_event = np.empty(n)
    t_event[np.argsort(-eta, kind="stable")] = np.arange(1, n + 1, dtype=float)
    censored = rng.random(n) < censoring_rate
    time = np.where(censored, rng.uniform(0.0, 1.0, size=n) * t_event, t_event)
    event = (~censored).astype(np.int64)
    if event.sum() == 0:  # keep the cohort usable by survival models
        j = int(np.argmax(eta))
        event[j], time[j] = 1, t_event[j]
    return time, event


def _tune_censoring(
    t_event: np.ndarray, e_cens: np.ndarray, target: float, max_follow_up: float | None
) -> float:
    """Rate of exponential censoring whose realised censored fraction is closest to ``target``.

    The censored fraction :math:`\\frac1n\\sum_i 1[\\min(E_i/\\text{rate}, T_{\\max}) < T_i]` grows
    with the rate, so a bisection on the log-rate finds it; 0 means no random censoring.
    """
    admin = (
        np.full_like(t_event, np.inf)
        if max_follow_up is None
        else np.full_like(t_event, max_follow_up)
    )

    def frac(rate: float) -> float:
        return float(np.mean(np.minimum(e_cens / rate, admin) < t_event))

    if target <= 0 or np.mean(admin < t_event) >= target:
        return 0.0
    lo, hi = -20.0, 20.0  # log-rate bounds
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if frac(float(np.exp(mid))) < target:
            lo = mid
        else:
            hi = mid
    best = min((lo, hi), key=lambda x: abs(frac(float(np.exp(x))) - target))
    return float(np.exp(best))


def _zinb_chunk(
    rng: np.random.Generator,
    combo: np.ndarray,
    mu_tab: np.ndarray,
    f0_tab: np.ndarray,
    pi_tab: np.ndarray,
    r_g: np.ndarray,
    mu_switch: float = 10.0,
) -> sp.csr_matrix:
    r"""Zero-inflated NB counts for one chunk of cells, by inverse-CDF sampling.

    Cells share a small number of (expression profile, library-size grid point) combinations
    ``combo``; ``mu_tab[combo]`` holds their means :math:`\mu`, ``f0_tab[combo]`` their ZINB
    zero probability :math:`\pi + (1-\pi)(1 + \mu/r)^{-r}` and ``pi_tab[combo]`` the dropout
    :math:`\pi`. One uniform :math:`U` per entry; with :math:`F(k) = \pi + (1 - \pi)F_{NB}(k)`
    the ZINB distribution function, :math:`X = \min\{k: F(k) \ge U\}`. Zeros (most entries)
    cost one table look-up and one comparison; the non-zeros walk up the NB recursion
    :math:`p_k = p_{k-1}\frac{k-1+r}{k}\frac{\mu}{r+\mu}`. Entries with
    :math:`\mu >` ``mu_switch`` are drawn directly as gamma-Poisson mixtures (with the same
    dropout decided by :math:`U < \pi`).
    """
    n, g = combo.shape[0], mu_tab.shape[1]
    u = rng.random((n, g), dtype=np.float32)
    keep = u > f0_tab[combo]
    per_row = np.count_nonzero(keep, axis=1)
    flat = np.flatnonzero(keep)
    del keep
    rows = np.repeat(np.arange(n), per_row)
    cols = flat - rows * g
    tab_flat = combo[rows] * g + cols  # position in the (combo, gene) tables
    mu_f = mu_tab.ravel()[tab_flat].astype(np.float64)
    u_f = u.ravel()[flat].astype(np.float64)
    del u, flat
    pi_f = pi_tab.ravel()[tab_flat].astype(np.float64)
    r_f = r_g[cols]
    values = np.zeros(cols.size, dtype=np.float32)
    is_big = mu_f > mu_switch

    # Large means: an entry kept above has U > F(0), so its value is NB conditioned on >= 1;
    # draw gamma-Poisson and redraw the (rare) zeros.
    jb = np.flatnonzero(is_big)
    if jb.size:
        todo = jb
        for _ in range(100):
            lam = mu_f[todo] * rng.standard_gamma(r_f[todo]) / r_f[todo]
            draw = rng.poisson(lam)
            values[todo] = draw
            todo = todo[draw == 0]
            if not todo.size:
                break

    # inverse CDF for the rest (all known to be >= 1; most are exactly 1)
    js = np.flatnonzero(~is_big)
    if js.size:
        m, r, uu, pz = mu_f[js], r_f[js], u_f[js], pi_f[js]
        f0 = f0_tab.ravel()[tab_flat[js]].astype(np.float64)
        q = m / (r + m)
        pk = (f0 - pz) / (1.0 - pz) * r * q  # NB p_1 = p_0 r q
        cdf = f0 + (1.0 - pz) * pk
        values[js] = 1
        more = np.flatnonzero(cdf < uu)
        pk, cdf, r, q, uu, pz, idx = (a[more] for a in (pk, cdf, r, q, uu, pz, js))
        alive = np.ones(idx.size, dtype=bool)
        n_alive = idx.size
        k = 1
        while n_alive and k < 5000:
            k += 1
            pk *= (k - 1 + r) / k * q
            cdf += (1.0 - pz) * pk
            done = alive & (cdf >= uu)
            values[idx[done]] = k
            alive &= ~done
            n_alive = int(alive.sum())
            if n_alive < 0.5 * alive.size:  # compact the working arrays
                pk, cdf, r, q, uu, pz, idx = (a[alive] for a in (pk, cdf, r, q, uu, pz, idx))
                alive = np.ones(n_alive, dtype=bool)
        if n_alive:  # numerical tail (not reached in practice)
            values[idx[alive]] = k

    nz = values > 0
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[nz], minlength=n), out=indptr[1:])
    return sp.csr_matrix((values[nz], cols[nz].astype(np.int32), indptr), shape=(n, g))


def _stream_h5ad(
    path: Path,
    obs: pd.DataFrame,
    var: pd.DataFrame,
    uns: dict[str, Any],
    chunks: Any,
    n_genes: int,
    compression: str | None = None,
) -> Any:
    """Write an AnnData to ``path`` with ``X`` appended chunk by chunk; return it backed."""
    import anndata as ad
    import h5py
    from anndata.io import sparse_dataset, write_elem

    dataset_kwargs = {} if compression is None else {"compression": compression}

    path.parent.mkdir(parents=True, exist_ok=True)
    # temporary file in the same folder (same file system), replaced atomically at the end
    tmp = str(path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"))
    try:
        skeleton = ad.AnnData(X=sp.csr_matrix((0, n_genes), dtype=np.float32), var=var, uns=uns)
        skeleton.write_h5ad(tmp)
        with h5py.File(tmp, "a") as f:
            del f["obs"]
            write_elem(f, "obs", obs)
            del f["X"]
            first = True
            n_rows = 0
            for block in chunks:
                if first:  # anndata makes sparse datasets resizable
                    write_elem(f, "X", block, dataset_kwargs=dataset_kwargs)
                    first = False
                else:
                    sparse_dataset(f["X"]).append(block)
                n_rows += block.shape[0]
            if n_rows != obs.shape[0]:
                raise RuntimeError(f"wrote {n_rows} rows of X for {obs.shape[0]} cells")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return ad.read_h5ad(path, backed="r")
