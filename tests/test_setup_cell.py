"""Every chapter opens with the same setup cell (tools/setup_cell.py), and its install branch is right.

The install branch runs where rnnlib is missing (Colab, a downloaded notebook). It is tested here without a
network: the import of rnnlib is made to fail once, and pip is replaced by a recorder.
"""
import builtins
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import setup_cell  # noqa: E402


@pytest.mark.parametrize("path", setup_cell.chapters(), ids=lambda p: p.name)
def test_every_chapter_opens_with_the_setup_cell(path):
    nb = json.loads(path.read_text())
    cell = setup_cell.first_code_cell(nb)
    assert "".join(cell["source"]) == setup_cell.source(), \
        f"{path.name}: its setup cell differs; run `.venv/bin/python tools/setup_cell.py --write`"
    assert cell["metadata"].get("tags") == setup_cell.TAGS


def test_setup_cell_uses_the_configured_repository_and_version():
    import rnnlib
    src = setup_cell.source()
    assert f'"{setup_cell.repository()}"' in src and f'"{setup_cell.version()}"' in src
    assert setup_cell.version() == rnnlib.__version__        # the package and the cell agree on the version


def run_cell(monkeypatch, *, installed: bool):
    """Execute the setup cell; where ``installed`` is False the first ``import rnnlib`` fails."""
    calls, real_import, failed = [], builtins.__import__, []

    def fake_import(name, *args, **kwargs):
        if name == "rnnlib" and not installed and not failed:
            failed.append(name)
            raise ImportError("No module named 'rnnlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.setattr(subprocess, "check_call", lambda cmd, *a, **k: calls.append(cmd) or 0)
    namespace = {}
    exec(compile(setup_cell.source(), "<setup cell>", "exec"), namespace)
    monkeypatch.setattr(builtins, "__import__", real_import)
    return calls, namespace


def test_with_rnnlib_installed_the_cell_installs_nothing(monkeypatch, capsys):
    calls, ns = run_cell(monkeypatch, installed=True)
    assert calls == []
    assert "rnnlib computes on:" in capsys.readouterr().out
    assert ns["rnnlib"].__name__ == "rnnlib"


def test_without_rnnlib_the_cell_pip_installs_the_books_version_and_leaves_torch(monkeypatch, capsys):
    calls, ns = run_cell(monkeypatch, installed=False)
    url, version = setup_cell.repository(), setup_cell.version()
    assert calls == [[sys.executable, "-m", "pip", "install", "--quiet", f"rnnlib[book] @ git+{url}@v{version}"]]
    assert not any("torch" in part for part in calls[0])     # Colab's own torch (with CUDA) is kept
    out = capsys.readouterr().out
    assert "installing it" in out and f"git+{url}@v{version}" in out
    assert ns["rnnlib"].__name__ == "rnnlib"                  # imported after the install
