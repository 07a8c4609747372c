"""Risk-associated cells of scSurvival: calls from the per-cell scores
(:func:`identify_risk_cells`), the thresholding and smoothing they use
(:func:`two_means_threshold`, :func:`neighbour_mean`), and the metrics of chapter 2:
precision / recall / F1 against the planted truth
(:func:`risk_cell_metrics`), batch mixing of an embedding (:func:`batch_mixing`) and the
supervised upper bound (:func:`supervised_risk_cell_probe`).

The model (:class:`survlib.models.sc.ScSurvival`) writes the per-cell scores to ``obs``; this
module, one layer above it, turns them into calls::

    model.predict_risk(adata)                  # obs["attention"], obs["hazard_score"], ...
    identify_risk_cells(model, adata)          # obs["predicted_risk_group"], ...
    risk_cell_metrics(adata.obs["risk_group"], adata.obs["predicted_risk_group"])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from survlib._core.finite import require_finite
from survlib.explain.neighbours import Method, _check_inputs, knn_mean
from survlib.models.sc import CellReader

if TYPE_CHECKING:
    from survlib.models.sc import ScSurvival

__all__ = [
    "batch_mixing",
    "identify_risk_cells",
    "neighbour_mean",
    "risk_cell_metrics",
    "supervised_risk_cell_probe",
    "two_means_threshold",
]


def identify_risk_cells(
    model: ScSurvival,
    adata: Any | None = None,
    rule: Literal["hazard", "authors"] = "hazard",
    smooth_neighbors: int = 30,
    threshold: float | None = None,
    recompute: bool = True,
    hazard_form: Literal["ours", "authors"] = "ours",
    neighbour_method: Method = "auto",
) -> pd.Series:
    r"""Call a trained :class:`~survlib.models.sc.ScSurvival`'s risk-associated cells; write
    ``obs["predicted_risk_group"]`` / ``obs["predicted_risk_cell"]``.

    ``adata`` defaults to the model's training AnnData.

    Both rules use a 1-D 2-means split (the midpoint of the two cluster centres, computed
    on the cells of ``adata``) and the sign of the attention-adjusted hazard score
    (attention x log hazard ratio against the typical training cell):

    - ``rule="hazard"`` (default): the hazard score is first averaged over each cell's
      ``smooth_neighbors`` nearest neighbours (itself included; found exactly up to 20 000
      cells and approximately beyond, or as ``neighbour_method`` says, see
      :func:`neighbour_mean`) in the model's embedding
      (``obsm["X_zigvae"]``; written to ``obs["hazard_score_smoothed"]``), which removes
      per-cell noise while keeping cell states apart; a cell is risk-associated when the
      absolute smoothed score is at or above the 2-means threshold of the absolute
      smoothed scores, ``"higher"`` when the score is positive, ``"lower"`` when
      negative.  ``smooth_neighbors=1`` turns the smoothing off.
    - ``rule="authors"``: the authors' rule — a cell is risk-associated when its
      *attention* is at or above the 2-means threshold of the attention; higher / lower by
      the sign of the (unsmoothed) hazard score.

    ``hazard_form`` picks the per-cell hazard score
    (:meth:`~survlib.models.sc.AMICR.cell_scores`):
    ``"ours"`` (``obs["hazard_score"]``, attention x log hazard ratio) or ``"authors"``
    (:math:`f([\sigma(s_{ih}) P_h z_i]_h)`, recomputed from the stored embedding and
    written to ``obs["hazard_score_authors"]``).

    Other cells are ``"neutral"``; ``predicted_risk_cell`` = higher.  ``threshold``
    overrides the 2-means threshold.  With ``recompute`` (default) the per-cell scores are
    recomputed with this model first (so scores left by another model are never used).
    The chosen threshold is kept in ``model.risk_threshold_``.  Returns the groups.
    """
    if rule not in ("hazard", "authors"):
        raise ValueError(f"rule must be 'hazard' or 'authors', got {rule!r}")
    if hazard_form not in ("ours", "authors"):
        raise ValueError(f"hazard_form must be 'ours' or 'authors', got {hazard_form!r}")
    if int(smooth_neighbors) < 1:
        raise ValueError(f"smooth_neighbors must be >= 1, got {smooth_neighbors}")
    adata = model.adata if adata is None else adata
    key = model.latent_key
    if recompute or "hazard_score" not in adata.obs or key not in adata.obsm:
        model.predict_risk(adata, write=True)
    att = adata.obs["attention"].to_numpy(float)
    hz = adata.obs["hazard_score"].to_numpy(float)
    if hazard_form == "authors":
        hz = model._authors_hazard_scores(np.asarray(adata.obsm[key]))
        adata.obs["hazard_score_authors"] = hz
    where = "identify_risk_cells"
    require_finite(att, 'attention (obs["attention"])', where)
    require_finite(hz, 'hazard scores (obs["hazard_score"])', where)
    if rule == "hazard" and smooth_neighbors > 1:
        emb = np.asarray(adata.obsm[key])
        require_finite(emb, f'cell embeddings (obsm["{key}"])', where)
        hz = neighbour_mean(emb, hz, int(smooth_neighbors), method=neighbour_method)
        adata.obs["hazard_score_smoothed"] = hz
    basis = att if rule == "authors" else np.abs(hz)
    thr = two_means_threshold(basis) if threshold is None else float(threshold)
    model.risk_threshold_ = thr
    group = np.full(att.shape, "neutral", dtype=object)
    called = basis >= thr
    group[called & (hz > 0)] = "higher"
    group[called & (hz <= 0)] = "lower"
    adata.obs["predicted_risk_group"] = pd.Categorical(
        group, categories=["higher", "lower", "neutral"]
    )
    adata.obs["predicted_risk_cell"] = group == "higher"
    return adata.obs["predicted_risk_group"]


def two_means_threshold(values: np.ndarray, max_points: int = 200_000, seed: int = 0) -> float:
    """Threshold between the two clusters of 1-D 2-means (the midpoint of the two centres).

    Solved exactly on the sorted values (Lloyd's algorithm is not needed in 1-D); at most
    ``max_points`` values (a random subsample) are used.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size < 2:
        raise ValueError("two_means_threshold needs at least two finite values")
    if v.size > max_points:
        v = np.random.default_rng(seed).choice(v, max_points, replace=False)
    v = np.sort(v)
    n = v.size
    cs = np.cumsum(v)
    cs2 = np.cumsum(v * v)
    k = np.arange(1, n)  # left cluster = first k values
    left_mean = cs[:-1] / k
    right_mean = (cs[-1] - cs[:-1]) / (n - k)
    sse = (cs2[:-1] - k * left_mean**2) + ((cs2[-1] - cs2[:-1]) - (n - k) * right_mean**2)
    best = int(np.argmin(sse))
    return float(0.5 * (left_mean[best] + right_mean[best]))


def neighbour_mean(
    embedding: np.ndarray,
    values: np.ndarray,
    k: int = 30,
    chunk: int = 50_000,
    max_reference: int | None = None,
    seed: int = 0,
    method: Method = "auto",
) -> np.ndarray:
    r"""Average of ``values`` over each cell's ``k`` nearest neighbours in ``embedding``
    (Euclidean, the cell itself included): :math:`\tilde v_i = \frac1k\sum_{j \in N_k(i)}
    v_j` (:func:`survlib.explain.neighbours.knn_mean`).

    ``method="auto"`` (default) searches exactly (scikit-learn) up to
    :data:`~survlib.explain.neighbours.EXACT_MAX_CELLS` cells and beyond that approximately:
    a PCA-tree partitioned search in torch whose cost grows linearly with the cells (on
    simulated clustered 32-d embeddings 72-88 % of the true neighbours found, means
    correlating at about 0.997 with the exact ones; ``benchmarks/bench_neighbours.py``).
    ``"exact"`` / ``"approximate"`` force one.  Queries of the exact search run in chunks of
    ``chunk`` cells.

    ``max_reference`` (default None: all cells are candidates) keeps the earlier behaviour:
    beyond ``max_reference`` cells, the neighbours are searched exactly among a random
    subsample of ``max_reference`` reference cells fixed by ``seed`` (a slightly wider
    neighbourhood); it cannot be combined with ``method="approximate"``.  The approximate
    search has no random step, so every result is deterministic.

    Raises:
        ValueError: ``k < 1``, ``values`` not one per row, NaN or infinity in the inputs, an
            unknown ``method``, or ``max_reference`` with ``method="approximate"``.
    """
    n = np.shape(embedding)[0] if np.ndim(embedding) else 0
    if max_reference is None or n <= int(max_reference):
        return knn_mean(embedding, values, k, method=method, chunk=chunk)
    if method == "approximate":
        raise ValueError(
            f"max_reference={max_reference} applies to the exact search; use method='exact' "
            "or 'auto', or max_reference=None with method='approximate'"
        )
    if int(max_reference) < 1:
        raise ValueError(f"max_reference must be >= 1 or None, got {max_reference}")
    from sklearn.neighbors import NearestNeighbors

    x, v, _ = _check_inputs(embedding, values, k, method)
    assert v is not None
    ref = np.sort(np.random.default_rng(seed).choice(n, int(max_reference), replace=False))
    nn = NearestNeighbors(n_neighbors=int(min(k, ref.size))).fit(x[ref])
    out = np.empty_like(v)
    for start in range(0, n, int(chunk)):
        idx = nn.kneighbors(x[start : start + int(chunk)], return_distance=False)
        out[start : start + int(chunk)] = v[ref[idx]].mean(axis=1)
    return out


def risk_cell_metrics(
    true_group: Sequence[str] | np.ndarray, pred_group: Sequence[str] | np.ndarray
) -> dict[str, float]:
    """Precision / recall / F1 of risk-cell calls against the planted truth.

    Two definitions are reported:

    - ``binary_*``: higher-risk cells as the positive class.
    - ``macro_*`` (the authors' definition): precision and recall averaged over the three
      classes ``higher`` / ``lower`` / ``neutral`` (scikit-learn's macro average), and
      ``macro_f1 = 2 P R / (P + R)`` from those averages (not the mean of per-class F1).
    """
    from sklearn.metrics import precision_recall_fscore_support

    t = np.asarray(true_group).astype(str)
    p = np.asarray(pred_group).astype(str)
    labels = ["higher", "lower", "neutral"]
    prec, rec, _, _ = precision_recall_fscore_support(
        t, p, labels=labels, average=None, zero_division=0
    )
    present = np.isin(labels, np.unique(t))
    mp, mr = float(prec[present].mean()), float(rec[present].mean())
    bp, br = float(prec[0]), float(rec[0])
    return {
        "binary_precision": bp,
        "binary_recall": br,
        "binary_f1": 0.0 if bp + br == 0 else 2 * bp * br / (bp + br),
        "macro_precision": mp,
        "macro_recall": mr,
        "macro_f1": 0.0 if mp + mr == 0 else 2 * mp * mr / (mp + mr),
    }


def batch_mixing(embedding: np.ndarray, batch: Sequence[Any] | np.ndarray, k: int = 15) -> float:
    r"""How well batches mix in an embedding: 1 = perfectly mixed, 0 = fully separated.

    For each cell, the share of its ``k`` nearest neighbours (Euclidean) from *another* batch,
    averaged over cells and divided by the share expected if neighbours ignored batch,
    :math:`\frac1n\sum_i (1 - n_{b(i)}/n)`.
    """
    from sklearn.neighbors import NearestNeighbors

    x = np.asarray(embedding, dtype=np.float64)
    b = pd.factorize(np.asarray(batch).astype(str))[0]
    if np.unique(b).size < 2:
        return float("nan")
    k = int(min(k, x.shape[0] - 1))
    nn_idx = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x, return_distance=False)[:, 1:]
    observed = (b[nn_idx] != b[:, None]).mean()
    share = np.bincount(b) / b.size
    expected = float(np.mean(1.0 - share[b]))
    return float(observed / expected)


def supervised_risk_cell_probe(
    adata: Any, truth_key: str = "risk_group", seed: int = 0, n_folds: int = 3, max_iter: int = 300
) -> np.ndarray:
    """An upper bound for risk-cell identification: a logistic regression *told* the truth.

    Multinomial logistic regression on standardised log-normalised expression, trained with
    the planted labels ``obs[truth_key]`` and evaluated by ``n_folds``-fold cross-validation
    over cells (out-of-fold predictions for every cell).  It is not a survival method: it
    shows how separable the planted groups are from expression at all.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = CellReader(adata).read_csr(np.arange(adata.n_obs)).toarray()
    y = adata.obs[truth_key].astype(str).to_numpy()
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=max_iter))
    cv = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    return cross_val_predict(clf, x, y, cv=cv)
