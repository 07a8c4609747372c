"""A catalogue of bad inputs to survlib's public boundaries, grouped by class.

Used twice:

- by ``tests/test_bad_input_*.py``: every case must end in a *clear error* (the expected
  exception type and a message containing every keyword: the argument or file, the offending
  value, what was expected) or, for the few cases whose right answer is a defined behaviour
  (pandas inputs aligned by index, the clinical missing-value rule), in a correct result;
- by ``benchmarks/bad_inputs.py``: the same cases run against any checkout of survlib (on
  ``PYTHONPATH``) and classified as *silently accepted*, *unclear*, *traceback*, *clear error*
  or *handled correctly*, to compare the code before and after issue 16.

Only public names that existed before issue 16 are called, so the catalogue runs on both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class Case:
    """One bad input.

    Attributes:
        cls: the class of bad input (survival, sc, wsi, text, cli).
        name: what is wrong, in a few words.
        run: ``run(ctx)`` performs the call (returns its result, or a :class:`CliResult`).
        exc: accepted exception class names (matched against the raised type's MRO).
        keywords: lower-cased substrings the message must all contain.
        correct: for inputs with a defined right answer: ``correct(result) -> bool``.
    """

    cls: str
    name: str
    run: Callable[[Ctx], Any]
    exc: tuple[str, ...] = ("ValueError",)
    keywords: tuple[str, ...] = ()
    correct: Callable[[Any], bool] | None = None

    @property
    def id(self) -> str:
        return f"{self.cls}:{self.name}"


@dataclass
class CliResult:
    rc: int
    stderr: str
    stdout: str


class Ctx:
    """Lazily built inputs shared by the cases (temporary folder, slides, cohorts, models)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root or tempfile.mkdtemp(prefix="survlib-bad-"))

    # ----------------------------------------------------------------- survival
    @cached_property
    def surv(self) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(0)
        n = 60
        risk = rng.normal(size=n)
        time = rng.exponential(30 * np.exp(-risk)) + 0.5
        event = (rng.random(n) < 0.7).astype(int)
        event[:3] = 1
        times = np.array([10.0, 20.0, 30.0])
        surv = np.exp(-np.outer(np.exp(risk), times / 30.0))
        return {"risk": risk, "time": time, "event": event, "times": times, "surv": surv}

    # ----------------------------------------------------------------- slides
    @cached_property
    def slide_path(self) -> Path:
        from survlib.data.slides import write_synthetic_slide

        return write_synthetic_slide(self.root / "s.tif", seed=1, width=1024, height=1024).path

    @cached_property
    def white_slide_path(self) -> Path:
        import tifffile

        path = self.root / "white.tif"
        img = np.full((512, 512, 3), 255, np.uint8)
        desc = (
            "Aperio Image Library v12.0.0\n512x512 [0,0 512x512] (256x256) |AppMag = 40|MPP = 0.25"
        )
        tifffile.imwrite(
            path,
            img,
            tile=(256, 256),
            description=desc,
            photometric="rgb",
            compression="deflate",
            metadata=None,
        )
        return path

    @cached_property
    def truncated_slide_path(self) -> Path:
        data = self.slide_path.read_bytes()
        path = self.root / "truncated.tif"
        path.write_bytes(data[: len(data) // 3])
        return path

    def slide(self, path: Path | None = None, **kw: Any) -> Any:
        from survlib import wsi

        return wsi.Slide(path or self.slide_path, **kw)

    def features(self, **kw: Any) -> Any:
        from survlib import wsi

        base = dict(
            features=np.ones((4, 3), np.float32),
            coords=np.zeros((4, 2), np.int64),
            slide_id="s1",
            encoder="handcrafted",
            encoder_version="1",
            magnification=20.0,
            patch_size=256,
            level=0,
            size_level0=512,
        )
        base.update(kw)
        return wsi.SlideFeatures(**base)

    @cached_property
    def feature_file(self) -> Path:
        from survlib import wsi

        path = self.root / "feats.h5"
        feats = self.features(
            features=np.random.default_rng(0).normal(size=(2000, 16)),
            coords=np.zeros((2000, 2), np.int64),
        )
        wsi.write_features(path, feats)
        return path

    @cached_property
    def corrupt_feature_file(self) -> Path:
        """A feature file whose gzip-compressed features chunk is overwritten with garbage."""
        import h5py

        src = self.feature_file
        with h5py.File(src, "r") as h5:
            offset = h5["features"].id.get_chunk_info(0).byte_offset
        data = bytearray(src.read_bytes())
        data[offset + 16 : offset + 4000] = os.urandom(3984)
        path = self.root / "corrupt.h5"
        path.write_bytes(bytes(data))
        return path

    # ----------------------------------------------------------------- single cell
    def cohort(self, **kw: Any) -> Any:
        from survlib.data.sc import simulate_sc_cohort

        return simulate_sc_cohort(12, 20, 60, "distinct", 0, **kw)

    @staticmethod
    def lognorm(adata: Any, target: float = 1e4) -> Any:
        import scipy.sparse as sp

        a = adata.copy()
        x = sp.csr_matrix(a.X, dtype=np.float32)
        tot = np.asarray(x.sum(axis=1)).ravel()
        x = sp.diags(target / np.maximum(tot, 1)) @ x
        x = sp.csr_matrix(x, dtype=np.float32)
        x.data = np.log1p(x.data)
        a.X = x
        return a

    _TINY = dict(
        n_latent=4,
        n_hidden=16,
        n_heads=1,
        head_dim=4,
        proj_dim=4,
        hazard_hidden=4,
        pretrain_steps=5,
        cell_batch_size=64,
        amicr_steps=3,
        finetune_steps=1,
        patient_batch_size=6,
        cells_per_patient=8,
        eval_every=5,
    )

    @cached_property
    def counts_model(self) -> Any:
        import torch

        from survlib.models.sc import ScSurvival

        torch.set_num_threads(1)
        adata = self.cohort()
        ScSurvival.setup_anndata(adata)
        return ScSurvival(adata, **self._TINY).train(progress=False, seed=0)

    @cached_property
    def lognorm_model(self) -> Any:
        import torch

        from survlib.models.sc import ScSurvival

        torch.set_num_threads(1)
        adata = self.lognorm(self.cohort())
        ScSurvival.setup_anndata(adata, expression="log-normalized")
        return ScSurvival(adata, **self._TINY).train(progress=False, seed=0)

    # ----------------------------------------------------------------- cli
    PROBE = (
        "# ---\n# jupyter:\n#   jupytext:\n#     formats: py:percent\n#   kernelspec:\n"
        "#     display_name: Python 3\n#     language: python\n#     name: python3\n# ---\n\n"
        '# %% tags=["parameters"]\nn = 3\nrate = 0.5\n\n# %%\nprint(n * rate)\n'
    )

    @cached_property
    def probe(self) -> Path:
        path = self.root / "98_probe.py"
        path.write_text(self.PROBE)
        return path

    @cached_property
    def no_params_probe(self) -> Path:
        path = self.root / "97_noparams.py"
        path.write_text(self.PROBE.replace(' tags=["parameters"]', ""))
        return path

    @cached_property
    def a_file(self) -> Path:
        path = self.root / "a_file"
        path.write_text("x")
        return path

    def fake_repo(self, headlines: str) -> Path:
        repo = Path(tempfile.mkdtemp(prefix="repo-", dir=self.root))
        (repo / "notebooks").mkdir()
        (repo / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
        (repo / "book" / "executed").mkdir(parents=True)
        (repo / "book" / "executed" / "01_x.headlines.json").write_text(headlines)
        return repo

    @cached_property
    def manifest(self) -> Path:
        path = self.root / "manifest.yaml"
        path.write_text(
            "tiny:\n  url: http://127.0.0.1:9/tiny.csv\n  hash: null\n"
            "  size: 1 KB\n  licence: CC0\n  citation: none\n  used_by: [01_survival_primer]\n"
            "  description: a tiny file\n"
        )
        return path

    #: run ``survlib.cli.main`` in this process (fast; the tests) instead of a subprocess
    inprocess = False

    def cli(self, *argv: str, env: dict[str, str] | None = None, timeout: float = 120) -> CliResult:
        # `make test` points SURVLIB_EXECUTED_DIR at the smoke book; a case's own (fake) repo
        # must decide where executed notebooks live (an empty value means unset)
        env = {"SURVLIB_EXECUTED_DIR": "", **(env or {})}
        if self.inprocess:
            return _cli_inprocess(list(argv), env or {}, self.root)
        full_env = {**os.environ, **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "survlib", *argv],
            capture_output=True,
            text=True,
            cwd=self.root,
            env=full_env,
            timeout=timeout,
        )
        return CliResult(proc.returncode, proc.stderr, proc.stdout)


# ======================================================================= helpers


def _cli_inprocess(argv: list[str], env: dict[str, str], cwd: Path) -> CliResult:
    """``survlib ARGV`` through :func:`survlib.cli.main` here, with ``env`` set meanwhile."""
    import contextlib
    import io
    import traceback

    from survlib.cli import main

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    err, out = io.StringIO(), io.StringIO()
    old_cwd = os.getcwd()
    try:
        os.chdir(cwd)
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                rc = main(argv)
            except SystemExit as exc:
                rc = exc.code if isinstance(exc.code, int) else 1
            except Exception:  # noqa: BLE001 - a traceback is what the CLI must never print
                traceback.print_exc()
                rc = 1
    finally:
        os.chdir(old_cwd)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return CliResult(int(rc), err.getvalue(), out.getvalue())


def _t(x: Any) -> Any:
    import torch

    return torch.as_tensor(np.asarray(x, dtype=np.float64), dtype=torch.float32)


def _with(arr: np.ndarray, i: int, value: Any) -> np.ndarray:
    out = np.asarray(arr, dtype=object if isinstance(value, str) or value is None else float).copy()
    out[i] = value
    return out


def _shuffled_series(ctx: Ctx) -> tuple[pd.Series, pd.Series, pd.Series]:
    s = ctx.surv
    ids = [f"p{i}" for i in range(len(s["time"]))]
    time = pd.Series(s["time"], index=ids)
    event = pd.Series(s["event"], index=ids)
    perm = np.random.default_rng(1).permutation(len(ids))
    risk = pd.Series(s["risk"], index=ids).iloc[perm]
    return risk, time, event


def _aligned_c(ctx: Ctx) -> float:
    from survlib.survival import concordance

    s = ctx.surv
    return concordance(s["risk"], s["time"], s["event"])


CASES: list[Case] = []


def case(
    cls: str,
    name: str,
    exc: tuple[str, ...] = ("ValueError",),
    keywords: tuple[str, ...] = (),
    correct: Callable[[Any], bool] | None = None,
):
    def register(fn: Callable[[Ctx], Any]) -> Callable[[Ctx], Any]:
        CASES.append(Case(cls, name, fn, exc, tuple(k.lower() for k in keywords), correct))
        return fn

    return register


# ======================================================================= survival: losses


def _cox(ctx: Ctx, time: Any = None, event: Any = None, log_hz: Any = None, **kw: Any) -> Any:
    from survlib.survival import cox_partial_likelihood

    s = ctx.surv
    n = 8
    lh = _t(s["risk"][:n]) if log_hz is None else log_hz
    return cox_partial_likelihood(
        lh,
        s["time"][:n] if time is None else time,
        s["event"][:n] if event is None else event,
        **kw,
    )


_T8 = None  # placeholders for readability below


def _ev(values: list[Any]) -> np.ndarray:
    return np.array(values + [1] * (8 - len(values)), dtype=float)


def _tm(values: list[Any]) -> np.ndarray:
    return np.array(values + [5.0] * (8 - len(values)), dtype=float)


for _v in (-1, 2, 0.5, 3, -0.5, np.nan):
    case("survival", f"cox event {_v}", keywords=("event", "0/1"))(
        lambda ctx, v=_v: _cox(ctx, event=_ev([1, v]))
    )
for _v, _kw in (
    (np.nan, ("time", "nan")),
    (-1.0, ("time", "negative")),
    (np.inf, ("time", "infinite")),
    (-np.inf, ("time",)),
):
    case("survival", f"cox time {_v}", keywords=_kw)(lambda ctx, v=_v: _cox(ctx, time=_tm([v])))
case("survival", "cox time length 7 for 8 scores", keywords=("time", "7"))(
    lambda ctx: _cox(ctx, time=np.ones(7))
)
case("survival", "cox event length 9 for 8 scores", keywords=("event", "9"))(
    lambda ctx: _cox(ctx, event=np.ones(9))
)
case("survival", "cox all censored", keywords=("no observed events",))(
    lambda ctx: _cox(ctx, event=np.zeros(8))
)
case("survival", "cox time as strings", keywords=("time",))(
    lambda ctx: _cox(ctx, time=np.array(["a"] * 8))
)
case("survival", "cox ties='exact'", keywords=("ties", "exact"))(
    lambda ctx: _cox(ctx, ties="exact")
)
case("survival", "cox log_hz a numpy array", keywords=("log_hz", "tensor"))(
    lambda ctx: _cox(ctx, log_hz=np.zeros(8))
)
case("survival", "cox log_hz shape [8, 2]", keywords=("log_hz", "shape"))(
    lambda ctx: _cox(ctx, log_hz=_t(np.zeros((8, 2))))
)
case("survival", "cox event strings yes/no", keywords=("event",))(
    lambda ctx: _cox(ctx, event=np.array(["yes", "no"] * 4))
)
case("survival", "cox event tensor with 2", keywords=("event", "0/1"))(
    lambda ctx: _cox(ctx, event=_t(_ev([2])))
)
case("survival", "cox time tensor with NaN", keywords=("time", "nan"))(
    lambda ctx: _cox(ctx, time=_t(_tm([np.nan])))
)


def _nll(ctx: Ctx, bins: Any = None, event: Any = None, logits: Any = None, **kw: Any) -> Any:
    import torch

    from survlib.survival import nll_discrete

    lg = torch.zeros(6, 4) if logits is None else logits
    b = np.array([0, 1, 2, 3, 1, 2], dtype=float) if bins is None else bins
    e = np.array([1, 0, 1, 1, 0, 1], dtype=float) if event is None else event
    return nll_discrete(lg, b, e, **kw)


for _v in (2.7, 0.5, -0.2):
    case("survival", f"nll bin_index {_v}", keywords=("bin_index",))(
        lambda ctx, v=_v: _nll(ctx, bins=np.array([v, 1, 2, 3, 1, 2]))
    )
for _v in (-1, 4, 7):
    case("survival", f"nll bin_index {_v} for 4 bins", keywords=("bin_index", str(_v)))(
        lambda ctx, v=_v: _nll(ctx, bins=np.array([v, 1, 2, 3, 1, 2]))
    )
for _v in (np.nan, np.inf):
    case("survival", f"nll bin_index {_v}", keywords=("bin_index",))(
        lambda ctx, v=_v: _nll(ctx, bins=np.array([v, 1, 2, 3, 1, 2]))
    )
for _v in (2, -1, 0.5, np.nan, 1.5):
    case("survival", f"nll event {_v}", keywords=("event", "0/1"))(
        lambda ctx, v=_v: _nll(ctx, event=np.array([v, 0, 1, 1, 0, 1]))
    )
for _v in (1.5, -0.1, np.nan):
    case("survival", f"nll alpha {_v}", keywords=("alpha",))(lambda ctx, v=_v: _nll(ctx, alpha=v))
case("survival", "nll bin_index length 5 for 6 rows", keywords=("bin_index", "5"))(
    lambda ctx: _nll(ctx, bins=np.array([0, 1, 2, 3, 1]))
)
case("survival", "nll logits 1-D", keywords=("logits", "shape"))(
    lambda ctx: _nll(ctx, logits=_t(np.zeros(6)))
)
case("survival", "nll empty batch", keywords=("empty",))(
    lambda ctx: _nll(ctx, logits=_t(np.zeros((0, 4))), bins=np.zeros(0), event=np.zeros(0))
)
case("survival", "nll bin_index tensor 2.7", keywords=("bin_index",))(
    lambda ctx: _nll(ctx, bins=_t([2.7, 1, 2, 3, 1, 2]))
)

# ======================================================================= survival: metrics


def _conc(ctx: Ctx, risk: Any = None, time: Any = None, event: Any = None) -> Any:
    from survlib.survival import concordance

    s = ctx.surv
    return concordance(
        s["risk"] if risk is None else risk,
        s["time"] if time is None else time,
        s["event"] if event is None else event,
    )


case(
    "survival",
    "concordance risk Series in another order than time",
    correct=lambda c: abs(c - _REF["c"]) < 1e-12,
)(lambda ctx: (_REF.setdefault("c", _aligned_c(ctx)), _conc(ctx, *_shuffled_series(ctx)))[1])
case("survival", "concordance Series with different patients", keywords=("indices", "risk"))(
    lambda ctx: _conc(
        ctx, _shuffled_series(ctx)[0].rename(lambda k: k + "x"), *_shuffled_series(ctx)[1:]
    )
)
case("survival", "concordance risk NaN", keywords=("risk", "nan"))(
    lambda ctx: _conc(ctx, risk=_with(ctx.surv["risk"], 3, np.nan))
)
case("survival", "concordance risk inf", keywords=("risk", "infinite"))(
    lambda ctx: _conc(ctx, risk=_with(ctx.surv["risk"], 3, np.inf))
)
case("survival", "concordance risk length 59", keywords=("risk", "60"))(
    lambda ctx: _conc(ctx, risk=ctx.surv["risk"][:59])
)
case("survival", "concordance risk strings", keywords=("risk",))(
    lambda ctx: _conc(ctx, risk=np.array(["high"] * 60))
)
case("survival", "concordance risk [60, 3]", keywords=("risk", "shape"))(
    lambda ctx: _conc(ctx, risk=np.zeros((60, 3)))
)
case("survival", "concordance time negative", keywords=("time", "negative"))(
    lambda ctx: _conc(ctx, time=_with(ctx.surv["time"], 0, -2.0))
)
case("survival", "concordance time NaN", keywords=("time", "nan"))(
    lambda ctx: _conc(ctx, time=_with(ctx.surv["time"], 0, np.nan))
)
for _v in (2, -1, 0.5):
    case("survival", f"concordance event {_v}", keywords=("event", "0/1"))(
        lambda ctx, v=_v: _conc(ctx, event=_with(ctx.surv["event"], 0, v))
    )
case("survival", "concordance event strings", keywords=("event",))(
    lambda ctx: _conc(ctx, event=np.array(["dead"] * 60))
)
case("survival", "concordance time and event lengths differ", keywords=("time", "event"))(
    lambda ctx: _conc(ctx, event=ctx.surv["event"][:50])
)


def _auc(ctx: Ctx, est: Any = None, **kw: Any) -> Any:
    from survlib.survival import td_auc

    s = ctx.surv
    args = dict(
        time=s["time"],
        event=s["event"],
        train_time=s["time"],
        train_event=s["event"],
        times=s["times"],
    )
    args.update(kw)
    return td_auc(s["surv"] if est is None else est, **args)


def _surv_with(ctx: Ctx, value: float) -> np.ndarray:
    m = ctx.surv["surv"].copy()
    m[2, 1] = value
    return m


for _v in (1.7, -0.4, 3.0):
    case("survival", f"td_auc survival probability {_v}", keywords=("[0, 1]", str(_v)))(
        lambda ctx, v=_v: _auc(ctx, _surv_with(ctx, v))
    )
case("survival", "td_auc rising survival curves", keywords=("non-increasing",))(
    lambda ctx: _auc(ctx, ctx.surv["surv"][:, ::-1].copy())
)
case("survival", "td_auc survival NaN", keywords=("nan",))(
    lambda ctx: _auc(ctx, _surv_with(ctx, np.nan))
)
case("survival", "td_auc survival shape [60, 2]", keywords=("shape",))(
    lambda ctx: _auc(ctx, ctx.surv["surv"][:, :2])
)
case("survival", "td_auc times not increasing", keywords=("times", "increasing"))(
    lambda ctx: _auc(ctx, ctx.surv["surv"], times=[30.0, 20.0, 10.0])
)
case("survival", "td_auc times NaN", keywords=("times", "finite"))(
    lambda ctx: _auc(ctx, ctx.surv["surv"], times=[10.0, np.nan, 30.0])
)
case("survival", "td_auc train_time negative", keywords=("training", "negative"))(
    lambda ctx: _auc(ctx, train_time=_with(ctx.surv["time"], 1, -3.0))
)
case("survival", "td_auc train_event 2", keywords=("training", "event"))(
    lambda ctx: _auc(ctx, train_event=_with(ctx.surv["event"], 1, 2))
)
case("survival", "td_auc out_of_range='clip'", keywords=("out_of_range", "clip"))(
    lambda ctx: _auc(ctx, out_of_range="clip")
)
case(
    "survival",
    "td_auc risk Series in another order",
    correct=lambda r: abs(r[1] - _REF["auc"]) < 1e-12,
)(
    lambda ctx: (
        _REF.setdefault("auc", _auc(ctx, ctx.surv["risk"])[1]),
        _auc(
            ctx,
            *_shuffled_series(ctx)[:1],
            time=_shuffled_series(ctx)[1],
            event=_shuffled_series(ctx)[2],
        ),
    )[1]
)
case("survival", "td_auc risk NaN", keywords=("risk", "nan"))(
    lambda ctx: _auc(ctx, _with(ctx.surv["risk"], 4, np.nan))
)


def _ibs(ctx: Ctx, s: Any = None, **kw: Any) -> Any:
    from survlib.survival import integrated_brier

    d = ctx.surv
    args = dict(
        time=d["time"],
        event=d["event"],
        train_time=d["time"],
        train_event=d["event"],
        times=d["times"],
    )
    args.update(kw)
    return integrated_brier(d["surv"] if s is None else s, **args)


for _v in (1.7, -0.4, 3.0, 1.0001):
    case("survival", f"integrated_brier probability {_v}", keywords=("surv_at_times", "[0, 1]"))(
        lambda ctx, v=_v: _ibs(ctx, _surv_with(ctx, v))
    )
case("survival", "integrated_brier rising curves", keywords=("non-increasing",))(
    lambda ctx: _ibs(ctx, ctx.surv["surv"][:, ::-1].copy())
)
case("survival", "integrated_brier constant 5.0", keywords=("[0, 1]",))(
    lambda ctx: _ibs(ctx, np.full_like(ctx.surv["surv"], 5.0))
)
case("survival", "integrated_brier NaN", keywords=("nan",))(
    lambda ctx: _ibs(ctx, _surv_with(ctx, np.nan))
)
case("survival", "integrated_brier shape [60, 2]", keywords=("shape",))(
    lambda ctx: _ibs(ctx, ctx.surv["surv"][:, :2])
)
case("survival", "integrated_brier one time", keywords=("two",))(
    lambda ctx: _ibs(ctx, ctx.surv["surv"][:, :1], times=[10.0])
)
case("survival", "integrated_brier surv strings", keywords=("surv_at_times",))(
    lambda ctx: _ibs(ctx, np.full(ctx.surv["surv"].shape, "x"))
)
case("survival", "integrated_brier event 2", keywords=("event", "0/1"))(
    lambda ctx: _ibs(ctx, event=_with(ctx.surv["event"], 0, 2))
)


def _lr(ctx: Ctx, groups: Any = None, **kw: Any) -> Any:
    from survlib.survival import logrank_p

    s = ctx.surv
    g = np.where(s["risk"] > 0, "high", "low") if groups is None else groups
    return logrank_p(kw.get("time", s["time"]), kw.get("event", s["event"]), g)


case("survival", "logrank_p NaN in groups", keywords=("groups", "missing"))(
    lambda ctx: _lr(ctx, _with(np.where(ctx.surv["risk"] > 0, 1.0, 0.0), 0, np.nan))
)
case("survival", "logrank_p None in groups", keywords=("groups", "missing"))(
    lambda ctx: _lr(ctx, _with(np.where(ctx.surv["risk"] > 0, "a", "b"), 0, None))
)
case("survival", "logrank_p pd.NA in groups", keywords=("groups", "missing"))(
    lambda ctx: _lr(ctx, pd.array([pd.NA] + [1, 2] * 29 + [1], dtype="Int64"))
)
case("survival", "logrank_p one group", keywords=("two groups",))(
    lambda ctx: _lr(ctx, np.zeros(60))
)
case("survival", "logrank_p groups length 10", keywords=("groups", "10"))(
    lambda ctx: _lr(ctx, np.zeros(10))
)
case("survival", "logrank_p time NaN", keywords=("time", "nan"))(
    lambda ctx: _lr(ctx, time=_with(ctx.surv["time"], 0, np.nan))
)
case("survival", "logrank_p event 2", keywords=("event", "0/1"))(
    lambda ctx: _lr(ctx, event=_with(ctx.surv["event"], 0, 2))
)


def _km(ctx: Ctx, **kw: Any) -> Any:
    from survlib.survival import km_curve

    s = ctx.surv
    return km_curve(kw.pop("time", s["time"]), kw.pop("event", s["event"]), **kw)


for _v in (0.0, 1.5, np.nan, -0.05, 1.0):
    case("survival", f"km_curve alpha {_v}", keywords=("alpha",))(
        lambda ctx, v=_v: _km(ctx, alpha=v)
    )
case("survival", "km_curve time negative", keywords=("time", "negative"))(
    lambda ctx: _km(ctx, time=_with(ctx.surv["time"], 0, -1.0))
)
case("survival", "km_curve event -1", keywords=("event", "0/1"))(
    lambda ctx: _km(ctx, event=_with(ctx.surv["event"], 0, -1))
)
case("survival", "km_curve empty", keywords=("no samples",))(
    lambda ctx: _km(ctx, time=np.zeros(0), event=np.zeros(0))
)
case("survival", "km_curve misaligned Series", keywords=("indices",))(
    lambda ctx: _km(
        ctx, time=_shuffled_series(ctx)[1], event=_shuffled_series(ctx)[2].rename(lambda k: k + "x")
    )
)


def _ms(ctx: Ctx, risk: Any = None, **kw: Any) -> Any:
    from survlib.survival import median_split

    return median_split(ctx.surv["risk"] if risk is None else risk, **kw)


case("survival", "median_split risk NaN", keywords=("risk", "finite"))(
    lambda ctx: _ms(ctx, _with(ctx.surv["risk"], 0, np.nan))
)
case("survival", "median_split threshold NaN", keywords=("threshold",))(
    lambda ctx: _ms(ctx, threshold=np.nan)
)
case("survival", "median_split threshold 'high'", keywords=("threshold",))(
    lambda ctx: _ms(ctx, threshold="high")
)
case("survival", "median_split empty", keywords=("risk",))(lambda ctx: _ms(ctx, np.zeros(0)))


def _bins(ctx: Ctx, n_bins: int = 4, **kw: Any) -> Any:
    from survlib.survival import make_time_bins

    s = ctx.surv
    return make_time_bins(kw.get("time", s["time"]), kw.get("event", s["event"]), n_bins=n_bins)


case("survival", "make_time_bins n_bins 0", keywords=("n_bins",))(lambda ctx: _bins(ctx, 0))
case("survival", "make_time_bins n_bins 1000", keywords=("bins",))(lambda ctx: _bins(ctx, 1000))
case("survival", "make_time_bins time NaN", keywords=("time", "nan"))(
    lambda ctx: _bins(ctx, time=_with(ctx.surv["time"], 0, np.nan))
)
case("survival", "make_time_bins event 2", keywords=("event", "0/1"))(
    lambda ctx: _bins(ctx, event=_with(ctx.surv["event"], 0, 2))
)
case("survival", "TimeBins.transform NaN", keywords=("finite",))(
    lambda ctx: _bins(ctx).transform([1.0, np.nan])
)
case("survival", "TimeBins.transform before fit", exc=("RuntimeError",), keywords=("fit",))(
    lambda ctx: __import__("survlib.survival", fromlist=["TimeBins"]).TimeBins().transform([1.0])
)


def _sat(ctx: Ctx, x: Any = (0.0, 10.0, 20.0), s: Any = (1.0, 0.8, 0.4), q: Any = (5.0,)) -> Any:
    from survlib.survival import survival_at_times

    return survival_at_times(list(x), np.asarray(s, dtype=float), list(q))


case("survival", "survival_at_times rising curve", keywords=("curve_surv", "non-increasing"))(
    lambda ctx: _sat(ctx, s=(1.0, 0.4, 0.8))
)
case("survival", "survival_at_times probability 1.5", keywords=("curve_surv", "[0, 1]"))(
    lambda ctx: _sat(ctx, s=(1.5, 0.8, 0.4))
)
case("survival", "survival_at_times negative time", keywords=("times",))(
    lambda ctx: _sat(ctx, q=(-1.0,))
)
case("survival", "survival_at_times curve_times not increasing", keywords=("curve_times",))(
    lambda ctx: _sat(ctx, x=(0.0, 20.0, 10.0))
)
case("survival", "survival_at_times NaN curve", keywords=("curve_surv", "nan"))(
    lambda ctx: _sat(ctx, s=(1.0, np.nan, 0.4))
)


def _bres(ctx: Ctx, **kw: Any) -> Any:
    from survlib.survival import breslow_survival

    s = ctx.surv
    a = dict(
        train_risk=s["risk"],
        train_time=s["time"],
        train_event=s["event"],
        risk=s["risk"],
        times=s["times"],
    )
    a.update(kw)
    return breslow_survival(**a)


case("survival", "breslow_survival risk NaN", keywords=("risk", "finite"))(
    lambda ctx: _bres(ctx, risk=_with(ctx.surv["risk"], 0, np.nan))
)
case("survival", "breslow_survival train_event 2", keywords=("event", "0/1"))(
    lambda ctx: _bres(ctx, train_event=_with(ctx.surv["event"], 0, 2))
)
case("survival", "breslow_survival train_risk length 10", keywords=("train_risk",))(
    lambda ctx: _bres(ctx, train_risk=ctx.surv["risk"][:10])
)


def _uno(ctx: Ctx, risk: Any = None, time: Any = None, event: Any = None) -> Any:
    from survlib.survival import uno_concordance

    s = ctx.surv
    return uno_concordance(
        s["risk"] if risk is None else risk,
        s["time"] if time is None else time,
        s["event"] if event is None else event,
        s["time"],
        s["event"],
    )


case("survival", "uno_concordance risk NaN", keywords=("risk", "nan"))(
    lambda ctx: _uno(ctx, risk=_with(ctx.surv["risk"], 0, np.nan))
)
case(
    "survival",
    "uno_concordance risk Series in another order",
    correct=lambda c: abs(c - _REF["uno"]) < 1e-12,
)(lambda ctx: (_REF.setdefault("uno", _uno(ctx)), _uno(ctx, *_shuffled_series(ctx)))[1])
case(
    "survival",
    "validate_survival time/event Series in different orders",
    correct=lambda te: bool(np.array_equal(te[1], _REF["ev"])),
)(
    lambda ctx: (
        _REF.setdefault("ev", np.asarray(ctx.surv["event"])),
        __import__("survlib.data", fromlist=["x"]).validate_survival(
            _shuffled_series(ctx)[1],
            _shuffled_series(ctx)[2].iloc[np.random.default_rng(2).permutation(60)],
        ),
    )[1]
)
case("survival", "censorship_to_event value 2", keywords=("censorship",))(
    lambda ctx: __import__("survlib.data", fromlist=["x"]).censorship_to_event([0, 1, 2])
)

_REF: dict[str, Any] = {}

# ======================================================================= single cell


def _setup(adata: Any, **kw: Any) -> Any:
    from survlib.models.sc import ScSurvival

    ScSurvival.setup_anndata(adata, **kw)
    return adata


def _duplicate_first_name(ctx: Ctx, axis: str) -> Any:
    """``setup_anndata`` on a cohort whose second gene (``"var"``) or cell (``"obs"``) is named
    like the first."""
    a = ctx.cohort()
    names = getattr(a, f"{axis}_names").to_list()
    names[1] = names[0]
    setattr(a, f"{axis}_names", names)
    return _setup(a)


def _dup_genes(ctx: Ctx) -> Any:
    return _duplicate_first_name(ctx, "var")


def _dup_cells(ctx: Ctx) -> Any:
    return _duplicate_first_name(ctx, "obs")


def _one_patient(ctx: Ctx) -> Any:
    a = ctx.cohort()
    first = a.obs["patient_id"].iloc[0]
    b = a[a.obs["patient_id"] == first].copy()
    b.obs["event"] = 1
    if isinstance(b.obs["patient_id"].dtype, pd.CategoricalDtype):
        b.obs["patient_id"] = b.obs["patient_id"].cat.remove_unused_categories()
    return _setup(b)


def _obs_set(ctx: Ctx, key: str, value: Any, row: int = 0) -> Any:
    a = ctx.cohort()
    pid = a.obs["patient_id"].iloc[row]
    col = a.obs[key].astype(object if isinstance(value, str) else float).copy()
    col[a.obs["patient_id"] == pid] = value
    a.obs[key] = col
    return _setup(a)


case("sc", "setup_anndata duplicated gene names", keywords=("duplicated gene",))(_dup_genes)
case("sc", "setup_anndata duplicated cell names", keywords=("duplicated cell",))(_dup_cells)
case("sc", "setup_anndata a single patient", keywords=("1 patient", "at least 2"))(_one_patient)


def _low_counts(ctx: Ctx) -> Any:
    a = ctx.cohort()
    a.X = a.X.copy()
    a.X.data = np.minimum(a.X.data, 20).astype(a.X.dtype)  # integer counts, max 20 < 30
    return _setup(a, expression="log-normalized")


case("sc", "counts declared log-normalized (max < 30)", keywords=("raw counts", "log-normalized"))(
    _low_counts
)
case("sc", "counts declared log-normalized (default depth)", keywords=("raw counts",))(
    lambda ctx: _setup(ctx.cohort(), expression="log-normalized")
)


def _not_logged(ctx: Ctx) -> Any:
    import anndata

    a = ctx.cohort()
    x = np.expm1(Ctx.lognorm(a).X.toarray())
    return _setup(
        anndata.AnnData(X=x, obs=a.obs.copy(), var=a.var.copy()), expression="log-normalized"
    )


case("sc", "normalised but not log1p, declared log-normalized", keywords=("log1p",))(_not_logged)
case("sc", "log-normalised data declared counts", keywords=("raw counts",))(
    lambda ctx: _setup(Ctx.lognorm(ctx.cohort()))
)
case("sc", "expression='tpm'", keywords=("expression", "tpm"))(
    lambda ctx: _setup(ctx.cohort(), expression="tpm")
)
case("sc", "missing patient column", exc=("KeyError",), keywords=("donor",))(
    lambda ctx: _setup(ctx.cohort(), patient_key="donor")
)
case("sc", "obs time NaN", keywords=("time", "nan"))(lambda ctx: _obs_set(ctx, "time", np.nan))
case("sc", "obs time negative", keywords=("time", "negative"))(
    lambda ctx: _obs_set(ctx, "time", -4.0)
)
case("sc", "obs event 2", keywords=("event", "0/1"))(lambda ctx: _obs_set(ctx, "event", 2.0))
case("sc", "obs event 'dead'", keywords=("event", "0/1"))(
    lambda ctx: _obs_set(ctx, "event", "dead")
)


def _neg_x(ctx: Ctx) -> Any:
    a = ctx.cohort()
    a.X = a.X.copy()
    a.X.data[0] = -1.0
    return _setup(a)


def _nan_x(ctx: Ctx) -> Any:
    a = ctx.cohort()
    a.X = a.X.copy().astype(np.float32)
    a.X.data[0] = np.nan
    return _setup(a)


case("sc", "negative value in X", keywords=("negative",))(_neg_x)
case("sc", "NaN in X", keywords=("nan",))(_nan_x)


def _time_varies(ctx: Ctx) -> Any:
    a = ctx.cohort()
    t = a.obs["time"].astype(float).to_numpy().copy()
    t[0] = t[0] + 1.0
    a.obs["time"] = t
    return _setup(a)


case("sc", "time varies within a patient", keywords=("constant within a patient",))(_time_varies)


def _predict(model: Any, adata: Any) -> Any:
    return model.predict_risk(adata, write=False)


case(
    "sc",
    "predict_risk on log-normalised data, model set up on counts",
    keywords=("normalised like the training", "counts"),
)(lambda ctx: _predict(ctx.counts_model, Ctx.lognorm(ctx.counts_model.adata)))
case(
    "sc",
    "predict_risk on counts, model set up log-normalized",
    keywords=("normalised like the training", "raw counts"),
)(lambda ctx: _predict(ctx.lognorm_model, ctx.counts_model.adata.copy()))
case(
    "sc",
    "predict_risk on log1p(CPM) data, model set up on log1p(1e4)",
    keywords=("normalised like the training", "target_sum"),
)(lambda ctx: _predict(ctx.lognorm_model, Ctx.lognorm(ctx.counts_model.adata, 1e6)))


def _pred_dup_genes(ctx: Ctx) -> Any:
    a = ctx.counts_model.adata.copy()
    names = a.var_names.to_list()
    names[1] = names[0]
    a.var_names = names
    return _predict(ctx.counts_model, a)


def _pred_missing_gene(ctx: Ctx) -> Any:
    a = ctx.counts_model.adata[:, 1:].copy()
    return _predict(ctx.counts_model, a)


case("sc", "predict_risk duplicated gene names", keywords=("duplicated",))(_pred_dup_genes)
case("sc", "predict_risk a missing gene", keywords=("gene",))(_pred_missing_gene)
case("sc", "unknown preset", keywords=("preset",))(
    lambda ctx: __import__("survlib.models.sc", fromlist=["x"]).ScSurvival(
        _setup(ctx.cohort()), preset="huge"
    )
)

# ======================================================================= slides


def _grid(ctx: Ctx, path: Path | None = None, mask_kw: dict | None = None, **kw: Any) -> Any:
    from survlib import wsi

    with ctx.slide(path) as slide:
        mask = wsi.tissue_mask(slide, **(mask_kw or {})) if mask_kw is not None else None
        grid = wsi.tile_grid(slide, mask=mask, **kw)
        enc = wsi.get_encoder("handcrafted")
        feats = wsi.extract_features(slide, grid, enc, progress=False)
    out = ctx.root / "bag.h5"
    wsi.write_features(out, feats)
    return wsi.patient_bag([wsi.read_features(out)])


case(
    "wsi",
    "all-white slide -> 0-patch bag",
    exc=("SlideError", "ValueError"),
    keywords=("0 patches",),
)(lambda ctx: _grid(ctx, ctx.white_slide_path, mask_kw={}))
case(
    "wsi",
    "patch larger than the slide",
    exc=("SlideError", "ValueError"),
    keywords=("0 patches", "larger than the slide"),
)(lambda ctx: _grid(ctx, magnification=40.0, patch_size=2048))
case("wsi", "tissue threshold 2.0", keywords=("threshold",))(
    lambda ctx: _grid(ctx, mask_kw={"threshold": 2.0}, magnification=10.0)
)
case("wsi", "tissue threshold -0.5", keywords=("threshold",))(
    lambda ctx: _grid(ctx, mask_kw={"threshold": -0.5}, magnification=10.0)
)
case("wsi", "min_tissue 1.5", keywords=("min_tissue",))(
    lambda ctx: _grid(ctx, mask_kw={}, min_tissue=1.5, magnification=10.0)
)
for _v in (0.0, np.nan, -5.0, np.inf):
    case("wsi", f"magnification {_v}", keywords=("magnification",))(
        lambda ctx, v=_v: _grid(ctx, magnification=v)
    )
case("wsi", "magnification above the scan's", exc=("SlideError",), keywords=("80x",))(
    lambda ctx: _grid(ctx, magnification=80.0)
)
case("wsi", "patch_size 0", keywords=("patch_size",))(lambda ctx: _grid(ctx, patch_size=0))
case("wsi", "patch_size 2.5", keywords=("patch_size",))(lambda ctx: _grid(ctx, patch_size=2.5))
case("wsi", "overlap 1.0", keywords=("overlap",))(lambda ctx: _grid(ctx, overlap=1.0))
case("wsi", "truncated slide", exc=("SlideError",), keywords=("truncated",))(
    lambda ctx: _grid(ctx, ctx.truncated_slide_path)
)
case("wsi", "text file as a slide", exc=("SlideError",), keywords=("not a whole-slide",))(
    lambda ctx: (ctx.root.joinpath("x.svs").write_text("no"), ctx.slide(ctx.root / "x.svs"))
)
case("wsi", "missing slide", exc=("SlideError",), keywords=("not found",))(
    lambda ctx: ctx.slide(ctx.root / "nope.svs")
)
for _v in (0.0, np.nan, -20.0):
    case("wsi", f"Slide base_magnification {_v}", keywords=("base_magnification",))(
        lambda ctx, v=_v: _grid_with_base(ctx, v)
    )


def _grid_with_base(ctx: Ctx, base: float) -> Any:
    from survlib import wsi

    with ctx.slide(base_magnification=base) as slide:
        return wsi.tile_grid(slide, magnification=10.0)


def _feats_nan(ctx: Ctx, value: float) -> Any:
    f = np.ones((4, 3), np.float32)
    f[1, 2] = value
    return ctx.features(features=f)


case("wsi", "NaN features", exc=("FeatureFileError",), keywords=("nan",))(
    lambda ctx: _feats_nan(ctx, np.nan)
)
case("wsi", "infinite features", exc=("FeatureFileError",), keywords=("infinite",))(
    lambda ctx: _feats_nan(ctx, np.inf)
)
case(
    "wsi",
    "coords shape (3, 4) for 6 patches",
    exc=("FeatureFileError",),
    keywords=("coords", "(3, 4)"),
)(lambda ctx: ctx.features(features=np.ones((6, 3)), coords=np.zeros((3, 4))))
case("wsi", "coords shape (8,) for 4 patches", exc=("FeatureFileError",), keywords=("coords",))(
    lambda ctx: ctx.features(coords=np.zeros(8))
)
case("wsi", "coords shape (4, 3)", exc=("FeatureFileError",), keywords=("coords",))(
    lambda ctx: ctx.features(coords=np.zeros((4, 3)))
)
case("wsi", "coords NaN", exc=("FeatureFileError",), keywords=("coords",))(
    lambda ctx: ctx.features(coords=np.full((4, 2), np.nan))
)
case("wsi", "features and coords lengths differ", exc=("FeatureFileError",), keywords=("coords",))(
    lambda ctx: ctx.features(coords=np.zeros((5, 2)))
)
case("wsi", "0-patch SlideFeatures", exc=("FeatureFileError",), keywords=("0 patches",))(
    lambda ctx: ctx.features(features=np.zeros((0, 3)), coords=np.zeros((0, 2)))
)
case("wsi", "feature_names of the wrong length", exc=("FeatureFileError",), keywords=("names",))(
    lambda ctx: ctx.features(feature_names=("a", "b"))
)
case("wsi", "features 1-D", exc=("FeatureFileError",), keywords=("features",))(
    lambda ctx: ctx.features(features=np.ones(4))
)


def _read(path: Path, **kw: Any) -> Any:
    from survlib import wsi

    f = wsi.read_features(path, **kw)
    return float(np.asarray(f.features).sum())


case("wsi", "corrupt HDF5 chunk", exc=("FeatureFileError",), keywords=("corrupt.h5",))(
    lambda ctx: _read(ctx.corrupt_feature_file)
)
case("wsi", "feature file missing", exc=("FeatureFileError",), keywords=("not found",))(
    lambda ctx: _read(ctx.root / "none.h5")
)
case("wsi", "feature file not HDF5", exc=("FeatureFileError",), keywords=("notes.h5",))(
    lambda ctx: (ctx.root.joinpath("notes.h5").write_text("hello"), _read(ctx.root / "notes.h5"))
)
case(
    "wsi",
    "feature file with conflicting metadata",
    exc=("FeatureFileError",),
    keywords=("magnification",),
)(lambda ctx: _read(ctx.feature_file, magnification=40.0))
case("wsi", "patient_bag no slides", keywords=("no slides",))(
    lambda ctx: __import__("survlib.wsi", fromlist=["x"]).patient_bag([])
)
case("wsi", "patient_bag mixed magnifications", keywords=("magnification",))(
    lambda ctx: __import__("survlib.wsi", fromlist=["x"]).patient_bag(
        [ctx.features(), ctx.features(slide_id="s2", magnification=10.0)]
    )
)
case("wsi", "unknown encoder", keywords=("encoder", "foo"))(
    lambda ctx: __import__("survlib.wsi", fromlist=["x"]).get_encoder("foo")
)

# ======================================================================= clinical prompts


def _prompt(values: list[Any], field: str = "age", dtype: Any = None) -> Any:
    from survlib.text import clinical_prompts

    col = pd.Series(values, dtype=dtype) if dtype is not None else pd.Series(values, dtype=object)
    df = pd.DataFrame({field: col})
    return clinical_prompts(df, fields=[field])[field].tolist()


def _reads_missing(label: str) -> Callable[[Any], bool]:
    return lambda out: (
        out[1] == f"The {label} is not reported."
        and all("nan" not in s.lower() and "<na>" not in s.lower() for s in out)
    )


for _v in (-5, -0.5, "-3", 200, 131.0, np.inf, -np.inf):
    case("text", f"age {_v!r}", keywords=("age", "years"))(lambda ctx, v=_v: _prompt([56, v]))
for _v in ("abc", "fifty", True, [1]):
    case("text", f"age {_v!r}", keywords=("age",))(lambda ctx, v=_v: _prompt([56, v]))
case("text", "Int64 age with pd.NA", correct=_reads_missing("age"))(
    lambda ctx: _prompt([56, pd.NA], dtype="Int64")
)
case("text", "Float64 age with pd.NA", correct=_reads_missing("age"))(
    lambda ctx: _prompt([56.0, pd.NA], dtype="Float64")
)
case("text", "age pd.NaT", correct=_reads_missing("age"))(lambda ctx: _prompt([56, pd.NaT]))
case("text", "age string '<NA>'", correct=_reads_missing("age"))(lambda ctx: _prompt([56, "<NA>"]))
for _v in (pd.NA, "<NA>", "nan", "NaN", None, "null", np.nan):
    case("text", f"sex {_v!r}", correct=_reads_missing("sex"))(
        lambda ctx, v=_v: _prompt(["female", v], field="sex")
    )
case("text", "sex string dtype with pd.NA", correct=_reads_missing("sex"))(
    lambda ctx: _prompt(["female", pd.NA], field="sex", dtype="string")
)
case("text", "race 'nan' string", correct=_reads_missing("race"))(
    lambda ctx: _prompt(["white", "nan"], field="race")
)
case("text", "size -2 cm", keywords=("size", "cm"))(lambda ctx: _prompt([2.0, -2.0], field="size"))
case("text", "size 'big'", keywords=("size",))(lambda ctx: _prompt([2.0, "big"], field="size"))


def _prompts_kw(**kw: Any) -> Any:
    from survlib.text import clinical_prompts

    return clinical_prompts(pd.DataFrame({"age": [50, 60]}), **kw)


case("text", "n_templates 0", keywords=("n_templates",))(lambda ctx: _prompts_kw(n_templates=0))
case("text", "n_templates 99", keywords=("n_templates", "99"))(
    lambda ctx: _prompts_kw(n_templates=99)
)
case("text", "field not a column", exc=("KeyError",), keywords=("grade_x",))(
    lambda ctx: _prompts_kw(fields=["grade_x"])
)
case("text", "no default field in the table", exc=("KeyError",), keywords=("default fields",))(
    lambda ctx: __import__("survlib.text", fromlist=["x"]).clinical_prompts(
        pd.DataFrame({"x": [1]})
    )
)

# ======================================================================= CLI


def _cli_case(name: str, keywords: tuple[str, ...]):
    return case("cli", name, exc=("CLI",), keywords=keywords)


_cli_case("run -o is a directory", ("directory",))(
    lambda ctx: ctx.cli("run", str(ctx.probe), "-q", "-o", str(ctx.root))
)
_cli_case("run -o under a regular file (unwritable)", ("cannot write",))(
    lambda ctx: ctx.cli("run", str(ctx.probe), "-q", "-o", str(ctx.a_file / "out.ipynb"))
)
_cli_case("run -o not .ipynb", (".ipynb",))(
    lambda ctx: ctx.cli("run", str(ctx.probe), "-q", "-o", str(ctx.root / "out.txt"))
)
for _v in ("nan", "inf", "1e999", "NaN"):
    _cli_case(f"run -p rate {_v}", ("rate", "finite"))(
        lambda ctx, v=_v: ctx.cli(
            "run", str(ctx.probe), "-q", "-p", "rate", v, "-o", str(ctx.root / "o.ipynb")
        )
    )
_cli_case("run -p n 1.5 (integer expected)", ("n", "integer"))(
    lambda ctx: ctx.cli(
        "run", str(ctx.probe), "-q", "-p", "n", "1.5", "-o", str(ctx.root / "o.ipynb")
    )
)
_cli_case("run -p unknown name", ("unknown parameter",))(
    lambda ctx: ctx.cli(
        "run", str(ctx.probe), "-q", "-p", "nope", "1", "-o", str(ctx.root / "o.ipynb")
    )
)
_cli_case("run a notebook that does not exist", ("no notebook",))(
    lambda ctx: ctx.cli("run", "zz_missing", "-q")
)
_cli_case("run a notebook without a parameters cell", ("97_noparams", "parameters cell"))(
    lambda ctx: ctx.cli("run", str(ctx.no_params_probe), "-q", "-o", str(ctx.root / "o.ipynb"))
)
_cli_case("run --all with -o", ("--output",))(
    lambda ctx: ctx.cli("run", "--all", "-o", str(ctx.root / "o.ipynb"))
)
_cli_case("run without a notebook", ("name a notebook",))(lambda ctx: ctx.cli("run"))
_cli_case("params on a notebook without a parameters cell", ("parameters cell",))(
    lambda ctx: ctx.cli("params", str(ctx.no_params_probe))
)
_cli_case("params on an unknown notebook", ("no notebook",))(lambda ctx: ctx.cli("params", "zz"))
_cli_case("params with a non-literal parameter", ("not a literal",))(
    lambda ctx: ctx.cli(
        "params", str(_write(ctx, "96_nonlit.py", ctx.PROBE.replace("n = 3", "n = len('abc')")))
    )
)
_cli_case("params with a list parameter", ("scalar",))(
    lambda ctx: ctx.cli(
        "params", str(_write(ctx, "95_list.py", ctx.PROBE.replace("n = 3", "n = [1, 2]")))
    )
)
_cli_case("report on malformed headlines.json", ("01_x.headlines.json",))(
    lambda ctx: ctx.cli("report", env={"SURVLIB_REPO": str(ctx.fake_repo("{not json"))})
)
_cli_case("report on a headlines.json that is a list", ("01_x.headlines.json",))(
    lambda ctx: ctx.cli("report", env={"SURVLIB_REPO": str(ctx.fake_repo("[1, 2]"))})
)
_cli_case("report with run.seconds a string", ("seconds",))(
    lambda ctx: ctx.cli(
        "report",
        env={
            "SURVLIB_REPO": str(
                ctx.fake_repo(json.dumps({"run": {"seconds": "fast"}, "values": {}}))
            )
        },
    )
)
_cli_case("report on an empty headlines.json", ("01_x.headlines.json",))(
    lambda ctx: ctx.cli("report", env={"SURVLIB_REPO": str(ctx.fake_repo(""))})
)
_cli_case("fetch with SURVLIB_DATA_DIR under a regular file", ("survlib_data_dir",))(
    lambda ctx: ctx.cli(
        "fetch",
        "tiny",
        "--manifest",
        str(ctx.manifest),
        env={"SURVLIB_DATA_DIR": str(ctx.a_file / "cache")},
    )
)
_cli_case("fetch with a missing --manifest", ("nope.yaml",))(
    lambda ctx: ctx.cli("fetch", "tiny", "--manifest", str(ctx.root / "nope.yaml"))
)
_cli_case("fetch (list) with a missing --manifest", ("nope.yaml",))(
    lambda ctx: ctx.cli("fetch", "--manifest", str(ctx.root / "nope.yaml"))
)
_cli_case("fetch an unknown entry", ("zzz",))(
    lambda ctx: ctx.cli("fetch", "zzz", "--manifest", str(ctx.manifest))
)
_cli_case("fetch with a malformed manifest", ("bad.yaml",))(
    lambda ctx: ctx.cli("fetch", "tiny", "--manifest", str(_write(ctx, "bad.yaml", "a: [1,")))
)
_cli_case("fetch with a manifest that is a directory", ("manifest",))(
    lambda ctx: ctx.cli("fetch", "tiny", "--manifest", str(ctx.root))
)


def _write(ctx: Ctx, name: str, text: str) -> Path:
    path = ctx.root / name
    path.write_text(text)
    return path


# ======================================================================= classification

VERDICTS = ("silently accepted", "unclear", "traceback", "clear error", "handled correctly")


def _safe_repr(x: Any) -> str:
    try:
        return repr(x)[:160]
    except Exception as err:  # noqa: BLE001 - a broken object's repr is itself a finding
        return f"<{type(x).__name__} whose repr fails: {type(err).__name__}>"


def classify(c: Case, ctx: Ctx) -> dict[str, Any]:
    """Run one case and say how survlib answered it."""
    import traceback
    import warnings

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        try:
            result = c.run(ctx)
        except Exception as err:  # noqa: BLE001 - classifying every outcome is the point
            msg = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
            names = [k.__name__ for k in type(err).__mro__]
            frames = traceback.extract_tb(err.__traceback__)
            last = frames[-1].filename if frames else ""
            from_survlib = "survlib" in last and "site-packages" not in last
            named = all(k in msg.lower() for k in c.keywords)
            if named and any(e in names for e in c.exc):
                verdict = "clear error"
            elif from_survlib:
                verdict = "unclear"
            else:
                verdict = "traceback"
            return {
                "id": c.id,
                "cls": c.cls,
                "verdict": verdict,
                "type": type(err).__name__,
                "message": msg.splitlines()[0][:160] if msg else "",
            }
    if isinstance(result, CliResult):
        err = result.stderr.strip()
        lines = [ln for ln in err.splitlines() if ln.strip()]
        if "Traceback (most recent call last)" in err:
            verdict = "traceback"
        elif result.rc == 0:
            verdict = "silently accepted"
        elif result.rc == 2 and all(k in err.lower() for k in c.keywords):
            verdict = "clear error"
        else:
            verdict = "unclear"
        shown = next((ln for ln in lines if ln.startswith("error:")), lines[-1] if lines else "")
        return {
            "id": c.id,
            "cls": c.cls,
            "verdict": verdict,
            "type": f"exit {result.rc}",
            "message": shown[:160],
        }
    if c.correct is not None:
        try:
            ok = bool(c.correct(result))
        except Exception:  # noqa: BLE001
            ok = False
        return {
            "id": c.id,
            "cls": c.cls,
            "verdict": "handled correctly" if ok else "silently accepted",
            "type": "returned",
            "message": _safe_repr(result),
        }
    return {
        "id": c.id,
        "cls": c.cls,
        "verdict": "silently accepted",
        "type": "returned",
        "message": _safe_repr(result),
    }


def assert_handled(c: Case, ctx: Ctx) -> None:
    """The test behind every ``tests/test_bad_input_*.py`` case: a clear error of an expected
    type whose message names the problem (every keyword), or the defined correct result; for
    the CLI, exit code 2, one ``error:`` line naming the problem and no traceback."""
    import pytest

    if c.cls == "cli":
        res = c.run(ctx)
        assert "Traceback" not in res.stderr, res.stderr
        assert res.rc == 2, (res.rc, res.stderr)
        assert res.stderr.startswith("error:") or "error:" in res.stderr, res.stderr
        for k in c.keywords:
            assert k in res.stderr.lower(), (k, res.stderr)
        return
    if c.correct is not None:
        assert c.correct(c.run(ctx))
        return
    with pytest.raises(Exception) as info:
        c.run(ctx)
    err = info.value
    names = [k.__name__ for k in type(err).__mro__]
    assert any(e in names for e in c.exc), f"{type(err).__name__} not one of {c.exc}: {err}"
    msg = (str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)).lower()
    missing = [k for k in c.keywords if k not in msg]
    assert not missing, f"message lacks {missing}: {msg}"


def cases_of(cls: str) -> list[Case]:
    return [c for c in CASES if c.cls == cls]


# ======================================================================= multimodal features


def _mm(ctx: Ctx, expression: Any = None, bags: Any = None) -> Any:
    from survlib.data.multimodal import MultimodalCohort

    n = 6
    ids = [f"p{i}" for i in range(n)]
    clinical = pd.DataFrame({"time": np.arange(1.0, n + 1), "event": [1, 0] * 3}, index=ids)
    expr = pd.DataFrame(np.ones((n, 4)), index=ids, columns=list("abcd"))
    if expression is not None:
        expr = expression(expr)
    bag_list = [np.ones((3, 5), np.float32) for _ in range(n)]
    if bags is not None:
        bag_list = bags(bag_list)
    return MultimodalCohort(clinical=clinical, expression=expr, bags=bag_list)


def _set(frame: pd.DataFrame, value: Any) -> pd.DataFrame:
    frame = frame.astype(object if isinstance(value, str) else float)
    frame.iloc[2, 1] = value
    return frame


def _bag(bags: list, i: int, new: Any) -> list:
    bags = list(bags)
    bags[i] = new
    return bags


for _v in (np.nan, np.inf, "high"):
    case("features", f"cohort expression {_v!r}", keywords=("expression",))(
        lambda ctx, v=_v: _mm(ctx, expression=lambda e, v=v: _set(e, v))
    )
case("features", "cohort patch bag with NaN", keywords=("bags[1]", "nan"))(
    lambda ctx: _mm(ctx, bags=lambda b: _bag(b, 1, np.array([[np.nan] * 5] * 3)))
)
case("features", "cohort patch bag with inf", keywords=("bags[2]", "infinite"))(
    lambda ctx: _mm(ctx, bags=lambda b: _bag(b, 2, np.full((3, 5), np.inf)))
)
case("features", "cohort patch bag 1-D", keywords=("bags[0]", "2-d"))(
    lambda ctx: _mm(ctx, bags=lambda b: _bag(b, 0, np.ones(5)))
)
case("features", "cohort patch bags of different widths", keywords=("bags[3]", "shape"))(
    lambda ctx: _mm(ctx, bags=lambda b: _bag(b, 3, np.ones((3, 7))))
)
case("features", "cohort empty patch bag", keywords=("no patches",))(
    lambda ctx: _mm(ctx, bags=lambda b: _bag(b, 4, np.ones((0, 5))))
)
case("features", "cohort expression 3 rows for 6 patients", keywords=("expression",))(
    lambda ctx: _mm(ctx, expression=lambda e: e.iloc[:3])
)
