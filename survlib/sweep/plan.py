"""Sweep plans: the grid's points, their keys and folders, validated before anything runs."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from survlib import runner

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


# --------------------------------------------------------------------------------------------
# the grid
# --------------------------------------------------------------------------------------------


def _scalar(where: str, value: Any) -> Any:
    if not isinstance(value, int | float | str | bool):
        raise SweepError(f"{where}: values must be scalars (int, float, str, bool), got {value!r}")
    return value


def load_grid(
    grid: str | os.PathLike[str] | Mapping[str, Any] | Sequence[Mapping[str, Any]],
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
        points = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes)]
    elif isinstance(grid, list):
        if not grid:
            raise SweepError(f"{where}: the list of points is empty")
        points = []
        for i, item in enumerate(grid):
            if not isinstance(item, Mapping):
                raise SweepError(f"{where}: point {i} must be a mapping name: value, got {item!r}")
            points.append({str(k): _scalar(f"{where}: point {i}: {k}", v) for k, v in item.items()})
    else:
        raise SweepError(
            f"{where}: a grid is a mapping of parameter: [values] or a list of "
            f"mappings, got {type(grid).__name__}"
        )
    seen: dict[str, int] = {}
    for i, point in enumerate(points):
        canon = json.dumps(point, sort_keys=True)
        if canon in seen:
            raise SweepError(f"{where}: point {i} {point} repeats point {seen[canon]}")
        seen[canon] = i
    return points


def point_key(stem: str, profile: str, parameters: Mapping[str, Any]) -> str:
    """The folder name of a point: a hash of the notebook, the profile and every parameter."""
    canon = json.dumps(
        {"notebook": stem, "profile": profile, "parameters": dict(parameters)},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(canon.encode()).hexdigest()[:12]


def sweeps_dir() -> Path:
    """The default root of sweep outputs, ``<repo>/sweeps`` (git-ignored)."""
    from survlib._core.paths import repo_root

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
        raise SweepError(
            f"sweep name {name!r} must be letters, digits, '.', '_' or '-' (it names a folder)"
        )
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
        raise SweepError(
            f"{len(problems)} of {len(points)} point(s) of the sweep of {stem} are "
            "invalid; nothing was run:\n" + "\n".join(problems)
        )
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
    return (
        run.get("notebook") == stem
        and run.get("profile") == profile
        and run.get("parameters") == point.parameters
    )
