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

Modules: :mod:`~survlib.runner.params` (finding notebooks, their parameters cell, profiles and
overrides), :mod:`~survlib.runner.execute` (one papermill run and its records),
:mod:`~survlib.runner.schedule` (``survlib run``: one notebook, or ``--all`` in order or in
``--jobs`` worker processes), :mod:`~survlib.runner.report` (``survlib report``).
"""

from survlib.runner.execute import (
    OutputPathError,
    RunResult,
    check_output_path,
    git_commit,
    run_notebook,
)
from survlib.runner.params import (
    PROFILES,
    NotebookNotFoundError,
    Scalar,
    UnknownParameterError,
    list_notebooks,
    load_profile,
    notebook_parameters,
    parse_cli_value,
    read_notebook,
    resolve_notebook,
    resolve_parameters,
)
from survlib.runner.report import write_run_report
from survlib.runner.schedule import THREAD_PARAMETERS, main_run, plan_jobs, run_parallel

__all__ = [
    "PROFILES",
    "THREAD_PARAMETERS",
    "NotebookNotFoundError",
    "OutputPathError",
    "RunResult",
    "Scalar",
    "UnknownParameterError",
    "check_output_path",
    "git_commit",
    "list_notebooks",
    "load_profile",
    "main_run",
    "notebook_parameters",
    "parse_cli_value",
    "plan_jobs",
    "read_notebook",
    "resolve_notebook",
    "resolve_parameters",
    "run_notebook",
    "run_parallel",
    "write_run_report",
]
