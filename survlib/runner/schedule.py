"""``survlib run``: one notebook, or every one (``--all``) in turn or in ``--jobs`` worker
processes that share the CPU cores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import yaml

from survlib._core.paths import executed_dir, notebooks_dir
from survlib.parallel import available_cpus
from survlib.runner.execute import run_notebook
from survlib.runner.params import (
    NotebookNotFoundError,
    UnknownParameterError,
    list_notebooks,
    notebook_parameters,
    parse_cli_value,
    read_notebook,
    resolve_notebook,
    resolve_parameters,
)

__all__ = ["THREAD_PARAMETERS", "main_run", "plan_jobs", "run_parallel"]


def main_run(
    notebook: str | None,
    run_all: bool,
    profile: str,
    params: list[list[str]],
    output: str | None,
    keep_going: bool,
    quiet: bool,
    jobs: int | None = 1,
) -> int:
    """Entry point behind ``survlib run`` (see :mod:`survlib.cli`).

    With ``--all``, an override applies to every notebook whose parameters cell defines it;
    a name that no notebook defines is an error. ``jobs`` (``--jobs``; ``None`` = what the
    cores allow) runs several notebooks at once in worker processes (:func:`run_parallel`).
    """
    overrides = {name: parse_cli_value(value) for name, value in params}
    if run_all:
        if output:
            print("error: --output cannot be combined with --all", file=sys.stderr)
            return 2
        targets = [p.stem for p in list_notebooks()]
        defined = {
            stem: notebook_parameters(read_notebook(resolve_notebook(stem))) for stem in targets
        }
        orphan = sorted(k for k in overrides if not any(k in d for d in defined.values()))
        if orphan:
            print(f"error: no notebook has parameter(s) {orphan}", file=sys.stderr)
            return 2
        per_nb = {s: {k: v for k, v in overrides.items() if k in defined[s]} for s in targets}
    elif notebook:
        targets = [notebook]
        per_nb = {notebook: overrides}
    else:
        print("error: name a notebook (e.g. 01_survival_primer) or pass --all", file=sys.stderr)
        return 2
    if jobs is not None and jobs < 1:
        print(f"error: --jobs must be >= 1, got {jobs}", file=sys.stderr)
        return 2
    n_jobs, threads = plan_jobs(len(targets), jobs)
    if n_jobs > 1:
        try:  # every name and type is checked here, before any worker starts
            for stem in targets:
                nb = read_notebook(resolve_notebook(stem))
                resolve_parameters(nb, stem, profile, per_nb[stem])
        except (UnknownParameterError, NotebookNotFoundError, TypeError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        return run_parallel(targets, profile, per_nb, n_jobs, threads, keep_going)
    failures: list[str] = []
    for stem in targets:
        print(f"[survlib] running {stem} with profile {profile!r}", file=sys.stderr, flush=True)
        try:
            result = run_notebook(
                stem, profile=profile, overrides=per_nb[stem], output=output, progress=not quiet
            )
        except (UnknownParameterError, NotebookNotFoundError, TypeError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        except Exception as err:  # a cell failed: papermill.PapermillExecutionError
            print(f"error: {stem} failed:\n{err}", file=sys.stderr)
            failures.append(stem)
            if not keep_going:
                return 1
            continue
        print(f"[survlib] wrote {result.output} ({result.seconds:.0f} s)", file=sys.stderr)
    if failures:
        print(f"error: failed notebooks: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


#: Parameters through which a chapter sets its own torch/BLAS thread count (0 = all cores).
THREAD_PARAMETERS = ("threads", "torch_threads")


def plan_jobs(n_targets: int, jobs: int | None, cpus: int | None = None) -> tuple[int, int]:
    """How many notebooks run at once and how many CPU threads each may use.

    Args:
        n_targets: notebooks to run.
        jobs: requested workers; ``None`` means what the cores allow (one per core).
        cpus: cores available (default :func:`available_cpus`).

    Returns:
        ``(workers, threads_per_worker)``: never more workers than notebooks, and
        ``workers * threads_per_worker <= cpus`` (at least one thread each), so that parallel
        chapters do not oversubscribe the CPU.
    """
    cpus = available_cpus() if cpus is None else cpus
    if cpus < 1:
        raise ValueError(f"cpus must be >= 1, got {cpus}")
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    wanted = cpus if jobs is None else jobs
    workers = max(1, min(wanted, max(n_targets, 1)))
    return workers, max(1, cpus // workers)


def _previous_seconds(stem: str, profile: str) -> float:
    """Expected run time of ``stem`` with ``profile``: its last recorded run in this checkout,
    else the typical time in ``notebooks/params/runtimes.yaml`` (a fresh clone), else 0."""
    path = executed_dir() / f"{stem}.headlines.json"
    try:
        run = json.loads(path.read_text()).get("run", {})
        if run.get("profile") == profile and float(run.get("seconds", 0.0)) > 0:
            return float(run["seconds"])
    except (OSError, ValueError, TypeError):
        pass
    return _typical_seconds(profile).get(stem, 0.0)


def _typical_seconds(profile: str) -> dict[str, float]:
    """``notebooks/params/runtimes.yaml``'s seconds per chapter for ``profile`` ({} if none)."""
    path = notebooks_dir() / "params" / "runtimes.yaml"
    try:
        table = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return {}
    section = table.get(profile) or {}
    return {str(k): float(v) for k, v in section.items() if isinstance(v, (int, float))}


def _worker_command(stem: str, profile: str, overrides: dict[str, Any], threads: int) -> list[str]:
    """The ``survlib run`` command a worker process executes for one notebook.

    A chapter's own thread parameter (:data:`THREAD_PARAMETERS`) is capped at ``threads``
    unless the command line set it; the cap then shows in its run record.
    """
    nb = read_notebook(resolve_notebook(stem))
    _, full = resolve_parameters(nb, stem, profile, overrides)
    params = dict(overrides)
    for name in THREAD_PARAMETERS:
        if name in full and name not in overrides:
            value = int(full[name])
            if value == 0 or value > threads:
                params[name] = threads
    cmd = [sys.executable, "-m", "survlib", "run", stem, "--profile", profile, "--quiet"]
    for name, value in params.items():
        cmd += ["-p", name, str(value).lower() if isinstance(value, bool) else str(value)]
    return cmd


def run_parallel(
    targets: list[str],
    profile: str,
    per_nb: dict[str, dict[str, Any]],
    jobs: int,
    threads: int,
    keep_going: bool = False,
) -> int:
    """Run notebooks in ``jobs`` worker processes, each capped at ``threads`` CPU threads.

    Each worker is ``python -m survlib run STEM`` (so records and atomic outputs are exactly
    those of a single run) with ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``
    and ``NUMBA_NUM_THREADS`` set to ``threads`` for it and its kernel. The slowest notebooks
    (by their last run record for this profile) start first. A worker's log is printed when it
    ends. Without ``keep_going`` the first failure stops notebooks that have not started yet.

    Returns the exit status: 0, 1 (a notebook failed) or 2 (bad input).
    """
    from survlib.bench import THREAD_ENV_VARS

    env = dict(os.environ)
    for var in THREAD_ENV_VARS:
        env[var] = str(threads)
    order = sorted(targets, key=lambda s: -_previous_seconds(s, profile))
    commands = {s: _worker_command(s, profile, per_nb[s], threads) for s in order}
    print(
        f"[survlib] running {len(order)} notebooks with profile {profile!r}: {jobs} at a time, "
        f"{threads} CPU thread(s) each",
        file=sys.stderr,
        flush=True,
    )
    failed: list[str] = []
    status = 0
    start = time.perf_counter()
    stop = threading.Event()  # set by the first failure unless keep_going

    def work(stem: str) -> subprocess.CompletedProcess[str] | None:
        if stop.is_set():
            return None  # an earlier notebook failed: do not start this one
        proc = subprocess.run(commands[stem], env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0 and not keep_going:
            stop.set()
        return proc

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(work, stem): stem for stem in order}
        for future in as_completed(futures):
            stem, proc = futures[future], future.result()
            if proc is None:
                print(f"[survlib] skipped {stem} (an earlier notebook failed)", file=sys.stderr)
                continue
            log = (proc.stdout + proc.stderr).strip()
            if proc.returncode != 0:
                failed.append(stem)
                status = max(status, proc.returncode)
                print(f"error: {stem} failed (exit {proc.returncode}):\n{log}", file=sys.stderr)
            else:
                wrote = [line for line in log.splitlines() if line.startswith("[survlib] wrote")]
                print(wrote[-1] if wrote else f"[survlib] {stem} done", file=sys.stderr, flush=True)
    print(
        f"[survlib] {len(order)} notebooks in {time.perf_counter() - start:.0f} s", file=sys.stderr
    )
    if failed:
        print(f"error: failed notebooks: {', '.join(failed)}", file=sys.stderr)
        return status if status == 2 else 1
    return 0
