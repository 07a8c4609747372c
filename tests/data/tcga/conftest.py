"""Fixtures of the tcga tests: small files in exactly the authors' formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.data.tcga._files import CLIN_HEADER, META_HEADER, PROMPT_HEADER, _meta_row


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Six patients; P1 has two slides; P6 has no clinical row; P5 has no RNA row."""
    meta = [META_HEADER]
    rows = [
        ("P1", 58, 23.8, 0, 0),
        ("P2", 51, 53.4, 0, 0),
        ("P3", 55, 63.7, 1, 1),
        ("P4", 70, 10.0, 1, 0),
        ("P5", 44, 5.5, 0, 1),
        ("P6", 66, 40.0, 1, 0),
    ]
    i = 0
    for case, age, months, cens, female in rows:
        meta.append(_meta_row(i, case, f"{case}-01Z-00-DX1.AAA.svs", age, months, cens, female))
        i += 1
    meta.append(_meta_row(i, "P1", "P1-01Z-00-DX2.BBB.svs", 58, 23.8, 0, 0))
    paths = {"metadata": tmp_path / "tcga_x.csv"}
    paths["metadata"].write_text("\n".join(meta) + "\n")
    paths["clinical"] = tmp_path / "tcga_x_clinical.csv"
    paths["clinical"].write_text(
        CLIN_HEADER + "\n0,P1,IV,N/A,LIHC\n1,P2,IIIA,N/A,LIHC\n"
        "2,P3,,N/A,LIHC\n3,P4,I,G2,LIHC\n4,P5,II,N/A,LIHC\n"
        "5,P4,I,G2,OTHER\n"
    )
    genes = ["FMO2", "APIP", "PLCE1", "SPCS2"]
    rna = pd.DataFrame(
        np.arange(20, dtype=float).reshape(5, 4),
        columns=genes,
        index=["P1", "P2", "P3", "P4", "P6"],
    )
    paths["rna"] = tmp_path / "rna_clean.csv"
    rna.to_csv(paths["rna"])
    paths["signatures"] = tmp_path / "signatures.csv"
    paths["signatures"].write_text("PW_A,PW_B\nFMO2,APIP\nPLCE1,NOTAGENE\n,FMO2\n")
    paths["prompts"] = tmp_path / "prompts.csv"
    paths["prompts"].write_text(
        PROMPT_HEADER
        + "\n"
        + "\n".join(
            f"{p},a photograph showing Hepatocellular carcinoma.,The age is {a} years old.,"
            f"This is a male.,The patient has been diagnosed with a Stage I tumor.,"
            f"This diagnosis relies on the 7th edition of the criteria.,The person is white."
            for p, a in (("P1", 58), ("P2", 51), ("P3", 55), ("P4", 70), ("P5", 44), ("P6", 66))
        )
        + "\n",
        encoding="cp1252",
    )
    return paths
