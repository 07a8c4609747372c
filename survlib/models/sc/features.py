"""Cell features for AMICR other than the ZIG-VAE: a fixed PCA projection with per-batch centring
(:class:`_PCAFeatures`, the "attention-MIL Cox without the VAE"), fitted by :func:`_fit_pca`."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from survlib.models.sc.reader import CellReader


class _PCAFeatures(nn.Module):
    """Fixed PCA projection of standardised log-expression, with per-batch centring in PC space.

    The "attention-MIL Cox without the VAE" baseline: ``z = ((x - m) / s).clip(max=10) @ W - c_b``
    where ``W`` holds the top principal axes fitted on a random subsample of cells and ``c_b`` is
    the mean PC score of batch ``b`` (a simple batch correction, not Harmony).
    """

    def __init__(
        self, mean: np.ndarray, sd: np.ndarray, components: np.ndarray, batch_means: np.ndarray
    ) -> None:
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("sd", torch.as_tensor(np.where(sd > 0, sd, 1.0), dtype=torch.float32))
        self.register_buffer("components", torch.as_tensor(components.T, dtype=torch.float32))
        self.register_buffer("batch_means", torch.as_tensor(batch_means, dtype=torch.float32))

    def forward(self, x: Tensor, batch: Tensor | None) -> Tensor:
        z = ((x - self.mean) / self.sd).clamp(max=10.0) @ self.components
        if batch is not None and self.batch_means.shape[0] > 1:
            z = z - self.batch_means[batch.long()]
        return z


def _fit_pca(
    reader: CellReader,
    gene_stats: dict[str, Any],
    n_pcs: int,
    fit_cells: int,
    n_batches: int,
    bcodes: np.ndarray | None,
    rng: np.random.Generator,
) -> _PCAFeatures:
    """PCA on a random subsample of ``fit_cells`` cells (standardised with the streamed
    ``gene_stats``, clipped at 10), keeping ``n_pcs`` components; per-batch centres in PC space
    from the subsample (``n_batches`` training batches, ``bcodes`` per cell)."""
    from sklearn.decomposition import PCA

    n = reader.n_cells
    sub = np.sort(rng.choice(n, min(n, fit_cells), replace=False))
    x = reader.read_csr(sub).toarray()
    mean, sd = gene_stats["mean"], gene_stats["sd"]
    xs = np.clip((x - mean) / np.where(sd > 0, sd, 1.0), None, 10.0)
    k = int(min(n_pcs, xs.shape[0] - 1, xs.shape[1]))
    pca = PCA(n_components=k, svd_solver="randomized", random_state=int(rng.integers(1 << 31)))
    scores = pca.fit_transform(xs)
    comps = pca.components_
    # PCA centres with the subsample mean; fold it into the per-batch offsets.
    centre = pca.mean_ @ comps.T
    nb = max(n_batches, 1)
    bm = np.zeros((nb, k))
    if bcodes is not None and nb > 1:
        bsub = bcodes[sub]
        for b in range(nb):
            if (bsub == b).any():
                bm[b] = scores[bsub == b].mean(0) + centre
            else:
                bm[b] = centre
    else:
        bm[0] = centre
    return _PCAFeatures(mean, sd, comps, bm)
