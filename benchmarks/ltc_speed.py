"""rnnlib's LTC against ncps.torch.LTC: forward + backward time on the same wiring and weights (chapter 7).

    python benchmarks/ltc_speed.py                  # CPU, one thread, writes benchmarks/results/ltc_speed.json
    python benchmarks/ltc_speed.py --device cuda    # on a GPU, writes benchmarks/results/ltc_speed-cuda.json

For each configuration (wiring, batch B, sequence length T) the two models hold identical weights
(``LTC.from_ncps``); one timed call is a forward pass over the sequence plus the backward pass of a
squared-output loss. Three variants are timed, interleaved repetition by repetition so that a change
in machine load hits them alike: ncps, rnnlib (its default: the fused sub-steps as one autograd node
with a hand-written backward, ``rnnlib.models.ltc_fused``) and rnnlib with ``fast_backward=False`` (plain
autograd through ``LTC.step``; it only precomputes what does not change along the sequence). The
ratio rnnlib / ncps is reported (below 1 means rnnlib is faster); timings are never asserted.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import ncps.torch as nt  # noqa: E402
import ncps.wirings as nw  # noqa: E402

from rnnlib.device import time_once  # noqa: E402
from rnnlib.models.ncp import LTC  # noqa: E402

CONFIGS = [  # name, wiring factory, inputs, B, T
    ("sine example: AutoNCP(16, 1)", lambda: nw.AutoNCP(16, 1), 2, 1, 48),
    ("AutoNCP(16, 1), batch 32", lambda: nw.AutoNCP(16, 1), 1, 32, 50),
    ("FullyConnected(32, 1), batch 32", lambda: nw.FullyConnected(32, 1), 1, 32, 50),
    ("AutoNCP(64, 4), batch 32", lambda: nw.AutoNCP(64, 4), 8, 32, 50),
]


def _step(model, u, batch_first):
    y, _ = model(u.transpose(0, 1) if batch_first else u)
    (y ** 2).mean().backward()


def time_config(make_wiring, n_in, B, T, *, repeats: int, device: torch.device, seed: int = 0) -> dict:
    torch.manual_seed(seed)
    ref = nt.LTC(n_in, make_wiring(), batch_first=True).to(device)
    fast = LTC.from_ncps(ref).to(device)
    slow = LTC.from_ncps(ref).to(device)
    slow.fast_backward = False
    u = torch.randn(T, B, n_in, generator=torch.Generator().manual_seed(seed)).to(device)
    with torch.no_grad():
        gap = (fast(u)[0] - ref(u.transpose(0, 1))[0].transpose(0, 1)).abs().max().item()
    runs = {"ncps": lambda: _step(ref, u, True), "rnnlib": lambda: _step(fast, u, False),
            "rnnlib_autograd": lambda: _step(slow, u, False)}
    best = {k: float("inf") for k in runs}
    for fn in runs.values():
        fn()                                                            # warm-up
    for _ in range(repeats):
        for name, fn in runs.items():                                   # interleaved: fair to all three
            best[name] = min(best[name], time_once(fn, device))
    return {"units": ref.state_size, "synapses": int(ref.synapse_count), "n_in": n_in, "B": B, "T": T,
            "max_output_difference": gap, **{f"{k}_ms": 1000 * v for k, v in best.items()},
            "ratio": best["rnnlib"] / best["ncps"], "ratio_autograd": best["rnnlib_autograd"] / best["ncps"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    rows = []
    for name, make, n_in, B, T in CONFIGS:
        row = {"config": name, **time_config(make, n_in, B, T, repeats=args.repeats, device=device)}
        rows.append(row)
        print(f"{name:34s} ncps {row['ncps_ms']:8.1f} ms   rnnlib {row['rnnlib_ms']:8.1f} ms   "
              f"ratio {row['ratio']:.2f}   (plain autograd {row['rnnlib_autograd_ms']:8.1f} ms, "
              f"ratio {row['ratio_autograd']:.2f})", flush=True)
    out = args.out or Path(__file__).resolve().parent / "results" / (
        "ltc_speed.json" if device.type == "cpu" else f"ltc_speed-{device.type}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "device": device.type,
            "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor(),
            "threads": torch.get_num_threads(), "torch": torch.__version__, "repeats": args.repeats}
    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    print(f"worst ratio {max(r['ratio'] for r in rows):.2f}; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
