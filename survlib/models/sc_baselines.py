"""Patient-level baselines for single-cell survival that the scSurvival paper argues against.

Both collapse each patient's cells into one vector and fit a penalised Cox model (lifelines
:class:`~lifelines.CoxPHFitter`) on it, so they lose the within-cell-type heterogeneity that
scSurvival models:

- :class:`PseudobulkCox`: per-patient mean of log-normalised expression -> standardise -> PCA
  -> penalised Cox on the principal components.
- :class:`CellTypeProportionCox`: per-patient cell-type proportions -> standardise ->
  penalised Cox.

Every transform (scaler, PCA, the list of cell types) is fitted on the training patients only;
``predict_risk`` applies the fitted transforms to new patients. They follow the scanpy habit of
reading the cohort from named ``obs`` columns (``patient_key``, ``time_key``, ``event_key``).
Risk is the Cox linear predictor :math:`x^\\top\\beta` (higher = worse).
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp

from survlib.data.sc import (
    check_expression,
    check_same_genes,
    detect_expression,
    log_normalise,
    validate_sc_cohort,
)

__all__ = ["patient_mean_expression", "PseudobulkCox", "CellTypeProportionCox"]


def patient_mean_expression(
    adata: Any,
    patient_key: str = "patient_id",
    *,
    layer: str | None = None,
    expression: str = "auto",
    target_sum: float = 1e4,
    chunk_cells: int = 50_000,
) -> pd.DataFrame:
    r"""Pseudobulk: each patient's mean log-normalised expression.

    :math:`\bar x_{pg} = \frac{1}{n_p}\sum_{c \in p} \log(1 + 10^4 X_{cg} / \sum_{g'} X_{cg'})`
    (:func:`survlib.data.sc.log_normalise`, in float64) when the matrix holds counts
    (``expression="counts"``, or ``"auto"`` and :func:`survlib.data.sc.detect_expression` finds
    counts); with ``expression="log-normalized"`` the matrix is averaged as it is. Reads
    ``chunk_cells`` rows at a time, so a backed AnnData works.

    Returns:
        DataFrame patients x genes (index = patient ids in order of first appearance).
    """
    check_expression(expression, allow_auto=True)
    if expression == "auto":
        expression = detect_expression(adata, layer)
    pid = adata.obs[patient_key].astype(str).to_numpy()
    patients = pd.unique(pid)
    code = pd.Index(patients).get_indexer(pid)
    m = adata.X if layer is None else adata.layers[layer]
    sums = np.zeros((patients.size, adata.n_vars))
    for s in range(0, adata.n_obs, chunk_cells):
        e = min(s + chunk_cells, adata.n_obs)
        x = sp.csr_matrix(m[s:e], dtype=np.float64)
        if expression == "counts":
            x = log_normalise(x, target_sum, dtype=np.float64)
        onehot = sp.csr_matrix(
            (np.ones(e - s), (code[s:e], np.arange(e - s))), shape=(patients.size, e - s)
        )
        sums += np.asarray((onehot @ x).todense())
    counts = np.bincount(code, minlength=patients.size)
    return pd.DataFrame(
        sums / counts[:, None],
        index=pd.Index(patients, name=patient_key),
        columns=pd.Index(adata.var_names.astype(str)),
    )


class _PatientCox:
    """Shared plumbing: standardise features, optional PCA, penalised lifelines Cox."""

    def __init__(self, penalizer: float, l1_ratio: float, n_components: int | None) -> None:
        self.penalizer = float(penalizer)
        self.l1_ratio = float(l1_ratio)
        self.n_components = n_components
        self.scaler_: Any = None
        self.pca_: Any = None
        self.cox_: Any = None
        self.train_patients_: pd.Index | None = None
        self.keys_: dict[str, str] = {}

    def _features(self, adata: Any) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    def _reset(self) -> None:
        """Forget what a previous ``fit`` learnt about the features (subclasses' vocabularies)."""

    def _transform(self, feats: pd.DataFrame) -> pd.DataFrame:
        z = self.scaler_.transform(feats.to_numpy())
        if self.pca_ is not None:
            z = self.pca_.transform(z)
            cols = [f"PC{i + 1}" for i in range(z.shape[1])]
        else:
            cols = list(feats.columns)
        return pd.DataFrame(z, index=feats.index, columns=cols)

    def fit(
        self,
        adata_train: Any,
        patient_key: str = "patient_id",
        time_key: str = "time",
        event_key: str = "event",
    ) -> Self:
        """Fit the transforms and the Cox model on the training patients' cells (what a
        previous fit learnt is forgotten first)."""
        from lifelines import CoxPHFitter
        from sklearn.decomposition import PCA
        from sklearn.preprocessing import StandardScaler

        table = validate_sc_cohort(adata_train, patient_key, time_key, event_key)
        self._reset()
        if len(table) < 3:
            raise ValueError(f"need at least 3 training patients, got {len(table)}")
        self.keys_ = {"patient_key": patient_key, "time_key": time_key, "event_key": event_key}
        feats = self._features(adata_train).loc[table.index.astype(str)]
        self.train_patients_ = pd.Index(feats.index)
        self.scaler_ = StandardScaler().fit(feats.to_numpy())
        if self.n_components is not None:
            k = int(min(self.n_components, len(feats) - 1, feats.shape[1]))
            self.pca_ = PCA(n_components=k, random_state=0).fit(
                self.scaler_.transform(feats.to_numpy())
            )
        z = self._transform(feats)
        z = z.loc[:, z.std(axis=0) > 0]
        self.columns_ = list(z.columns)
        df = z.assign(_time=table["time"].to_numpy(), _event=table["event"].to_numpy())
        self.cox_ = CoxPHFitter(penalizer=self.penalizer, l1_ratio=self.l1_ratio)
        self.cox_.fit(df, duration_col="_time", event_col="_event")
        return self

    def predict_risk(self, adata: Any) -> pd.DataFrame:
        """Risk (Cox linear predictor, higher = worse) per patient of ``adata``: one row per
        patient with a ``"risk"`` column, as :meth:`survlib.models.sc.ScSurvival.predict_risk`."""
        if self.cox_ is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit() first")
        pk = self.keys_["patient_key"]
        if pk not in adata.obs.columns:
            raise KeyError(f"adata.obs is missing column {pk!r} (the patient key used in fit)")
        z = self._transform(self._features(adata))[self.columns_]
        risk = z.to_numpy() @ self.cox_.params_.loc[self.columns_].to_numpy()
        return pd.DataFrame({"risk": risk}, index=z.index)


class PseudobulkCox(_PatientCox):
    r"""Pseudobulk Cox: mean log-normalised expression per patient -> PCA -> penalised Cox.

    :math:`h_p(t) = h_0(t)\exp(\beta^\top W^\top s(\bar x_p))` with :math:`\bar x_p` the
    patient's mean log-normalised expression (:func:`patient_mean_expression`), :math:`s` a
    standardisation and :math:`W` the top ``n_components`` principal axes — both fitted on
    training patients only — and :math:`\beta` a lifelines ``CoxPHFitter`` with elastic-net
    penalty ``penalizer`` (``l1_ratio``).

    Args:
        n_components: principal components kept (capped at training patients - 1).
        penalizer: lifelines penalty strength.
        l1_ratio: lifelines L1 share of the penalty.
        layer: matrix to use instead of ``X``.
        expression: ``"auto"``, ``"counts"`` or ``"log-normalized"`` (see
            :func:`patient_mean_expression`).
    """

    def __init__(
        self,
        n_components: int = 10,
        penalizer: float = 0.1,
        l1_ratio: float = 0.0,
        *,
        layer: str | None = None,
        expression: str = "auto",
    ) -> None:
        super().__init__(penalizer, l1_ratio, n_components)
        self.layer = layer
        self.expression = check_expression(expression, allow_auto=True)
        self.genes_: pd.Index | None = None

    def _features(self, adata: Any) -> pd.DataFrame:
        if self.genes_ is None:
            self.genes_ = pd.Index(adata.var_names.astype(str))
            idx = np.arange(adata.n_vars)
        else:
            idx = check_same_genes(self.genes_, adata.var_names)
        feats = patient_mean_expression(
            adata, self.keys_["patient_key"], layer=self.layer, expression=self.expression
        )
        return feats.iloc[:, idx]

    def _reset(self) -> None:
        """Forget the fitted genes (``fit`` learns them again)."""
        self.genes_ = None


class CellTypeProportionCox(_PatientCox):
    r"""Cell-type-proportion Cox: per-patient proportions of each cell type -> penalised Cox.

    :math:`h_p(t) = h_0(t)\exp(\beta^\top s(\pi_p))`, :math:`\pi_{pk}` the share of the
    patient's cells annotated type :math:`k` in ``obs[cell_type_key]``. The cell types are those
    seen in training (a type unseen in training only enlarges the denominator); :math:`s`
    standardises with training statistics; lifelines ``CoxPHFitter`` with ``penalizer``.

    Args:
        cell_type_key: ``obs`` column of cell-type annotations.
        penalizer: lifelines penalty strength.
        l1_ratio: lifelines L1 share of the penalty.
    """

    def __init__(
        self,
        cell_type_key: str = "cell_type",
        penalizer: float = 0.1,
        l1_ratio: float = 0.0,
    ) -> None:
        super().__init__(penalizer, l1_ratio, n_components=None)
        self.cell_type_key = cell_type_key
        self.cell_types_: list[str] | None = None

    def _features(self, adata: Any) -> pd.DataFrame:
        key = self.cell_type_key
        if key not in adata.obs.columns:
            raise KeyError(f"adata.obs is missing the cell-type column {key!r}")
        pid = adata.obs[self.keys_["patient_key"]].astype(str)
        ct = adata.obs[key].astype(str)
        tab = pd.crosstab(pid, ct)
        tab = tab.div(tab.sum(axis=1), axis=0)
        if self.cell_types_ is None:
            self.cell_types_ = sorted(tab.columns)
        tab = tab.reindex(columns=self.cell_types_, fill_value=0.0)
        return tab.loc[pd.unique(pid.to_numpy())]

    def _reset(self) -> None:
        """Forget the seen cell types (``fit`` learns them again)."""
        self.cell_types_ = None
