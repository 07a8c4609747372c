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
