"""survlib's ScSurvival against the authors' scSurvival package, side by side, seed by seed.

Each seed simulates one cohort (survlib.data.simulate_sc_cohort, hardest setting, 5,000 UMIs
per cell by default), splits its patients into training and held-out ones (stratified by
event), and runs both methods on the same split:

* **survlib**: ``ScSurvival(train).train(seed=seed)`` with its defaults (``--preset`` and
  ``--survlib-config`` change them), ``predict_risk`` on the held-out patients and the default
  risk-cell rule (``identify_risk_cells``) on the training cells.
* **authors**: ``scSurvivalRun`` on the log-normalised training cells with the settings of
  their simulation script (other_scripts/simu_type_3.py: 200 VAE + 500 fine-tuning epochs,
  ``fitnetune_strategy="alternating"``, lambdas (0.01, 1), ZIG likelihood, ``once_load_to_gpu``
  off on CPU), ``PredictIndSample`` for each held-out patient, and their risk-cell rule (a
  2-means split of the attention and the sign of ``hazard_adj``) on the training cells.

Both are scored the same way: Harrell's C on the held-out patients
(survlib.survival.concordance, with a per-seed paired bootstrap over patients,
survlib.survival.paired_bootstrap_cindex) and survlib.explain.risk_cell_metrics on the
training cells (macro F1 in the authors' definition, binary F1 for the higher-risk cells).
Wall time covers training, held-out prediction and the risk-cell calls (not the simulation).

The JSON (``--out``) is rewritten after every run, atomically and under a file lock, so two
processes (e.g. two seeds in parallel) may share one file and a partial run keeps its results;
runs already in the file are skipped (``--force`` redoes them). Paired differences
(survlib - authors) come with a percentile bootstrap CI over seeds.

Run it (one core per process)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_vs_authors.py --seeds 7,4242,11 \\
        --out benchmarks/results/vs_authors.json

The authors' package is looked for under ``--anchors PATH`` / ``$SURVLIB_ANCHORS`` /
``../shared/anchors``; without it only survlib runs (``--methods survlib``) are possible.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from survlib._core.io import atomic_write_text  # noqa: E402
from survlib.bench import limit_cpu_threads, machine_info  # noqa: E402

# METRICS: the compared quantities; mean_ci: the interval over seeds (used by the tests too)
from survlib.protocols.authors_comparison import METRICS, mean_ci  # noqa: E402, F401

AUTHORS = "authors"
#: labels that other survlib runs are also paired against (``paired_vs_<label>`` in the JSON)
REFERENCES = ("base", "survlib_before", "survlib")


# ----------------------------------------------------------------------------- data
def simulate_split(
    n_patients: int,
    cells_per_patient: int,
    n_genes: int,
    umis_per_cell: float,
    n_train: int,
    seed: int,
) -> tuple[Any, Any]:
    """One hardest-setting cohort split into (training, held-out) AnnData, stratified by event."""
    from survlib.data.sc import simulate_sc_cohort

    if not 2 <= n_train < n_patients:
        raise ValueError(f"n_train must be in [2, n_patients), got {n_train} of {n_patients}")
    cohort = simulate_sc_cohort(
        n_patients, cells_per_patient, n_genes, "hardest", seed, library_size=umis_per_cell
    )
    table = cohort.obs.groupby("patient_id", observed=True)["event"].first()
    rng = np.random.default_rng(seed + 1)
    train_ids: list[str] = []
    for event in (0, 1):
        ids = rng.permutation(table.index[table.to_numpy() == event].to_numpy())
        share = round(n_train * len(ids) / len(table))
        train_ids += ids[:share].tolist()
    rest = rng.permutation([p for p in table.index if p not in set(train_ids)]).tolist()
    train_ids = (train_ids + rest)[:n_train]  # rounding: top up / trim to exactly n_train
    in_train = cohort.obs["patient_id"].astype(str).isin(train_ids).to_numpy()
    return cohort[in_train].copy(), cohort[~in_train].copy()


def _survival_of(adata: Any) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per-patient time, event and ids (sorted ids) of an AnnData's obs."""
    g = adata.obs.groupby(adata.obs["patient_id"].astype(str), observed=True)
    ids = sorted(g.groups)
    time_ = g["time"].first().loc[ids].to_numpy(dtype=float)
    event = g["event"].first().loc[ids].to_numpy(dtype=int)
    return time_, event, ids


# ----------------------------------------------------------------------------- methods
def run_survlib(
    train: Any, test: Any, seed: int, preset: str, overrides: dict[str, Any]
) -> dict[str, Any]:
    """survlib's ScSurvival: train, held-out risk, default risk-cell calls; scores and time."""
    from survlib.explain import identify_risk_cells, risk_cell_metrics
    from survlib.models.sc import ScSurvival
    from survlib.survival import concordance

    t0 = time.perf_counter()
    ScSurvival.setup_anndata(train)
    model = ScSurvival(train, preset=preset, **overrides)
    model.train(device="cpu", seed=seed, progress=False)
    risk = model.predict_risk(test, write=False)
    pred = identify_risk_cells(model, train)
    seconds = time.perf_counter() - t0
    authors_rule = identify_risk_cells(model, train, rule="authors", recompute=False)
    scores = risk_cell_metrics(train.obs["risk_group"], pred)
    t, e, ids = _survival_of(test)
    heldout_risk = risk["risk"].loc[ids].to_numpy(dtype=float)
    return {
        "seconds": seconds,
        "heldout_c": concordance(heldout_risk, t, e),
        "macro_f1": scores["macro_f1"],
        "binary_f1": scores["binary_f1"],
        "scores": scores,
        "authors_rule_scores": risk_cell_metrics(train.obs["risk_group"], authors_rule),
        "heldout_risk": heldout_risk.tolist(),
        "steps": dict(model.steps_run),
        "stage_seconds": dict(model.timings),
        "config": model.config.to_dict(),
    }


def _log_normalised(adata: Any) -> Any:
    """The authors' input: counts scaled to 10,000 per cell and log1p (Seurat's LogNormalize),
    dense, with the patient in ``obs["sample"]``."""
    import anndata as ad
    import scipy.sparse as sp

    x = adata.X.toarray() if sp.issparse(adata.X) else np.asarray(adata.X)
    x = x.astype(np.float32)
    x = np.log1p(x / np.maximum(x.sum(1, keepdims=True), 1.0) * 1e4)
    obs = adata.obs[["patient_id", "risk_group"]].copy()
    obs["sample"] = obs["patient_id"].astype(str)
    return ad.AnnData(x, obs=obs, var=adata.var[[]].copy())


def authors_settings(pretrain_epochs: int, epochs: int) -> dict[str, Any]:
    """The keyword arguments of ``scSurvivalRun`` in the authors' simulation script."""
    return dict(
        feature_flavor="AE",
        entropy_threshold=0.7,
        lambdas=(0.01, 1.0),
        pretrain_epochs=pretrain_epochs,
        epochs=epochs,
        weight_decay=0.01,
        lr=0.001,
        patience=100,
        rec_likelihood="ZIG",
        do_scale_ae=False,
        beta=0.1,
        tau=0.2,
        sample_size_ae=None,
        finetue_lr_factor=0.1,
        gene_weight_alpha=0.2,
        gamma_beta_weight=(0.1, 0.0),
        once_load_to_gpu=False,
        use_amp=False,
        fitnetune_strategy="alternating",
    )


def run_authors(
    train: Any, test: Any, seed: int, anchors: str | None, pretrain_epochs: int, epochs: int
) -> dict[str, Any]:
    """The authors' scSurvival: train, held-out patient hazards, their risk-cell rule."""
    import pandas as pd
    from _anchors import import_authors_scsurvival
    from sklearn.cluster import KMeans

    from survlib.explain import risk_cell_metrics
    from survlib.survival import concordance
    from survlib.train import seed_everything

    scsurvival_run, predict_ind_sample = import_authors_scsurvival(anchors)
    seed_everything(seed)
    t0 = time.perf_counter()
    a_train, a_test = _log_normalised(train), _log_normalised(test)
    t_tr, e_tr, ids_tr = _survival_of(train)
    surv = pd.DataFrame({"time": t_tr, "status": e_tr}, index=ids_tr)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        a_train, _, model = scsurvival_run(
            a_train, "sample", surv, **authors_settings(pretrain_epochs, epochs)
        )
        t, e, ids = _survival_of(test)
        hazards = []
        for pid in ids:
            one = a_test[a_test.obs["sample"] == pid].copy()
            hazards.append(float(predict_ind_sample(one, a_train, model)[1]))
    attention = a_train.obs["attention"].to_numpy().reshape(-1, 1)
    centres = KMeans(n_clusters=2, random_state=42).fit(attention).cluster_centers_
    attentive = attention.ravel() >= centres.mean()
    hazard_adj = a_train.obs["hazard_adj"].to_numpy()
    pred = np.where(attentive, np.where(hazard_adj > 0, "higher", "lower"), "neutral")
    seconds = time.perf_counter() - t0
    scores = risk_cell_metrics(train.obs["risk_group"], pred)
    return {
        "seconds": seconds,
        "heldout_c": concordance(np.asarray(hazards), t, e),
        "macro_f1": scores["macro_f1"],
        "binary_f1": scores["binary_f1"],
        "scores": scores,
        "heldout_risk": hazards,
        "settings": {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in authors_settings(pretrain_epochs, epochs).items()
        },
    }


# ----------------------------------------------------------------------------- summaries
def paired_summary(
    runs: dict[str, dict[str, Any]], label: str, ref: str = AUTHORS
) -> dict[str, Any]:
    """Run ``label`` minus run ``ref`` (default the authors'), per metric over the seeds that
    have both; wall-time ratio (ref / label) and per-seed paired bootstrap of the held-out C."""
    from survlib.protocols.authors_comparison import paired_differences
    from survlib.survival import paired_bootstrap_cindex

    out = paired_differences(runs, label, ref)
    seeds = [str(s) for s in out["seeds"]]
    per_seed = {}
    for s in seeds:
        t, e = runs[s]["heldout_time"], runs[s]["heldout_event"]
        per_seed[s] = paired_bootstrap_cindex(
            runs[s][label]["heldout_risk"], runs[s][ref]["heldout_risk"], t, e, n_boot=500
        )
    out["heldout_c_paired_bootstrap_per_seed"] = per_seed
    return out


def method_summary(runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Mean and sd over seeds of every metric, per method label."""
    labels = sorted({k for r in runs.values() for k in r if isinstance(r[k], dict)})
    out = {}
    for label in labels:
        vals = {m: [r[label][m] for r in runs.values() if label in r] for m in METRICS}
        out[label] = {
            "n_seeds": len(vals["seconds"]),
            **{
                m: {
                    "mean": float(np.mean(v)),
                    "sd": float(np.std(v, ddof=1)) if len(v) > 1 else float("nan"),
                }
                for m, v in vals.items()
                if v
            },
        }
    return out


def summarise(cohort: dict[str, Any]) -> None:
    """Recompute a cohort entry's ``summary`` and ``paired`` from its ``runs`` (in place)."""
    runs = cohort["runs"]
    cohort["summary"] = method_summary(runs)
    labels = sorted({k for r in runs.values() for k in r if isinstance(r[k], dict)} - {AUTHORS})
    cohort["paired"] = {label: paired_summary(runs, label) for label in labels}
    for ref in REFERENCES:  # an ablation's base run, the defaults before a change
        if ref in labels:
            cohort[f"paired_vs_{ref}"] = {
                label: paired_summary(runs, label, ref) for label in labels if label != ref
            }


# ----------------------------------------------------------------------------- the JSON file
@contextlib.contextmanager
def locked_results(path: Path):
    """Read the results file under an exclusive lock; yields the dict; writes it back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(str(path) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = json.loads(path.read_text()) if path.exists() else {}
        data.setdefault("benchmark", "scsurvival_vs_authors")
        data.setdefault("cohorts", {})
        yield data
        data["machine"] = machine_info(("survlib", "torch", "numpy", "scanpy"))
        atomic_write_text(path, json.dumps(data, indent=2, default=float))


def cohort_key(args: argparse.Namespace) -> str:
    return f"{args.patients}x{args.cells_per_patient}x{args.genes}"


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "n_patients": args.patients,
        "cells_per_patient": args.cells_per_patient,
        "n_genes": args.genes,
        "umis_per_cell": args.umis,
        "n_train": args.train_patients,
        "setting": "hardest",
        "authors_pretrain_epochs": args.authors_pretrain_epochs,
        "authors_epochs": args.authors_epochs,
        "threads": args.threads,
    }


def record(path: Path, args: argparse.Namespace, seed: int, label: str, result: dict) -> None:
    """Store one run (and the seed's held-out survival) and refresh the summaries."""
    with locked_results(path) as data:
        cohort = data["cohorts"].setdefault(cohort_key(args), {"settings": _settings(args)})
        if cohort["settings"] != _settings(args):
            raise ValueError(
                f"{path} holds cohort {cohort_key(args)} with other settings: "
                f"{cohort['settings']} (use another --out)"
            )
        seed_runs = cohort.setdefault("runs", {}).setdefault(str(seed), {})
        seed_runs.update(result.pop("_seed_fields", {}))
        seed_runs[label] = result
        summarise(cohort)


def done(path: Path, args: argparse.Namespace, seed: int, label: str) -> bool:
    if not path.exists():
        return False
    cohort = json.loads(path.read_text()).get("cohorts", {}).get(cohort_key(args), {})
    return label in cohort.get("runs", {}).get(str(seed), {})


# ----------------------------------------------------------------------------- command line
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seeds", default="7,4242,11,23,101", help="comma-separated seeds")
    ap.add_argument("--patients", type=int, default=60)
    ap.add_argument("--cells-per-patient", type=int, default=100)
    ap.add_argument("--genes", type=int, default=500)
    ap.add_argument("--umis", type=float, default=5000.0, help="mean UMIs per cell")
    ap.add_argument(
        "--train-patients",
        type=int,
        default=None,
        help="training patients (default: two thirds); the rest are held out",
    )
    ap.add_argument("--methods", default="survlib,authors", help="survlib and/or authors")
    ap.add_argument("--preset", default="fast", help="survlib preset")
    ap.add_argument(
        "--survlib-config",
        default=None,
        help="JSON object (or a path to one) of ScSurvival options overriding the "
        "preset, e.g. '{\"finetune_steps\": 400}'",
    )
    ap.add_argument(
        "--survlib-label",
        default="survlib",
        help="name of the survlib run in the JSON (e.g. survlib_before)",
    )
    ap.add_argument(
        "--variants",
        default=None,
        help="JSON object (or a path to one) {label: {option: value}}: several "
        "survlib runs per seed (an ablation) instead of --survlib-label/-config",
    )
    ap.add_argument(
        "--authors-from",
        default=None,
        help="a results JSON whose authors' runs (same cohort and seed) are copied "
        "in for the paired differences (ablations without rerunning the authors)",
    )
    ap.add_argument("--authors-pretrain-epochs", type=int, default=200)
    ap.add_argument("--authors-epochs", type=int, default=500)
    ap.add_argument("--anchors", default=None, help="folder of the authors' codes")
    ap.add_argument("--threads", type=int, default=1, help="torch / BLAS threads")
    ap.add_argument("--force", action="store_true", help="redo runs already in --out")
    ap.add_argument(
        "--resummarise",
        action="store_true",
        help="only recompute the summaries and paired differences of --out",
    )
    ap.add_argument("--out", default="benchmarks/results/vs_authors.json")
    args = ap.parse_args(argv)
    if args.train_patients is None:
        args.train_patients = round(2 * args.patients / 3)
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = sorted(set(args.methods) - {"survlib", AUTHORS})
    if bad:
        raise ValueError(f"--methods: unknown method(s) {bad}; choose survlib and/or authors")
    return args


def json_object(spec: str | None, name: str) -> dict[str, Any]:
    """A JSON object given inline or as a path to a file holding one ({} when ``spec`` is
    empty); ``name`` is the option, for the error message."""
    if not spec:
        return {}
    text = Path(spec).read_text() if Path(spec).is_file() else spec
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a JSON object, got {spec!r}")
    return value


def survlib_variants(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The survlib runs of every seed: ``{label: overrides}``."""
    if "survlib" not in args.methods:
        return {}
    if args.variants:
        variants = json_object(args.variants, "--variants")
        bad = [k for k, v in variants.items() if not isinstance(v, dict)]
        if bad:
            raise ValueError(f"--variants: the value of {bad} must be JSON objects of options")
        return variants
    return {args.survlib_label: json_object(args.survlib_config, "--survlib-config")}


def borrowed_authors(args: argparse.Namespace, seed: int) -> dict[str, Any] | None:
    """The authors' run of ``seed`` (same cohort) in ``--authors-from``, if any."""
    if not args.authors_from or not Path(args.authors_from).exists():
        return None
    cohort = json.loads(Path(args.authors_from).read_text()).get("cohorts", {})
    entry = cohort.get(cohort_key(args), {})
    if entry.get("settings") != _settings(args):
        return None
    run = entry.get("runs", {}).get(str(seed), {}).get(AUTHORS)
    return None if run is None else {**run, "borrowed_from": str(args.authors_from)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    limit_cpu_threads(args.threads)
    variants = survlib_variants(args)
    if AUTHORS in args.methods:
        from _anchors import AnchorsMissing, import_authors_scsurvival

        try:
            import_authors_scsurvival(args.anchors)
        except AnchorsMissing as exc:
            print(f"skipped: {exc}", file=sys.stderr)
            return 2
    out = Path(args.out)
    if args.resummarise:
        with locked_results(out) as data:
            for cohort in data["cohorts"].values():
                summarise(cohort)
        return 0
    for seed in [int(s) for s in args.seeds.split(",") if s.strip()]:
        todo = list(variants) + ([AUTHORS] if AUTHORS in args.methods else [])
        todo = [lab for lab in todo if args.force or not done(out, args, seed, lab)]
        borrowed = borrowed_authors(args, seed)
        if borrowed is not None and AUTHORS not in todo and not done(out, args, seed, AUTHORS):
            record(out, args, seed, AUTHORS, borrowed)
        if not todo:
            continue
        train, test = simulate_split(
            args.patients, args.cells_per_patient, args.genes, args.umis, args.train_patients, seed
        )
        t, e, _ = _survival_of(test)
        for label in todo:
            if label == AUTHORS:
                result = run_authors(
                    train.copy(),
                    test.copy(),
                    seed,
                    args.anchors,
                    args.authors_pretrain_epochs,
                    args.authors_epochs,
                )
            else:
                result = run_survlib(train.copy(), test.copy(), seed, args.preset, variants[label])
                result["overrides"] = variants[label]
            result["_seed_fields"] = {"heldout_time": t.tolist(), "heldout_event": e.tolist()}
            brief = {k: round(result[k], 3) for k in METRICS}
            record(out, args, seed, label, result)
            print(json.dumps({"seed": seed, "method": label, **brief}), flush=True)
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    raise SystemExit(main())
