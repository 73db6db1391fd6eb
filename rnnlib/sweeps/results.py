"""The sweeps' result files: where they live, how they are written and loaded, and which sweep makes each.

``load(name)`` reads a shipped file (``rnnlib/data/<name>.json``; ``shipped()`` lists them), ``write_json`` writes
one with the provenance ``metadata`` records (device, seed offset, versions), and ``SWEEPS`` names the function that
regenerates each (the command line, ``python -m rnnlib.sweeps``, is in ``rnnlib.sweeps.cli``).
"""
from __future__ import annotations

import importlib
import json
import platform
import time
from pathlib import Path

import torch

# Shipped results are package data: they travel with every install of rnnlib (editable, wheel, Colab).
DATA_DIR = Path(__file__).resolve().parent.parent / "data"

# name -> "module:function". Chapters register their sweeps here (one line each).
SWEEPS: dict[str, str] = {
    "lag": "rnnlib.sweeps.lag_sweep:run",  # chapter 3
    "temporal-order": "rnnlib.sweeps.temporal_order:run",  # chapter 4
    "temporal-order-long": "rnnlib.sweeps.temporal_order:run_long",  # chapter 4
    "pascanu-tasks": "rnnlib.sweeps.pascanu_tasks:run",  # chapter 4
    "teacher-student": "rnnlib.sweeps.teacher:run",  # chapter 6
    "gated-lag": "rnnlib.sweeps.gated_lag:run",  # chapter 5
    "ncp-lag": "rnnlib.sweeps.ncp_memory:run",  # chapter 7
}


def resolve(name: str):
    """Return the ``run`` function of the sweep called ``name``."""
    if name not in SWEEPS:
        raise ValueError(f"sweep must be one of {sorted(SWEEPS)}, got {name!r}")
    module, func = SWEEPS[name].split(":")
    return getattr(importlib.import_module(module), func)


def metadata(*, device, **extra) -> dict:
    """Provenance stored in every results file: when, where, the seed offset, and versions.

    ``device`` is the device that computed the results (a sweep passes the one it ran on, not
    ``rnnlib.device()``: a CPU-only sweep on a GPU machine records "cpu"). ``seed_offset`` is
    ``$RNNLIB_SEED_OFFSET`` (0 for every shipped file).
    """
    from rnnlib.device import seed_offset

    dev = torch.device(device)
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "device": dev.type,
        "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor() or dev.type,
        "seed_offset": seed_offset(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        **extra,
    }


def _is_shipped(path: Path) -> bool:
    """Whether ``path`` is (or would be) a results file that ships with the book, i.e. lies in ``DATA_DIR``."""
    return Path(path).resolve().parent == DATA_DIR.resolve()


def _refuse_offset(what: str) -> None:
    """Raise unless ``$RNNLIB_SEED_OFFSET`` is 0: ``what`` (a shipped file) must not be written."""
    from rnnlib.device import SEED_OFFSET_VAR, seed_offset

    k = seed_offset()
    if k != 0:
        raise RuntimeError(f"${SEED_OFFSET_VAR}={k}: shipped results files in {DATA_DIR} are made with the "
                           f"seed offset 0; refusing to write {what}. Unset {SEED_OFFSET_VAR} (or set it to 0), "
                           f"or write elsewhere with --out.")


def write_json(path: Path, payload: dict) -> Path:
    """Write ``payload`` as JSON; refuses a shipped file (in ``DATA_DIR``) while ``$RNNLIB_SEED_OFFSET`` is not 0."""
    path = Path(path)
    if _is_shipped(path):
        _refuse_offset(str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n")
    return path


def shipped(data_dir: Path | None = None) -> list[str]:
    """The names of the results files in ``data_dir`` (default: the shipped ones, ``rnnlib/data``)."""
    return sorted(p.stem for p in Path(data_dir or DATA_DIR).glob("*.json"))


def load(name: str, data_dir: Path | None = None) -> dict:
    """Load the shipped results file ``rnnlib/data/<name>.json`` (``-`` and ``_`` in ``name`` are interchangeable)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be one of {shipped(data_dir)}, got {name!r}")
    folder = Path(data_dir or DATA_DIR)
    candidates = [folder / f"{n}.json" for n in (name, name.replace("-", "_"), name.replace("_", "-"))]
    path = next((p for p in candidates if p.exists()), None)
    if path is None:
        # the sweep that writes it, under the name the command line accepts (``resolve`` knows SWEEPS' keys only)
        sweep = next((n for n in (name, name.replace("_", "-"), name.replace("-", "_")) if n in SWEEPS), None)
        out = f" --out {folder}" if data_dir is not None else ""
        hint = (f"; `python -m rnnlib.sweeps {sweep}{out}` regenerates it" if sweep
                else "; `python -m rnnlib.sweeps --list` lists the sweeps")
        which = "the shipped ones" if data_dir is None else "the ones there"
        raise FileNotFoundError(f"no results file {name!r} in {folder}: {which} are {shipped(data_dir)}{hint}")
    return json.loads(path.read_text())
