"""The command line for the heavier sweeps whose small result files ship with the book: ``python -m rnnlib.sweeps``.

    python -m rnnlib.sweeps --list
    python -m rnnlib.sweeps lag            # chapter 3: success against lag (tanh RNN)
    python -m rnnlib.sweeps lag --quick    # a smaller grid, for a smoke test
    python -m rnnlib.sweeps lag --device cpu

Each sweep is a function ``run(out_dir, *, quick=False, device=None, progress=True) -> pathlib.Path``
in its module of ``rnnlib.sweeps``, and writes one small JSON file to ``rnnlib/data/``
(the default ``out_dir``). ``--device`` (``auto``, the default, is ``rnnlib.device()``: a GPU when
present, unless ``RNNLIB_DEVICE=cpu``) is passed to the sweep; a sweep that only runs on the CPU
(``teacher-student``) ignores it. Every file's ``meta`` records the device that actually computed it
and the seed offset. Shipped files (in ``rnnlib/data``) are made with ``RNNLIB_SEED_OFFSET`` unset or 0:
the command refuses to write one otherwise. Every sweep also exposes ``run_point(**cell)`` which
re-computes a single grid cell; the ``tests/test_experiments_*.py`` files use it to check a shipped file.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from rnnlib.sweeps import results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnlib.sweeps", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", nargs="?", help="which sweep to run")
    parser.add_argument("--list", action="store_true", help="list the sweeps and exit")
    parser.add_argument("--quick", action="store_true", help="a reduced grid (smoke test)")
    parser.add_argument("--out", type=Path, default=results.DATA_DIR, help="folder for the results file")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto",
                        help="where the sweep computes (auto: rnnlib.device(), a GPU when present; "
                             "CPU-only sweeps ignore it and record cpu)")
    args = parser.parse_args(argv)
    if args.list or not args.name:
        for name, target in sorted(results.SWEEPS.items()):
            print(f"{name:24s} {target}")
        return 0
    from rnnlib.device import device

    run = results.resolve(args.name)
    if Path(args.out).resolve() == results.DATA_DIR.resolve():
        try:
            results._refuse_offset(f"a results file to {results.DATA_DIR}")
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
