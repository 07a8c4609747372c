"""The user-facing scSurvival model, in scvi-tools style (:class:`ScSurvival`)::

    ScSurvival.setup_anndata(adata, patient_key="patient_id", time_key="time",
                             event_key="event", batch_key="batch")
    model = ScSurvival(adata, preset="fast")
    model.train()
    risk = model.predict_risk(adata)          # one row per patient; writes obs / obsm

Risk-cell calls from the per-cell scores are :func:`survlib.explain.identify_risk_cells`.
"""

from __future__ import annotations

import contextlib
import time as _time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, replace
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from survlib.data.sc import (
    Expression,
    check_expression,
    check_same_genes,
    check_same_normalisation,
    validate_sc_cohort,
)
from survlib.models.sc.amicr import AMICR
from survlib.models.sc.cohort import _check_unique_names, _CovariateEncoder, _validate_cohort
from survlib.models.sc.config import _REGISTRY_KEY, PRESETS, ScSurvivalConfig, _Setup
from survlib.models.sc.features import _fit_pca
from survlib.models.sc.inference import _patient_pass
from survlib.models.sc.reader import CellReader, _raw_matrix_checks, csr_to_dense_tensor
from survlib.models.sc.training import (
    _pretrain,
    _run_refit,
    _run_stage,
    _stage_data,
)
from survlib.models.sc.vae import ZIGVAE
from survlib.train import pick_device, seed_everything

__all__ = ["ScSurvival"]

#: Largest embedding cache (bytes) the AMICR stage builds by default (see
#: ``ScSurvival._use_embedding_cache``).
EMBEDDING_CACHE_MAX_BYTES = 2 * 1024**3


def _groups(codes: np.ndarray, n: int) -> list[np.ndarray]:
    """The cell indices of each of ``n`` patients from per-cell patient ``codes``."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n + 1))
    return [order[bounds[i] : bounds[i + 1]] for i in range(n)]


class ScSurvival:
    """scSurvival on an AnnData, in scvi-tools style.

    Typical use::

        ScSurvival.setup_anndata(adata, patient_key="patient_id", time_key="time",
                                 event_key="event", batch_key="batch")
        model = ScSurvival(adata)            # preset="fast"; preset="authors" for theirs
        model.train()                        # progress bar; device "auto"; seed 0
        model.predict_risk(adata)            # DataFrame: one row per patient, column "risk"
        identify_risk_cells(model, adata)    # survlib.explain: obs["predicted_risk_group"], ...

    After ``predict_risk`` (or ``get_latent_representation``) the AnnData holds
    ``obsm["X_zigvae"]`` (``obsm["X_pca_features"]`` for ``feature_flavor="pca"``),
    ``obs["attention"]`` and ``obs["hazard_score"]``.

    Args:
        adata: an AnnData registered with :meth:`setup_anndata`; may be backed (on disk).
        preset: ``"fast"`` (default: minibatches of patients, subsampled cells) or
            ``"authors"`` (one full-cohort gradient step per fine-tuning epoch).
        **overrides: any :class:`ScSurvivalConfig` field (``feature_flavor="pca"`` gives the
            attention-MIL Cox without the VAE).  Unknown names raise ``TypeError``.
    """

    def __init__(self, adata: Any, preset: str = "fast", **overrides: Any) -> None:
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
        valid = set(ScSurvivalConfig.__dataclass_fields__) - {"preset"}
        unknown = sorted(set(overrides) - valid)
        if unknown:
            raise TypeError(f"unknown ScSurvival option(s) {unknown}; valid: {sorted(valid)}")
        self.config = replace(PRESETS[preset], **overrides)
        if _REGISTRY_KEY not in adata.uns:
            raise ValueError("call ScSurvival.setup_anndata(adata, ...) before creating the model")
        self.setup = _Setup(**dict(adata.uns[_REGISTRY_KEY]))
        self.setup.covariate_keys = list(self.setup.covariate_keys)
        self.adata = adata
        self.patients = _validate_cohort(adata, self.setup)
        self.genes = pd.Index(adata.var_names.astype(str))
        self.reader = CellReader(adata, self.setup.layer, self.setup.expression)  # type: ignore[arg-type]
        self.batches: list[str] = (
            sorted(adata.obs[self.setup.batch_key].astype(str).unique().tolist())
            if self.setup.batch_key
            else []
        )
        self.covariates = (
            _CovariateEncoder(self.patients, self.setup.covariate_keys)
            if self.setup.covariate_keys
            else None
        )
        self.device: torch.device | None = None
        self.is_trained = False
        self.history: dict[str, list[float]] = {"pretrain": [], "amicr": [], "finetune": []}
        self.timings: dict[str, float] = {}
        self.stage_windows: dict[str, tuple[float, float]] = {}
        self.steps_run: dict[str, int] = {}
        self.covariate_summary_: pd.DataFrame | None = None
        self.risk_threshold_: float | None = None  # set by survlib.explain.identify_risk_cells
        self.cell_reference_: float | None = None
        self.features: nn.Module | None = None
        self.amicr: AMICR | None = None
        self.gene_stats: dict[str, Any] | None = None

    # ---------------------------------------------------------------- setup
    @staticmethod
    def setup_anndata(
        adata: Any,
        patient_key: str = "patient_id",
        time_key: str = "time",
        event_key: str = "event",
        batch_key: str | None = "batch",
        covariate_keys: Sequence[str] | None = None,
        layer: str | None = None,
        expression: Expression = "counts",
    ) -> None:
        """Register the cohort fields of ``adata`` (validated now; stored in ``adata.uns``).

        Args:
            adata: cells x genes; ``X`` (or ``layer``) holds raw counts, or log-normalised
                values with ``expression="log-normalized"``.  Backed AnnData is accepted.
            patient_key, time_key, event_key: obs columns (time in months, event 1 = death).
            batch_key: obs column of technical batches, or None.
            covariate_keys: obs columns of patient-level clinical covariates (constant within
                a patient); they enter the hazard network linearly and their Cox coefficients
                are reported after training.
            layer: a layer holding the expression instead of ``X`` (in-memory AnnData only).
            expression: ``"counts"`` or ``"log-normalized"``.

        Raises:
            KeyError / ValueError naming the problem (see :func:`_validate_cohort`).
        """
        s = _Setup(
            patient_key=patient_key,
            time_key=time_key,
            event_key=event_key,
            batch_key=batch_key,
            covariate_keys=list(covariate_keys or []),
            layer=layer,
            expression=expression,
        )
        check_expression(expression)
        _check_unique_names(adata)
        table = _validate_cohort(adata, s)
        if len(table) < 2:
            raise ValueError(
                f"the cohort has {len(table)} patient ({list(table.index)[:1]}) in "
                f"obs[{patient_key!r}]; a survival model compares patients, so training needs "
                "at least 2 (and several with observed events)"
            )
        validate_sc_cohort(
            adata,
            patient_key,
            time_key,
            event_key,
            batch_key,
            expression=expression,
            layer=layer,
            max_cells_checked=20_000,
        )
        adata.uns[_REGISTRY_KEY] = {k: v for k, v in asdict(s).items() if v is not None}

    # ---------------------------------------------------------------- internals
    def _index(self, adata: Any) -> tuple[np.ndarray, pd.Index, np.ndarray | None]:
        """Patient codes per cell, the patient ids and batch codes (training categories)."""
        codes, patients = pd.factorize(adata.obs[self.setup.patient_key].astype(str), sort=True)
        bcodes = None
        if self.setup.batch_key and self.batches:
            if self.setup.batch_key not in adata.obs:
                raise KeyError(f"adata.obs is missing the batch column {self.setup.batch_key!r}")
            b = adata.obs[self.setup.batch_key].astype(str)
            lut = {v: i for i, v in enumerate(self.batches)}
            bcodes = b.map(lut).to_numpy()
            unknown = pd.isna(bcodes)
            if unknown.any():
                new = sorted(set(b[unknown]))
                needs = self.config.feature_flavor == "pca" or (
                    isinstance(self.features, ZIGVAE) and self.features.encode_batch
                )
                if needs:
                    raise ValueError(
                        f"batch(es) {new[:5]} were not seen in training; this model needs "
                        "the batch to embed cells (encode_batch=True or PCA features)"
                    )
                bcodes = np.where(unknown, 0, bcodes)  # decoder-only conditioning: unused here
            bcodes = bcodes.astype(np.int64)
        return codes.astype(np.int64), patients, bcodes

    def _embed(self, x: Tensor, b: Tensor | None) -> Tensor:
        assert self.features is not None
        if isinstance(self.features, ZIGVAE):
            return self.features.encode(x, b)[0]
        return self.features(x, b)

    def _gene_order(self, adata: Any) -> np.ndarray | None:
        """Column positions putting ``adata``'s genes in the training order (None if already);
        raises ``ValueError`` naming missing / extra genes
        (:func:`survlib.data.sc.check_same_genes`)."""
        idx = check_same_genes(self.genes, adata.var_names)
        return None if np.array_equal(idx, np.arange(len(idx))) else idx

    # ---------------------------------------------------------------- training
    def train(
        self,
        device: str | torch.device = "auto",
        seed: int = 0,
        progress: bool = True,
        **overrides: Any,
    ) -> ScSurvival:
        """Pretrain the VAE, train AMICR, jointly fine-tune (see :class:`ScSurvivalConfig`).

        Every stage runs through the one training loop, :func:`survlib.train.fit`
        (:mod:`survlib.models.sc.training`).

        Args:
            device: ``"auto"`` (CUDA when present, else CPU), ``"cpu"`` or ``"cuda"``.
            seed: seeds torch/numpy (:func:`survlib.train.seed_everything`) and the samplers.
            progress: show tqdm progress bars.
            **overrides: training fields of :class:`ScSurvivalConfig` for this run (e.g.
                ``finetune_steps=50``); unknown names raise ``TypeError``.

        Cells are streamed from ``adata`` chunk by chunk (a backed AnnData is never loaded
        whole), so memory does not grow with the number of cells except for the per-cell
        index arrays and the AMICR stage's cache of the frozen embeddings (float32, 128 MB at
        10^6 cells x 32 latents; ``cache_embeddings``, :meth:`_use_embedding_cache`; its one
        pass over the cells is timed in that stage).  Timings per stage are kept in
        ``self.timings`` (and their ``time.perf_counter`` windows in ``self.stage_windows``),
        the per-step losses in ``self.history`` and the steps run in ``self.steps_run``.
        """
        valid = set(ScSurvivalConfig.__dataclass_fields__) - {"preset"}
        unknown = sorted(set(overrides) - valid)
        if unknown:
            raise TypeError(f"unknown train option(s) {unknown}; valid: {sorted(valid)}")
        cfg = self.config = replace(self.config, **overrides)
        self.history = {"pretrain": [], "amicr": [], "finetune": []}
        self.steps_run = {}
        seed_everything(seed)
        rng = np.random.default_rng(seed)
        dev = self.device = pick_device(device)
        codes, patients, bcodes = self._index(self.adata)
        groups = _groups(codes, len(patients))
        with self._stage("checks"):
            self._check_expression_matrix()
        with self._stage("pretrain"):
            n_feat = self._fit_features(bcodes, rng, progress)
        self.amicr = AMICR(
            n_feat,
            cfg.n_heads,
            cfg.head_dim,
            cfg.proj_dim,
            cfg.hazard_hidden,
            cfg.hazard_dropout,
            0 if self.covariates is None else len(self.covariates.columns),
            cfg.pool_norm,
            cfg.hazard_clamp,
        ).to(dev)
        data = _stage_data(self, patients, groups, bcodes, None, rng, progress)
        self.validation_patients_ = patients[data.val_patients].tolist()
        joint_finetune = cfg.feature_flavor == "zigvae"
        with self._stage("amicr"):
            # The features are frozen in the AMICR stage (and in a PCA model's fine-tuning):
            # embed every cell once, in chunks, so its steps index a cache instead of reading
            # their cells from the (possibly backed) AnnData (see _use_embedding_cache).
            if cfg.amicr_steps > 0 and self._use_embedding_cache(n_feat):
                data.cache = self._embed_all(bcodes, dev)
            _run_stage(data, "amicr", cfg.amicr_steps, joint=False)
        if joint_finetune:
            data.cache = None  # the encoder is fine-tuned: embeddings are recomputed per step
        with self._stage("finetune"):
            _run_stage(data, "finetune", cfg.finetune_steps, joint=joint_finetune)
            refit_joint = joint_finetune and cfg.refit_encoder
            refits = (
                cfg.refit_steps > 0
                and data.val_cells is not None
                and self.steps_run.get("finetune")
            )
            if (
                refits
                and not refit_joint
                and data.cache is None
                and self._use_embedding_cache(n_feat)
            ):
                data.cache = self._embed_all(bcodes, dev)  # frozen features: embed once
            _run_refit(data, cfg.refit_steps, joint=refit_joint)
            data.cache = None
        self.cell_reference_ = self._typical_cell_hazard(bcodes, dev, rng)
        self.is_trained = True
        if self.covariates is not None:
            self._fit_covariate_cox(patients)
        return self

    @contextlib.contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        """Time a stage into ``self.timings[name]`` and ``self.stage_windows[name]``."""
        t0 = _time.perf_counter()
        yield
        self.timings[name] = _time.perf_counter() - t0
        self.stage_windows[name] = (t0, _time.perf_counter())

    def _check_expression_matrix(self) -> None:
        """One streaming pass over the matrix (:func:`_raw_matrix_checks`): bad values, the
        declared ``expression`` against what ``X`` holds, and the per-gene statistics."""
        self.gene_stats = _raw_matrix_checks(self.reader)
        if self.setup.expression == "counts" and not self.gene_stats["integer_like"]:
            raise ValueError(
                "expression='counts' but X holds non-integer values: pass raw counts, or set up "
                "with expression='log-normalized' if X is already log-normalised"
            )
        if (
            self.setup.expression == "log-normalized"
            and float(np.max(self.gene_stats["mean"])) > 20
        ):
            raise ValueError(
                "expression='log-normalized' but gene means exceed 20: X looks like raw counts"
            )

    def _fit_features(
        self, bcodes: np.ndarray | None, rng: np.random.Generator, progress: bool
    ) -> int:
        """The cell features: a ZIG-VAE pretrained on the cells (:func:`_pretrain`), or PCA
        (``feature_flavor="pca"``). Returns the feature width."""
        cfg, dev = self.config, self.device
        assert self.gene_stats is not None
        if cfg.feature_flavor != "zigvae":
            self.features = _fit_pca(
                self.reader,
                self.gene_stats,
                cfg.n_pcs,
                cfg.pca_fit_cells,
                len(self.batches),
                bcodes,
                rng,
            ).to(dev)
            return int(self.features.components.shape[1])
        vae = ZIGVAE(
            self.reader.n_genes,
            len(self.batches),
            cfg.n_latent,
            cfg.n_hidden,
            cfg.n_layers,
            cfg.encode_batch,
            cfg.vae_dropout,
        ).to(dev)
        if cfg.scale_input:
            vae.set_input_scaling(self.gene_stats["mean"], self.gene_stats["sd"])
        with torch.no_grad():
            vae.gene_logvar.copy_(
                torch.tensor(
                    np.log(np.maximum(self.gene_stats["nonzero_var"], 1e-2)), dtype=torch.float32
                )
            )
        self.features = vae
        _pretrain(
            self, vae, torch.from_numpy(bcodes) if bcodes is not None else None, rng, progress
        )
        return cfg.n_latent

    @torch.no_grad()
    def _typical_cell_hazard(
        self,
        bcodes: np.ndarray | None,
        dev: torch.device,
        rng: np.random.Generator,
        max_cells: int = 20_000,
    ) -> float:
        """Median raw cell hazard ``f(P z)`` over (a random subsample of) the training cells:
        the reference level of the per-cell hazards (the "typical cell")."""
        assert self.amicr is not None and self.features is not None
        n = self.reader.n_cells
        idx = np.sort(rng.choice(n, min(n, max_cells), replace=False))
        self.amicr.eval()
        self.features.eval()
        out = []
        for j in range(0, idx.size, 8192):
            part = idx[j : j + 8192]
            b = torch.from_numpy(bcodes[part]).to(dev) if bcodes is not None else None
            out.append(
                self.amicr.raw_cell_hazard(self._embed(self.reader.read(part, dev), b)).cpu()
            )
        return float(torch.cat(out).median())

    def _use_embedding_cache(self, n_features: int) -> bool:
        """Whether the AMICR stage embeds every cell once and trains from that cache.

        ``config.cache_embeddings`` True / False decides; None (default) caches when the cache
        (``n_cells x n_features`` float32) takes at most :data:`EMBEDDING_CACHE_MAX_BYTES`,
        for an in-memory and a backed AnnData alike (1M cells x 32 latents: 128 MB): its
        steps then cost the same whatever the file size, instead of reading their sampled
        cells from disk at every step."""
        if self.config.cache_embeddings is not None:
            return bool(self.config.cache_embeddings)
        return self.reader.n_cells * n_features * 4 <= EMBEDDING_CACHE_MAX_BYTES

    @torch.no_grad()
    def _embed_all(
        self, bcodes: np.ndarray | None, dev: torch.device, chunk_size: int = 8192
    ) -> Tensor:
        """Embeddings of every cell, streamed in chunks, kept on ``dev``."""
        assert self.features is not None
        self.features.eval()
        out = []
        for start, stop, rows in self.reader.iter_slices(chunk_size):
            x = csr_to_dense_tensor(rows, dev)
            b = torch.from_numpy(bcodes[start:stop]).to(dev) if bcodes is not None else None
            out.append(self._embed(x, b))
        return torch.cat(out)

    def _fit_covariate_cox(self, patients: pd.Index) -> None:
        """Report covariate effects: lifelines Cox of survival on the covariates plus the model's
        covariate-free risk (the AMICR hazard network's output) as one more column."""
        from lifelines import CoxPHFitter

        assert self.covariates is not None
        res = self._patient_pass(self.adata, with_covariates=False)
        df = pd.DataFrame(
            self.covariates.transform(self.patients.loc[patients]), columns=self.covariates.columns
        )
        df["scsurvival_risk"] = res["risk"].loc[patients].to_numpy()
        df["time"] = self.patients.loc[patients, "time"].to_numpy()
        df["event"] = self.patients.loc[patients, "event"].to_numpy()
        cph = CoxPHFitter(penalizer=0.01)
        cph.fit(df, duration_col="time", event_col="event")
        summ = cph.summary[["coef", "exp(coef)", "se(coef)", "p"]].copy()
        assert self.amicr is not None and self.amicr.covariate is not None
        w = self.amicr.covariate.weight.detach().cpu().numpy().ravel()
        summ["network_weight"] = list(w) + [np.nan]
        self.covariate_summary_ = summ

    # ---------------------------------------------------------------- inference
    def _patient_pass(
        self, adata: Any, with_covariates: bool = True, write: bool = False, chunk_size: int = 8192
    ) -> dict[str, Any]:
        """Stream all cells once: embeddings, per-cell scores and per-patient risk
        (:func:`survlib.models.sc.inference._patient_pass`)."""
        return _patient_pass(self, adata, with_covariates, write, chunk_size)

    def predict_risk(self, adata: Any | None = None, write: bool = True) -> pd.DataFrame:
        """Per-patient risk (log relative hazard; higher = worse) for ``adata`` (default: the
        training AnnData).  Works for new, unseen patients with the same genes (checked).

        With ``write=True`` also stores ``obsm["X_zigvae"]``, ``obs["attention"]`` and
        ``obs["hazard_score"]`` on ``adata``.  Returns a DataFrame indexed by patient with
        columns ``risk`` and ``n_cells`` (and ``time``/``event`` when the obs has them).
        """
        adata = self.adata if adata is None else adata
        if adata is not self.adata:
            _check_unique_names(adata)
            check_same_normalisation(adata, self.adata, self.setup.expression, self.setup.layer)
        res = self._patient_pass(adata, with_covariates=True, write=write)
        table = res["table"]
        obs = adata.obs
        if self.setup.time_key in obs and self.setup.event_key in obs:
            g = obs.groupby(obs[self.setup.patient_key].astype(str), observed=True)
            table["time"] = g[self.setup.time_key].first().loc[table.index].to_numpy()
            table["event"] = g[self.setup.event_key].first().loc[table.index].to_numpy()
        return table

    @property
    def latent_key(self) -> str:
        """The ``obsm`` key of the cell embeddings: ``"X_zigvae"`` (``"X_pca_features"`` for
        ``feature_flavor="pca"``)."""
        return "X_zigvae" if isinstance(self.features, ZIGVAE) else "X_pca_features"

    def get_latent_representation(self, adata: Any | None = None) -> np.ndarray:
        """Cell embeddings (ZIG-VAE posterior means, or PCA features); also written to
        ``obsm["X_zigvae"]`` (``obsm["X_pca_features"]``) with the per-cell scores."""
        adata = self.adata if adata is None else adata
        self._patient_pass(adata, with_covariates=False, write=True)
        return np.asarray(adata.obsm[self.latent_key])

    def _authors_hazard_scores(self, latent: np.ndarray, chunk_size: int = 65536) -> np.ndarray:
        """The authors' per-head hazard score :math:`f([\\sigma(s_{ih}) P_h z_i]_h)` of stored
        cell embeddings ``[N, D]`` (see :meth:`AMICR.cell_scores`), float64 ``[N]``."""
        dev = self.device or torch.device("cpu")
        self.amicr.eval()
        out = np.empty(latent.shape[0], dtype=np.float64)
        with torch.no_grad():
            for start in range(0, latent.shape[0], chunk_size):
                z = torch.as_tensor(
                    latent[start : start + chunk_size], dtype=torch.float32, device=dev
                )
                out[start : start + z.shape[0]] = (
                    self.amicr.cell_scores(z, form="authors")["hazard_score"].double().cpu().numpy()
                )
        return out

    def __repr__(self) -> str:
        c = self.config
        return (
            f"ScSurvival(preset={c.preset!r}, features={c.feature_flavor}, "
            f"cells={self.reader.n_cells}, patients={len(self.patients)}, "
            f"genes={self.reader.n_genes}, trained={self.is_trained})"
        )
