"""The chapters and their parameters: finding a notebook, reading its ``parameters`` cell,
merging a profile (``notebooks/params/<profile>.yaml``) and command-line overrides."""

from __future__ import annotations

import ast
import math
from pathlib import Path
from typing import Any

import nbformat
import yaml

from survlib._core.paths import notebooks_dir

__all__ = [
    "PROFILES",
    "NotebookNotFoundError",
    "Scalar",
    "UnknownParameterError",
    "list_notebooks",
    "load_profile",
    "notebook_parameters",
    "parse_cli_value",
    "read_notebook",
    "resolve_notebook",
    "resolve_parameters",
]

PROFILES = ("smoke", "book", "paper")
Scalar = int | float | str | bool


class UnknownParameterError(ValueError):
    """A parameter name that the notebook's parameters cell does not define."""


class NotebookNotFoundError(FileNotFoundError):
    """No notebook source matches the requested name."""


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
