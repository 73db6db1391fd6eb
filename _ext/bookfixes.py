"""Small Sphinx fixes for a self-contained, console-error-free Jupyter Book 1 site.

* Jupyter Book always loads sphinx-thebe; it registers its inline configuration script twice
  (a console error: "Identifier 'THEBE_JS_URL' has already been declared") and points at a CDN.
  The book does not use thebe (live code runs through the launch buttons), so its scripts are dropped.
"""
from __future__ import annotations


def _drop_thebe(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    keep = []
    for js in scripts:
        name = str(js)
        body = getattr(js, "attributes", {}).get("body", "") if hasattr(js, "attributes") else ""
        if "sphinx-thebe" in name or "THEBE_JS_URL" in (body or "") or "thebe@" in name:
            continue
        keep.append(js)
    context["script_files"] = keep


def setup(app):
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
