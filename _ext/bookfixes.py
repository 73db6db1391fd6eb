"""Small Sphinx additions for a self-contained, measurable Jupyter Book 1 site.

* Jupyter Book always loads sphinx-thebe, which registers its inline configuration script twice
  (a console error: "Identifier 'THEBE_JS_URL' has already been declared") and points at a CDN.
  The book does not use thebe (live code runs through the launch buttons), so its scripts are dropped.
* Before each notebook is read (and executed), ``RNNLIB_NOTEBOOK`` is set to its name, so the
  kernel that myst-nb starts knows which chapter it runs (``rnnlib.book.widgets`` tags its latency log).
* After the build, each notebook's execution time (measured by myst-nb) is written to
  ``_build/exec_times.json`` for ``benchmarks/report.py``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path


def _drop_thebe(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    keep = []
    for js in scripts:
        body = getattr(js, "attributes", {}).get("body", "") or ""
        name = str(js)
        if "sphinx-thebe" in name or "thebe@" in name or "THEBE_JS_URL" in body:
            continue
        keep.append(js)
    context["script_files"] = keep


def _tag_notebook(app, docname, source):
    os.environ["RNNLIB_NOTEBOOK"] = docname


def _write_exec_times(app, exc):
    if exc is not None:
        return
    try:
        from myst_nb.sphinx_ import NbMetadataCollector
    except ImportError:
        return
    times = {}
    for docname in sorted(app.env.found_docs):
        data = NbMetadataCollector.get_exec_data(app.env, docname) if docname in NbMetadataCollector.get_doc_data(app.env) else None
        if data:
            times[docname] = {"runtime_s": data.get("runtime"), "succeeded": data.get("succeeded"),
                              "method": data.get("method")}
    out = Path(app.outdir).parent / "exec_times.json"
    out.write_text(json.dumps(times, indent=1, sort_keys=True) + "\n")


def setup(app):
    app.connect("html-page-context", _drop_thebe, priority=900)
    app.connect("source-read", _tag_notebook)
    app.connect("build-finished", _write_exec_times)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
