"""One papermill run of a chapter: the executed notebook, its run record and headlines."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from survlib import __version__
from survlib._core.paths import HEADLINES_ENV, executed_dir, repo_root
from survlib.runner.params import read_notebook, resolve_notebook, resolve_parameters

__all__ = ["OutputPathError", "RunResult", "check_output_path", "git_commit", "run_notebook"]


class OutputPathError(ValueError):
    """The executed notebook cannot be written where ``-o``/``output`` says."""


def check_output_path(out: Path) -> None:
    """Refuse, before anything runs, an output that is a folder or in a folder we cannot write.

    Raises:
        OutputPathError: naming the path and the reason.
    """
    if out.is_dir():
        raise OutputPathError(
            f"output {out} is a directory; give a file path such as {out / 'out.ipynb'}"
        )
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
            f"output {out}: cannot write in {parent} ({exc.strerror or exc}); "
            "choose a writable path"
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


def _write_outputs(
    tmp: Path,
    tmp_out: Path,
    tmp_headlines: Path,
    record: dict[str, Any],
    out: Path,
    headlines_path: Path,
) -> None:
    """Finish an executed notebook (injected cell hidden, run record added) and write it and its
    headlines (the glued values under ``"values"``, the record under ``"run"``) atomically."""
    executed = nbformat.read(tmp_out, as_version=4)
    for cell in executed.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    executed.metadata["survlib"] = record
    executed.cells.append(_run_record_cell(record))
    headlines = json.loads(tmp_headlines.read_text()) if tmp_headlines.exists() else {}
    headlines_tmp = tmp / "headlines.final.json"
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
        _write_outputs(Path(tmp), tmp_out, tmp_headlines, record, out, headlines_path)
    failed = out.with_suffix(".failed.ipynb")
    if failed.exists():
        failed.unlink()
    return RunResult(stem, out, headlines_path, full, seconds)
