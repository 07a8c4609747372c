"""The simulator's genes and cells (used by :func:`~survlib.data.sc.simulate_sc_cohort`): gene
base means and dispersions, cell-type and risk expression programs, batch effects, the
normalised profiles, each patient's cell states and types, and the ZINB tables of the
(profile, library size) combinations."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_LIB_STEP = 0.02  # log-step of the library-size grid


@dataclass
class _Genes:
    """The simulated genes: base means, NB dispersions, cell-type and risk programs, batch
    effects (what :func:`_draw_genes` draws)."""

    base_mean: np.ndarray
    inv_r: np.ndarray
    de: np.ndarray
    prog: np.ndarray
    prog_high: np.ndarray
    prog_low: np.ndarray
    batch_gene: np.ndarray
    batch_lib: np.ndarray
    n_types_all: int


def _draw_genes(
    rng: np.random.Generator,
    n_genes: int,
    setting: str,
    n_cell_types: int,
    n_prog: int,
    prog_fc: float,
    n_batches: int,
    batch_effect_sd: float,
    dispersion: float,
) -> _Genes:
    """Gene base means, dispersions, cell-type programs, risk programs and batch effects."""
    base_mean = rng.gamma(0.6, 1 / 0.3, size=n_genes) + 1e-3
    inv_r = dispersion * np.exp(rng.normal(0.0, 0.5, size=n_genes))  # NB dispersion 1/r_g
    n_types_all = n_cell_types + (2 if setting == "distinct" else 0)
    de = np.zeros((n_types_all, n_genes))
    for t in range(n_types_all):
        is_de = rng.random(n_genes) < 0.1
        sign = np.where(rng.random(n_genes) < 0.5, -1.0, 1.0)
        de[t] = is_de * sign * np.abs(rng.normal(1.5, 0.5, size=n_genes))
    prog = np.zeros((3, n_genes))  # rows: neutral, higher, lower
    prog_high = np.zeros(n_genes, dtype=bool)
    prog_low = np.zeros(n_genes, dtype=bool)
    if setting != "distinct":
        candidates = np.flatnonzero((base_mean > np.median(base_mean)) & (de[0] == 0))
        chosen = rng.choice(candidates, size=2 * n_prog, replace=False)
        prog_high[chosen[:n_prog]] = True
        prog_low[chosen[n_prog:]] = True
        prog[1, prog_high] = prog_fc
        prog[2, prog_low] = prog_fc
    batch_gene = rng.normal(0.0, batch_effect_sd, size=(n_batches, n_genes))
    batch_lib = np.exp(rng.normal(0.0, batch_effect_sd, size=n_batches))
    return _Genes(
        base_mean, inv_r, de, prog, prog_high, prog_low, batch_gene, batch_lib, n_types_all
    )


def _profiles(
    genes: _Genes, library_size: float, zero_inflation: float
) -> tuple[np.ndarray, np.ndarray]:
    """Normalised expression profile ``p`` and dropout probability of every (type, state,
    batch) profile; profile index = (type * 3 + state) * n_batches + batch."""
    log_p = (
        np.log(genes.base_mean)[None, None, None, :]
        + genes.de[:, None, None, :]
        + genes.prog[None, :, None, :]
        + genes.batch_gene[None, None, :, :]
    ).reshape(-1, genes.base_mean.size)
    p = np.exp(log_p - log_p.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    lib_factor = np.tile(genes.batch_lib, genes.n_types_all * 3)  # per profile
    typical_mu = library_size * lib_factor[:, None] * p
    pi_profile = zero_inflation / (1.0 + typical_mu)
    return p, pi_profile


def _draw_cells(
    rng: np.random.Generator,
    n_cells: np.ndarray,
    share_high: np.ndarray,
    share_low: np.ndarray,
    n_cell_types: int,
    host_share: float,
    setting: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each patient's cells: group counts ``[P, 3]``, and per cell its state and type."""
    base_types = np.full(n_cell_types, (1.0 - host_share) / max(n_cell_types - 1, 1))
    base_types[0] = host_share if n_cell_types > 1 else 1.0
    base_types /= base_types.sum()
    n_patients = n_cells.size
    group_counts = np.zeros((n_patients, 3), dtype=np.int64)
    cell_state: list[np.ndarray] = []
    cell_type: list[np.ndarray] = []
    for i in range(n_patients):
        probs = np.array([1.0 - share_high[i] - share_low[i], share_high[i], share_low[i]])
        group_counts[i] = rng.multinomial(n_cells[i], probs)
        type_props = rng.dirichlet(50.0 * base_types)
        neutral_types = rng.choice(n_cell_types, size=group_counts[i, 0], p=type_props)
        if setting == "distinct":
            risk_types = (n_cell_types, n_cell_types + 1)
        else:
            risk_types = (0, 0)
        states = np.repeat(np.array([0, 1, 2], dtype=np.int8), group_counts[i])
        types = np.concatenate(
            [
                neutral_types,
                np.full(group_counts[i, 1], risk_types[0]),
                np.full(group_counts[i, 2], risk_types[1]),
            ]
        ).astype(np.int16)
        order = rng.permutation(n_cells[i])
        cell_state.append(states[order])
        cell_type.append(types[order])
    return group_counts, np.concatenate(cell_state), np.concatenate(cell_type)


def _count_tables(
    rng: np.random.Generator,
    profile: np.ndarray,
    cell_batch: np.ndarray,
    genes: _Genes,
    p: np.ndarray,
    pi_profile: np.ndarray,
    library_size: float,
    library_size_sd: float,
) -> tuple[np.ndarray, ...]:
    """Library sizes and the ZINB tables of the (profile, library size) combinations.

    Library sizes are drawn on a fine log grid (steps of 2 %), so that cells share a few
    hundred combinations whose tables are computed once. Returns ``(lib, combo, mu_tab,
    f0_tab, pi_tab, r_g)``: each cell's library size and combination, and per combination the
    means, the zero probabilities and the dropout probabilities, plus the gene NB sizes.
    """
    n_total = profile.size
    log_lib = np.log(library_size * genes.batch_lib[cell_batch]) + (
        library_size_sd * rng.standard_normal(n_total) - library_size_sd**2 / 2
    )
    lib_bin = np.round(log_lib / _LIB_STEP).astype(np.int64)
    lib = np.exp(lib_bin * _LIB_STEP)
    combo_key = profile * (lib_bin.max() - lib_bin.min() + 1) + (lib_bin - lib_bin.min())
    _, combo = np.unique(combo_key, return_inverse=True)
    first = np.unique(combo_key, return_index=True)[1]
    combo_profile = profile[first]
    combo_lib = lib[first]
    r_g = 1.0 / genes.inv_r
    mu_tab = (p[combo_profile] * combo_lib[:, None]).astype(np.float32)
    pi_tab = pi_profile[combo_profile].astype(np.float32)
    f0_tab = (pi_tab + (1.0 - pi_tab) * np.exp(-r_g * np.log1p(mu_tab / r_g))).astype(np.float32)
    return lib, combo, mu_tab, f0_tab, pi_tab, r_g
