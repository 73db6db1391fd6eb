"""rnnlib is a complete package: a wheel, installed without the repository, imports and loads every shipped file.

This is what a Colab reader or a downloaded notebook gets (the setup cell pip-installs rnnlib): no ``book/``,
no ``benchmarks/``, no editable path into a checkout. The wheel is built from this checkout, installed with
``pip install --no-deps --target`` into a temporary folder, and used from another folder.
"""
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"                     # build from a copy, so the checkout gets no build/ or egg-info
    shutil.copytree(ROOT / "rnnlib", src / "rnnlib", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                            "-w", str(tmp / "dist"), str(src)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next((tmp / "dist").glob("rnnlib-*.whl"))
    target = tmp / "site"
    inst = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                           str(wheel)], capture_output=True, text=True)
    assert inst.returncode == 0, inst.stderr[-2000:]
    return tmp, target


def test_the_wheel_carries_every_shipped_results_file(installed):
    _, target = installed
    shipped = sorted(p.name for p in (ROOT / "rnnlib" / "data").glob("*.json"))
    assert shipped, "no shipped results in rnnlib/data"
    assert sorted(p.name for p in (target / "rnnlib" / "data").glob("*.json")) == shipped


def test_an_installed_rnnlib_loads_every_shipped_file_from_any_folder(installed):
    tmp, target = installed
    elsewhere = tmp / "reader"
    elsewhere.mkdir()
    code = textwrap.dedent("""
        import json, sys
        import rnnlib
        from rnnlib.sweeps import results as experiments
        assert rnnlib.__file__.startswith(sys.argv[1]), rnnlib.__file__   # the installed copy, not the checkout
        names = experiments.shipped()
        print(json.dumps({n: sorted(experiments.load(n)) for n in names}))
    """)
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "RNNLIB_DEVICE": "cpu"}
    out = subprocess.run([sys.executable, "-c", code, str(target)], cwd=elsewhere, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert sorted(loaded) == sorted(p.stem for p in (ROOT / "rnnlib" / "data").glob("*.json"))
    assert all("meta" in keys or "metadata" in keys for keys in loaded.values())   # each carries its provenance


def test_no_notebook_builds_a_path_into_the_repository():
    """Chapters reach shipped data through ``rnnlib.sweeps.results.load``, never through a path built from
    ``rnnlib.__file__`` or the repository's layout (which a pip-installed rnnlib does not have)."""
    bad = []
    for nb in sorted((ROOT / "book").glob("*.ipynb")):
        for i, cell in enumerate(json.loads(nb.read_text())["cells"]):
            src = "".join(cell["source"])
            if cell["cell_type"] == "code" and any(s in src for s in ("__file__", "benchmarks/", "book/data",
                                                                      "rnnlib/data", "../")):
                bad.append(f"{nb.name} cell {i}")
    assert not bad, f"cells that build a path into the repository: {bad}"
