"""survlib.explain.neighbours: k-nearest-neighbour means against scikit-learn's exact
NearestNeighbors — the exact path equal to it, the approximate search on a planted clustered
embedding (20 000 cells, 32-d) within stated correlation and recall — and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from survlib.explain import knn_indices, knn_mean, neighbour_mean

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _clustered(n: int, d: int = 32, n_clusters: int = 12, seed: int = 0):
    """Cells around ``n_clusters`` centres, each cluster spread along 6 directions plus
    isotropic noise (like a VAE latent of a few cell types); a value that varies between and
    within clusters plus noise."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2.0, (n_clusters, d))
    bases = rng.normal(0, 1.0, (n_clusters, 6, d)) / np.sqrt(6)
    label = rng.integers(0, n_clusters, n)
    x = centres[label] + np.einsum("nr,nrd->nd", rng.normal(size=(n, 6)), bases[label])
    x += rng.normal(0, 0.3, (n, d))
    value = rng.normal(0, 1, n_clusters)[label] + x @ rng.normal(0, 0.2, d) + rng.normal(0, 1, n)
    return x.astype(np.float32), value


@pytest.fixture(scope="module")
def planted():
    x, v = _clustered(20_000)
    exact_idx = NearestNeighbors(n_neighbors=30).fit(x).kneighbors(x, return_distance=False)
    return x, v, exact_idx


def test_exact_path_equals_sklearn(planted):
    x, v, exact_idx = planted
    sub = slice(0, 3000)
    ref = NearestNeighbors(n_neighbors=30).fit(x[sub]).kneighbors(x[sub], return_distance=False)
    np.testing.assert_array_equal(knn_indices(x[sub], 30, method="exact", chunk=700), ref)
    np.testing.assert_array_equal(knn_mean(x[sub], v[sub], 30, method="exact"), v[ref].mean(1))
    # "auto" is exact at this size
    np.testing.assert_array_equal(knn_mean(x[sub], v[sub], 30), v[ref].mean(1))


def test_approximate_mean_close_to_exact_on_planted_clusters(planted):
    x, v, exact_idx = planted
    idx = knn_indices(x, 30, method="approximate")
    assert idx.shape == (x.shape[0], 30)
    assert (idx == np.arange(x.shape[0])[:, None]).any(1).all()  # each cell is its own neighbour
    recall = (exact_idx[:, :, None] == idx[:, None, :]).any(2).mean()
    approx = knn_mean(x, v, 30, method="approximate")
    np.testing.assert_allclose(approx, v[idx].mean(1))
    exact = v[exact_idx].mean(1)
    corr = np.corrcoef(approx, exact)[0, 1]
    print(f"approximate kNN: recall {recall:.3f}, correlation of the means {corr:.4f}")
    assert recall >= 0.9
    assert corr >= 0.99
    # far better than smoothing over random cells of the same cluster structure would be
    assert np.abs(approx - exact).mean() < 0.25 * np.abs(v - exact).mean()
    # deterministic, and more probes recover more neighbours
    np.testing.assert_array_equal(knn_mean(x, v, 30, method="approximate"), approx)
    wider = knn_indices(x, 30, method="approximate", n_probe=48)
    assert (exact_idx[:, :, None] == wider[:, None, :]).any(2).mean() > recall


def test_approximate_on_tiny_input_is_exact():
    x, v = _clustered(50, d=4)
    ref = NearestNeighbors(n_neighbors=5).fit(x).kneighbors(x, return_distance=False)
    # 50 cells < leaf_size: one leaf, every cell compared with every cell
    np.testing.assert_allclose(knn_mean(x, v, 5, method="approximate"), v[ref].mean(1))
    assert knn_indices(x, 80).shape == (50, 50)  # k is capped at the number of cells


def test_neighbour_mean_uses_the_approximate_search_beyond_the_exact_limit(planted, monkeypatch):
    import survlib.explain.neighbours as nb

    x, v, exact_idx = planted
    monkeypatch.setattr(nb, "EXACT_MAX_CELLS", 10_000)
    auto = neighbour_mean(x, v, 30)
    np.testing.assert_array_equal(auto, knn_mean(x, v, 30, method="approximate"))
    assert not np.array_equal(auto, v[exact_idx].mean(1))
    with pytest.raises(ValueError, match="max_reference"):
        neighbour_mean(x, v, 30, max_reference=1000, method="approximate")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(k=0), "k must be"),
        (dict(k=2.5), "k must be"),
        (dict(values=np.zeros(9)), "values must have one entry per embedding row"),
        (dict(values=np.r_[np.nan, np.zeros(9)]), "values hold NaN"),
        (dict(embedding=np.r_[[[np.nan, 0.0]], np.zeros((9, 2))]), "embedding holds NaN"),
        (dict(embedding=np.zeros(10)), "embedding must be a non-empty 2-d"),
        (dict(method="fast"), "method must be"),
        (dict(method="approximate", leaf_size=1), "leaf_size must be"),
        (dict(method="approximate", n_probe=0), "n_probe must be"),
    ],
)
def test_bad_input_raises_naming_the_argument(kwargs, match):
    args = dict(embedding=np.random.default_rng(0).normal(size=(10, 2)), values=np.zeros(10))
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        knn_mean(**args)
    if not {"leaf_size", "n_probe"} & set(kwargs):  # neighbour_mean passes the rest on
        with pytest.raises(ValueError, match=match):
            neighbour_mean(**args)
