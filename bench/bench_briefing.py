"""Time the briefing export for the demo city (target: under 5 s).

    uv run python bench/bench_briefing.py                    # builds the demo city in a temp folder
    uv run python bench/bench_briefing.py --db data/nianbao.duckdb --year 2025 --runs 5

Measures, in one warm process (as the app's download button runs it): the first briefing (it
starts vl-convert's engine and loads the font), then ``--runs`` further briefings, and the
整改清单 workbook; and the whole ``python -m ingest briefing`` command in a fresh process (as a
scheduled job runs it, imports included).  Each line shows the wall time and the process's CPU
time (all threads, vl-convert's included): on a busy 2-core machine the wall time stretches with
the load, the CPU time much less so.  ``os.getloadavg()`` is printed alongside.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build_demo(folder: Path) -> Path:
    from tests.export_db import build_demo_db

    t = time.perf_counter()
    db = build_demo_db(folder)
    print(f"示例城市数据库：{db}（生成并导入用时 {time.perf_counter() - t:.1f} 秒）")
    return db


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=None, help="existing database (default: build the demo city)")
    ap.add_argument("--year", type=int, default=None)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-briefing-") as tmp:
        db = Path(args.db) if args.db else build_demo(Path(tmp))

        def timed(fn):
            t, c = time.perf_counter(), time.process_time()
            result = fn()
            return result, time.perf_counter() - t, time.process_time() - c

        from_import = timed(lambda: __import__("dashboard.briefing", fromlist=["build_briefing"]))
        briefing = from_import[0]
        first, cold, cold_cpu = timed(lambda: briefing.build_briefing(str(db), year=args.year))
        warm = [timed(lambda: briefing.build_briefing(str(db), year=args.year))[1:] for _ in range(args.runs)]
        xlsx, rect, rect_cpu = timed(lambda: briefing.build_rectification(str(db), year=args.year))

        out = Path(tmp) / "briefing.docx"
        cmd = [sys.executable, "-m", "ingest", "briefing", "--db", str(db), "--out", str(out),
               "--rectification", str(Path(tmp) / "r.xlsx")]
        if args.year:
            cmd += ["--year", str(args.year)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc, cli, _ = timed(lambda: subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cli_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)

    wall = [w for w, _ in warm]
    cpu = [c for _, c in warm]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'':34}{'wall':>8}{'cpu':>8}")
    print(f"{'imports':34}{from_import[1]:8.2f}{from_import[2]:8.2f}")
    print(f"{'briefing, first in process':34}{cold:8.2f}{cold_cpu:8.2f}   ({len(first) / 1e6:.2f} MB)")
    print(f"{f'briefing, warm (median of {len(warm)})':34}{statistics.median(wall):8.2f}{statistics.median(cpu):8.2f}"
          f"   (wall min {min(wall):.2f}, max {max(wall):.2f})")
    print(f"{'整改清单 workbook':30}{rect:8.2f}{rect_cpu:8.2f}   ({len(xlsx) / 1e3:.0f} kB)")
    print(f"{'python -m ingest briefing (both)':34}{cli:8.2f}{cli_cpu:8.2f}   (fresh process, imports included)")
    ok = cold < 5 and statistics.median(wall) < 5
    print("target < 5 s:", "met" if ok else "NOT met")
    return 0 if proc.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
