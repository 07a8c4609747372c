"""survlib.data.sc.expression: the one log-normalisation (against scanpy and against the two
formulas it replaced, bit for bit), the one counts-vs-log-normalised detector and the
``expression=`` vocabulary."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from survlib.data.sc import (
    check_expression,
    detect_expression,
    is_integer_valued,
    log_normalise,
    simulate_sc_cohort,
)


@pytest.fixture(scope="module")
def counts():
    a = simulate_sc_cohort(6, 30, 60, setting="distinct", seed=4)
    x = sp.csr_matrix(a.X, dtype=np.float32)
    x.data[x.indptr[2] : x.indptr[3]] = 0.0  # an empty cell stays empty
    x.eliminate_zeros()
    return x


def test_log_normalise_is_scanpys_normalize_total_then_log1p(counts):
    import anndata as ad
    import scanpy as sc

    a = ad.AnnData(counts[[0, 1, 3, 4]].copy())
    sc.pp.normalize_total(a, target_sum=1e4)
    sc.pp.log1p(a)
    np.testing.assert_allclose(
        log_normalise(counts[[0, 1, 3, 4]]).toarray(), a.X.toarray(), rtol=1e-5
    )
    out = log_normalise(counts)
    assert out.dtype == np.float32 and out[2].nnz == 0
    assert log_normalise(counts.toarray(), dtype=np.float64).dtype == np.float64  # dense input


def test_log_normalise_reproduces_the_formulas_it_replaced(counts):
    """float32: the former CellReader._normalise; float64: the former pseudobulk normalisation
    (library sizes of 0 set to 1, then a diagonal scaling): identical bits."""
    m = counts.copy()
    totals = np.asarray(m.sum(axis=1)).ravel()
    scale = np.where(totals > 0, 1e4 / np.maximum(totals, 1e-12), 0.0)
    m.data *= np.repeat(scale, np.diff(m.indptr)).astype(np.float32)
    np.log1p(m.data, out=m.data)
    np.testing.assert_array_equal(log_normalise(counts).toarray(), m.toarray())
    x = sp.csr_matrix(counts, dtype=np.float64)
    lib = np.asarray(x.sum(axis=1)).ravel()
    lib[lib == 0] = 1.0
    x = sp.csr_matrix(sp.diags(1e4 / lib) @ x)
    x.data = np.log1p(x.data)
    np.testing.assert_array_equal(log_normalise(counts, dtype=np.float64).toarray(), x.toarray())


def test_detect_expression(counts):
    import anndata as ad

    assert detect_expression(ad.AnnData(counts)) == "counts"
    assert detect_expression(ad.AnnData(log_normalise(counts))) == "log-normalized"
    scaled = ad.AnnData(counts.toarray() - 1.0)  # centred: negative values are not counts
    assert detect_expression(scaled) == "log-normalized"
    a = ad.AnnData(log_normalise(counts))
    a.layers["counts"] = counts
    assert detect_expression(a, layer="counts") == "counts"
    assert is_integer_valued(np.array([0.0, 3.0, 12.0])) and not is_integer_valued(np.array([1.5]))


def test_one_vocabulary():
    assert check_expression("counts") == "counts"
    assert check_expression("log-normalized") == "log-normalized"
    assert check_expression("auto", allow_auto=True) == "auto"
    for bad, kw in [("lognorm", {}), ("none", {}), ("auto", {}), ("tpm", {"allow_auto": True})]:
        with pytest.raises(ValueError, match="expression must be one of"):
            check_expression(bad, **kw)
