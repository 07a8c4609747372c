"""Parameter sweeps: one papermill run of a notebook per parameter combination, on Dask.

``survlib sweep NOTEBOOK --grid GRID.yaml`` (see :func:`main_sweep`) executes a notebook once
per *point* of a grid, each point one Dask task that calls the same
:func:`survlib.runner.run_notebook` as ``survlib run`` (same parameter checks, same run
record, same atomic outputs). A grid file is either a mapping of parameter -> list of values
(the cartesian product; a scalar is a fixed value) or a list of mappings (explicit points)::

    # grid.yaml: 2 x 3 = 6 points            # points.yaml: 2 explicit points
    seed: [0, 1]                              - {seed: 0, learning_rate: 0.01}
    learning_rate: [0.001, 0.003, 0.01]       - {seed: 1, learning_rate: 0.003, hidden: 64}
    n_folds: 3

Outputs, under ``sweeps/<name>/`` (``name`` defaults to the grid file's stem)::

    <key>/<stem>.ipynb            the executed notebook of one point (key: a hash of the
    <key>/<stem>.headlines.json   notebook, profile and full parameter set), its run record
    <key>/point.json              and glued numbers, the point's status (and error)
    <key>/<stem>.failed.ipynb     a failed point's partial notebook, for debugging
    sweep.csv / sweep.parquet     one row per point: parameters, status, seconds, error and
                                  every glued headline (parquet when pyarrow is installed)
    summary.md, <headline>_vs_<param>.png

Robustness:

- every point's parameters are validated before anything is submitted;
- a point whose notebook raises is recorded (``status = failed``, the error, the partial
  notebook) and the other points go on;
- a point whose outputs exist and whose recorded profile and parameters match is skipped,
  so re-running an interrupted sweep runs only what is missing (failed points run again);
- outputs are written atomically, so Ctrl-C leaves each point either complete or absent;
- a task that raises something other than a notebook error (e.g. the kernel died) is retried
  once (Dask ``retries=1``), and a point whose worker process dies is rescheduled once on our
  ``LocalCluster`` (``distributed.scheduler.allowed-failures = 1``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import json
import math
import os
import re
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from survlib import parallel, runner
from survlib.io import atomic_write, atomic_write_json, atomic_write_text

__all__ = [
    "SweepError",
    "SweepPoint",
    "SweepResult",
    "load_grid",
    "local_client",
    "main_sweep",
    "plan_sweep",
    "run_sweep",
]

POINT_FILE = "point.json"
#: Columns of the sweep table besides the parameters and the headlines.
STATUS_COLUMNS = ("point", "status", "resumed", "seconds", "error")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class SweepError(ValueError):
    """A grid, a point's parameters or a sweep option is invalid (nothing was submitted)."""


@dataclass(frozen=True)
class SweepPoint:
    """One parameter combination of a sweep.

    Attributes:
        index: position in the grid (0-based).
        overrides: the values this point sets (passed to ``run_notebook`` as overrides).
        parameters: the complete parameter set the notebook runs with (defaults included).
        key: 12 hex digits of the SHA-256 of notebook, profile and ``parameters``.
        folder: ``sweeps/<name>/<key>/``.
    """

    index: int
    overrides: dict[str, Any]
    parameters: dict[str, Any]
    key: str
    folder: Path


@dataclass
class SweepResult:
    """What :func:`run_sweep` returns: the table and what happened in this invocation."""

    table: Any  # pandas.DataFrame
    folder: Path
    ran: int
    resumed: int
    failed: int
    seconds: float
    files: dict[str, Path]
    plot_error: str | None = None


# --------------------------------------------------------------------------------------------
# the grid
# --------------------------------------------------------------------------------------------


def _scalar(where: str, value: Any) -> Any:
    if not isinstance(value, int | float | str | bool):
        raise SweepError(f"{where}: values must be scalars (int, float, str, bool), got {value!r}")
    return value


def load_grid(grid: str | os.PathLike[str] | Mapping[str, Any] | Sequence[Mapping[str, Any]]
              ) -> list[dict[str, Any]]:
    """The points of a grid: a YAML file, a mapping of lists (product) or a list of mappings.

    In a mapping, each value is a non-empty list of scalars (or one scalar: a fixed value);
    the points are the cartesian product in the mapping's order (the last name varies
    fastest). A list gives the points explicitly. Repeated points are an error.

    Raises:
        SweepError: naming the file and the offending entry.
    """
    where = "grid"
    if isinstance(grid, str | os.PathLike):
        path = Path(grid)
        where = str(path)
        if not path.is_file():
            raise SweepError(f"grid file {str(grid)!r} does not exist")
        try:
            grid = yaml.safe_load(path.read_text())
        except yaml.YAMLError as err:
            raise SweepError(f"{where}: not valid YAML ({err})") from err
    if isinstance(grid, Mapping):
        if not grid:
            raise SweepError(f"{where}: the grid is empty")
        names, axes = [], []
        for name, values in grid.items():
            values = values if isinstance(values, list) else [values]
            if not values:
                raise SweepError(f"{where}: parameter {name!r} has an empty list of values")
            names.append(str(name))
            axes.append([_scalar(f"{where}: {name}", v) for v in values])
        points = [dict(zip(names, combo)) for combo in itertools.product(*axes)]
    elif isinstance(grid, list):
        if not grid:
            raise SweepError(f"{where}: the list of points is empty")
        points = []
        for i, item in enumerate(grid):
            if not isinstance(item, Mapping):
                raise SweepError(f"{where}: point {i} must be a mapping name: value, got {item!r}")
            points.append({str(k): _scalar(f"{where}: point {i}: {k}", v)
                           for k, v in item.items()})
    else:
        raise SweepError(f"{where}: a grid is a mapping of parameter: [values] or a list of "
                         f"mappings, got {type(grid).__name__}")
    seen: dict[str, int] = {}
    for i, point in enumerate(points):
        canon = json.dumps(point, sort_keys=True)
        if canon in seen:
            raise SweepError(f"{where}: point {i} {point} repeats point {seen[canon]}")
        seen[canon] = i
    return points


def point_key(stem: str, profile: str, parameters: Mapping[str, Any]) -> str:
    """The folder name of a point: a hash of the notebook, the profile and every parameter."""
    canon = json.dumps({"notebook": stem, "profile": profile, "parameters": dict(parameters)},
                       sort_keys=True, default=str)
    return hashlib.sha256(canon.encode()).hexdigest()[:12]


def sweeps_dir() -> Path:
    """The default root of sweep outputs, ``<repo>/sweeps`` (git-ignored)."""
    from survlib.paths import repo_root

    return repo_root() / "sweeps"


def plan_sweep(
    notebook: str | os.PathLike[str],
    points: Sequence[Mapping[str, Any]],
    profile: str = "book",
    name: str = "sweep",
    root: str | os.PathLike[str] | None = None,
) -> tuple[Path, list[SweepPoint]]:
    """Resolve the notebook and validate *every* point's parameters, before anything runs.

    Each point goes through :func:`survlib.runner.resolve_parameters` (unknown names and wrong
    types are errors, exactly as for ``survlib run -p``).

    Returns:
        The notebook source and the points (with their keys and folders).

    Raises:
        SweepError: listing every invalid point (or a bad name / profile / notebook).
    """
    if not _NAME.match(str(name)):
        raise SweepError(f"sweep name {name!r} must be letters, digits, '.', '_' or '-' "
                         "(it names a folder)")
    if profile not in runner.PROFILES:
        raise SweepError(f"profile {profile!r} is not one of {', '.join(runner.PROFILES)}")
    try:
        source = runner.resolve_notebook(notebook)
    except runner.NotebookNotFoundError as err:
        raise SweepError(str(err)) from err
    stem = source.stem
    nb = runner.read_notebook(source)
    base = Path(root) if root is not None else sweeps_dir()
    folder = base / str(name)
    planned, problems = [], []
    for i, point in enumerate(points):
        try:
            injected, full = runner.resolve_parameters(nb, stem, profile, dict(point))
        except (runner.UnknownParameterError, TypeError, ValueError) as err:
            problems.append(f"point {i} {dict(point)}: {err}")
            continue
        key = point_key(stem, profile, full)
        overrides = {k: injected[k] for k in point}
        planned.append(SweepPoint(i, overrides, full, key, folder / key))
    if problems:
        raise SweepError(f"{len(problems)} of {len(points)} point(s) of the sweep of {stem} are "
                         "invalid; nothing was run:\n" + "\n".join(problems))
    return source, planned


# --------------------------------------------------------------------------------------------
# one point (a Dask task)
# --------------------------------------------------------------------------------------------


def _headlines_path(folder: Path, stem: str) -> Path:
    return folder / f"{stem}.headlines.json"


def point_is_done(point: SweepPoint, stem: str, profile: str) -> bool:
    """Whether the point's executed notebook and run record exist and match its parameters."""
    record = _headlines_path(point.folder, stem)
    if not (point.folder / f"{stem}.ipynb").is_file() or not record.is_file():
        return False
    try:
        run = json.loads(record.read_text()).get("run", {})
    except (OSError, ValueError):
        return False
    return (run.get("notebook") == stem and run.get("profile") == profile
            and run.get("parameters") == point.parameters)


def _error_text(err: BaseException, limit: int = 2000) -> str:
    """A compact error message: papermill's ename/evalue when there is one."""
    ename, evalue = getattr(err, "ename", None), getattr(err, "evalue", None)
    text = f"{ename}: {evalue}" if ename else f"{type(err).__name__}: {err}"
    return text if len(text) <= limit else text[:limit] + " ..."


def run_point(source: str, profile: str, overrides: dict[str, Any], folder: str,
              parameters: dict[str, Any]) -> dict[str, Any]:
    """Execute one point with :func:`survlib.runner.run_notebook` into ``folder``.

    A notebook error (``papermill.PapermillExecutionError``: a cell raised) is recorded in
    ``point.json`` and returned as ``status = failed``; it is not retried (it would fail
    again). Anything else (the kernel died, a file system error) propagates, so Dask retries.
    The run holds :data:`survlib.parallel.PROCESS_LOCK`: the runner passes the headline file
    through an environment variable, which threads of one worker would share.
    """
    import papermill

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    stem = Path(source).stem
    record: dict[str, Any] = {"notebook": stem, "profile": profile, "overrides": overrides,
                              "parameters": parameters, "host": os.uname().nodename,
                              "pid": os.getpid()}
    start = time.perf_counter()
    try:
        with parallel.PROCESS_LOCK:
            result = runner.run_notebook(source, profile=profile, overrides=overrides,
                                         output=out / f"{stem}.ipynb", progress=False)
    except papermill.PapermillExecutionError as err:
        record.update(status="failed", error=_error_text(err),
                      seconds=round(time.perf_counter() - start, 2),
                      failed_notebook=f"{stem}.failed.ipynb")
        atomic_write_json(out / POINT_FILE, record)
        return record
    record.update(status="ok", error="", seconds=round(result.seconds, 2))
    atomic_write_json(out / POINT_FILE, record)
    return record


# --------------------------------------------------------------------------------------------
# the cluster
# --------------------------------------------------------------------------------------------


def available_cpus() -> int:
    """CPU cores this process may use (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def local_client(workers: int | None = None, n_tasks: int | None = None,
                 **cluster_kwargs: Any) -> Iterator[Any]:
    """A ``distributed.Client`` on a fresh ``LocalCluster`` of worker processes, closed after.

    ``workers`` defaults to the CPU cores (never more than ``n_tasks``); each worker is one
    process with one thread (``threads_per_worker=1``; Dask also sets ``OMP_NUM_THREADS=1``
    etc. in the workers, so a notebook's torch does not oversubscribe the cores). The
    scheduler reschedules a task whose worker died once (``allowed-failures = 1``).
    """
    import dask
    from distributed import Client, LocalCluster

    n = int(workers) if workers is not None else available_cpus()
    if n < 1:
        raise SweepError(f"workers must be >= 1, got {workers}")
    if n_tasks is not None:
        n = max(1, min(n, int(n_tasks)))
    kwargs: dict[str, Any] = {"n_workers": n, "threads_per_worker": 1, "processes": True,
                              "host": "127.0.0.1", "dashboard_address": None}
    kwargs.update(cluster_kwargs)
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = LocalCluster(**kwargs)
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


@contextlib.contextmanager
def _client_for(executor: Any, scheduler: str | None, workers: int | None, n_tasks: int
                ) -> Iterator[Any]:
    if executor is not None:
        yield parallel.check_executor(executor)
    elif scheduler:
        from distributed import Client

        try:
            client = Client(scheduler, timeout="20s")
        except OSError as err:
            raise SweepError(f"cannot reach the Dask scheduler at --scheduler {scheduler!r}: "
                             f"{err}") from err
        try:
            yield client
        finally:
            client.close()
    else:
        with local_client(workers, n_tasks) as client:
            yield client


# --------------------------------------------------------------------------------------------
# the sweep
# --------------------------------------------------------------------------------------------


def _log(message: str, progress: bool) -> None:
    if progress:
        print(f"[survlib sweep] {message}", file=sys.stderr, flush=True)


def _describe(point: SweepPoint) -> str:
    return " ".join(f"{k}={v!r}" for k, v in point.overrides.items()) or "(defaults)"


def run_sweep(
    notebook: str | os.PathLike[str],
    grid: Any,
    *,
    profile: str = "book",
    name: str | None = None,
    root: str | os.PathLike[str] | None = None,
    executor: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    resources: dict[str, float] | None = None,
    plot: str | None = None,
    progress: bool = True,
) -> SweepResult:
    """Run ``notebook`` at every point of ``grid``; collect the table and the summary.

    Args:
        notebook: stem, number or path of a jupytext notebook source.
        grid: a grid YAML file, a mapping of lists or a list of mappings (:func:`load_grid`).
        profile: the parameter profile every point starts from.
        name: the sweep's folder name (default: the grid file's stem, else ``"sweep"``).
        root: where sweep folders go (default ``<repo>/sweeps``).
        executor: a ``distributed.Client`` or ``concurrent.futures`` executor to use;
            ``"serial"`` runs the points one after another in this process.
        scheduler: a Dask scheduler address (``tcp://host:8786``) when ``executor`` is None.
        workers: size of the ``LocalCluster`` started when neither is given (default: cores).
        resources: Dask resources each point needs (e.g. ``{"GPU": 1}``).
        plot: ``"HEADLINE:PARAM"``: plot that glued value against that parameter.
        progress: one line per finished point on stderr.

    Raises:
        SweepError: the grid or a point is invalid (before anything runs).
        KeyboardInterrupt: re-raised after the pending points are cancelled; finished points
            are kept and a re-run resumes.
    """
    if workers is not None and int(workers) < 1:
        raise SweepError(f"workers must be >= 1, got {workers}")
    if resources and executor is None and not scheduler:
        raise SweepError(f"--resources {resources} needs a cluster whose workers advertise them "
                         "(--scheduler, e.g. dask-jobqueue workers started with --resources); "
                         "the LocalCluster's workers advertise none, so the points would wait "
                         "forever")
    points_in = load_grid(grid)
    if name is None:
        name = Path(grid).stem if isinstance(grid, str | os.PathLike) else "sweep"
    plot_spec = _parse_plot(plot, points_in)
    source, points = plan_sweep(notebook, points_in, profile=profile, name=name, root=root)
    stem = source.stem
    folder = points[0].folder.parent
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / "sweep.json", {
        "notebook": stem, "source": str(source), "profile": profile,
        "points": [{"key": p.key, "overrides": p.overrides} for p in points]}, sort_keys=False)

    todo = [p for p in points if not point_is_done(p, stem, profile)]
    done_before = {p.key for p in points} - {p.key for p in todo}
    _log(f"{stem}, profile {profile!r}: {len(points)} point(s), {len(done_before)} already done, "
         f"{len(todo)} to run -> {folder}", progress)
    start = time.perf_counter()
    if todo:
        if executor == "serial":
            executor = parallel.SerialExecutor()
        with _client_for(executor, scheduler, workers, len(todo)) as pool:
            _run_points(pool, source, profile, todo, resources, progress)
    seconds = time.perf_counter() - start
    table = collect(points, stem, profile, done_before)
    files, plot_error = write_outputs(table, folder, stem, profile, points, plot_spec, seconds)
    failed = int((table["status"] != "ok").sum())
    return SweepResult(table=table, folder=folder, ran=len(todo), resumed=len(done_before),
                       failed=failed, seconds=seconds, files=files, plot_error=plot_error)


def _run_points(pool: Any, source: Path, profile: str, todo: list[SweepPoint],
                resources: dict[str, float] | None, progress: bool) -> None:
    """Submit every point, then wait; a task that raised is recorded as a failed point.

    On a :class:`~survlib.parallel.SerialExecutor` each point runs as it is submitted, in
    grid order.
    """
    def submit(p: SweepPoint) -> Any:
        return parallel.submit(pool, run_point, str(source), profile, p.overrides,
                               str(p.folder), p.parameters, retries=1, resources=resources)

    def finish(number: int, p: SweepPoint, future: Any) -> None:
        try:
            record = future.result()
        except Exception as err:  # noqa: BLE001 - retried once already (or the worker died twice)
            record = {"notebook": source.stem, "profile": profile, "overrides": p.overrides,
                      "parameters": p.parameters, "status": "failed",
                      "error": _error_text(err), "seconds": None}
            p.folder.mkdir(parents=True, exist_ok=True)
            atomic_write_json(p.folder / POINT_FILE, record)
        release = getattr(future, "release", None)
        if release is not None:  # Dask: forget the result, or a lost worker recomputes it
            release()
        state = "ok" if record["status"] == "ok" else f"FAILED ({record['error']})"
        _log(f"{number}/{len(todo)} {p.key} {_describe(p)}: {state}", progress)

    if isinstance(pool, parallel.SerialExecutor):
        for number, p in enumerate(todo, start=1):
            finish(number, p, submit(p))
        return
    futures = {submit(p): p for p in todo}
    try:
        for number, future in enumerate(parallel.as_completed(pool, list(futures)), start=1):
            finish(number, futures[future], future)
    except BaseException:
        parallel.cancel(pool, list(futures))
        raise


def collect(points: Sequence[SweepPoint], stem: str, profile: str,
            resumed: set[str] | None = None) -> Any:
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
            row.update(status="ok", seconds=float(data["run"].get("seconds", math.nan)),
                       error="")
            values = data.get("values", {})
        else:
            try:
                rec = json.loads((p.folder / POINT_FILE).read_text())
            except (OSError, ValueError):
                rec = {}
            if rec.get("status") == "failed":
                row.update(status="failed", seconds=float(rec.get("seconds") or math.nan),
                           error=str(rec.get("error", "")))
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
        raise SweepError(f"--plot {plot!r} must be HEADLINE:PARAM (a glued value and a swept "
                         "parameter)")
    swept = sorted({k for p in points for k in p})
    if param not in swept:
        raise SweepError(f"--plot {plot!r}: {param!r} is not a swept parameter; the grid "
                         f"sweeps {swept}")
    return headline, param


def _markdown_table(df: Any, max_rows: int = 200) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return "" if math.isnan(v) else f"{v:.4g}"
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(map(str, df.columns)) + " |",
             "|" + "---|" * len(df.columns)]
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
        text = ", ".join(f"{k}={v}" for k, v in zip(others, label)) or None
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


def write_outputs(table: Any, folder: Path, stem: str, profile: str,
                  points: Sequence[SweepPoint], plot: tuple[str, str] | None, seconds: float
                  ) -> tuple[dict[str, Path], str | None]:
    """Write ``sweep.csv`` (and ``sweep.parquet``), the plot and ``summary.md``, atomically."""
    files: dict[str, Path] = {}
    with atomic_write(folder / "sweep.csv", mode="w", newline="") as fh:
        table.to_csv(fh, index=False)
    files["csv"] = folder / "sweep.csv"
    notes = []
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

    params = list(dict.fromkeys(k for p in points for k in p.overrides))
    plot_error = None
    if plot is not None:
        headline, param = plot
        column = f"glued_{headline}" if headline in set(params) | set(STATUS_COLUMNS) else headline
        ok = table[table["status"] == "ok"]
        if column not in table.columns or ok[column].isna().all():
            glued = [c for c in table.columns if c not in set(params) | set(STATUS_COLUMNS)]
            plot_error = (f"--plot: no successful point glued a value {headline!r}; glued: "
                          f"{', '.join(glued) or '(none)'}")
            notes.append(plot_error)
        else:
            others = [p for p in params if p != param and table[p].nunique() > 1]
            png = folder / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', headline)}_vs_{param}.png"
            with atomic_write(png) as fh:
                fh.write(_plot_png(table, column, param, others))
            files["plot"] = png

    n_ok = int((table["status"] == "ok").sum())
    n_resumed = int(table["resumed"].sum())
    shown = ["point", *params, "status", "seconds"]
    if plot is not None and "plot" in files:
        shown.append(f"glued_{plot[0]}" if plot[0] in set(params) | set(STATUS_COLUMNS)
                     else plot[0])
    lines = [
        f"# Sweep {folder.name}: {stem}",
        "",
        (f"- notebook `{stem}`, profile **{profile}**, {len(points)} point(s): {n_ok} ok, "
         f"{len(points) - n_ok} failed or missing, {n_resumed} done by an earlier invocation"),
        f"- this invocation: {seconds:.1f} s of wall time",
        "- one row per point with every glued headline: `sweep.csv`"
        + (", `sweep.parquet`" if "parquet" in files else ""),
        ("- each point's executed notebook and run record: `<point>/`; re-run the same "
         "`survlib sweep` command to resume"),
        "",
    ]
    if "plot" in files:
        lines += [f"![{plot[0]} against {plot[1]}]({files['plot'].name})", ""]
    lines += [_markdown_table(table[shown]), ""]
    failed = table[table["status"] != "ok"]
    if len(failed):
        lines += ["## Failed points", ""]
        for row in failed.itertuples(index=False):
            lines.append(f"- `{row.point}` ({', '.join(f'{k}={getattr(row, k)!r}' for k in params)}"
                         f"): {row.error}")
        lines.append("")
    if notes:
        lines += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    atomic_write_text(folder / "summary.md", "\n".join(lines))
    files["summary"] = folder / "summary.md"
    return files, plot_error


# --------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------


def _parse_resources(items: Sequence[str] | None) -> dict[str, float] | None:
    """``["GPU=1", "MEM=8e9"]`` -> ``{"GPU": 1.0, "MEM": 8e9}`` (Dask worker resources)."""
    if not items:
        return None
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            amount = float(value)
        except ValueError:
            amount = math.nan
        if not key or not math.isfinite(amount) or amount <= 0:
            raise SweepError(f"--resources {item!r} must be NAME=AMOUNT with AMOUNT > 0, "
                             "e.g. GPU=1")
        out[key] = amount
    return out


def main_sweep(
    notebook: str,
    grid: str,
    profile: str = "book",
    scheduler: str | None = None,
    workers: int | None = None,
    name: str | None = None,
    plot: str | None = None,
    out_dir: str | None = None,
    resources: Sequence[str] | None = None,
    serial: bool = False,
    quiet: bool = False,
) -> int:
    """Entry point behind ``survlib sweep``: exit 0 (all ok), 1 (a point failed), 2 (bad
    input, nothing run), 130 (interrupted; finished points are kept)."""
    if serial and (scheduler or workers is not None):
        print("error: --serial cannot be combined with --scheduler or --workers", file=sys.stderr)
        return 2
    try:
        result = run_sweep(
            notebook, grid, profile=profile, name=name, root=out_dir,
            executor="serial" if serial else None, scheduler=scheduler, workers=workers,
            resources=_parse_resources(resources), plot=plot, progress=not quiet,
        )
    except SweepError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("[survlib sweep] interrupted: finished points are kept; run the same command "
              "again to resume", file=sys.stderr)
        return 130
    print(f"[survlib sweep] {len(result.table)} point(s): {result.ran} run now, "
          f"{result.resumed} resumed, {result.failed} failed; {result.seconds:.1f} s",
          file=sys.stderr)
    for label, path in result.files.items():
        print(f"[survlib sweep] {label}: {path}", file=sys.stderr)
    print(result.files["csv"])
    if result.plot_error:
        print(f"error: {result.plot_error}", file=sys.stderr)
    return 1 if result.failed or result.plot_error else 0
