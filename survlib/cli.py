"""The ``survlib`` command line: ``survlib run``, ``survlib params``, ``survlib fetch``,
``survlib sweep``."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="survlib", description="Run the book's notebooks and fetch its data."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run",
        help="execute notebook(s) with papermill into book/executed/",
        description="Execute a notebook (or all) with a parameter profile and overrides.",
    )
    run.add_argument("notebook", nargs="?", help="stem (01_survival_primer), number (01) or path")
    run.add_argument("--all", action="store_true", help="run every notebook in book order")
    run.add_argument("--profile", default="book", choices=["smoke", "book", "paper"])
    run.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="override one parameter (repeatable); unknown names are an error",
    )
    run.add_argument("-o", "--output", help="executed notebook path (default book/executed/)")
    run.add_argument("--keep-going", action="store_true", help="with --all, continue on failure")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    run.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="with --all, run N notebooks at once in worker processes, each with "
        "cores/N CPU threads (default: one per core; 1 runs them one after another)",
    )

    params = sub.add_parser("params", help="list a notebook's parameters and their defaults")
    params.add_argument("notebook")

    sub.add_parser("report", help="write book/executed/run_report.md from the run records")

    sweep = sub.add_parser(
        "sweep",
        help="run a notebook once per point of a parameter grid, on a Dask cluster",
        description="Run a notebook at every point of a grid (a mapping of lists: their "
        "product; or a list of mappings), one Dask task per point, into sweeps/NAME/; "
        "re-running resumes.",
    )
    sweep.add_argument("notebook", help="stem (01_survival_primer), number (01) or path")
    sweep.add_argument("--grid", required=True, help="YAML file of the points")
    sweep.add_argument("--profile", default="book", choices=["smoke", "book", "paper"])
    sweep.add_argument(
        "--scheduler", help="address of a running Dask scheduler (default: start a LocalCluster)"
    )
    sweep.add_argument(
        "--workers", type=int, help="LocalCluster worker processes (default: the CPU cores)"
    )
    sweep.add_argument("--name", help="sweep folder under sweeps/ (default: the grid's stem)")
    sweep.add_argument(
        "--plot", metavar="HEADLINE:PARAM", help="plot a glued value against a swept parameter"
    )
    sweep.add_argument("--out-dir", help="root of the sweep folders (default: <repo>/sweeps)")
    sweep.add_argument(
        "--resources",
        nargs="+",
        metavar="NAME=AMOUNT",
        help="Dask resources each point needs, e.g. GPU=1",
    )
    sweep.add_argument("--serial", action="store_true", help="no Dask: run points here, in turn")
    sweep.add_argument("-q", "--quiet", action="store_true", help="no per-point log lines")

    fetch = sub.add_parser("fetch", help="download a data_manifest.yaml entry into the cache")
    fetch.add_argument("name", nargs="?", help="entry name; omit to list the entries")
    fetch.add_argument("--manifest", help="another manifest file")
    fetch.add_argument(
        "--import",
        dest="import_dir",
        metavar="DIR",
        help="copy verified local copies from DIR into the cache (matched by sha256)",
    )
    return parser


def _expected_failures_exit_2(command: Callable[..., int]) -> Callable[..., int]:
    """Every command: an expected failure (bad input, missing or unwritable file, no data)
    prints one ``error: ...`` line to stderr and exits 2, without a traceback; an interrupted
    command (Ctrl-C, SIGTERM) exits 130 after its clean-up ran. Bugs still show a traceback.
    """
    from survlib._core.signals import Terminated

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> int:
        try:
            return command(*args, **kwargs)
        except (KeyboardInterrupt, Terminated):
            print(
                "error: interrupted; temporary files were removed and earlier outputs kept",
                file=sys.stderr,
            )
            return 130
        except (ValueError, TypeError, KeyError, OSError, RuntimeError) as err:
            if isinstance(err, RuntimeError) and not _is_survlib_error(err):
                raise
            message = err.args[0] if isinstance(err, KeyError) and err.args else err
            print(f"error: {message}", file=sys.stderr)
            return 2

    return wrapper


def _is_survlib_error(err: BaseException) -> bool:
    """An error class defined by survlib (e.g. DataUnavailableError) is an expected failure."""
    return type(err).__module__.startswith("survlib")


@_expected_failures_exit_2
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        from survlib.runner import main_run

        return main_run(
            args.notebook,
            args.all,
            args.profile,
            args.parameter,
            args.output,
            args.keep_going,
            args.quiet,
            jobs=args.jobs if args.all else 1,
        )
    if args.command == "params":
        from survlib.runner import NotebookNotFoundError, notebook_parameters

        try:
            for name, value in notebook_parameters(args.notebook).items():
                print(f"{name} = {value!r}")
        except NotebookNotFoundError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        return 0
    if args.command == "sweep":
        from survlib.sweep import main_sweep

        return main_sweep(
            args.notebook,
            args.grid,
            args.profile,
            args.scheduler,
            args.workers,
            args.name,
            args.plot,
            args.out_dir,
            args.resources,
            args.serial,
            args.quiet,
        )
    if args.command == "report":
        from survlib.runner import write_run_report

        print(write_run_report())
        return 0
    if args.command == "fetch":
        from survlib.data import DataUnavailableError, describe, fetch

        if args.import_dir:
            from survlib.data.fetch import import_files

            if args.name:
                print("error: give either an entry name or --import DIR, not both", file=sys.stderr)
                return 2
            try:
                report = import_files(args.import_dir, manifest=args.manifest)
            except (NotADirectoryError, ValueError) as err:
                print(f"error: {err}", file=sys.stderr)
                return 2
            print(report.summary())
            return 0 if report.ok else 1
        if not args.name:
            table = describe(args.manifest)[["name", "size", "licence", "used_by"]]
            print(table.to_string(index=False))
            return 0
        try:
            print(fetch(args.name, manifest=args.manifest))
        except (KeyError, DataUnavailableError, RuntimeError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        return 0
    return 2  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
