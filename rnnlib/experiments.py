"""Command line for the heavier sweeps whose small result files ship with the book.

    python -m rnnlib.experiments --list
    python -m rnnlib.experiments lag            # chapter 3: success against lag (tanh RNN)
    python -m rnnlib.experiments lag --quick    # a smaller grid, for a smoke test

Each sweep is a function ``run(out_dir, *, quick=False, device=None, progress=True) -> pathlib.Path``
that lives next to the math it exercises and writes one small JSON file to ``book/data/``
(the default ``out_dir``). It computes on ``rnnlib.device()``, so a GPU is used when present
(``RNNLIB_DEVICE=cpu`` forces the CPU). Every sweep also exposes ``run_point(**cell)`` which
re-computes a single grid cell; ``tests/test_experiments.py`` uses it to check a shipped file.
"""
from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from pathlib import Path

import torch

DATA_DIR = Path(__file__).resolve().parent.parent / "book" / "data"

# name -> "module:function". Chapters register their sweeps here (one line each).
SWEEPS: dict[str, str] = {
    "lag": "rnnlib.lag_sweep:run",  # chapter 3
    "temporal-order": "rnnlib.temporal_order:run",  # chapter 4
    "teacher-student": "rnnlib.teacher:run",  # chapter 6
    "gated-lag": "rnnlib.gated_lag:run",  # chapter 5
    "ncp-lag": "rnnlib.ncp_memory:run",  # chapter 7
}


def resolve(name: str):
    """Return the ``run`` function of the sweep called ``name``."""
    if name not in SWEEPS:
        raise ValueError(f"sweep must be one of {sorted(SWEEPS)}, got {name!r}")
    module, func = SWEEPS[name].split(":")
    return getattr(importlib.import_module(module), func)


def metadata(**extra) -> dict:
    """Provenance stored in every results file: when, where (device kind only), and versions."""
    from .device import device

    dev = device()
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "device": dev.type,
        "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor() or "cpu",
        "torch": torch.__version__,
        "python": platform.python_version(),
        **extra,
    }


def write_json(path: Path, payload: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n")
    return path


def load(name: str, data_dir: Path | None = None) -> dict:
    """Load the shipped results file ``book/data/<name>.json`` (``-`` and ``_`` in ``name`` are interchangeable)."""
    folder = Path(data_dir or DATA_DIR)
    candidates = [folder / f"{n}.json" for n in (name, name.replace("-", "_"), name.replace("_", "-"))]
    path = next((p for p in candidates if p.exists()), candidates[0])
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: regenerate it with `python -m rnnlib.experiments {name}`")
    return json.loads(path.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnlib.experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", nargs="?", help="which sweep to run")
    parser.add_argument("--list", action="store_true", help="list the sweeps and exit")
    parser.add_argument("--quick", action="store_true", help="a reduced grid (smoke test)")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="folder for the results file")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = parser.parse_args(argv)
    if args.list or not args.name:
        for name, target in sorted(SWEEPS.items()):
            print(f"{name:24s} {target}")
        return 0
    run = resolve(args.name)
    t0 = time.perf_counter()
    path = run(args.out, quick=args.quick, progress=not args.no_progress)
    print(f"wrote {path} in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
