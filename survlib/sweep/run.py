"""Running a sweep: one Dask task per point (``run_point``), the cluster, the command line."""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from survlib import parallel, runner
from survlib._core.io import atomic_write_json
from survlib.parallel import available_cpus
from survlib.sweep.plan import (
    POINT_FILE,
    SweepError,
    SweepPoint,
    load_grid,
    plan_sweep,
    point_is_done,
)
from survlib.sweep.report import _parse_plot, collect, write_outputs


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


def _error_text(err: BaseException, limit: int = 2000) -> str:
    """A compact error message: papermill's ename/evalue when there is one."""
    ename, evalue = getattr(err, "ename", None), getattr(err, "evalue", None)
    text = f"{ename}: {evalue}" if ename else f"{type(err).__name__}: {err}"
    return text if len(text) <= limit else text[:limit] + " ..."


def run_point(
    source: str, profile: str, overrides: dict[str, Any], folder: str, parameters: dict[str, Any]
) -> dict[str, Any]:
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
    record: dict[str, Any] = {
        "notebook": stem,
        "profile": profile,
        "overrides": overrides,
        "parameters": parameters,
        "host": os.uname().nodename,
        "pid": os.getpid(),
    }
    start = time.perf_counter()
    try:
        with parallel.PROCESS_LOCK:
            result = runner.run_notebook(
                source,
                profile=profile,
                overrides=overrides,
                output=out / f"{stem}.ipynb",
                progress=False,
            )
    except papermill.PapermillExecutionError as err:
        record.update(
            status="failed",
            error=_error_text(err),
            seconds=round(time.perf_counter() - start, 2),
            failed_notebook=f"{stem}.failed.ipynb",
        )
        atomic_write_json(out / POINT_FILE, record)
        return record
    record.update(status="ok", error="", seconds=round(result.seconds, 2))
    atomic_write_json(out / POINT_FILE, record)
    return record


# --------------------------------------------------------------------------------------------
# the cluster
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def local_client(
    workers: int | None = None, n_tasks: int | None = None, **cluster_kwargs: Any
) -> Iterator[Any]:
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
    kwargs: dict[str, Any] = {
        "n_workers": n,
        "threads_per_worker": 1,
        "processes": True,
        "host": "127.0.0.1",
        "dashboard_address": None,
    }
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
def _client_for(
    executor: Any, scheduler: str | None, workers: int | None, n_tasks: int
) -> Iterator[Any]:
    if executor is not None:
        yield parallel.check_executor(executor)
    elif scheduler:
        from distributed import Client

        try:
            client = Client(scheduler, timeout="20s")
        except OSError as err:
            raise SweepError(
                f"cannot reach the Dask scheduler at --scheduler {scheduler!r}: {err}"
            ) from err
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
        raise SweepError(
            f"--resources {resources} needs a cluster whose workers advertise them "
            "(--scheduler, e.g. dask-jobqueue workers started with --resources); "
            "the LocalCluster's workers advertise none, so the points would wait "
            "forever"
        )
    points_in = load_grid(grid)
    if name is None:
        name = Path(grid).stem if isinstance(grid, str | os.PathLike) else "sweep"
    plot_spec = _parse_plot(plot, points_in)
    source, points = plan_sweep(notebook, points_in, profile=profile, name=name, root=root)
    stem = source.stem
    folder = points[0].folder.parent
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(
        folder / "sweep.json",
        {
            "notebook": stem,
            "source": str(source),
            "profile": profile,
            "points": [{"key": p.key, "overrides": p.overrides} for p in points],
        },
        sort_keys=False,
    )

    todo = [p for p in points if not point_is_done(p, stem, profile)]
    done_before = {p.key for p in points} - {p.key for p in todo}
    _log(
        f"{stem}, profile {profile!r}: {len(points)} point(s), {len(done_before)} already done, "
        f"{len(todo)} to run -> {folder}",
        progress,
    )
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
    return SweepResult(
        table=table,
        folder=folder,
        ran=len(todo),
        resumed=len(done_before),
        failed=failed,
        seconds=seconds,
        files=files,
        plot_error=plot_error,
    )


def _run_points(
    pool: Any,
    source: Path,
    profile: str,
    todo: list[SweepPoint],
    resources: dict[str, float] | None,
    progress: bool,
) -> None:
    """Submit every point, then wait; a task that raised is recorded as a failed point.

    On a :class:`~survlib.parallel.SerialExecutor` each point runs as it is submitted, in
    grid order.
    """

    def submit(p: SweepPoint) -> Any:
        return parallel.submit(
            pool,
            run_point,
            str(source),
            profile,
            p.overrides,
            str(p.folder),
            p.parameters,
            retries=1,
            resources=resources,
        )

    def finish(number: int, p: SweepPoint, future: Any) -> None:
        try:
            record = future.result()
        except Exception as err:  # noqa: BLE001 - retried once already (or the worker died twice)
            record = {
                "notebook": source.stem,
                "profile": profile,
                "overrides": p.overrides,
                "parameters": p.parameters,
                "status": "failed",
                "error": _error_text(err),
                "seconds": None,
            }
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
            raise SweepError(
                f"--resources {item!r} must be NAME=AMOUNT with AMOUNT > 0, e.g. GPU=1"
            )
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
            notebook,
            grid,
            profile=profile,
            name=name,
            root=out_dir,
            executor="serial" if serial else None,
            scheduler=scheduler,
            workers=workers,
            resources=_parse_resources(resources),
            plot=plot,
            progress=not quiet,
        )
    except SweepError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "[survlib sweep] interrupted: finished points are kept; run the same command "
            "again to resume",
            file=sys.stderr,
        )
        return 130
    print(
        f"[survlib sweep] {len(result.table)} point(s): {result.ran} run now, "
        f"{result.resumed} resumed, {result.failed} failed; {result.seconds:.1f} s",
        file=sys.stderr,
    )
    for label, path in result.files.items():
        print(f"[survlib sweep] {label}: {path}", file=sys.stderr)
    print(result.files["csv"])
    if result.plot_error:
        print(f"error: {result.plot_error}", file=sys.stderr)
    return 1 if result.failed or result.plot_error else 0
