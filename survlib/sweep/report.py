"""The sweep's table (one row per point), ``sweep.csv``/``sweep.parquet``, plot and summary."""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from survlib._core.io import atomic_write, atomic_write_text
from survlib.sweep.plan import (
    POINT_FILE,
    STATUS_COLUMNS,
    SweepError,
    SweepPoint,
    _headlines_path,
    point_is_done,
)


def collect(
    points: Sequence[SweepPoint], stem: str, profile: str, resumed: set[str] | None = None
) -> Any:
    """The tidy table of a sweep, read from the points' folders (one row per point).

    Columns: ``point`` (key), the swept parameters, ``status`` (``ok``, ``failed``,
    ``missing``), ``resumed`` (done by an earlier invocation), ``seconds``, ``error``, then
    every glued headline (a headline named like a parameter or a status column is prefixed
    ``glued_``).
    """
    import pandas as pd

    params = list(dict.fromkeys(k for p in points for k in p.overrides))
    reserved = set(params) | set(STATUS_COLUMNS)
    rows = []
    for p in points:
        row: dict[str, Any] = {"point": p.key, **{k: p.parameters.get(k) for k in params}}
        values: dict[str, Any] = {}
        if point_is_done(p, stem, profile):
            data = json.loads(_headlines_path(p.folder, stem).read_text())
            row.update(status="ok", seconds=float(data["run"].get("seconds", math.nan)), error="")
            values = data.get("values", {})
        else:
            try:
                rec = json.loads((p.folder / POINT_FILE).read_text())
            except (OSError, ValueError):
                rec = {}
            if rec.get("status") == "failed":
                row.update(
                    status="failed",
                    seconds=float(rec.get("seconds") or math.nan),
                    error=str(rec.get("error", "")),
                )
            else:  # never ran, or its outputs were removed or do not match its parameters
                row.update(status="missing", seconds=math.nan, error="no matching output")
        row["resumed"] = p.key in (resumed or set())
        for key, value in values.items():
            row[f"glued_{key}" if key in reserved else key] = value
        rows.append(row)
    table = pd.DataFrame(rows)
    first = ["point", *params, "status", "resumed", "seconds", "error"]
    return table[first + [c for c in table.columns if c not in first]]


# --------------------------------------------------------------------------------------------
# the table, the summary and the plot
# --------------------------------------------------------------------------------------------


def _parse_plot(plot: str | None, points: Sequence[Mapping[str, Any]]) -> tuple[str, str] | None:
    if plot is None:
        return None
    headline, sep, param = str(plot).rpartition(":")
    if not sep or not headline or not param:
        raise SweepError(
            f"--plot {plot!r} must be HEADLINE:PARAM (a glued value and a swept parameter)"
        )
    swept = sorted({k for p in points for k in p})
    if param not in swept:
        raise SweepError(
            f"--plot {plot!r}: {param!r} is not a swept parameter; the grid sweeps {swept}"
        )
    return headline, param


def _markdown_table(df: Any, max_rows: int = 200) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return "" if math.isnan(v) else f"{v:.4g}"
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    for row in df.head(max_rows).itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines)


def _plot_png(table: Any, headline: str, param: str, others: list[str]) -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    ok = table[table["status"] == "ok"]
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    groups = ok.groupby(others, sort=False, dropna=False) if others else [((), ok)]
    for label, group in groups:
        group = group.sort_values(param)
        label = label if isinstance(label, tuple) else (label,)
        text = ", ".join(f"{k}={v}" for k, v in zip(others, label, strict=True)) or None
        ax.plot(group[param], group[headline], marker="o", label=text)
    ax.set_xlabel(param)
    ax.set_ylabel(headline)
    ax.set_title(f"{headline} against {param} ({len(ok)} successful runs)")
    if others and len(ok):
        ax.legend(fontsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def _write_tables(table: Any, folder: Path, files: dict[str, Path], notes: list[str]) -> None:
    """Write ``sweep.csv`` and, when pyarrow can, ``sweep.parquet`` (else a note why not)."""
    with atomic_write(folder / "sweep.csv", mode="w", newline="") as fh:
        table.to_csv(fh, index=False)
    files["csv"] = folder / "sweep.csv"
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        notes.append("pyarrow is not installed: no sweep.parquet (the CSV has everything).")
    else:
        buffer = io.BytesIO()
        try:
            table.to_parquet(buffer, index=False)
        except (ValueError, TypeError, ImportError) as err:  # e.g. a column of mixed types
            notes.append(f"sweep.parquet not written: {err}")
        else:
            with atomic_write(folder / "sweep.parquet") as fh:
                fh.write(buffer.getvalue())
            files["parquet"] = folder / "sweep.parquet"


def _write_plot(
    table: Any,
    folder: Path,
    plot: tuple[str, str],
    params: list[str],
    files: dict[str, Path],
    notes: list[str],
) -> str | None:
    """Write the ``HEADLINE_vs_PARAM.png`` plot; return (and note) why not when nothing glued it."""
    headline, param = plot
    column = f"glued_{headline}" if headline in set(params) | set(STATUS_COLUMNS) else headline
    ok = table[table["status"] == "ok"]
    if column not in table.columns or ok[column].isna().all():
        glued = [c for c in table.columns if c not in set(params) | set(STATUS_COLUMNS)]
        plot_error = (
            f"--plot: no successful point glued a value {headline!r}; glued: "
            f"{', '.join(glued) or '(none)'}"
        )
        notes.append(plot_error)
        return plot_error
    others = [p for p in params if p != param and table[p].nunique() > 1]
    png = folder / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', headline)}_vs_{param}.png"
    with atomic_write(png) as fh:
        fh.write(_plot_png(table, column, param, others))
    files["plot"] = png
    return None


def write_outputs(
    table: Any,
    folder: Path,
    stem: str,
    profile: str,
    points: Sequence[SweepPoint],
    plot: tuple[str, str] | None,
    seconds: float,
) -> tuple[dict[str, Path], str | None]:
    """Write ``sweep.csv`` (and ``sweep.parquet``), the plot and ``summary.md``, atomically."""
    files: dict[str, Path] = {}
    notes: list[str] = []
    _write_tables(table, folder, files, notes)
    params = list(dict.fromkeys(k for p in points for k in p.overrides))
    plot_error = None
    if plot is not None:
        plot_error = _write_plot(table, folder, plot, params, files, notes)

    n_ok = int((table["status"] == "ok").sum())
    n_resumed = int(table["resumed"].sum())
    shown = ["point", *params, "status", "seconds"]
    if plot is not None and "plot" in files:
        shown.append(
            f"glued_{plot[0]}" if plot[0] in set(params) | set(STATUS_COLUMNS) else plot[0]
        )
    lines = [
        f"# Sweep {folder.name}: {stem}",
        "",
        (
            f"- notebook `{stem}`, profile **{profile}**, {len(points)} point(s): {n_ok} ok, "
            f"{len(points) - n_ok} failed or missing, {n_resumed} done by an earlier invocation"
        ),
        f"- this invocation: {seconds:.1f} s of wall time",
        "- one row per point with every glued headline: `sweep.csv`"
        + (", `sweep.parquet`" if "parquet" in files else ""),
        (
            "- each point's executed notebook and run record: `<point>/`; re-run the same "
            "`survlib sweep` command to resume"
        ),
        "",
    ]
    if "plot" in files:
        lines += [f"![{plot[0]} against {plot[1]}]({files['plot'].name})", ""]
    lines += [_markdown_table(table[shown]), ""]
    failed = table[table["status"] != "ok"]
    if len(failed):
        lines += ["## Failed points", ""]
        for row in failed.itertuples(index=False):
            lines.append(
                f"- `{row.point}` ({', '.join(f'{k}={getattr(row, k)!r}' for k in params)}"
                f"): {row.error}"
            )
        lines.append("")
    if notes:
        lines += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    atomic_write_text(folder / "summary.md", "\n".join(lines))
    files["summary"] = folder / "summary.md"
    return files, plot_error
