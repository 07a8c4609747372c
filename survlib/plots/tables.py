"""Result tables: a model x metric table of "mean +- sd", beside the paper's numbers
(:func:`results_table`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["results_table"]


def results_table(
    summary: pd.DataFrame,
    paper: dict[str, float] | pd.Series | None = None,
    metric: str | None = None,
    paper_label: str = "paper",
) -> pd.DataFrame:
    """A model × metric table of "mean ± sd" strings, optionally beside the paper's numbers.

    Args:
        summary: output of :func:`survlib.train.summarize` (columns ``model``, ``metric``,
            ``mean``, ``sd``, ``n``, ``mean ± sd``).
        paper: the paper's reported value per model (for ``metric``), shown in its own column.
        metric: keep only this metric (required with ``paper``).
        paper_label: header of the paper column.
    """
    table = summary if metric is None else summary[summary["metric"] == metric]
    wide = table.pivot(index="model", columns="metric", values="mean ± sd")
    wide = wide.reindex(pd.unique(table["model"]))
    if paper is not None:
        if metric is None:
            raise ValueError("results_table: pass `metric` together with `paper`")
        wide[paper_label] = [
            paper.get(m, np.nan) if hasattr(paper, "get") else np.nan for m in wide.index
        ]
    wide.columns.name = None
    return wide
