"""Execute the book's notebooks with papermill: one parameter profile plus overrides.

A chapter's only source is ``notebooks/NN_name.py`` (jupytext py:percent). :func:`run_notebook`
reads it, checks every parameter name against the notebook's ``parameters`` cell (papermill
only warns about unknown names; here they are an error), executes it in a fresh kernel and
writes ``book/executed/NN_name.ipynb`` with

- papermill's injected cell tagged ``remove-cell`` (hidden in the book),
- ``metadata["survlib"]``: notebook, profile, all parameter values, survlib version, git commit,
- a closing "Run record" cell that shows the same to the reader,
- beside it ``NN_name.headlines.json``: every number the notebook glued.

The output is written atomically: a failed run never replaces a good executed notebook.
"""

from __future__ import annotations

import ast
import datetime as _dt
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import yaml

from survlib import __version__
from survlib.parallel import available_cpus
from survlib._core.paths import HEADLINES_ENV, executed_dir, notebooks_dir, repo_root

PROFILES = ("smoke", "book", "paper")
Scalar = int | float | str | bool


class UnknownParameterError(ValueError):
    """A parameter name that the notebook's parameters cell does not define."""


class NotebookNotFoundError(FileNotFoundError):
    """No notebook source matches the requested name."""


class OutputPathError(ValueError):
    """The executed notebook cannot be written where ``-o``/``output`` says."""


def check_output_path(out: Path) -> None:
    """Refuse, before anything runs, an output that is a folder or in a folder we cannot write.

    Raises:
        OutputPathError: naming the path and the reason.
    """
    if out.is_dir():
        raise OutputPathError(f"output {out} is a directory; give a file path such as {out / 'out.ipynb'}")
    if out.suffix != ".ipynb":
        raise OutputPathError(f"output {out} must end in .ipynb (an executed notebook)")
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".survlib-write-test-", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputPathError(
            f"output {out}: cannot write in {parent} ({exc.strerror or exc}); choose a writable path"
        ) from exc
    if out.exists() and not os.access(out, os.W_OK):
        raise OutputPathError(f"output {out} exists and is read-only; choose another path")


@dataclass(frozen=True)
class RunResult:
    """What one run produced."""

    notebook: str
    output: Path
    headlines: Path
    parameters: dict[str, Any]
    seconds: float


def list_notebooks() -> list[Path]:
    """All chapter sources ``notebooks/NN_*.py``, in book order."""
    return sorted(p for p in notebooks_dir().glob("[0-9][0-9]_*.py"))


def resolve_notebook(name: str | Path) -> Path:
    """Find a notebook source from its stem (``01_survival_primer``), number (``01``) or path."""
    path = Path(name)
    if path.suffix == ".py" and path.is_file():
        return path.resolve()
    stem = path.stem if path.suffix else str(name)
    candidates = list_notebooks()
    for cand in candidates:
        if cand.stem == stem or cand.stem.split("_", 1)[0] == stem:
            return cand
    known = ", ".join(c.stem for c in candidates) or "(none)"
    raise NotebookNotFoundError(f"No notebook called {name!r}. Known notebooks: {known}")


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read a jupytext py:percent source into a notebook."""
    import jupytext

    return jupytext.read(path)


def _parameters_cell(nb: nbformat.NotebookNode, source: str) -> nbformat.NotebookNode:
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return cell
    raise ValueError(
        f"{source} has no parameters cell: add '# %% tags=[\"parameters\"]' above the "
        "cell of scalar defaults"
    )


def notebook_parameters(
    nb_or_path: nbformat.NotebookNode | str | Path, source: str | None = None
) -> dict[str, Scalar]:
    """The parameter names and default values of a notebook's ``parameters`` cell.

    The cell must hold simple assignments of literal scalars (``n_epochs = 20``); anything
    else is rejected, so that papermill's ``-p`` overrides map one-to-one to these names.
    """
    if isinstance(nb_or_path, str | Path):
        source = str(nb_or_path)
        nb = read_notebook(resolve_notebook(nb_or_path))
    else:
        source, nb = source or "notebook", nb_or_path
    cell = _parameters_cell(nb, source)
    params: dict[str, Scalar] = {}
    for node in ast.parse(cell.source).body:
        target = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        if not isinstance(target, ast.Name):
            raise ValueError(f"{source}: the parameters cell may only assign names to literals")
        try:
            literal = ast.literal_eval(value)
        except ValueError as err:
            raise ValueError(f"{source}: parameter {target.id} is not a literal") from err
        if not isinstance(literal, Scalar):
            raise ValueError(
                f"{source}: parameter {target.id} must be a scalar (int, float, str, bool); "
                "put lists and dicts in the profile YAML instead"
            )
        params[target.id] = literal
    return params


def load_profile(profile: str, stem: str) -> dict[str, Any]:
    """The ``stem`` section of ``notebooks/params/<profile>.yaml`` (empty if absent)."""
    if profile not in PROFILES:
        raise ValueError(f"Unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    path = notebooks_dir() / "params" / f"{profile}.yaml"
    data = yaml.safe_load(path.read_text()) or {}
    section = data.get(stem) or {}
    if not isinstance(section, dict):
        raise ValueError(f"{path}: section {stem!r} must be a mapping of parameter: value")
    return section


def parse_cli_value(text: str) -> Scalar:
    """Turn a command-line value into int / float / bool / str (``7``, ``1e-3``, ``true``)."""
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return text


def _coerce(name: str, value: Any, default: Scalar) -> Any:
    """Check an override against the default's type; ints may become floats."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise TypeError(f"Parameter {name} expects true/false, got {value!r}")
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"Parameter {name} expects an integer, got {value!r}")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"Parameter {name} expects a number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"Parameter {name} must be a finite number, got {value!r}")
    elif isinstance(default, str) and not isinstance(value, str):
        value = str(value)
    return value


def resolve_parameters(
    nb: nbformat.NotebookNode, stem: str, profile: str, overrides: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Merge defaults, the profile section and overrides; unknown names are an error.

    Returns:
        ``(injected, full)``: the values papermill injects (profile + overrides) and the
        complete parameter set the notebook runs with (defaults included).
    """
    defaults = notebook_parameters(nb, source=stem)
    injected: dict[str, Any] = {}
    for origin, values in (
        (f"profile {profile!r} (notebooks/params/{profile}.yaml)", load_profile(profile, stem)),
        ("the command line", overrides or {}),
    ):
        unknown = sorted(set(values) - set(defaults))
        if unknown:
            listing = "\n".join(f"  {k} = {v!r}" for k, v in defaults.items())
            raise UnknownParameterError(
                f"{stem}: unknown parameter(s) {unknown} from {origin}. "
                f"The notebook's parameters are:\n{listing}"
            )
        for key, value in values.items():
            injected[key] = _coerce(key, value, defaults[key])
    return injected, {**defaults, **injected}


def git_commit(root: Path | None = None) -> str:
    """The checkout's commit hash, with ``+dirty`` if there are uncommitted changes."""
    root = root or repo_root()
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + ("+dirty" if dirty else "")


def _run_record_cell(record: dict[str, Any]) -> nbformat.NotebookNode:
    rows = "\n".join(f"| `{k}` | `{v!r}` |" for k, v in record["parameters"].items())
    text = (
        f"({record['notebook']}-run-record)=\n"  # target of the chapter's "run it yourself" box
        "## Run record\n\n"
        f"Executed with the **{record['profile']}** profile by `survlib run` on "
        f"{record['executed_at']} (survlib {record['survlib_version']}, commit "
        f"`{record['git_commit']}`, Python {record['python']}, torch {record['torch']}, "
        f"device {record['device']}, {record['seconds']:.0f} s).\n\n"
        "| parameter | value |\n| --- | --- |\n" + rows + "\n\n"
        f"Reproduce it: `{_reproduce_command(record)}`; change any parameter with "
        "`-p NAME VALUE`."
    )
    return nbformat.v4.new_markdown_cell(text, metadata={"tags": ["run-record"]})


def _reproduce_command(record: dict[str, Any]) -> str:
    """The ``survlib run`` command line that reproduces a run record."""
    extra = "".join(f" -p {k} {v}" for k, v in record.get("cli_overrides", {}).items())
    return f"survlib run {record['notebook']} --profile {record['profile']}{extra}"


def _environment_facts() -> dict[str, str]:
    try:
        import torch

        torch_version = torch.__version__
        device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    except ImportError:  # pragma: no cover
        torch_version, device = "not installed", "cpu"
    return {
        "python": platform.python_version(),
        "torch": torch_version,
        "device": device,
        # set by `survlib run --all --jobs N` for each worker (None: the libraries' defaults)
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }


def run_notebook(
    notebook: str | Path,
    profile: str = "book",
    overrides: dict[str, Any] | None = None,
    output: str | Path | None = None,
    progress: bool = True,
    log_output: bool = False,
    kernel_name: str = "python3",
) -> RunResult:
    """Execute one notebook with papermill and write the executed ``.ipynb``.

    Args:
        notebook: stem, number or path of a ``notebooks/NN_name.py`` source.
        profile: ``smoke`` (CI), ``book`` (the rendered book) or ``paper`` (paper scale).
        overrides: parameter values that take precedence over the profile.
        output: where to write the executed notebook (default ``book/executed/<stem>.ipynb``).
        progress: show papermill's cell progress bar.
        log_output: stream the notebook's output to this process's log.
        kernel_name: Jupyter kernel to execute with.

    Raises:
        NotebookNotFoundError, UnknownParameterError, TypeError: before anything runs.
        papermill.PapermillExecutionError: a cell failed; the partial notebook is kept as
            ``<output>.failed.ipynb`` for debugging and ``output`` is left untouched.
    """
    import papermill as pm

    source = resolve_notebook(notebook)
    stem = source.stem
    nb = read_notebook(source)
    injected, full = resolve_parameters(nb, stem, profile, overrides)
    out = Path(output) if output is not None else executed_dir() / f"{stem}.ipynb"
    out = out.resolve()
    check_output_path(out)
    headlines_path = out.with_suffix(".headlines.json")

    from survlib._core.signals import sigterm_raises

    start = time.perf_counter()
    # SIGTERM unwinds the run (kernel shut down, temporary folder removed, output untouched)
    with sigterm_raises(), tempfile.TemporaryDirectory(prefix=f"survlib-{stem}-") as tmp:
        tmp_out = Path(tmp) / f"{stem}.ipynb"
        tmp_headlines = Path(tmp) / "headlines.json"
        old_env = os.environ.get(HEADLINES_ENV)
        os.environ[HEADLINES_ENV] = str(tmp_headlines)
        try:
            pm.execute_notebook(
                nb,
                str(tmp_out),
                parameters=injected,
                kernel_name=kernel_name,
                cwd=tmp,
                progress_bar=progress,
                log_output=log_output,
            )
        except Exception:
            if tmp_out.exists():
                failed_tmp = out.parent / f".{out.stem}.failed.ipynb.tmp"
                shutil.copyfile(tmp_out, failed_tmp)
                os.replace(failed_tmp, out.with_suffix(".failed.ipynb"))
            raise
        finally:
            if old_env is None:
                os.environ.pop(HEADLINES_ENV, None)
            else:
                os.environ[HEADLINES_ENV] = old_env
        seconds = time.perf_counter() - start

        executed = nbformat.read(tmp_out, as_version=4)
        for cell in executed.cells:
            tags = cell.get("metadata", {}).get("tags", [])
            if "injected-parameters" in tags and "remove-cell" not in tags:
                tags.append("remove-cell")
        record = {
            "notebook": stem,
            "profile": profile,
            "parameters": full,
            "overrides": injected,
            "cli_overrides": {k: injected[k] for k in (overrides or {})},
            "survlib_version": __version__,
            "git_commit": git_commit(),
            "executed_at": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "seconds": round(seconds, 1),
            **_environment_facts(),
        }
        executed.metadata["survlib"] = record
        executed.cells.append(_run_record_cell(record))
        headlines = json.loads(tmp_headlines.read_text()) if tmp_headlines.exists() else {}
        headlines_tmp = Path(tmp) / "headlines.final.json"
        headlines_tmp.write_text(json.dumps({"run": record, "values": headlines}, indent=2))
        nb_tmp = out.parent / f".{out.name}.tmp"
        hl_tmp = out.parent / f".{headlines_path.name}.tmp"
        try:  # both files atomically (the record last: a reader trusts it only when complete)
            nbformat.write(executed, nb_tmp)
            shutil.copyfile(headlines_tmp, hl_tmp)
            os.replace(nb_tmp, out)
            os.replace(hl_tmp, headlines_path)
        finally:
            for leftover in (nb_tmp, hl_tmp):
                leftover.unlink(missing_ok=True)
    failed = out.with_suffix(".failed.ipynb")
    if failed.exists():
        failed.unlink()
    return RunResult(stem, out, headlines_path, full, seconds)


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
        defined = {stem: notebook_parameters(read_notebook(resolve_notebook(stem)))
                   for stem in targets}
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
    """Run time of the last recorded run of ``stem`` with ``profile`` (0 when unknown)."""
    path = executed_dir() / f"{stem}.headlines.json"
    try:
        run = json.loads(path.read_text()).get("run", {})
    except (OSError, ValueError):
        return 0.0
    return float(run.get("seconds", 0.0)) if run.get("profile") == profile else 0.0


def _worker_command(
    stem: str, profile: str, overrides: dict[str, Any], threads: int
) -> list[str]:
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
        proc = subprocess.run(
            commands[stem], env=env, capture_output=True, text=True, check=False
        )
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
    print(f"[survlib] {len(order)} notebooks in {time.perf_counter() - start:.0f} s",
          file=sys.stderr)
    if failed:
        print(f"error: failed notebooks: {', '.join(failed)}", file=sys.stderr)
        return status if status == 2 else 1
    return 0


def write_run_report(folder: Path | None = None) -> Path:
    """Write ``run_report.md``: how every executed chapter in ``folder`` was produced.

    One section per ``*.headlines.json`` (chapter order): profile, commit, survlib and torch
    versions, device, run time, the parameters that differ from the defaults, and every number
    the chapter glued. The book renders it as its reproducibility report.
    """
    from survlib._core.io import atomic_write_text

    folder = folder or executed_dir()
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Reproducibility report",
        "",
        "How each chapter of this build was executed, and every number it glued into its text.",
        "Generated by `survlib report` from the run records that `survlib run` writes next to each",
        "executed notebook; re-run a chapter with the command shown to reproduce it.",
        "",
    ]
    records = sorted(folder.glob("*.headlines.json"))
    if not records:
        lines.append("No chapter has been executed yet: run `survlib run --all`.")
    for path in records:
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(
                f"{path}: not a readable run record ({exc}); delete it or re-run the chapter"
            ) from exc
        run = data.get("run", {}) if isinstance(data, dict) else None
        values = data.get("values", {}) if isinstance(data, dict) else None
        if not isinstance(run, dict) or not isinstance(values, dict):
            raise ValueError(
                f"{path}: a run record must be a JSON object with 'run' and 'values' objects; "
                "delete it or re-run the chapter"
            )
        if not isinstance(run.get("seconds", 0.0), int | float):
            raise ValueError(f"{path}: 'run.seconds' must be a number, got {run.get('seconds')!r}")
        changed = ", ".join(f"`{k}={v!r}`" for k, v in run.get("overrides", {}).items())
        changed = changed or "none"
        lines += [
            f"## {run.get('notebook', path.stem)}",
            "",
            f"- profile **{run.get('profile')}**, executed {run.get('executed_at')} in "
            f"{run.get('seconds', float('nan')):.0f} s on {run.get('device')}",
            f"- survlib {run.get('survlib_version')}, commit `{run.get('git_commit')}`, "
            f"Python {run.get('python')}, torch {run.get('torch')}",
            f"- parameters changed from the notebook's defaults: {changed}",
            f"- reproduce: `{_reproduce_command(run)}`",
            "",
            "| glued value | |",
            "| --- | --- |",
        ]
        for key, value in values.items():
            shown = f"{value:.4g}" if isinstance(value, float) else str(value)
            lines.append(f"| `{key}` | {shown} |")
        lines.append("")
    out = folder / "run_report.md"
    atomic_write_text(out, "\n".join(lines) + "\n")
    return out
