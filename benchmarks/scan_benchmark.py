"""Sequential loop vs parallel scan vs FFT convolution for a diagonal linear recurrence (chapter 6).

    python benchmarks/scan_benchmark.py                 # CPU, one thread, writes rnnlib/data/scan.json (chapter 6 reads it)
    python benchmarks/scan_benchmark.py --device cuda   # on a GPU, writes rnnlib/data/scan-cuda.json

Times h_t = lam * h_{t-1} + b_t (complex64, forward only) for T = 64 ... 16384 at two widths: "narrow"
(one sequence of 16 channels, where the loop pays ~T small kernel launches and the scan wins) and "wide"
(4 sequences of 64 channels, where each step of the loop already does real work and the scan's
O(T log T) memory traffic costs more). Timings are reported, never asserted: they depend on the machine and
on whatever else runs on it. Each entry is the best of several repetitions.
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
from rnnlib.models import ssm  # noqa: E402
from rnnlib.device import best_time  # noqa: E402

LENGTHS = (64, 256, 1024, 4096, 16384)
WIDTHS = {"narrow": (1, 16), "wide": (4, 64)}
METHODS = ("loop", "scan", "fft")


def run(device: torch.device, *, lengths=LENGTHS, widths=WIDTHS, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    rows = []
    for width, (B, N) in widths.items():
        r = 0.999 * torch.rand(N, generator=g)
        lam = torch.polar(r, 6.28 * torch.rand(N, generator=g)).to(device)
        for T in lengths:
            b = torch.complex(torch.randn(T, B, N, generator=g), torch.randn(T, B, N, generator=g)).to(device)
            ref = ssm.linear_recurrence(lam, b, method="loop")
            row = {"width": width, "B": B, "N": N, "T": T}
            for method in METHODS:
                with torch.no_grad():
                    h = ssm.linear_recurrence(lam, b, method=method)
                    repeats = 3 if method == "loop" or T * B * N > 2**21 else 7
                    row[method] = best_time(lambda: ssm.linear_recurrence(lam, b, method=method), repeats=repeats,
                                            device=device)
                row[f"{method}_max_err"] = float((h - ref).abs().max() / ref.abs().max())
            row["loop_over_scan"] = row["loop"] / row["scan"]
            row["loop_over_fft"] = row["loop"] / row["fft"]
            rows.append(row)
            print(f"{width:6s} B={B:2d} N={N:3d} T={T:6d}  loop {1e3 * row['loop']:9.2f} ms  scan {1e3 * row['scan']:8.2f} ms"
                  f"  fft {1e3 * row['fft']:8.2f} ms  loop/scan {row['loop_over_scan']:6.1f}x  loop/fft {row['loop_over_fft']:6.1f}x",
                  flush=True)
    return {"rows": rows}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1, as on a shared machine)")
    parser.add_argument("--out", type=Path, default=None, help="results file (default rnnlib/data/scan[-cuda].json, package data)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    t0 = time.perf_counter()
    result = run(device)
    key = next(r for r in result["rows"] if r["width"] == "narrow" and r["T"] == 4096)
    print(f"\nAt T = 4096 (narrow) the parallel scan is {key['loop_over_scan']:.1f}x faster than the Python loop.")
    result["metadata"] = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "device": device.type,
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else (platform.processor() or "cpu"),
        "torch": torch.__version__, "threads": torch.get_num_threads(), "dtype": "complex64", "grad": False,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    from rnnlib.sweeps.results import DATA_DIR
    out = args.out or DATA_DIR / ("scan.json" if device.type == "cpu" else f"scan-{device.type}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out} in {result['metadata']['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
