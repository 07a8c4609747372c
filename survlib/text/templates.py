"""The clinical prompt templates, read once from the package data file ``templates.yaml``.

:data:`TEMPLATES` maps each field to its sentences (the canonical one first, then
paraphrases; ``{value}`` is replaced by :func:`survlib.text.render_value`), and
:data:`FIELD_LABELS` names each field in the "The <field> is not reported." sentence. Edit the
YAML file to change or add templates; it is installed with the package (``package-data`` in
``pyproject.toml``).
"""

from __future__ import annotations

from importlib.resources import files

import yaml

__all__ = ["FIELD_LABELS", "TEMPLATES", "load_templates"]

#: The package data file holding the templates.
TEMPLATES_FILE = "templates.yaml"


def load_templates() -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """``(field_labels, templates)`` from :data:`TEMPLATES_FILE`, checked for shape."""
    text = files("survlib.text").joinpath(TEMPLATES_FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    labels, templates = data["field_labels"], data["templates"]
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        raise ValueError(f"{TEMPLATES_FILE}: field_labels must map field names to strings")
    for key, options in templates.items():
        if not options or not all(isinstance(s, str) and "{value}" in s for s in options):
            raise ValueError(
                f"{TEMPLATES_FILE}: templates of field {key!r} must be a non-empty "
                "list of strings that each contain '{value}'"
            )
    return dict(labels), {k: tuple(v) for k, v in templates.items()}


_LABELS, _TEMPLATES = load_templates()

#: How each field is named in the "not reported" sentence.
FIELD_LABELS: dict[str, str] = _LABELS

#: Sentence templates per field; ``{value}`` is replaced by :func:`render_value`. The first
#: template of each field is the canonical one (``n_templates = 1``).
TEMPLATES: dict[str, tuple[str, ...]] = _TEMPLATES
