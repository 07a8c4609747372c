"""Small Sphinx fixes for the book's HTML, found by the browser test (tests/browser).

- sphinx-thebe 0.3.1 registers its inline configuration script (``const THEBE_JS_URL = ...``)
  twice (once with filename ``None``, once ``""``: it is added after the HTML builder started),
  as is sphinx-togglebutton's ``togglebuttonSelector``, so every page raised "Identifier 'THEBE_JS_URL' has already been declared" in the
  browser; :func:`dedupe_scripts` drops the repeated script entries of each page.
"""

from __future__ import annotations

from typing import Any


def dedupe_scripts(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Keep the first of identical script entries (same file or same inline body) on a page."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: list[tuple[str, tuple]] = []
    unique = []
    for js in scripts:
        # an inline script is registered with filename None or "" depending on when it was
        # added (before or after the builder started): treat both as the same
        key = (str(getattr(js, "filename", js) or ""),
               tuple(sorted((getattr(js, "attributes", None) or {}).items())))
        if key in seen:
            continue
        seen.append(key)
        unique.append(js)
    context["script_files"] = unique


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
