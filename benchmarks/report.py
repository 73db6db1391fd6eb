"""Benchmark report: notebook execution times, interactive callback latencies and page sizes.

Reported, never asserted: run it after ``make book`` (``make test`` does). It reads what the build
measured — ``_build/exec_times.json`` (each notebook's execution time, from myst-nb) and
``_build/explorers.jsonl`` (each interactive figure's per-frame latency, from rnnlib.book.widgets) —
adds the size of every built page (its HTML plus the images it loads from ``_images``), prints a
table against the book's budgets, and saves it all to ``benchmarks/results/report.json``.
"""
from __future__ import annotations

import json
import platform
import re
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
HTML = BUILD / "html"
BUDGET = {"notebook_s": 90.0, "callback_ms": 150.0, "page_mb": 3.0}


def toc_docs() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    docs = [toc["root"]]
    for part in toc.get("parts", []):
        docs += [c["file"] for c in part.get("chapters", [])]
    return docs


def page_bytes(doc: str) -> int:
    page = HTML / f"{doc}.html"
    if not page.exists():
        return 0
    text = page.read_text(errors="ignore")
    total = page.stat().st_size
    for src in set(re.findall(r'src="([^"]+)"', text)):
        if src.startswith(("data:", "http")) or "_static" in src:
            continue
        path = (page.parent / src.split("?")[0]).resolve()
        if path.is_file():
            total += path.stat().st_size
    return total


def main() -> int:
    if not (BUILD / "exec_times.json").exists():
        print("No build measurements found: run `make book` first.", file=sys.stderr)
        return 1
    exec_times = json.loads((BUILD / "exec_times.json").read_text())
    explorers = []
    log = BUILD / "explorers.jsonl"
    if log.exists():
        explorers = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    rows = []
    for doc in toc_docs():
        ex = [e for e in explorers if e.get("notebook") == doc]
        rt = exec_times.get(doc, {}).get("runtime_s")
        rows.append({
            "page": doc,
            "notebook_s": round(rt, 1) if rt is not None else None,
            "explorers": len(ex),
            # what a live reader waits for: the live (1x) redraw where logged, else the static frame's time
            "callback_median_ms": round(max(e.get("live_ms") or e["median_ms"] for e in ex), 1) if ex else None,
            "page_mb": round(page_bytes(doc) / 2**20, 2),
        })
    head = f"{'page':34s} {'notebook s':>10s} {'widgets':>7s} {'callback ms':>12s} {'page MB':>8s}"
    print(head)
    print("-" * len(head))
    over = []
    for r in rows:
        flag = []
        if r["notebook_s"] is not None and r["notebook_s"] > BUDGET["notebook_s"]:
            flag.append("notebook")
        if r["callback_median_ms"] is not None and r["callback_median_ms"] > BUDGET["callback_ms"]:
            flag.append("callback")
        if r["page_mb"] > BUDGET["page_mb"]:
            flag.append("page")
        over += [(r["page"], f) for f in flag]
        fmt = lambda v, spec: format(v, spec) if v is not None else "-"
        print(f"{r['page']:34s} {fmt(r['notebook_s'], '10.1f')} {r['explorers']:7d} "
              f"{fmt(r['callback_median_ms'], '12.1f')} {r['page_mb']:8.2f}" + ("   OVER: " + ", ".join(flag) if flag else ""))
    total = sum(r["notebook_s"] or 0 for r in rows)
    print(f"\nall notebooks: {total:.1f} s. Budgets: notebook <= {BUDGET['notebook_s']:.0f} s, "
          f"callback median <= {BUDGET['callback_ms']:.0f} ms (largest per page shown), page <= {BUDGET['page_mb']:.0f} MB")
    print("within all budgets" if not over else f"over budget: {over}")
    out = ROOT / "benchmarks" / "results" / "report.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                               "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
                               "budgets": BUDGET, "pages": rows, "explorers": explorers,
                               "over_budget": over}, indent=1) + "\n")
    print(f"saved {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
