"""Helpers the notebooks use to put computed numbers into the book.

Prose never types a number that a notebook computes. A notebook calls :func:`glue` on the
value; a markdown cell then cites it with myst-nb's glue text role (name and format, e.g.
``name:.3f``) and myst-nb renders the value from
the executed notebook. Every glued scalar is also recorded in a *headline* JSON file (its path
comes from the ``SURVLIB_HEADLINES`` environment variable, which ``survlib run`` sets), so the
test suite can check a chapter's numbers without parsing notebooks.

The table helpers (:func:`summary_mean`, :func:`summary_cell`, :func:`summary_table`,
:func:`beside_paper`, :func:`schedule_table`) present results: a value of a summary, a table
of them, ours beside a paper's.
"""

from __future__ import annotations

import json
import numbers
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from survlib._core.io import atomic_write_text
from survlib._core.paths import HEADLINES_ENV

_headlines: dict[str, Any] = {}


def _as_scalar(value: Any) -> float | int | str | bool | None:
    """Return a JSON-friendly scalar, or None when ``value`` is not a scalar."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return None


def glue(name: str, value: Any, fmt: str | None = None, display: bool = False) -> None:
    """Glue ``value`` under ``name`` for the book and record it as a headline number.

    Args:
        name: the key a markdown cell cites with the glue text role (letters, digits and
            underscores).
        value: a scalar, a string, a DataFrame or a matplotlib figure.
        fmt: optional format spec used to print the value in the cell output
            (``".3f"``), so a reader of the code sees it too.
        display: also display the value where the cell runs (myst-nb's ``display``).

    Returns nothing, so a cell that ends with ``glue(...)`` shows no stray output.
    """
    if not name.replace("_", "").isalnum():
        raise ValueError(f"glue name {name!r} must contain only letters, digits and underscores")
    try:
        from myst_nb import glue as _myst_glue
    except ImportError:  # pragma: no cover - the book extra is not installed
        _myst_glue = None
    scalar = _as_scalar(value)
    if _myst_glue is not None:
        # numpy scalars are glued as Python scalars: their repr ("np.float64(...)") cannot
        # be formatted by {glue:text}`name:.3f`.
        _myst_glue(name, value if scalar is None else scalar, display=display)
    if fmt is not None and scalar is not None:
        print(f"{name} = {format(scalar, fmt)}")
    if scalar is not None:
        _headlines[name] = scalar
        path = os.environ.get(HEADLINES_ENV)
        if path:
            atomic_write_text(Path(path), json.dumps(_headlines, indent=2, sort_keys=True))


def headlines() -> dict[str, Any]:
    """The scalars glued so far in this kernel (a copy)."""
    return dict(_headlines)


def schedule_table(
    stem: str,
    rows: dict[str, str | tuple[str, ...]],
    paper: dict[str, str],
    this_run: dict[str, Any] | None = None,
) -> Any:
    """A "training schedule" table of a chapter: the paper's protocol beside the parameter
    values of the ``book`` and ``paper`` profiles (the notebook's defaults overridden by
    ``notebooks/params/<profile>.yaml``) and, optionally, of the run being executed.

    Args:
        stem: the notebook's file stem (``"05_survpgc"``).
        rows: row label -> the parameter name(s) that set it (several are joined by " / ").
        paper: row label -> the paper's protocol, as text (say "not stated" where it is not).
        this_run: parameter name -> value of the executing run (a column "this run").

    Returns:
        A :class:`pandas.DataFrame` indexed by the row labels.
    """
    import pandas as pd

    from survlib.runner import read_notebook, resolve_notebook, resolve_parameters

    nb = read_notebook(resolve_notebook(stem))
    profiles = {p: resolve_parameters(nb, stem, p, None)[1] for p in ("book", "paper")}

    def cell(values: dict[str, Any], names: str | tuple[str, ...]) -> str:
        keys = (names,) if isinstance(names, str) else names
        return " / ".join(f"{values[k]}" for k in keys)

    table: dict[str, list[str]] = {"paper's protocol": [paper.get(r, "not stated") for r in rows]}
    for p, values in profiles.items():
        table[f"`{p}` profile"] = [cell(values, n) for n in rows.values()]
    if this_run is not None:
        table["this run"] = [cell(this_run, n) for n in rows.values()]
    return pd.DataFrame(table, index=pd.Index(list(rows), name="schedule"))


# --------------------------------------------------------------------------------------------
# Result tables: lookups in a summary, ours beside the paper's
# --------------------------------------------------------------------------------------------
#
# ``summary`` below is what :func:`survlib.train.summarize` returns: one row per model and
# metric with the columns ``model, metric, mean, sd, n, "mean ± sd"``.


def glue_key(name: str) -> str:
    """A glue-friendly key for a model name: ``"SurvPGC (approach a)"`` ->
    ``"survpgc_approach_a"``."""
    return "_".join("".join(ch if ch.isalnum() else " " for ch in name.lower()).split())


def summary_mean(summary: Any, model: str, metric: str = "C-index") -> float:
    """The mean of ``metric`` for ``model`` in a summary (the first matching row)."""
    row = summary[(summary.model == model) & (summary.metric == metric)]
    return float(row["mean"].iloc[0])


def summary_cell(summary: Any, model: str, metric: str = "C-index", missing: str = "—") -> str:
    """The ``"mean ± sd"`` text of ``metric`` for ``model``, or ``missing`` when not in the
    summary."""
    sel = summary[(summary.model == model) & (summary.metric == metric)]
    return sel["mean ± sd"].iloc[0] if len(sel) else missing


def summary_table(summary: Any, models: Sequence[str], metrics: Sequence[str]) -> Any:
    """Models x metrics of ``"mean ± sd"`` strings, rows in the order of ``models`` (those in the
    summary) and columns in the order of ``metrics``."""
    sub = summary[summary.model.isin(models) & summary.metric.isin(metrics)]
    wide = sub.pivot(index="model", columns="metric", values="mean ± sd")
    return wide.reindex(index=[m for m in models if m in set(sub.model)], columns=list(metrics))


def beside_paper(
    ours: Any,
    paper_rows: dict[Any, tuple[str, ...]],
    columns: Sequence[str],
    kind: str = "simulated",
) -> Any:
    """Our table (headers marked ``"(ours, <kind>)"``) with the paper's columns appended
    (headers ``"paper, real <column>"``; empty where the paper has no row).

    Args:
        ours: a table indexed by model (e.g. :func:`summary_table`).
        paper_rows: model -> the paper's values, one per column, typed from the paper.
        columns: names of the paper's columns (its real cohorts).
        kind: what our numbers are computed on (``"simulated"``, ``"real"``).
    """
    import pandas as pd

    paper = pd.DataFrame.from_dict(paper_rows, orient="index", columns=list(columns))
    return ours.add_suffix(f" (ours, {kind})").join(paper.add_prefix("paper, real "), how="left")
