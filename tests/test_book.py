"""The glue helper: values reach myst-nb and the headline JSON, as plain Python scalars."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survlib import book


def test_glue_records_scalars_as_python_values(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "headlines.json"
    monkeypatch.setenv(book.HEADLINES_ENV, str(path))
    monkeypatch.setattr(book, "_headlines", {})
    assert book.glue("c_index", np.float64(0.71)) is None
    book.glue("n_patients", np.int64(686))
    book.glue("table", pd.DataFrame({"a": [1]}))  # not a scalar: glued, not recorded
    values = json.loads(path.read_text())
    assert values == {"c_index": 0.71, "n_patients": 686}
    assert isinstance(values["n_patients"], int)


def test_glue_rejects_names_markdown_cannot_reference() -> None:
    with pytest.raises(ValueError, match="letters, digits and underscores"):
        book.glue("c-index", 0.5)


def test_schedule_table_reads_the_profiles(monkeypatch) -> None:
    """Each profile column is the notebook's default overridden by that profile's YAML."""

    import yaml

    from survlib.book import schedule_table
    from survlib.runner import notebook_parameters

    root = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("SURVLIB_REPO", str(root))
    defaults = notebook_parameters(root / "notebooks" / "05_survpgc.py")
    paper = yaml.safe_load((root / "notebooks" / "params" / "paper.yaml").read_text())["05_survpgc"]
    book = (
        yaml.safe_load((root / "notebooks" / "params" / "book.yaml").read_text())["05_survpgc"]
        or {}
    )
    t = schedule_table(
        "05_survpgc",
        {"folds": "n_folds", "epochs / patience": ("max_epochs", "patience")},
        paper={"folds": "5-fold CV"},
        this_run={"n_folds": 7, "max_epochs": 1, "patience": 2},
    )
    assert list(t.index) == ["folds", "epochs / patience"]
    assert t.loc["folds", "paper's protocol"] == "5-fold CV"
    assert t.loc["epochs / patience", "paper's protocol"] == "not stated"
    assert t.loc["folds", "`paper` profile"] == str(paper.get("n_folds", defaults["n_folds"]))
    assert t.loc["folds", "`book` profile"] == str(book.get("n_folds", defaults["n_folds"]))
    assert t.loc["epochs / patience", "this run"] == "1 / 2"


def _summary() -> pd.DataFrame:
    from survlib.train import summarize, tidy_results

    rows = [
        {"model": m, "fold": f, "seed": 0, "metric": k, "value": v}
        for m, base in (("A", 0.6), ("B (x)", 0.7))
        for f in (0, 1)
        for k, v in (("C-index", base + 0.02 * f), ("iAUC", base - 0.1))
    ]
    return summarize(tidy_results(rows))


def test_summary_lookups_and_table() -> None:
    s = _summary()
    assert book.summary_mean(s, "A") == pytest.approx(0.61)
    assert book.summary_mean(s, "B (x)", "iAUC") == pytest.approx(0.6)
    assert (
        book.summary_cell(s, "A")
        == s.loc[(s.model == "A") & (s.metric == "C-index"), "mean ± sd"].iloc[0]
    )
    assert book.summary_cell(s, "nobody") == "—"
    assert book.summary_cell(s, "nobody", missing="n/a") == "n/a"
    t = book.summary_table(s, ["B (x)", "missing", "A"], ["iAUC", "C-index"])
    assert list(t.index) == ["B (x)", "A"] and list(t.columns) == ["iAUC", "C-index"]
    assert t.loc["A", "C-index"] == book.summary_cell(s, "A")


def test_beside_paper_appends_the_papers_columns() -> None:
    ours = book.summary_table(_summary(), ["A", "B (x)"], ["C-index"])
    out = book.beside_paper(
        ours, {"A": ("0.5 ± 0.1", "0.6 ± 0.1"), "Z": ("1", "2")}, ("LIHC", "BRCA"), kind="real"
    )
    assert list(out.columns) == ["C-index (ours, real)", "paper, real LIHC", "paper, real BRCA"]
    assert list(out.index) == ["A", "B (x)"]  # ours decides the rows
    assert out.loc["A", "paper, real BRCA"] == "0.6 ± 0.1"
    assert pd.isna(out.loc["B (x)", "paper, real LIHC"])


def test_glue_key_of_a_model_name() -> None:
    assert book.glue_key("SurvPGC (approach a)") == "survpgc_approach_a"
    assert book.glue_key("MLP (clinic covariates)") == "mlp_clinic_covariates"
