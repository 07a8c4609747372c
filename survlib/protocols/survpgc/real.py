"""Chapter 5 on real patients: the authors' TCGA tables, prompts and splits (Tables 1 and 5,
honest and test-selected epochs of the same run, bootstrap CIs, the exact published protocol)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from survlib import survival as sv
from survlib.data import tcga
from survlib.data.multimodal import MultimodalCohort, clinical_design_matrix
from survlib.models import discrete_cv_fold
from survlib.protocols.survpgc.recipe import Recipe, build_model
from survlib.text import book_prompts, encode_prompts
from survlib.train import Split, seed_everything, summarize, tidy_results

__all__ = ["REAL_KEYS", "RealRuns", "load_real_cohorts"]


#: Headline keys of the real-TCGA rows: key -> (model, prompts) of :attr:`RealRuns.rows`.
REAL_KEYS: dict[str, tuple[str, str]] = {
    "c_cox": ("Cox (clinic)", ""),
    "c_mlp_authors": ("MLP (clinic)", "authors'"),
    "c_snn_authors": ("SNN (clinic)", "authors'"),
    "c_mlp_book": ("MLP (clinic)", "book templates"),
    "c_mlp_genomic": ("MLP (genomic)", "(RNA)"),
    "c_snn_genomic": ("SNN (genomic)", "(RNA)"),
}


def load_real_cohorts(
    cohorts: Sequence[str], val_fraction: float, seed: int
) -> tuple[dict[str, dict[str, Any]], pd.DataFrame]:
    """Each real cohort (one row per patient, ``N_t = 1`` prompts) with its honest splits, and
    its genomic cohort and splits where it has RNA; and a table describing them (sizes, the
    released split files' ``val == test``, patients in no test fold, who was dropped)."""
    info: dict[str, dict[str, Any]] = {}
    rows = []
    for c in cohorts:
        real_c = tcga.load_cohort(c, n_templates=1, rna=False)
        honest = tcga.load_splits(real_c, protocol="honest", val_fraction=val_fraction, seed=seed)
        split_table = tcga.describe_splits(tcga.split_files(c))
        row = real_c.summary().drop(columns=["genes", "pathways"])
        row["val == test in all split files"] = bool(split_table["val == test"].all())
        row["patients in no test fold"] = len(real_c) - len(
            set(np.concatenate([s.test for s in honest]))
        )
        info[c] = {"cohort": real_c, "honest": honest}
        if c in tcga.RNA_COHORTS:
            real_g = tcga.load_cohort(c, n_templates=None, rna=True)
            info[c].update(
                genomic=real_g,
                honest_g=tcga.load_splits(
                    real_g, protocol="honest", val_fraction=val_fraction, seed=seed
                ),
            )
            row["with RNA"] = len(real_g)
            row["pathways"] = real_g.pathways.n_pathways
            drops = real_g.attrs["dropped"]
        else:
            drops = real_c.attrs["dropped"]
        row["dropped (no RNA)"] = int((drops["reason"] == "no rna row").sum())
        rows.append(row.rename(index=lambda i: f"{i} (real)"))
    return info, pd.concat(rows).T if rows else pd.DataFrame()


def _real_cox_fold(
    cohort: MultimodalCohort, store: dict, penalizer: float = 0.1
) -> Callable[[Split, int], dict[str, float]]:
    """run_fold of a lifelines Cox model on the clinical covariates (no epochs to select)."""
    from lifelines import CoxPHFitter

    x_all = clinical_design_matrix(cohort.clinical)
    t_all, e_all = cohort.time, cohort.event

    def run(split: Split, run_seed: int) -> dict[str, float]:
        tr = np.concatenate([split.train, split.val])
        sd = x_all.iloc[tr].std()
        cols = sd.index[sd > 0]  # a category absent from the training fold is dropped
        x = (x_all[cols] - x_all[cols].iloc[tr].mean()) / sd[cols]
        cph = CoxPHFitter(penalizer=penalizer).fit(
            x.iloc[tr].assign(time=t_all[tr], event=e_all[tr]), "time", "event"
        )
        risk = cph.predict_log_partial_hazard(x.iloc[split.test]).to_numpy()
        store[(run_seed, split.fold)] = {"test": split.test, "risk": risk}
        c = sv.concordance(risk, t_all[split.test], e_all[split.test])
        return {"C-index": c, "C-index (test-selected)": c, "optimism": 0.0}

    return run


@dataclass
class RealRuns:
    """The real-TCGA section: its schedule, and the rows of its tables as they are computed.

    Attributes:
        recipe: the recipe with the authors' fixed schedule in ``fit``.
        min_epoch: the first selectable epoch of the test-selected reading.
        n_folds: how many of the authors' five folds are used.
        n_boot: bootstrap replicates of each honest C-index's 95 % CI.
        seed: seeds every fold (one seed), the CIs and the book's templates.
        paper: ``(model, cohort) -> the paper's C-index text`` (``""`` where it has none).
        rows: Table 1's rows (:meth:`record` appends), one dict per cohort, model and prompts.
    """

    recipe: Recipe
    min_epoch: int
    n_folds: int
    n_boot: int
    seed: int
    paper: Callable[[str, str], str] = lambda model, cohort: ""
    rows: list[dict[str, Any]] = field(default_factory=list)

    def run_on_splits(
        self, run_fold: Callable, splits: Sequence[Split], model: str
    ) -> pd.DataFrame:
        """run_fold on the first ``n_folds`` of ``splits`` (one seed), as tidy rows."""
        rows = []
        for split in list(splits)[: self.n_folds]:
            seed_everything(self.seed)
            rows += [
                {"model": model, "fold": split.fold, "seed": self.seed, "metric": k, "value": v}
                for k, v in run_fold(split, self.seed).items()
            ]
        return tidy_results(rows)

    def record(
        self,
        cohort_name: str,
        cohort: MultimodalCohort,
        model: str,
        frame: pd.DataFrame,
        store: dict,
        prompts_from: str = "",
        rows: list[dict[str, Any]] | None = None,
    ) -> None:
        """Append one row: honest mean ± sd with its bootstrap CI, test-selected, the paper's."""
        s = summarize(frame).set_index("metric")
        folds = [
            (v["risk"], cohort.time[v["test"]], cohort.event[v["test"]]) for v in store.values()
        ]
        ci = sv.bootstrap_cindex(folds, n_boot=self.n_boot, seed=self.seed)
        (self.rows if rows is None else rows).append(
            {
                "cohort": f"TCGA-{cohort_name.upper()}",
                "model": model,
                "prompts": prompts_from,
                "C-index (honest)": s.loc["C-index", "mean ± sd"],
                "95% CI": f"[{ci['CI low']:.3f}, {ci['CI high']:.3f}]",
                "C-index (test-selected)": s.loc["C-index (test-selected)", "mean ± sd"],
                "optimism (points)": round(100 * s.loc["optimism", "mean"], 1),
                "paper": self.paper(model, cohort_name),
                "mean": s.loc["C-index", "mean"],
                "sd": s.loc["C-index", "sd"],
                "low": ci["CI low"],
                "high": ci["CI high"],
                "test-selected": s.loc["C-index (test-selected)", "mean"],
            }
        )

    def tracked(
        self,
        name: str,
        cohort: MultimodalCohort,
        tokens: np.ndarray | None,
        splits: Sequence[Split],
    ) -> tuple[pd.DataFrame, dict]:
        """One tracked run per fold: the honest and the test-selected epoch of the same
        training. Returns the tidy rows and the per-fold test predictions."""
        store: dict = {}
        run = discrete_cv_fold(
            partial(build_model, name, width=self.recipe.width),
            cohort,
            clinical_tokens=tokens,
            n_bins=self.recipe.n_bins,
            store=store,
            protocol="both",
            protocol_min_epoch=self.min_epoch,
            **self.recipe.fit,
        )
        return self.run_on_splits(run, splits, name), store

    def table1(
        self, cohorts: Sequence[str], info: Mapping[str, dict], encoder: Any
    ) -> list[dict[str, Any]]:
        """Table 1's clinical and genomic rows on each real cohort (appended to :attr:`rows`):
        the Cox model on the covariates, MLP and SNN on the authors' and on the book's
        prompts, MLP and SNN on the RNA where the cohort has it. Returns the runs that Table 5
        reuses (``N_t = 1``: the MLP on the authors' prompts)."""
        t5_runs: list[dict[str, Any]] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # IPCW notes (see Chapter 1)
            for c in cohorts:
                real_c, honest = info[c]["cohort"], info[c]["honest"]
                cox_store: dict = {}
                frame = self.run_on_splits(
                    _real_cox_fold(tcga.clinical_covariates(real_c), cox_store),
                    honest,
                    "Cox (clinic)",
                )
                self.record(c, real_c, "Cox (clinic)", frame, cox_store)
                tok_authors = encode_prompts(real_c.clinical[tcga.prompt_fields(real_c)], encoder)
                tok_book = encode_prompts(
                    book_prompts(real_c, n_templates=1, seed=self.seed), encoder
                )
                for source, toks in (("authors'", tok_authors), ("book templates", tok_book)):
                    for name in ("MLP (clinic)", "SNN (clinic)"):
                        frame, store = self.tracked(name, real_c, toks, honest)
                        self.record(c, real_c, name, frame, store, source)
                        if source == "authors'" and name == "MLP (clinic)":
                            t5_runs.append({"cohort": c, "N_t": 1, "frame": frame, "store": store})
                if "genomic" in info[c]:
                    real_g, honest_g = info[c]["genomic"], info[c]["honest_g"]
                    for name in ("MLP (genomic)", "SNN (genomic)"):
                        frame, store = self.tracked(name, real_g, None, honest_g)
                        self.record(c, real_g, name, frame, store, "(RNA)")
        return t5_runs

    def table5(
        self,
        cohorts: Sequence[str],
        info: Mapping[str, dict],
        counts: Sequence[int],
        t5_runs: list[dict[str, Any]],
        encoder: Any,
        paper: Callable[[int, str], str],
    ) -> list[dict[str, Any]]:
        """Table 5 on real patients: the MLP on the authors' prompts from ``N_t`` templates per
        field, for each ``N_t`` of ``counts`` (``N_t = 1`` reused from ``t5_runs``, which is
        extended). Returns the rows, ``paper(N_t, cohort)`` as their paper column."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            for c in cohorts:
                honest = info[c]["honest"]
                for n_t in counts:
                    if n_t == 1 and any(r["cohort"] == c and r["N_t"] == 1 for r in t5_runs):
                        continue  # the Table 1 run
                    cohort_nt = tcga.load_cohort(c, n_templates=n_t, rna=False)
                    if list(cohort_nt.clinical.index) != list(info[c]["cohort"].clinical.index):
                        raise RuntimeError(
                            f"TCGA-{c.upper()}: the N_t = {n_t} prompts cover "
                            f"other patients than N_t = 1"
                        )
                    toks = encode_prompts(
                        cohort_nt.clinical[tcga.prompt_fields(cohort_nt)], encoder
                    )
                    frame, store = self.tracked("MLP (clinic)", cohort_nt, toks, honest)
                    t5_runs.append({"cohort": c, "N_t": n_t, "frame": frame, "store": store})
        records: list[dict[str, Any]] = []
        for r in sorted(t5_runs, key=lambda r: (list(cohorts).index(r["cohort"]), r["N_t"])):
            self.record(
                r["cohort"],
                info[r["cohort"]]["cohort"],
                f"N_t = {r['N_t']}",
                r["frame"],
                r["store"],
                rows=records,
            )
            records[-1]["paper"] = paper(r["N_t"], r["cohort"])
        return records

    def published(
        self,
        cohorts: Sequence[str],
        info: Mapping[str, dict],
        encoder: Any,
        model: str = "MLP (clinic)",
    ) -> list[dict[str, Any]]:
        """The exact published protocol for ``model`` on the authors' prompts: trained on the
        whole training column, the epoch selected on the test fold
        (``tcga.load_splits(..., protocol="published")``), beside the honest row of
        :attr:`rows`. One row per cohort (``"published mean"``: the number)."""
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            for c in cohorts:
                real_c = info[c]["cohort"]
                published = tcga.load_splits(real_c, protocol="published")
                toks = encode_prompts(real_c.clinical[tcga.prompt_fields(real_c)], encoder)
                store: dict = {}
                run = discrete_cv_fold(
                    partial(build_model, model, width=self.recipe.width),
                    real_c,
                    clinical_tokens=toks,
                    n_bins=self.recipe.n_bins,
                    store=store,
                    **{**self.recipe.fit, "min_epoch": self.min_epoch},
                )
                s = summarize(self.run_on_splits(run, published, model)).set_index("metric")
                honest_row = next(
                    r
                    for r in self.rows
                    if r["cohort"] == f"TCGA-{c.upper()}"
                    and r["model"] == model
                    and r["prompts"] == "authors'"
                )
                out.append(
                    {
                        "cohort": f"TCGA-{c.upper()}",
                        "honest": honest_row["C-index (honest)"],
                        "published (exact)": s.loc["C-index", "mean ± sd"],
                        "optimism (points)": round(
                            100 * (s.loc["C-index", "mean"] - honest_row["mean"]), 1
                        ),
                        "paper": self.paper(model, c),
                        "published mean": s.loc["C-index", "mean"],
                    }
                )
        return out
