"""One cross-validation fold of a multimodal cohort, and the padding of patch bags.

:func:`prepare_fold` standardises a cohort on a fold's training patients and fits the time bins
on them (:class:`FoldData`); :class:`FoldData` batches patients into padded, masked
:class:`~survlib.data.batch.SurvivalBatch` es (:func:`pad_bags`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from survlib.data.multimodal.cohort import MultimodalCohort

if TYPE_CHECKING:  # pragma: no cover - typing only
    from survlib.data.batch import PathwayMembership, SurvivalBatch
    from survlib.survival import TimeBins

__all__ = ["FoldData", "clinical_design_matrix", "pad_bags", "prepare_fold"]


def clinical_design_matrix(
    clinical: pd.DataFrame, fields: Sequence[str] | None = None, drop_first: bool = True
) -> pd.DataFrame:
    """Numeric design matrix of clinical fields: numbers kept, categories one-hot encoded.

    Args:
        clinical: the clinical table.
        fields: the columns to use (default: all but ``time`` and ``event``).
        drop_first: drop each categorical's first level (a full-rank matrix for Cox models).
    """
    cols = (
        [c for c in clinical.columns if c not in ("time", "event")]
        if fields is None
        else list(fields)
    )
    frame = clinical[cols].copy()
    categorical = [c for c in cols if not pd.api.types.is_numeric_dtype(frame[c])]
    for c in categorical:
        frame[c] = frame[c].astype(str)
    dummies = pd.get_dummies(frame, columns=categorical, drop_first=drop_first, dtype=float)
    return dummies.astype(float)


def pad_bags(
    bags: Sequence[np.ndarray],
    max_patches: int | None = None,
    rng: np.random.Generator | None = None,
    mean: np.ndarray | None = None,
    sd: np.ndarray | None = None,
) -> tuple[torch.Tensor, torch.Tensor, list[np.ndarray]]:
    """Pad bags of different sizes into one tensor with a mask.

    Bags larger than ``max_patches`` are subsampled without replacement: at random with ``rng``
    (training: a new subset each step), else deterministically at evenly spaced positions
    (evaluation). Padded rows are zero and masked out.

    Args:
        bags: ``B`` arrays ``[n_i, D]`` (every ``n_i >= 1``).
        max_patches: cap on patches per bag (``None``: keep all).
        rng: generator for the random subsets.
        mean, sd: optional ``[D]`` standardisation applied to real rows, ``(x - mean) / sd``.

    Returns:
        ``(patches [B, N, D] float32, mask [B, N] bool, kept)`` where ``N`` is the largest
        kept bag and ``kept[b]`` holds the indices (into bag ``b``) of its rows, in order.
    """
    if len(bags) == 0:
        raise ValueError("pad_bags: no bags")
    kept: list[np.ndarray] = []
    for b, bag in enumerate(bags):
        n_b = len(bag)
        if n_b == 0:
            raise ValueError(f"pad_bags: bag {b} is empty (every patient needs >= 1 patch)")
        if max_patches is not None and n_b > int(max_patches):
            if rng is not None:
                idx = np.sort(rng.choice(n_b, size=int(max_patches), replace=False))
            else:
                idx = np.unique(np.linspace(0, n_b - 1, int(max_patches)).round().astype(np.int64))
        else:
            idx = np.arange(n_b)
        kept.append(idx)
    d = int(bags[0].shape[1])
    n_max = max(len(k) for k in kept)
    patches = np.zeros((len(bags), n_max, d), dtype=np.float32)
    mask = np.zeros((len(bags), n_max), dtype=bool)
    for b, (bag, idx) in enumerate(zip(bags, kept, strict=True)):
        if bag.shape[1] != d:
            raise ValueError(f"pad_bags: bag {b} has {bag.shape[1]} features, bag 0 has {d}")
        rows = np.asarray(bag[idx], dtype=np.float32)
        if mean is not None:
            rows = (rows - mean) / sd
        patches[b, : len(idx)] = rows
        mask[b, : len(idx)] = True
    return torch.from_numpy(patches), torch.from_numpy(mask), kept


@dataclass
class FoldData:
    """A cohort prepared for one cross-validation fold: everything scaled on training patients.

    Build it with :func:`prepare_fold`. Genes and clinical covariates are z-scored with the
    training patients' means and s.d.; patch features likewise (statistics over all training
    patches); time bins are fitted on the training patients (quartiles of their event times).
    Test patients never influence any of it.

    Attributes:
        genes: ``float32 [N, G]`` standardised expression.
        clinical: ``float32 [N, C]`` standardised clinical design matrix.
        clinical_names: its column names.
        clinical_tokens: ``float32 [N, F, D_t]`` prompt embeddings, or ``None``.
        bags: the cohort's raw bags (standardised when batched), or ``None``.
        patch_mean, patch_sd: ``[D_p]`` patch standardisation.
        time, event: survival outcomes.
        bins: the fitted :class:`~survlib.survival.TimeBins`.
        bin_index: ``int64 [N]`` bin of each patient's time.
        train: the training indices the statistics came from.
        pathways: the cohort's pathway membership (for models that need it).
    """

    genes: np.ndarray
    clinical: np.ndarray
    clinical_names: list[str]
    clinical_tokens: np.ndarray | None
    bags: list[np.ndarray] | None
    patch_mean: np.ndarray | None
    patch_sd: np.ndarray | None
    time: np.ndarray
    event: np.ndarray
    bins: TimeBins
    bin_index: np.ndarray
    train: np.ndarray
    pathways: PathwayMembership | None = None

    def __len__(self) -> int:
        return int(self.time.size)

    @property
    def d_patch(self) -> int:
        return 0 if not self.bags else int(self.bags[0].shape[1])

    @property
    def n_genes(self) -> int:
        return int(self.genes.shape[1])

    @property
    def d_text(self) -> int:
        return 0 if self.clinical_tokens is None else int(self.clinical_tokens.shape[2])

    @property
    def n_clinical(self) -> int:
        return int(self.clinical.shape[1])

    @property
    def n_bins(self) -> int:
        return int(self.bins.n_bins)

    def batch(
        self,
        indices: Sequence[int] | np.ndarray,
        max_patches: int | None = None,
        rng: np.random.Generator | None = None,
        with_patches: bool = True,
    ) -> SurvivalBatch:
        """The :class:`~survlib.models.blocks.SurvivalBatch` of the patients ``indices``.

        Args:
            indices: patient positions.
            max_patches: cap on patches per patient (see :func:`pad_bags`).
            rng: random patch subsets (training); ``None``: deterministic.
            with_patches: ``False`` leaves ``patches``/``patch_mask`` ``None`` (models that do
                not read slides, and cohorts without bags).
        """
        from survlib.data.batch import SurvivalBatch

        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size == 0:
            raise ValueError("FoldData.batch: no patients")
        patches = mask = None
        if with_patches and self.bags is not None:
            patches, mask, _ = pad_bags(
                [self.bags[i] for i in idx], max_patches, rng, self.patch_mean, self.patch_sd
            )
        tokens = (
            None if self.clinical_tokens is None else torch.from_numpy(self.clinical_tokens[idx])
        )
        return SurvivalBatch(
            patches=patches,
            patch_mask=mask,
            genes=torch.from_numpy(self.genes[idx]),
            clinical_tokens=tokens,
            clinical=torch.from_numpy(self.clinical[idx]),
            bin_index=torch.from_numpy(self.bin_index[idx]),
            event=torch.from_numpy(self.event[idx]),
            time=torch.from_numpy(self.time[idx].astype(np.float32)),
        )

    def iter_batches(
        self,
        indices: Sequence[int] | np.ndarray,
        batch_size: int | None = None,
        max_patches: int | None = None,
        rng: np.random.Generator | None = None,
        shuffle: bool = True,
        with_patches: bool = True,
    ) -> Iterator[SurvivalBatch]:
        """Mini-batches over ``indices`` (shuffled with ``rng`` when ``shuffle``); the last one
        may be smaller. ``batch_size=None``: one batch of everyone."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if shuffle and rng is not None:
            idx = rng.permutation(idx)
        size = idx.size if batch_size is None else int(batch_size)
        for start in range(0, idx.size, size):
            yield self.batch(idx[start : start + size], max_patches, rng, with_patches)


def _zscore_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    sd = x.std(axis=0)
    # a constant column is recognised in float64: in float32 its sd comes out tiny but nonzero
    # and scaling by it explodes (real Xena RNA has genes at the floor value in every sample);
    # the statistics themselves stay in the input's precision (unchanged numbers elsewhere)
    constant = np.asarray(x, dtype=np.float64).std(axis=0) <= 1e-8
    return mean, np.where(constant, 1.0, sd)


def prepare_fold(
    cohort: MultimodalCohort,
    train: Sequence[int] | np.ndarray,
    n_bins: int = 4,
    clinical_tokens: np.ndarray | None = None,
    clinical_fields: Sequence[str] | None = None,
) -> FoldData:
    """Standardise a cohort on its training patients and fit the time bins on them.

    Args:
        cohort: the cohort.
        train: indices of the training patients (statistics and bins come from them only).
        n_bins: number of discrete time bins (quartiles of the training event times for 4).
        clinical_tokens: ``[N, F, D_t]`` prompt embeddings of every patient (optional).
        clinical_fields: columns of the clinical design matrix (default: all clinical fields).
    """
    from survlib.survival import make_time_bins

    train = np.sort(np.asarray(train, dtype=np.int64).reshape(-1))
    if train.size == 0:
        raise ValueError("prepare_fold: no training patients")
    genes = cohort.expression.to_numpy(dtype=np.float32)
    g_mean, g_sd = _zscore_stats(genes[train])
    design = clinical_design_matrix(cohort.clinical, clinical_fields)
    clin = design.to_numpy(dtype=np.float32)
    c_mean, c_sd = _zscore_stats(clin[train])
    if clinical_tokens is not None:
        clinical_tokens = np.asarray(clinical_tokens, dtype=np.float32)
        if clinical_tokens.ndim != 3 or clinical_tokens.shape[0] != len(cohort):
            raise ValueError(
                f"prepare_fold: clinical_tokens must be [{len(cohort)}, F, D], got "
                f"{clinical_tokens.shape}"
            )
    p_mean = p_sd = None
    if cohort.bags is not None:
        stacked = np.concatenate([cohort.bags[i] for i in train]).astype(np.float64)
        p_mean, p_sd = (a.astype(np.float32) for a in _zscore_stats(stacked))
    time, event = cohort.time, cohort.event
    bins = make_time_bins(time[train], event[train], n_bins=n_bins)
    return FoldData(
        genes=((genes - g_mean) / g_sd).astype(np.float32),
        clinical=((clin - c_mean) / c_sd).astype(np.float32),
        clinical_names=list(design.columns),
        clinical_tokens=clinical_tokens,
        bags=cohort.bags,
        patch_mean=p_mean,
        patch_sd=p_sd,
        time=time,
        event=event,
        bins=bins,
        bin_index=bins.transform(time),
        train=train,
        pathways=cohort.pathways,
    )
