"""The ``survlib`` command line: ``survlib run``, ``survlib params``, ``survlib fetch``."""

from __future__ import annotations

import argparse
import sys


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
        "-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
        help="override one parameter (repeatable); unknown names are an error",
    )
    run.add_argument("-o", "--output", help="executed notebook path (default book/executed/)")
    run.add_argument("--keep-going", action="store_true", help="with --all, continue on failure")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    params = sub.add_parser("params", help="list a notebook's parameters and their defaults")
    params.add_argument("notebook")

    sub.add_parser("report", help="write book/executed/run_report.md from the run records")

    fetch = sub.add_parser("fetch", help="download a data_manifest.yaml entry into the cache")
    fetch.add_argument("name", nargs="?", help="entry name; omit to list the entries")
    fetch.add_argument("--manifest", help="another manifest file")
    fetch.add_argument(
        "--import", dest="import_dir", metavar="DIR",
        help="copy verified local copies from DIR into the cache (matched by sha256)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        from survlib.runner import main_run

        return main_run(
            args.notebook, args.all, args.profile, args.parameter, args.output,
            args.keep_going, args.quiet,
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
    if args.command == "report":
        from survlib.runner import write_run_report

        print(write_run_report())
        return 0
    if args.command == "fetch":
        from survlib.data import DataUnavailableError, describe, fetch

        if args.import_dir:
            from survlib.data.fetch import import_files

            if args.name:
                print("error: give either an entry name or --import DIR, not both",
                      file=sys.stderr)
                return 2
            try:
                report = import_files(args.import_dir, manifest=args.manifest)
            except (NotADirectoryError, ValueError) as err:
                print(f"error: {err}", file=sys.stderr)
                return 2
            print(report.summary())
            return 0 if report.ok else 1
        if not args.name:
            print(describe(args.manifest)[["name", "size", "licence", "used_by"]].to_string(index=False))
            return 0
        try:
            print(fetch(args.name, manifest=args.manifest))
        except (KeyError, DataUnavailableError, RuntimeError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        return 0
    return 2  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
