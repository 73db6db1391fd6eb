"""The chapters as files: committed without outputs, listed in the table of contents, and following the
book's conventions (learning objectives, a hidden setup cell, asserted claims, exercises with collapsed
solutions, captioned figures with alt text)."""
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    return files


CHAPTERS = [ROOT / f"{f}.ipynb" for f in toc_files() if (ROOT / f"{f}.ipynb").exists()]


def load(path):
    return json.loads(path.read_text())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = load(path)
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; strip them before committing"
    assert "widgets" not in nb.get("metadata", {}), f"{path.name}: stored widget state in metadata"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_has_a_unique_id(path):
    # nbformat 4.5 requires cell ids (a missing one is a warning today and an error in future nbformat)
    cells = load(path)["cells"]
    ids = [c.get("id") for c in cells]
    assert None not in ids, f"{path.name}: cells {[i for i, x in enumerate(ids) if x is None]} have no id"
    assert len(set(ids)) == len(ids), f"{path.name}: duplicate cell ids"


def test_every_toc_entry_exists():
    for f in toc_files():
        assert (ROOT / f"{f}.ipynb").exists() or (ROOT / f"{f}.md").exists(), f"{f} is in _toc.yml but missing"


def test_chapters_are_in_order():
    names = [p.name for p in CHAPTERS]
    assert names == sorted(names)
    assert names[:2] == ["01_rnn_basics.ipynb", "02_bptt.ipynb"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_conventions(path):
    nb = load(path)
    cells = nb["cells"]
    md = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    code = [c for c in cells if c["cell_type"] == "code"]
    tags = lambda c: c.get("metadata", {}).get("tags", [])
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).lstrip().startswith("# ")
    assert re.search(r"learning objectives", md, re.I), "learning objectives admonition missing"
    setup = code[0]
    assert "hide-input" in tags(setup) and "seed_everything" in "".join(setup["source"])
    assert "import rnnlib" in "".join(setup["source"])
    checks = [c for c in code if "remove-input" in tags(c) and "assert" in "".join(c["source"])]
    assert len(checks) >= 3, "claims must be checked by asserts in remove-input cells"
    n_ex = len(re.findall(r"```\{exercise\}", md))
    assert n_ex >= 3, f"{n_ex} exercises, need at least 3"
    sols = re.findall(r"```\{solution(?:-start)?\}[^\n]*\n((?::[^\n]*\n)*)", md)
    assert len(sols) >= n_ex and all(":class: dropdown" in s for s in sols), "every solution must be collapsed"
    assert "rnnlib.check." in "".join("".join(c["source"]) for c in code), "a coding exercise with a checker"
    assert re.search(r"\{cite(:[pt])?\}`", md), "cite the papers through references.bib"
    for c in code:
        fig = c.get("metadata", {}).get("mystnb", {}).get("figure")
        if fig:
            assert fig.get("caption") and fig.get("name", "").startswith("fig-"), "figure needs caption and name"
            assert c["metadata"]["mystnb"].get("image", {}).get("alt"), f"figure {fig.get('name')} needs alt text"
    for c in code:
        src = "".join(c["source"])
        assert not re.search(r"^\s*(def|class) \w+", src, re.M) or "solution" in src.lower() or \
            "exercise" in " ".join(tags(c)) or _inside_solution_or_exercise(cells, c), \
            f"notebook defines code that belongs in rnnlib:\n{src[:200]}"


def _inside_solution_or_exercise(cells, cell):
    """True when ``cell`` sits between solution-start/solution-end, or right after an exercise,
    or draws a figure for rnnlib.book.widgets.explore (the drawing callback is allowed in the chapter)."""
    i = cells.index(cell)
    src = "".join(cell["source"])
    if "explore(" in src or "return fig" in src:
        return True
    for c in reversed(cells[:i]):
        if c["cell_type"] != "markdown":
            continue
        text = "".join(c["source"])
        if "{solution-end}" in text:
            return False
        if "{solution-start}" in text or "{exercise" in text:
            return True
    return False


def test_figure_and_exercise_labels_are_unique_across_the_book():
    seen = {}
    for path in NOTEBOOKS:
        text = path.read_text()
        names = set(re.findall(r'"name": "(fig-[^"]+)"', text)) | set(re.findall(r":label: ([\w-]+)", text))
        for name in names:
            assert name not in seen, f"label {name} is used in {seen.get(name)} and {path.name}"
            seen[name] = path.name


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_visible_answer_right_after_a_collapsed_solution(path):
    """A code cell after a plain {solution} block sits outside the dropdown: its code and output would give the
    answer away. Such code belongs inside a gated solution (solution-start/solution-end), or hidden entirely."""
    cells = load(path)["cells"]
    for i, c in enumerate(cells[:-1]):
        nxt = cells[i + 1]
        if c["cell_type"] == "markdown" and re.search(r"```\{solution\}", "".join(c["source"])) \
                and nxt["cell_type"] == "code":
            src = "".join(nxt["source"]).strip()
            tags = nxt.get("metadata", {}).get("tags", [])
            silent = "print(" not in src and src.split("\n")[-1].startswith("assert")
            assert "remove-cell" in tags or ("remove-input" in tags and silent), \
                f"{path.name}: cell {i + 1} shows code or output right after a collapsed solution"


GLUE_ROLE = re.compile(r"\{glue(?::text|:any|:md)?\}`([A-Za-z_][A-Za-z0-9_]*)(?::[^`]*)?`")
QUOTED = re.compile(r"""\b(?:quote|glue)\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']""")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_glued_number_is_quoted_in_its_notebook(path):
    """A sentence that quotes a live run ({glue:text}`name`) needs ``quote("name", ...)`` in the same notebook,
    else the build warns (and -W fails) or, worse, shows a number from nowhere."""
    cells = load(path)["cells"]
    used = {m for c in cells if c["cell_type"] == "markdown" for m in GLUE_ROLE.findall("".join(c["source"]))}
    quoted = [m for c in cells if c["cell_type"] == "code" for m in QUOTED.findall("".join(c["source"]))]
    assert not used - set(quoted), f"{path.name}: glued in the prose but never quoted: {sorted(used - set(quoted))}"
    twice = sorted({m for m in quoted if quoted.count(m) > 1})
    assert not twice, f"{path.name}: quoted more than once (the prose would show only one): {twice}"


# Reading a clock inside an assert: a loaded machine or another CPU fails it. Show timings; assert costs.
CLOCK = re.compile(r"\bassert\b.*(\bseconds\b|_ms\b|\belapsed\b|best_time|time_once|perf_counter|"
                   r"\bspeed\[|\bms_\w+|\bcpu_seconds\b|time\.time\(\))")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_assert_reads_a_clock(path):
    bad = [f"cell {i}: {line.strip()[:100]}" for i, c in enumerate(load(path)["cells"]) if c["cell_type"] == "code"
           for line in "".join(c["source"]).splitlines() if CLOCK.search(line)]
    assert not bad, f"{path.name}: asserts on wall-clock time:\n" + "\n".join(bad)


def test_no_test_asserts_a_clock():
    bad = [f"{p.name}:{n}: {line.strip()[:100]}" for p in sorted((ROOT / "tests").glob("test_*.py"))
           for n, line in enumerate(p.read_text().splitlines(), 1)
           if CLOCK.search(line) and "CLOCK" not in line]
    assert not bad, "tests assert on wall-clock time:\n" + "\n".join(bad)
