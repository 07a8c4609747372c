"""The authors' split files as :class:`~survlib.train.Split` folds (:func:`read_splits`, under the
published or the honest protocol) and a summary of them (:func:`describe_splits`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from survlib.data.tcga.tables import PathLike, _need, _read_csv


def describe_splits(paths: Sequence[PathLike]) -> pd.DataFrame:
    """Per split file: fold, ``train``/``val``/``test`` sizes and whether ``val == test``."""
    rows = []
    for k, path in enumerate(paths):
        frame = _read_csv(path, "splits")
        _need(frame, ("train", "val"), path, "splits")
        sets = {
            c: set(frame[c].dropna().astype(str)) for c in ("train", "val", "test") if c in frame
        }
        rows.append(
            {
                "fold": k,
                "train": len(sets["train"]),
                "val": len(sets["val"]),
                "test": len(sets["test"]) if "test" in sets else None,
                "val == test": "test" in sets and sets["val"] == sets["test"],
            }
        )
    return pd.DataFrame(rows)


def read_splits(
    paths: Sequence[PathLike],
    patients: Sequence[str] | pd.Index,
    protocol: str = "honest",
    event: Sequence[int] | np.ndarray | None = None,
    val_fraction: float = 0.2,
    seed: int = 0,
) -> list[Any]:
    """The authors' split CSVs as :class:`~survlib.train.Split` folds over ``patients``.

    The held-out fold of file ``k`` is its ``test`` column, or ``val`` when there is none
    (SurvPath's files). In SurvPGC's files ``val == test`` (see :func:`describe_splits`): the
    released code selects epochs on the fold it reports. Two protocols:

    * ``"published"``: train on the whole ``train`` column, validation = the held-out fold
      (selection on the test fold, as released);
    * ``"honest"``: a validation split of ``val_fraction`` carved from the ``train`` column
      (stratified by ``event`` when given, seeded by ``seed`` and the fold), the held-out fold
      touched once.

    Ids in the files that are not in ``patients`` (dropped by :func:`read_cohort`) are left out.

    Raises:
        ValueError: unknown protocol, a file without ``train``/``val``, a fold whose train and
            held-out ids overlap, or a fold with no patient left.
    """
    from sklearn.model_selection import train_test_split

    from survlib.train import Split

    if protocol not in ("honest", "published"):
        raise ValueError(f"read_splits: protocol must be 'honest' or 'published', got {protocol!r}")
    if not 0.0 < float(val_fraction) < 1.0 and protocol == "honest":
        raise ValueError(f"read_splits: val_fraction must lie in (0, 1), got {val_fraction}")
    position = {str(p): i for i, p in enumerate(patients)}
    ev = None if event is None else np.asarray(event, dtype=np.int64)
    out = []
    for k, path in enumerate(paths):
        frame = _read_csv(path, "splits")
        _need(frame, ("train", "val"), path, "splits")
        held_col = "test" if "test" in frame else "val"
        train_ids = set(frame["train"].dropna().astype(str))
        held_ids = set(frame[held_col].dropna().astype(str))
        overlap = train_ids & held_ids
        if overlap:
            raise ValueError(
                f"splits file {str(path)!r}: {len(overlap)} patient(s) are in both "
                f"train and {held_col}, e.g. {sorted(overlap)[:3]}"
            )
        train = np.array(sorted(position[p] for p in train_ids if p in position), dtype=np.int64)
        test = np.array(sorted(position[p] for p in held_ids if p in position), dtype=np.int64)
        if train.size == 0 or test.size == 0:
            raise ValueError(
                f"splits file {str(path)!r}: no patient of the cohort is left in "
                f"train ({train.size}) or {held_col} ({test.size})"
            )
        if protocol == "published":
            out.append(Split(fold=k, train=train, val=test.copy(), test=test))
            continue
        strat = None if ev is None else ev[train]
        tr, va = train_test_split(
            train, test_size=float(val_fraction), stratify=strat, random_state=int(seed) * 1000 + k
        )
        out.append(Split(fold=k, train=np.sort(tr), val=np.sort(va), test=test))
    return out
