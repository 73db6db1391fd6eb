"""rnnlib's tree shows its architecture, and stays that way.

The layers, bottom up (CONTRIBUTING.md, "Architecture"): the shared helpers (``_validate``, ``_lazy``, ``device``,
``train``), then ``book`` (style, widgets, quotes), then ``models`` and ``tasks``, ``theory``, ``remedies``,
``sweeps``, and ``check`` on top. A module may import its own package and any package of a lower layer, never a
higher one; nothing imports the checkers; no two modules import each other, directly or through others; and a
computation module imports no matplotlib (figures live in each package's ``plots`` module, the book's own in
``rnnlib.book``). Imports are read from the source (module level and inside functions alike).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "rnnlib"
LAYER = {"_validate": 0, "_lazy": 0, "device": 1, "train": 2, "book": 3, "models": 4, "tasks": 4, "theory": 5,
         "remedies": 6, "sweeps": 7, "check": 8}
# models and tasks share a layer but do not import each other: a model knows no task, a task no model.
SIBLINGS_APART = {("models", "tasks"), ("tasks", "models")}
TOP_LEVEL_ALLOWED = {"__init__.py", "_validate.py", "_lazy.py", "device.py", "train.py"}


def modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(["rnnlib", *parts])] = path
    return out


def imports_of(name: str, path: Path) -> set[str]:
    """The rnnlib modules ``name`` imports (``from rnnlib.x import y`` counts y when y is a module)."""
    mods = modules()
    found = set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("rnnlib"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("rnnlib"):
                continue
            found.add(mod)
            found.update(f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in mods)
    return {m for m in found if m in mods and m != name}


def group(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


GRAPH = {name: imports_of(name, path) for name, path in modules().items()}


def test_only_the_face_and_a_few_shared_helpers_lie_at_the_top():
    top = {p.name for p in ROOT.glob("*.py")}
    assert top <= TOP_LEVEL_ALLOWED, f"modules directly in rnnlib/: {sorted(top - TOP_LEVEL_ALLOWED)}"
    assert {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()} == \
        {g for g in LAYER if not g.startswith("_") and g not in ("device", "train")}


@pytest.mark.parametrize("name", sorted(n for n in GRAPH if n != "rnnlib"))
def test_no_module_imports_a_higher_layer(name):
    mine = group(name)
    for other in GRAPH[name]:
        theirs = group(other)
        if theirs == "__init__" or theirs == mine:
            continue
        assert LAYER[theirs] <= LAYER[mine] and (mine, theirs) not in SIBLINGS_APART, \
            f"{name} (layer {mine}) imports {other} (layer {theirs})"
        assert theirs != "check", f"{name} imports the checkers ({other})"


def test_no_import_cycles():
    """Strongly connected components of the import graph, ignoring a package's __init__ (which re-exports)."""
    inits = {n for n, p in modules().items() if p.name == "__init__.py"}
    graph = {n: {m for m in deps if m not in inits} for n, deps in GRAPH.items() if n not in inits}
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, f"modules that import each other: {cycles}"


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_computation_modules_import_no_matplotlib(name):
    path = modules()[name]
    if path.name == "plots.py" or group(name) == "book":
        return
    for node in ast.walk(ast.parse(path.read_text())):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        assert not any(n.split(".")[0] == "matplotlib" for n in names), \
            f"{name} imports matplotlib: move its figure to its package's plots module"


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_every_module_opens_with_a_docstring(name):
    doc = ast.get_docstring(ast.parse(modules()[name].read_text()))
    assert doc and len(doc) > 40, f"{name} has no docstring saying what it is for"


@pytest.mark.parametrize("package", [g for g in LAYER if (ROOT / g / "__init__.py").exists()])
def test_every_package_docstring_lists_its_modules(package):
    doc = ast.get_docstring(ast.parse((ROOT / package / "__init__.py").read_text()))
    for path in (ROOT / package).glob("*.py"):
        if path.stem != "__init__" and path.stem != "__main__":
            assert f"``{path.stem}``" in doc, f"rnnlib/{package}/__init__.py does not list {path.stem}"


def test_the_layering_test_catches_a_bad_import(tmp_path, monkeypatch):
    """The checker itself: a model that imports a sweep, and a theory module that imports a checker, are caught."""
    bad = tmp_path / "bad.py"
    bad.write_text('"""A bad module, for the test."""\nfrom rnnlib.sweeps import lag_sweep\nimport rnnlib.check\n')
    assert imports_of("rnnlib.models.bad", bad) == {"rnnlib.sweeps", "rnnlib.sweeps.lag_sweep", "rnnlib.check"}
    assert LAYER["sweeps"] > LAYER["models"] and LAYER["check"] > LAYER["theory"]
