"""Time the briefing export for the demo city (target: under 5 s).

    uv run python bench/bench_briefing.py                    # builds the demo city in a temp folder
    uv run python bench/bench_briefing.py --db data/nianbao.duckdb --year 2025 --runs 5

Measures, in one warm process (as the app's download button runs it): the first briefing (it
starts vl-convert's engine and loads the font), then ``--runs`` further briefings, and the
整改清单 workbook; and the whole ``python -m ingest briefing`` command in a fresh process (as a
scheduled job runs it, imports included).
"""

from __future__ import annotations

import argparse
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

        t = time.perf_counter()
        from dashboard.briefing import build_briefing, build_rectification
        imports = time.perf_counter() - t

        t = time.perf_counter()
        first = build_briefing(str(db), year=args.year)
        cold = time.perf_counter() - t
        warm = []
        for _ in range(args.runs):
            t = time.perf_counter()
            build_briefing(str(db), year=args.year)
            warm.append(time.perf_counter() - t)
        t = time.perf_counter()
        xlsx = build_rectification(str(db), year=args.year)
        rect = time.perf_counter() - t

        out = Path(tmp) / "briefing.docx"
        cmd = [sys.executable, "-m", "ingest", "briefing", "--db", str(db), "--out", str(out),
               "--rectification", str(Path(tmp) / "r.xlsx")]
        if args.year:
            cmd += ["--year", str(args.year)]
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        cli = time.perf_counter() - t
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)

    print(f"imports                          {imports:6.2f} s")
    print(f"briefing, first in process       {cold:6.2f} s   ({len(first) / 1e6:.2f} MB)")
    print(f"briefing, warm (median of {len(warm)})     {statistics.median(warm):6.2f} s   "
          f"(min {min(warm):.2f}, max {max(warm):.2f})")
    print(f"整改清单 workbook                 {rect:6.2f} s   ({len(xlsx) / 1e3:.0f} kB)")
    print(f"python -m ingest briefing (both) {cli:6.2f} s   (fresh process, imports included)")
    ok = cold < 5 and statistics.median(warm) < 5
    print("target < 5 s:", "met" if ok else "NOT met")
    return 0 if proc.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
