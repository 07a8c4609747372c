"""``survlib run`` (survlib.runner.schedule): the command line, and ``--all --jobs N``, chapters in
parallel worker processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from survlib import runner
from tests.runner._probe import PROBE


def test_cli_unknown_parameter_exits_2_with_message(probe: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "survlib",
            "run",
            str(probe),
            "-p",
            "nope",
            "1",
            "-o",
            str(tmp_path / "x.ipynb"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "unknown parameter(s) ['nope']" in proc.stderr and "n = 3" in proc.stderr


# --------------------------------------------------------------------------------------------
# survlib run --all --jobs N: chapters in parallel worker processes
# --------------------------------------------------------------------------------------------

MEETING = (
    PROBE.split("# %% [markdown]")[0]
    + """# %% [markdown]
# # Meeting {me}

# %% tags=["parameters"]
threads = 0  # CPU threads (0: all cores)
fail = False  # raise in the second cell
wait = True  # wait for the other notebook

# %%
import os, time
from pathlib import Path
if fail:
    raise RuntimeError("asked to fail")
# rendezvous: each notebook announces itself, then waits for the other one. Run one after
# the other, the first would wait in vain and fail; run in parallel, both pass.
folder = Path(os.environ["SURVLIB_REPO"])
(folder / "{me}.here").write_text("x")
deadline = time.time() + 240  # generous: kernels start slowly on a loaded machine
while wait and not (folder / "{other}.here").exists():
    assert time.time() < deadline, "the other notebook never started: not run in parallel"
    time.sleep(0.05)
(folder / "{me}.seen").write_text(f"{{os.environ.get('OMP_NUM_THREADS')}} {{threads}}")
"""
)


@pytest.fixture()
def three_notebook_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A minimal book: two notebooks that pass only when run at the same time, one that fails."""
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    nbdir = tmp_path / "notebooks"
    (nbdir / "params").mkdir(parents=True)
    for me, other in (("01_a", "02_b"), ("02_b", "01_a"), ("03_c", "03_c")):
        (nbdir / f"{me}.py").write_text(MEETING.format(me=me, other=other))
    for profile in runner.PROFILES:
        (nbdir / "params" / f"{profile}.yaml").write_text("03_c: {fail: true}\n")
    monkeypatch.setenv("SURVLIB_REPO", str(tmp_path))
    # `make test` points executed outputs at the smoke book; these belong in the tmp repo
    monkeypatch.delenv("SURVLIB_EXECUTED_DIR", raising=False)
    return tmp_path


def test_plan_jobs_never_oversubscribes() -> None:
    assert runner.plan_jobs(6, None, cpus=2) == (2, 1)
    assert runner.plan_jobs(6, None, cpus=16) == (6, 2)  # no more workers than notebooks
    assert runner.plan_jobs(6, 3, cpus=16) == (3, 5)
    assert runner.plan_jobs(6, 4, cpus=2) == (4, 1)  # asked for more: at least one thread each
    assert runner.plan_jobs(1, None, cpus=8) == (1, 8)
    with pytest.raises(ValueError, match="jobs must be >= 1, got 0"):
        runner.plan_jobs(6, 0, cpus=2)


def test_run_all_jobs_runs_in_parallel_with_records_and_atomic_failures(
    three_notebook_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = runner.main_run(None, True, "smoke", [], None, keep_going=True, quiet=True, jobs=3)
    assert code == 1  # 03_c failed; --keep-going ran the others
    executed = three_notebook_repo / "book" / "executed"
    threads = runner.plan_jobs(3, 3)[1]
    for stem in ("01_a", "02_b"):  # they met: both ran at the same time
        nb = nbformat.read(executed / f"{stem}.ipynb", as_version=4)
        record = nb.metadata["survlib"]
        assert record["profile"] == "smoke" and record["notebook"] == stem
        assert "Run record" in nb.cells[-1].source
        assert (executed / f"{stem}.headlines.json").exists()
        # the kernel saw the thread cap, and the chapter's own `threads = 0` (all cores) was
        # capped too; the record says so
        seen = (three_notebook_repo / f"{stem}.seen").read_text()
        assert seen == f"{threads} {threads}"
        assert record["omp_num_threads"] == str(threads)
        assert record["parameters"]["threads"] == threads
    assert not (executed / "03_c.ipynb").exists()  # atomic: nothing half-written
    assert (executed / "03_c.failed.ipynb").exists()
    assert not list(executed.glob(".*.tmp"))
    err = capsys.readouterr().err
    assert "03_c failed" in err and "asked to fail" in err and "failed notebooks: 03_c" in err


def test_run_all_jobs_checks_parameters_before_starting_workers(
    three_notebook_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = runner.main_run(
        None, True, "smoke", [["fail", "maybe"]], None, keep_going=False, quiet=True, jobs=2
    )
    assert code == 2
    assert "expects true/false" in capsys.readouterr().err
    assert not (three_notebook_repo / "book").exists()


def test_fresh_clone_orders_chapters_longest_first_from_the_runtime_hints(
    three_notebook_repo: Path,
) -> None:
    """Without run records the typical times of notebooks/params/runtimes.yaml order the queue;
    a run record of this checkout, where there is one, wins over the hint."""
    from survlib.runner import schedule

    params = three_notebook_repo / "notebooks" / "params"
    (params / "runtimes.yaml").write_text("book: {01_a: 5, 02_b: 50, 03_c: 20}\n")
    stems = ["01_a", "02_b", "03_c"]
    order = sorted(stems, key=lambda s: -schedule._previous_seconds(s, "book"))
    assert order == ["02_b", "03_c", "01_a"]
    assert schedule._previous_seconds("02_b", "smoke") == 0.0  # no hint for that profile
    executed = three_notebook_repo / "book" / "executed"
    executed.mkdir(parents=True)
    (executed / "01_a.headlines.json").write_text(
        '{"run": {"profile": "book", "seconds": 99.0}, "values": {}}'
    )
    assert schedule._previous_seconds("01_a", "book") == 99.0


def test_the_books_runtime_hints_name_real_chapters() -> None:
    import yaml

    from survlib._core.paths import notebooks_dir

    table = yaml.safe_load((notebooks_dir() / "params" / "runtimes.yaml").read_text())
    chapters = {p.stem for p in runner.list_notebooks()}
    for profile, section in table.items():
        assert profile in runner.PROFILES
        assert set(section) <= chapters, set(section) - chapters
        assert all(v > 0 for v in section.values())
