"""Run the catalogue of bad inputs (tests/bad_inputs_catalogue.py) and classify each answer.

Against the checkout of survlib on PYTHONPATH (so the same catalogue can judge an older
commit), writing one JSON record per case::

    PYTHONPATH=$PWD python benchmarks/bad_inputs.py --out after.json
    git worktree add /tmp/base16 6bf239b
    PYTHONPATH=/tmp/base16 SURVLIB_REPO=/tmp/base16 \
        python benchmarks/bad_inputs.py --out before.json
    python benchmarks/bad_inputs.py --compare before.json after.json --markdown table.md

Verdicts: silently accepted (returned, no error), unclear (an error whose message misses the
argument/value/expectation), traceback (an error from deep inside a library), clear error,
handled correctly (a defined behaviour, e.g. pandas inputs aligned by index).
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _catalogue():
    path = HERE.parent / "tests" / "bad_inputs_catalogue.py"
    spec = importlib.util.spec_from_file_location("bad_inputs_catalogue", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bad_inputs_catalogue"] = mod
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def run(out: Path, only: str | None = None) -> None:
    import survlib

    cat = _catalogue()
    ctx = cat.Ctx()
    records = []
    t0 = time.perf_counter()
    for case in cat.CASES:
        if only and case.cls != only:
            continue
        rec = cat.classify(case, ctx)
        records.append(rec)
        print(
            f"{rec['verdict']:18s} {rec['id']}: {rec['type']}: {rec['message'][:90]}",
            file=sys.stderr,
            flush=True,
        )
    payload = {
        "survlib": str(Path(survlib.__file__).parent),
        "seconds": time.perf_counter() - t0,
        "cases": records,
    }
    out.write_text(json.dumps(payload, indent=1))
    counts = collections.Counter(r["verdict"] for r in records)
    print(json.dumps(dict(counts)), file=sys.stderr)


def compare(before: Path, after: Path, markdown: Path | None) -> str:
    b = {r["id"]: r for r in json.loads(before.read_text())["cases"]}
    a = json.loads(after.read_text())["cases"]
    lines = [
        "| class | bad input | before | after | after: message |",
        "| --- | --- | --- | --- | --- |",
    ]
    summary: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for r in a:
        old = b.get(r["id"], {"verdict": "n/a"})
        summary[r["cls"]][("before", old["verdict"])] += 1
        summary[r["cls"]][("after", r["verdict"])] += 1
        msg = r["message"].replace("|", "\\|")[:110]
        lines.append(
            f"| {r['cls']} | {r['id'].split(':', 1)[1]} | {old['verdict']} | "
            f"{r['verdict']} | {msg} |"
        )
    verdicts = ("silently accepted", "unclear", "traceback", "clear error", "handled correctly")
    head = [
        "| class | cases | "
        + " | ".join(f"before: {v}" for v in verdicts)
        + " | "
        + " | ".join(f"after: {v}" for v in verdicts)
        + " |",
        "| --- " * (2 + 2 * len(verdicts)) + "|",
    ]
    total: collections.Counter = collections.Counter()
    for cls, cnt in summary.items():
        n = sum(v for (when, _), v in cnt.items() if when == "after")
        total.update(cnt)
        head.append(
            f"| {cls} | {n} | "
            + " | ".join(str(cnt[("before", v)]) for v in verdicts)
            + " | "
            + " | ".join(str(cnt[("after", v)]) for v in verdicts)
            + " |"
        )
    n = sum(v for (when, _), v in total.items() if when == "after")
    head.append(
        f"| all | {n} | "
        + " | ".join(str(total[("before", v)]) for v in verdicts)
        + " | "
        + " | ".join(str(total[("after", v)]) for v in verdicts)
        + " |"
    )
    text = "\n".join(head) + "\n\n" + "\n".join(lines) + "\n"
    if markdown:
        markdown.write_text(text)
    return text


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path)
    p.add_argument("--only", help="one class (survival, sc, wsi, text, cli)")
    p.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    p.add_argument("--markdown", type=Path)
    args = p.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.compare:
        print(compare(*args.compare, args.markdown))
    else:
        run(args.out or Path("bad_inputs.json"), args.only)


if __name__ == "__main__":
    main()
