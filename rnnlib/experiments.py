"""Command line for the heavier sweeps whose small result files ship with the book.

    python -m rnnlib.experiments --list
    python -m rnnlib.experiments lag            # chapter 3: success against lag (tanh RNN)
    python -m rnnlib.experiments lag --quick    # a smaller grid, for a smoke test
    python -m rnnlib.experiments lag --device cpu

Each sweep is a function ``run(out_dir, *, quick=False, device=None, progress=True) -> pathlib.Path``
that lives next to the math it exercises and writes one small JSON file to ``rnnlib/data/``
(the default ``out_dir``). ``--device`` (``auto``, the default, is ``rnnlib.device()``: a GPU when
present, unless ``RNNLIB_DEVICE=cpu``) is passed to the sweep; a sweep that only runs on the CPU
(``teacher-student``) ignores it. Every file's ``meta`` records the device that actually computed it
and the seed offset. Shipped files (in ``rnnlib/data``) are made with ``RNNLIB_SEED_OFFSET`` unset or 0:
the command refuses to write one otherwise. Every sweep also exposes ``run_point(**cell)`` which
re-computes a single grid cell; the ``tests/test_experiments_*.py`` files use it to check a shipped file.
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

# Shipped results are package data: they travel with every install of rnnlib (editable, wheel, Colab).
DATA_DIR = Path(__file__).resolve().parent / "data"

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


def metadata(*, device, **extra) -> dict:
    """Provenance stored in every results file: when, where, the seed offset, and versions.

    ``device`` is the device that computed the results (a sweep passes the one it ran on, not
    ``rnnlib.device()``: a CPU-only sweep on a GPU machine records "cpu"). ``seed_offset`` is
    ``$RNNLIB_SEED_OFFSET`` (0 for every shipped file).
    """
    from .device import seed_offset

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
    from .device import SEED_OFFSET_VAR, seed_offset

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
        hint = (f"; `python -m rnnlib.experiments {name}` regenerates it" if name in SWEEPS
                or name.replace("_", "-") in SWEEPS else "")
        raise FileNotFoundError(f"no results file {name!r} in {folder}: the shipped ones are "
                                f"{shipped(data_dir)}{hint}")
    return json.loads(path.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnlib.experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", nargs="?", help="which sweep to run")
    parser.add_argument("--list", action="store_true", help="list the sweeps and exit")
    parser.add_argument("--quick", action="store_true", help="a reduced grid (smoke test)")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="folder for the results file")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto",
                        help="where the sweep computes (auto: rnnlib.device(), a GPU when present; "
                             "CPU-only sweeps ignore it and record cpu)")
    args = parser.parse_args(argv)
    if args.list or not args.name:
        for name, target in sorted(SWEEPS.items()):
            print(f"{name:24s} {target}")
        return 0
    from .device import device

    run = resolve(args.name)
    if Path(args.out).resolve() == DATA_DIR.resolve():
        try:
            _refuse_offset(f"a results file to {DATA_DIR}")
        except RuntimeError as exc:
            parser.error(str(exc))
    try:
        dev = device(args.device)
    except RuntimeError as exc:
        parser.error(str(exc))
    t0 = time.perf_counter()
    path = run(args.out, quick=args.quick, device=dev, progress=not args.no_progress)
    print(f"wrote {path} in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
