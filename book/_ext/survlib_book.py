"""Small Sphinx fixes for the book's HTML, found by the browser test (tests/browser).

- sphinx-thebe 0.3.1 registers its inline configuration script (``const THEBE_JS_URL = ...``)
  twice (once with filename ``None``, once ``""``: it is added after the HTML builder started),
  as is sphinx-togglebutton's ``togglebuttonSelector``, so every page raised "Identifier
  'THEBE_JS_URL' has already been declared" in the browser; :func:`dedupe_scripts` drops the
  repeated script entries of each page.
- The API reference (book/api.md) documents each package's ``__all__``; a package re-exports
  names defined in the packages below it (``survlib.models`` re-exports ``SurvivalBatch`` from
  ``survlib.data``), so the same object would be described twice (a warning, an error with
  ``-W``). :func:`document_once` keeps the first description of each object and skips the rest.
- Docstrings cross-reference objects by their defining module (``survlib.models.fusion.SurvPGC``)
  while the API page documents them under their package (``survlib.models.SurvPGC``);
  :func:`resolve_reexported` links such a reference to the one description of that object (or a
  module reference to its nearest documented package). References to other libraries' objects
  (numpy, torch: this offline build has no intersphinx inventories) and to private helpers are
  rendered as plain code, without a link.
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
        key = (
            str(getattr(js, "filename", js) or ""),
            tuple(sorted((getattr(js, "attributes", None) or {}).items())),
        )
        if key in seen:
            continue
        seen.append(key)
        unique.append(js)
    context["script_files"] = unique


_DOCUMENTED: set[str] = set()


def document_once(
    app: Any, what: str, name: str, obj: Any, skip: bool, options: Any
) -> bool | None:
    """autodoc-skip-member: skip a module-level member already documented under another module."""
    if what != "module" or skip:
        return None
    origin = f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', name)}"
    if not getattr(obj, "__module__", None):
        return None  # constants: documented where they are listed
    if origin in _DOCUMENTED:
        return True
    _DOCUMENTED.add(origin)
    return None


def resolve_reexported(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """missing-reference: link ``survlib.a.b.Name`` to where ``Name`` is documented."""
    if node.get("refdomain") != "py":
        return None
    from sphinx.util.nodes import make_refnode

    target = str(node.get("reftarget", "")).lstrip("~.")
    domain = env.get_domain("py")
    objects = domain.objects  # full name -> ObjectEntry(docname, node_id, objtype, aliased)
    modules = domain.modules
    name = target.rsplit(".", 1)[-1]
    if target.startswith("survlib"):
        if node.get("reftype") == "mod" or target in modules:
            parts = target.split(".")
            while parts and ".".join(parts) not in modules:
                parts.pop()
            if parts:
                entry = modules[".".join(parts)]
                return make_refnode(
                    app.builder, node["refdoc"], entry.docname, entry.node_id, contnode
                )
        suffix = "." + ".".join(target.split(".")[-2:]) if target.count(".") >= 2 else ""
        hits = [k for k in objects if k.startswith("survlib.") and k.endswith("." + name)]
        if suffix:  # methods: prefer the same Class.method
            hits = [k for k in hits if k.endswith(suffix)] or hits
        if len(hits) >= 1:
            entry = objects[sorted(hits, key=len)[0]]
            return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode)
    return contnode  # another library's object or a private helper: plain code, no link


def setup(app: Any) -> dict[str, Any]:
    app.connect("missing-reference", resolve_reexported)
    app.connect("html-page-context", dedupe_scripts, priority=900)
    app.connect("autodoc-skip-member", document_once)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
