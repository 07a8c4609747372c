"""The containers that carry a cohort into the bag models.

- :class:`SurvivalBatch`: one padded mini-batch of patients (patches + mask, genes, clinical
  prompt tokens, clinical covariates, survival targets).
- :class:`PathwayMembership`: gene -> pathway boolean matrix ``[n_pathways, G]`` with names.

They live in ``survlib.data`` (the cohort containers build them) and are re-exported by
:mod:`survlib.models.blocks`, where the models that read them are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

import numpy as np
import torch

__all__ = ["PathwayMembership", "SurvivalBatch"]


@dataclass
class SurvivalBatch:
    """A padded mini-batch of patients for the multimodal survival models.

    Bags of patches of different sizes are padded to the largest bag ``N`` of the batch and
    ``patch_mask`` says which rows are real; every model ignores padded rows exactly (padding
    invariance is tested). Fields a model does not use may be ``None``.

    Attributes:
        patches: ``[B, N, D_p]`` float, patch features (padded rows: any value, usually 0).
        patch_mask: ``[B, N]`` bool, ``True`` = real patch. Each patient needs >= 1 real patch.
        genes: ``[B, G]`` float, expression of the genes used (columns in
            :attr:`PathwayMembership.genes` order when pathways are used).
        clinical_tokens: ``[B, F, D_t]`` float, one text embedding per clinical field (prompts).
        clinical: ``[B, C]`` float, standardised numeric clinical covariates (approaches b/c).
        bin_index: ``[B]`` long, discrete time bin of each patient's follow-up time.
        event: ``[B]`` long, 1 = death observed, 0 = censored.
        time: ``[B]`` float, follow-up time in months.
    """

    patches: torch.Tensor | None = None
    patch_mask: torch.Tensor | None = None
    genes: torch.Tensor | None = None
    clinical_tokens: torch.Tensor | None = None
    clinical: torch.Tensor | None = None
    bin_index: torch.Tensor | None = None
    event: torch.Tensor | None = None
    time: torch.Tensor | None = None

    def to(self, device: torch.device | str) -> SurvivalBatch:
        """A copy with every tensor field moved to ``device`` (``None`` fields stay ``None``)."""
        return replace(
            self,
            **{
                f.name: (
                    getattr(self, f.name).to(device) if getattr(self, f.name) is not None else None
                )
                for f in fields(self)
            },
        )

    def __len__(self) -> int:
        for f in fields(self):
            v = getattr(self, f.name)
            if v is not None:
                return int(v.shape[0])
        return 0

    def index(self, idx: torch.Tensor | Sequence[int] | slice) -> SurvivalBatch:
        """The sub-batch of the patients ``idx`` (rows of every non-``None`` field)."""
        if not isinstance(idx, slice):
            idx = torch.as_tensor(idx, dtype=torch.long)
        return replace(
            self,
            **{
                f.name: (getattr(self, f.name)[idx] if getattr(self, f.name) is not None else None)
                for f in fields(self)
            },
        )


@dataclass
class PathwayMembership:
    """Which genes belong to which pathway (a boolean matrix ``[n_pathways, G]``).

    Attributes:
        matrix: ``[n_pathways, G]`` bool; ``matrix[p, g]`` is ``True`` when gene ``g`` is in
            pathway ``p``. Every pathway needs at least one gene; a gene may belong to several
            pathways (or none).
        pathway_names: ``n_pathways`` names.
        genes: ``G`` gene names, the column order of ``matrix`` and of ``SurvivalBatch.genes``.
    """

    matrix: torch.Tensor
    pathway_names: list[str]
    genes: list[str]

    def __post_init__(self) -> None:
        m = torch.as_tensor(
            np.asarray(self.matrix) if not isinstance(self.matrix, torch.Tensor) else self.matrix
        ).bool()
        if m.ndim != 2:
            raise ValueError(
                f"PathwayMembership: matrix must be 2-D [n_pathways, G], got shape {tuple(m.shape)}"
            )
        self.matrix = m
        self.pathway_names = [str(p) for p in self.pathway_names]
        self.genes = [str(g) for g in self.genes]
        if len(self.pathway_names) != m.shape[0]:
            raise ValueError(
                f"PathwayMembership: {len(self.pathway_names)} pathway names for "
                f"{m.shape[0]} matrix rows"
            )
        if len(self.genes) != m.shape[1]:
            raise ValueError(
                f"PathwayMembership: {len(self.genes)} gene names for {m.shape[1]} matrix columns"
            )
        empty = (~m.any(dim=1)).nonzero().flatten().tolist()
        if empty:
            raise ValueError(
                f"PathwayMembership: pathway(s) with no gene: "
                f"{[self.pathway_names[i] for i in empty[:5]]}"
            )

    @property
    def n_pathways(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def n_genes(self) -> int:
        return int(self.matrix.shape[1])

    @property
    def sizes(self) -> np.ndarray:
        """Number of genes of each pathway, ``[n_pathways]``."""
        return self.matrix.sum(dim=1).numpy()

    @classmethod
    def from_sets(
        cls, sets: dict[str, Sequence[str]], genes: Sequence[str] | None = None
    ) -> PathwayMembership:
        """Build from ``{pathway: [gene, ...]}``; ``genes`` fixes the column order (default:
        sorted union of the sets; genes of a set missing from ``genes`` are dropped)."""
        if genes is None:
            genes = sorted({g for s in sets.values() for g in s})
        col = {g: i for i, g in enumerate(genes)}
        m = torch.zeros(len(sets), len(genes), dtype=torch.bool)
        for p, members in enumerate(sets.values()):
            for g in members:
                if g in col:
                    m[p, col[g]] = True
        return cls(m, list(sets.keys()), list(genes))

    @classmethod
    def random(
        cls, n_pathways: int, n_genes: int, sizes: Sequence[int] | None = None, seed: int = 0
    ) -> PathwayMembership:
        """Simulated membership: pathway ``p`` draws ``sizes[p]`` distinct genes at random
        (default sizes: uniform in ``[5, 30]``). For tests and when real sets are missing."""
        rng = np.random.default_rng(seed)
        if sizes is None:
            sizes = rng.integers(5, 31, size=n_pathways)
        m = np.zeros((n_pathways, n_genes), dtype=bool)
        for p, s in enumerate(sizes):
            m[p, rng.choice(n_genes, size=min(int(s), n_genes), replace=False)] = True
        return cls(
            torch.from_numpy(m),
            [f"pathway_{p}" for p in range(n_pathways)],
            [f"gene_{g}" for g in range(n_genes)],
        )
