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

from survlib.sweep.plan import (
    POINT_FILE,
    SweepError,
    SweepPoint,
    load_grid,
    plan_sweep,
    point_is_done,
    point_key,
    sweeps_dir,
)
from survlib.sweep.report import collect, write_outputs
from survlib.sweep.run import (
    SweepResult,
    available_cpus,
    local_client,
    main_sweep,
    run_point,
    run_sweep,
)

__all__ = [
    "POINT_FILE",
    "SweepError",
    "SweepPoint",
    "SweepResult",
    "available_cpus",
    "collect",
    "load_grid",
    "local_client",
    "main_sweep",
    "plan_sweep",
    "point_is_done",
    "point_key",
    "run_point",
    "run_sweep",
    "sweeps_dir",
    "write_outputs",
]
