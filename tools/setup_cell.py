"""The setup cell that opens every chapter, made from the book's configuration.

Where ``rnnlib`` imports, the cell only seeds, sets the figure style and prints the device and versions.
Where it does not (Colab, a downloaded notebook, any fresh environment) it first installs the book's
``rnnlib`` from the book's repository at the book's version, and says so. It never reinstalls torch:
rnnlib's own requirement on torch is unpinned, so pip keeps the torch that is there (Colab's, with CUDA).

The repository address lives in one place, ``repository.url`` in ``_config.yml`` (the build's launch and
repository buttons read it too); the version is ``project.version`` in ``pyproject.toml``. Run

    .venv/bin/python tools/setup_cell.py --write

after changing either, to rewrite the first code cell of every chapter; ``tests/test_setup_cell.py``
fails while a chapter's cell differs from :func:`source`.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TAGS = ["hide-input"]   # collapsed on the website (its output, the device, shows), plain in the notebook


def repository() -> str:
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"].rstrip("/")
    if not re.fullmatch(r"https://[\w.-]+/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"repository.url in _config.yml must look like https://host/owner/name, got {url!r}")
    return url


def version() -> str:
    text = (ROOT / "pyproject.toml").read_text()
    return re.search(r'^version\s*=\s*"([^"]+)"', text, re.M).group(1)


def source() -> str:
    """The cell's code."""
    return f'''# Setup, the same in every chapter. Where rnnlib is missing (Colab, a downloaded notebook) it installs
# the book's rnnlib {version()} from the book's repository; the torch already there is kept.
import importlib, subprocess, sys
BOOK_REPOSITORY, BOOK_VERSION = "{repository()}", "{version()}"
try:
    import rnnlib
except ImportError:
    command = [sys.executable, "-m", "pip", "install", "--quiet",
               f"rnnlib[book] @ git+{{BOOK_REPOSITORY}}@v{{BOOK_VERSION}}"]
    print("rnnlib is not installed here; installing it:", " ".join(command[3:]))
    subprocess.check_call(command)
    importlib.invalidate_caches()
    import rnnlib
rnnlib.seed_everything(0)
rnnlib.book.figures.use_style()
print(rnnlib.describe())'''


def chapters() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [ROOT / f"{f}.ipynb" for f in files if (ROOT / f"{f}.ipynb").exists()]


def first_code_cell(nb: dict) -> dict:
    return next(c for c in nb["cells"] if c["cell_type"] == "code")


COMMON = ("import rnnlib", "rnnlib.seed_everything(0)", "rnnlib.book.figures.use_style()", "print(rnnlib.describe())")


def write() -> list[str]:
    """Make the setup cell every chapter's first code cell; returns the chapters changed.

    A chapter whose first code cell is not yet the setup cell gets it inserted before; the old cell keeps
    the chapter's own imports (visible, so the module aliases are where they are first used).
    """
    changed = []
    lines = source().splitlines(keepends=True)
    for path in chapters():
        nb = json.loads(path.read_text())
        cell = first_code_cell(nb)
        if "BOOK_REPOSITORY" not in "".join(cell["source"]):
            own = [l for l in "".join(cell["source"]).splitlines() if l.strip() not in COMMON]
            own = [l.replace("import rnnlib, ", "import ") for l in own]
            cell["source"] = "\n".join(own).splitlines(keepends=True)
            cell["metadata"]["tags"] = [t for t in cell["metadata"].get("tags", []) if t != "hide-input"]
            setup = {"cell_type": "code", "execution_count": None, "id": "setup-" + path.stem[:2],
                     "metadata": {}, "outputs": [], "source": []}
            nb["cells"].insert(nb["cells"].index(cell), setup)
            cell = setup
        tags = cell.setdefault("metadata", {}).get("tags", [])
        if cell["source"] != lines or tags != TAGS:
            cell["source"] = lines
            cell["metadata"]["tags"] = list(TAGS)
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
            changed.append(path.name)
    return changed


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        print("rewrote:", ", ".join(write()) or "nothing (every chapter's setup cell is current)")
    else:
        print(source())
