"""Clinical prompts: one sentence per patient and clinical field, from the templates.

:func:`clinical_prompts` turns a clinical table into sentences (:func:`render_value` says how a
value reads, the missing-value rule included); :func:`book_prompts` applies the book's templates
to the recorded fields of a real TCGA cohort (:func:`survlib.data.tcga.load_cohort`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from survlib.text.templates import FIELD_LABELS, TEMPLATES

if TYPE_CHECKING:  # pragma: no cover - typing only
    from survlib.data.multimodal import MultimodalCohort

__all__ = ["GDC_FIELDS", "book_prompts", "clinical_prompts", "render_value"]

#: The six clinical fields of the paper (GDC-like names used by the simulated cohorts).
GDC_FIELDS: tuple[str, ...] = ("age", "sex", "stage", "stage_edition", "subtype", "race")

_MISSING = {"", "not reported", "unknown", "unkown", "nan", "none", "na", "n/a", "--", "'--"}


def _is_missing(value: Any) -> bool:
    from survlib._core.validation import is_missing

    return is_missing(value) or str(value).strip().lower() in _MISSING


def render_value(field_name: str, value: Any, row: Any = None) -> str | None:
    """How a field's value reads inside a sentence; ``None`` for a missing value.

    Ages become whole years (``56.7 -> "56"``), tumour sizes keep one decimal, stages read
    ``"stage IIA"``, other strings are lower-cased except for abbreviations (``"NOS"``).

    Missing values follow :func:`survlib._core.validation.is_missing` (None, NaN, ``pd.NA``,
    ``pd.NaT``, and strings such as ``"nan"``, ``"<NA>"``, ``"not reported"``, ``"--"``).
    Ages must be numbers of years in [0, 130] and sizes numbers of cm >= 0; anything else
    raises ``ValueError`` naming the field, the row and the value.
    """
    from survlib._core.validation import check_clinical_value

    if _is_missing(value):
        return None
    checked = check_clinical_value(field_name, value, row)
    if field_name == "age":
        return str(int(np.floor(checked)))
    if field_name == "size":
        return f"{checked:.1f}"
    text = str(value).strip()
    if field_name == "stage":
        return re.sub(r"^stage\s+", "stage ", text, flags=re.IGNORECASE)
    # lower-case words, keep all-caps abbreviations (NOS, AJCC) as they are
    return " ".join(w if (w.isupper() and len(w) > 1) else w.lower() for w in text.split())


def clinical_prompts(
    clinical: pd.DataFrame,
    n_templates: int = 1,
    seed: int = 0,
    fields: Sequence[str] | Mapping[str, str] | None = None,
    templates: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """One sentence per patient and clinical field.

    For field ``f`` and patient ``i`` the template index is drawn uniformly from
    ``{0, ..., n_templates - 1}`` with ``np.random.default_rng([seed, k])`` (``k`` the field's
    position), so the draw is reproducible and independent across fields; ``n_templates = 1``
    gives everyone the canonical sentence.

    Args:
        clinical: one row per patient.
        n_templates: number of synonymous templates in play per field (the paper's ``N_t``).
        seed: seed of the template draws.
        fields: the columns to describe, in token order; a mapping ``{column: template key}``
            when the column names differ from the template keys. Default: the GDC fields
            (:data:`GDC_FIELDS`) present in ``clinical``.
        templates: override :data:`TEMPLATES` (same structure).

    Returns:
        DataFrame ``[n_patients, n_fields]`` of sentences, same index as ``clinical``;
        ``attrs["n_templates"]`` and ``attrs["template_index"]`` (``int [n, F]``) record the draw.

    Raises:
        KeyError: a field is not a column of ``clinical`` or has no templates.
        ValueError: ``n_templates`` is below 1 or above the number of templates of a field.
    """
    table = dict(TEMPLATES if templates is None else templates)
    if fields is None:
        fields = [f for f in GDC_FIELDS if f in clinical.columns]
        if not fields:
            raise KeyError(
                f"clinical_prompts: none of the default fields {list(GDC_FIELDS)} is a column "
                f"of the table (columns: {list(clinical.columns)}); pass fields="
            )
    mapping = dict(fields) if isinstance(fields, Mapping) else {f: f for f in fields}
    if int(n_templates) < 1:
        raise ValueError(f"clinical_prompts: n_templates must be >= 1, got {n_templates}")
    out: dict[str, list[str]] = {}
    index = np.zeros((len(clinical), len(mapping)), dtype=np.int64)
    for k, (column, key) in enumerate(mapping.items()):
        if column not in clinical.columns:
            raise KeyError(
                f"clinical_prompts: column {column!r} not in the clinical table "
                f"(columns: {list(clinical.columns)})"
            )
        if key not in table:
            raise KeyError(
                f"clinical_prompts: no templates for field {key!r}; known fields: {sorted(table)}"
            )
        options = tuple(table[key])
        if int(n_templates) > len(options):
            raise ValueError(
                f"clinical_prompts: n_templates={n_templates} but field {key!r} has "
                f"only {len(options)} templates"
            )
        draw = np.random.default_rng([int(seed), k]).integers(0, int(n_templates), len(clinical))
        index[:, k] = draw
        label = FIELD_LABELS.get(key, key.replace("_", " "))
        sentences = []
        for row, value, j in zip(clinical.index, clinical[column].tolist(), draw, strict=True):
            text = render_value(key, value, row)
            if text is None:
                sentences.append(f"The {label} is not reported.")
            else:
                sentences.append(options[int(j)].format(value=text))
        out[column] = sentences
    prompts = pd.DataFrame(out, index=clinical.index)
    prompts.attrs.update(
        {"n_templates": int(n_templates), "seed": int(seed), "template_index": index}
    )
    return prompts


def book_prompts(cohort: MultimodalCohort, n_templates: int = 1, seed: int = 0) -> pd.DataFrame:
    """The book's templates (:func:`clinical_prompts`) on a real cohort's recorded fields: age,
    sex, tumour stage, subtype ("not reported" values read as missing).

    SurvPGC's own prompts also describe race and staging edition, which its tables do not hold
    as columns; the book's prompts describe only what the tables record. (It lives here, not in
    :mod:`survlib.data.tcga`, because ``survlib.data`` sits below ``survlib.text``.)
    """
    c = cohort.clinical
    table = pd.DataFrame(index=c.index)
    if "age" in c:
        table["age"] = c["age"]
    for col in ("sex", "stage", "subtype"):
        if col in c:
            known = c[col].where(c[col] != "not reported")
            table[col] = ("Stage " + known) if col == "stage" else known
    return clinical_prompts(table, n_templates=n_templates, seed=seed, fields=list(table.columns))
