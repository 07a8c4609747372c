"""Gene -> pathway membership: simulated (SurvPath-like set sizes) or SurvPath's signatures."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

if TYPE_CHECKING:  # pragma: no cover - typing only
    from survlib.data.batch import PathwayMembership

__all__ = ["load_survpath_pathways", "simulate_pathway_membership"]


def simulate_pathway_membership(
    n_pathways: int,
    n_genes: int,
    seed: int = 0,
    median_size: float = 30.0,
    size_sigma: float = 0.9,
    min_size: int = 5,
    max_size: int = 400,
) -> PathwayMembership:
    """Simulated gene -> pathway membership with a SurvPath-like size distribution.

    Pathway sizes are log-normal (median ``median_size``, log-sd ``size_sigma``, clipped to
    ``[min_size, min(max_size, n_genes)]``): many small Reactome-like sets and a tail of large
    Hallmark-like ones. Genes are drawn with Zipf-like popularity, so a few genes sit in many
    pathways, as in the real sets; every gene ends up in at least one pathway (uncovered genes
    join a random pathway). Names: ``pathway_000 ...``, genes ``gene_0000 ...``.
    """
    from survlib.data.batch import PathwayMembership

    if n_pathways < 1 or n_genes < min_size:
        raise ValueError(
            f"simulate_pathway_membership: need n_pathways >= 1 and n_genes >= "
            f"{min_size}, got {n_pathways}, {n_genes}"
        )
    rng = np.random.default_rng(seed)
    sizes = np.exp(np.log(median_size) + size_sigma * rng.standard_normal(n_pathways))
    sizes = np.clip(np.rint(sizes), min_size, min(max_size, n_genes)).astype(int)
    popularity = 1.0 / np.arange(1, n_genes + 1) ** 0.6
    popularity = rng.permutation(popularity / popularity.sum())
    m = np.zeros((n_pathways, n_genes), dtype=bool)
    for p, s in enumerate(sizes):
        m[p, rng.choice(n_genes, size=int(s), replace=False, p=popularity)] = True
    uncovered = np.flatnonzero(~m.any(axis=0))
    m[rng.integers(0, n_pathways, uncovered.size), uncovered] = True
    width = len(str(n_genes - 1))
    return PathwayMembership(
        torch.from_numpy(m),
        [f"pathway_{p:03d}" for p in range(n_pathways)],
        [f"gene_{g:0{width}d}" for g in range(n_genes)],
    )


def load_survpath_pathways(
    path: str | Path | None = None, download: bool = False
) -> PathwayMembership | None:
    """SurvPath's 331 Reactome + Hallmark signatures (``combine_signatures.csv``), if available.

    The file (one column per pathway, gene symbols down the rows) is the manifest entry
    ``survpath_combine_signatures``. Without ``path`` it is read from the survlib cache when a
    previous :func:`survlib.data.fetch` left it there; with ``download=True`` it is fetched
    (network). Returns ``None`` when it is not available, so callers can fall back to
    :func:`simulate_pathway_membership` offline.
    """
    from survlib.data.batch import PathwayMembership

    if path is None:
        from survlib.data.fetch import DataUnavailableError, fetch, load_manifest

        entry = load_manifest().get("survpath_combine_signatures")
        if entry is None:
            return None
        from survlib.data.fetch import cache_dir

        cached = cache_dir() / entry.name / entry.filename
        if not cached.is_file() and not download:
            return None
        try:
            path = fetch("survpath_combine_signatures", progress=False)
        except (DataUnavailableError, OSError, ValueError):
            return None
    table = pd.read_csv(path)
    sets = {
        str(c): sorted({str(g).strip() for g in table[c].dropna() if str(g).strip()})
        for c in table.columns
        if not str(c).startswith("Unnamed")
    }
    sets = {k: v for k, v in sets.items() if v}
    return PathwayMembership.from_sets(sets)
