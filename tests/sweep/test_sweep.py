"""Scale-out on Dask: parameter sweeps, folds x seeds on any executor, slides in parallel.

The sweep tests start one ``LocalCluster`` on 127.0.0.1 with 2 worker processes (module
fixture) and run a probe notebook (a few glued numbers, a planted failure, a planted worker
death) so that a papermill run costs a kernel start, not a chapter.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from survlib import sweep, wsi
from survlib.cli import main as cli_main
from survlib.train import cross_validate

pytestmark = pytest.mark.dask

PROBE = """# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
seed = 0  # a seed
scale = 1.0  # a factor
fail = False  # raise in the next cell
die_marker = ""  # if set and absent: create it, then kill this kernel's worker process

# %%
import os
import signal
from pathlib import Path

from survlib.book import glue

if die_marker and not Path(die_marker).exists():
    Path(die_marker).write_text(str(os.getppid()))
    os.kill(os.getppid(), signal.SIGKILL)
if fail:
    raise RuntimeError(f"planted failure at seed {seed}")
glue("product", seed * scale)
glue("worker_pid", os.getppid())
"""


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    """A Dask client on a LocalCluster of 2 worker processes (1 thread each) on 127.0.0.1."""
    with sweep.local_client(workers=2) as dask_client:
        yield dask_client


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("probe") / "probe_sweep.py"
    path.write_text(PROBE)
    return path


# --------------------------------------------------------------------------------------------
# grids and validation (no cluster)
# --------------------------------------------------------------------------------------------


def test_grid_is_the_product_of_its_lists_or_an_explicit_list(tmp_path: Path) -> None:
    grid = tmp_path / "g.yaml"
    grid.write_text("seed: [0, 1, 2]\nscale: [1.0, 2.0]\nfail: false\n")
    points = sweep.load_grid(grid)
    assert len(points) == 6
    assert points[0] == {"seed": 0, "scale": 1.0, "fail": False}
    assert points[-1] == {"seed": 2, "scale": 2.0, "fail": False}
    assert sweep.load_grid([{"seed": 1}, {"seed": 2, "scale": 3.0}]) == [
        {"seed": 1},
        {"seed": 2, "scale": 3.0},
    ]
    with pytest.raises(sweep.SweepError, match="repeats point 0"):
        sweep.load_grid([{"seed": 1}, {"seed": 1}])
    with pytest.raises(sweep.SweepError, match="empty list"):
        sweep.load_grid({"seed": []})
    with pytest.raises(sweep.SweepError, match="scalars"):
        sweep.load_grid({"seed": [[1, 2]]})


def test_every_point_is_validated_before_anything_runs(probe: Path, tmp_path: Path) -> None:
    points = [{"seed": 0}, {"seeds": 1}, {"seed": "many"}, {"scale": 2}]
    with pytest.raises(sweep.SweepError) as err:
        sweep.run_sweep(
            probe, points, profile="smoke", root=tmp_path, executor="serial", progress=False
        )
    msg = str(err.value)
    assert "2 of 4 point(s)" in msg and "nothing was run" in msg
    assert "point 1 {'seeds': 1}" in msg and "seeds" in msg
    assert "point 2" in msg and "expects an integer" in msg
    assert not (tmp_path / "sweep").exists()
    # an int where the notebook's default is a float is accepted, as `survlib run -p` does
    _, planned = sweep.plan_sweep(probe, [{"scale": 2}], profile="smoke", root=tmp_path)
    assert planned[0].parameters["scale"] == 2.0 and isinstance(
        planned[0].overrides["scale"], float
    )


def test_cli_bad_grid_exits_2_naming_the_problem(
    probe: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    grid = tmp_path / "bad.yaml"
    grid.write_text("seed: [0, 1]\nlearning_rate: [0.1]\n")
    code = cli_main(
        [
            "sweep",
            str(probe),
            "--grid",
            str(grid),
            "--profile",
            "smoke",
            "--out-dir",
            str(tmp_path),
            "--serial",
        ]
    )
    assert code == 2
    assert "learning_rate" in capsys.readouterr().err
    assert cli_main(["sweep", str(probe), "--grid", str(tmp_path / "none.yaml"), "--serial"]) == 2
    grid.write_text("seed: [0, 1]\n")
    assert (
        cli_main(
            [
                "sweep",
                str(probe),
                "--grid",
                str(grid),
                "--plot",
                "product:scale",
                "--serial",
                "--out-dir",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "not a swept parameter" in capsys.readouterr().err
    assert (
        cli_main(
            [
                "sweep",
                str(probe),
                "--grid",
                str(grid),
                "--resources",
                "GPU=1",
                "--out-dir",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "advertise" in capsys.readouterr().err
    assert (
        cli_main(
            [
                "sweep",
                str(probe),
                "--grid",
                str(grid),
                "--resources",
                "GPU",
                "--scheduler",
                "tcp://127.0.0.1:1",
                "--out-dir",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "NAME=AMOUNT" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# sweeps on the local cluster
# --------------------------------------------------------------------------------------------


def test_sweep_runs_each_point_on_the_cluster_then_resumes_and_records_a_failure(
    client: object, probe: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    grid = {"seed": [1, 2], "scale": [0.5, 3.0]}
    first = sweep.run_sweep(
        probe,
        grid,
        profile="smoke",
        name="four",
        root=tmp_path,
        executor=client,
        plot="product:scale",
        progress=False,
    )
    table = first.table
    assert (first.ran, first.resumed, first.failed) == (4, 0, 0)
    assert len(table) == 4 and set(table["status"]) == {"ok"}
    got = sorted(zip(table["seed"], table["scale"], table["product"], strict=True))
    assert got == [(1, 0.5, 0.5), (1, 3.0, 3.0), (2, 0.5, 1.0), (2, 3.0, 6.0)]
    assert os.getpid() not in set(table["worker_pid"])  # ran on the workers, not here
    folder = tmp_path / "four"
    for key in table["point"]:
        run = json.loads((folder / key / "probe_sweep.headlines.json").read_text())["run"]
        assert (
            run["profile"] == "smoke"
            and sweep.point_key("probe_sweep", "smoke", run["parameters"]) == key
        )
    on_disk = pd.read_csv(folder / "sweep.csv")
    assert len(on_disk) == 4 and list(on_disk.columns[:3]) == ["point", "seed", "scale"]
    if "parquet" in first.files:
        assert len(pd.read_parquet(first.files["parquet"])) == 4
    assert (folder / "product_vs_scale.png").read_bytes()[:4] == b"\x89PNG"
    assert "4 ok" in (folder / "summary.md").read_text()
    stamps = {p: p.stat().st_mtime_ns for p in folder.glob("*/probe_sweep.ipynb")}

    # the same sweep again, through the CLI and the scheduler's address: nothing new runs
    grid_file = tmp_path / "four.yaml"
    grid_file.write_text("seed: [1, 2]\nscale: [0.5, 3.0]\n")
    address = client.scheduler.address  # type: ignore[attr-defined]
    code = cli_main(
        [
            "sweep",
            str(probe),
            "--grid",
            str(grid_file),
            "--profile",
            "smoke",
            "--scheduler",
            address,
            "--out-dir",
            str(tmp_path),
            "-q",
        ]
    )
    assert code == 0
    assert "0 run now, 4 resumed, 0 failed" in capsys.readouterr().err
    assert stamps == {p: p.stat().st_mtime_ns for p in folder.glob("*/probe_sweep.ipynb")}

    # a failing point is recorded with its error and its notebook; the others are kept
    points = [*sweep.load_grid(grid), {"seed": 7, "fail": True}]
    third = sweep.run_sweep(
        probe, points, profile="smoke", name="four", root=tmp_path, executor=client, progress=False
    )
    assert (third.ran, third.resumed, third.failed) == (1, 4, 1)
    bad = third.table[third.table["status"] == "failed"].iloc[0]
    assert bad["seed"] == 7 and "planted failure at seed 7" in bad["error"]
    assert (folder / bad["point"] / "probe_sweep.failed.ipynb").is_file()
    assert not (folder / bad["point"] / "probe_sweep.ipynb").exists()
    record = json.loads((folder / bad["point"] / "point.json").read_text())
    assert record["status"] == "failed" and record["parameters"]["fail"] is True
    assert "planted failure" in (folder / "summary.md").read_text()
    assert list(folder.rglob("*.tmp")) == []


def test_a_point_whose_worker_dies_is_retried_once(
    client: object, probe: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "died-once"
    result = sweep.run_sweep(
        probe,
        [{"seed": 3, "die_marker": str(marker)}],
        profile="smoke",
        root=tmp_path,
        executor=client,
        progress=False,
    )
    assert marker.exists()  # the first attempt killed its worker process
    row = result.table.iloc[0]
    assert row["status"] == "ok" and row["product"] == 3.0
    assert row["worker_pid"] != int(marker.read_text())  # the retry ran in another process


def test_interrupted_write_leaves_no_output(
    probe: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C half-way through the runner's write: no notebook, no record, no temporary file."""
    import nbformat
    import papermill

    from survlib import runner

    out = tmp_path / "point" / "probe_sweep.ipynb"
    real_write = nbformat.write

    def execute_without_a_kernel(nb: nbformat.NotebookNode, path: str, **kwargs: object) -> None:
        real_write(nb, path)

    def write_half_then_interrupt(nb: nbformat.NotebookNode, path: object, **kw: object) -> None:
        if Path(str(path)).parent != out.parent:
            return real_write(nb, path, **kw)
        Path(str(path)).write_text('{"cells": [')  # half a notebook, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(papermill, "execute_notebook", execute_without_a_kernel)
    monkeypatch.setattr(nbformat, "write", write_half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        runner.run_notebook(probe, profile="smoke", output=out, progress=False)
    assert list(out.parent.iterdir()) == []


# --------------------------------------------------------------------------------------------
# folds x seeds on any executor
# --------------------------------------------------------------------------------------------

_RNG = np.random.default_rng(11)
X = _RNG.normal(size=(48, 3)).astype(np.float32)
TIME = np.exp(-X @ np.array([1.0, -0.5, 0.0]) + _RNG.normal(scale=0.3, size=48)) * 12.0
EVENT = (_RNG.random(48) < 0.7).astype(np.int64)


def cv_fold(split, seed: int) -> dict[str, float]:
    """A fold that draws from every global generator (weights, noise, numpy), as models do."""
    torch.set_num_threads(1)
    model = torch.nn.Linear(3, 1)  # initialised from torch's global generator
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    x, y = torch.as_tensor(X), torch.as_tensor(np.log(TIME), dtype=torch.float32)
    train, test = torch.as_tensor(split.train), torch.as_tensor(split.test)
    for _ in range(10):
        opt.zero_grad()
        noise = 0.1 * torch.randn(len(train), 3)
        loss = ((model(x[train] + noise).squeeze(-1) - y[train]) ** 2).mean()
        loss.backward()
        opt.step()
    with torch.no_grad():
        test_mse = float(((model(x[test]).squeeze(-1) - y[test]) ** 2).mean())
    return {
        "test MSE": test_mse,
        "weight0": float(model.weight[0, 0].detach()),
        "draw": float(np.random.random()),
    }


def test_cross_validate_gives_the_serial_rows_on_any_executor(client: object) -> None:
    kwargs = {"event": EVENT, "n_folds": 3, "seeds": (0, 1), "model": "toy", "progress": False}
    serial = cross_validate(cv_fold, **kwargs)
    assert len(serial) == 2 * 3 * 3
    for seed in (0, 1):  # each task seeded NumPy's global generator with its seed itself
        np.random.seed(seed)
        expected = np.random.random()
        draws = serial[(serial["metric"] == "draw") & (serial["seed"] == seed)]["value"]
        assert list(draws) == [expected] * 3
    assert serial[serial["metric"] == "weight0"]["value"].nunique() == 6  # folds differ
    on_dask = cross_validate(cv_fold, executor=client, **kwargs)
    pd.testing.assert_frame_equal(on_dask, serial, check_exact=True)
    with cf.ThreadPoolExecutor(max_workers=3) as pool:
        pd.testing.assert_frame_equal(
            cross_validate(cv_fold, executor=pool, **kwargs), serial, check_exact=True
        )


def test_cross_validate_on_a_process_pool_and_picklability() -> None:
    kwargs = {"event": EVENT, "n_folds": 3, "seeds": (2,), "progress": False}
    serial = cross_validate(cv_fold, **kwargs)
    torch.manual_seed(123)  # forked workers inherit this state; each task must reseed
    np.random.seed(123)
    # fork: the workers inherit the imported modules (a spawned worker would import torch)
    with cf.ProcessPoolExecutor(
        max_workers=2, mp_context=multiprocessing.get_context("fork")
    ) as pool:
        pd.testing.assert_frame_equal(
            cross_validate(cv_fold, executor=pool, **kwargs), serial, check_exact=True
        )
        with pytest.raises(TypeError, match="run_fold=.*cannot be sent"):
            cross_validate(lambda split, seed: {"x": 1.0}, executor=pool, **kwargs)
    with pytest.raises(TypeError, match="executor must be None"):
        cross_validate(cv_fold, executor="dask", **kwargs)


# --------------------------------------------------------------------------------------------
# slides in parallel
# --------------------------------------------------------------------------------------------


def test_encode_slides_maps_over_an_executor_and_resumes(client: object, tmp_path: Path) -> None:
    from survlib.data.slides import write_synthetic_slide

    slides = tmp_path / "slides"
    slides.mkdir()
    for i in range(3):
        write_synthetic_slide(slides / f"s{i}.tif", seed=i, width=512, height=512, pen=False)
    (slides / "broken.svs").write_bytes(b"not a slide")
    opts = {"magnification": 10.0, "patch_size": 64, "progress": False}
    with pytest.warns(RuntimeWarning, match="1 of 4 slide"):
        serial = wsi.encode_slides(slides, tmp_path / "serial", **opts)
    assert list(serial["slide_id"]) == ["broken", "s0", "s1", "s2"]
    assert list(serial["status"]) == ["failed", "encoded", "encoded", "encoded"]
    assert "SlideError" in serial["error"][0] and (serial["n_patches"][1:] > 0).all()
    with pytest.warns(RuntimeWarning):
        on_dask = wsi.encode_slides(slides, tmp_path / "dask", executor=client, **opts)
    assert list(on_dask["status"]) == list(serial["status"])
    for sid in ("s0", "s1", "s2"):
        a = wsi.read_features(tmp_path / "serial" / f"{sid}.h5")
        b = wsi.read_features(tmp_path / "dask" / f"{sid}.h5")
        np.testing.assert_array_equal(a.features, b.features)
        np.testing.assert_array_equal(a.coords, b.coords)

    (tmp_path / "serial" / "s1.h5").unlink()
    with cf.ThreadPoolExecutor(2) as pool, pytest.warns(RuntimeWarning):
        again = wsi.encode_slides(slides, tmp_path / "serial", executor=pool, **opts)
    assert list(again["status"]) == ["failed", "skipped", "encoded", "skipped"]
    assert list(again["n_patches"][1:]) == list(serial["n_patches"][1:])
    with pytest.warns(RuntimeWarning):  # another patch size is not "done"
        other = wsi.encode_slides(
            slides, tmp_path / "serial", patch_size=32, magnification=10.0, progress=False
        )
    assert set(other["status"][1:]) == {"encoded"}
    assert list((tmp_path / "serial").glob(".*")) == []  # no temporary files left
    with pytest.raises(ValueError, match="share the id"):
        wsi.encode_slides([slides / "s0.tif", tmp_path / "x" / "s0.tif"], tmp_path / "o")


# --------------------------------------------------------------------------------------------
# the book's SLURM configuration
# --------------------------------------------------------------------------------------------


def test_the_books_slurm_configuration_builds_a_job_script() -> None:
    """The SLURMCluster of book/scale.md builds (no SLURM needed to write the job script)."""
    pytest.importorskip("dask_jobqueue")
    page = Path(__file__).resolve().parents[2] / "book" / "scale.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.DOTALL)
    config = next(b for b in blocks if "SLURMCluster(" in b)
    config = config.split("cluster.scale(")[0]  # build it; do not submit jobs
    namespace: dict[str, object] = {}
    exec(config, namespace)  # noqa: S102 - our own documentation
    cluster = namespace["cluster"]
    try:
        script = cluster.job_script()  # type: ignore[attr-defined]
    finally:
        cluster.close()  # type: ignore[attr-defined]
    assert "#SBATCH --gres=gpu:1" in script
    assert "#SBATCH --cpus-per-task=8" in script
    assert "--resources GPU=1" in script and "--nthreads 1" in script
