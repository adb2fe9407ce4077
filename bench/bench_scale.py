"""Scale benchmark (issue 7): the demo generator's scale mode at 1,000, 10,000 and 40,000 units × 7 years.

    uv run python bench/bench_scale.py                      # all three sizes (40,000 × 7 builds in minutes)
    uv run python bench/bench_scale.py --units 1000 10000   # some sizes only
    uv run python bench/bench_scale.py --no-server --no-load

For each size it reports how these grow:

* **build**: ``ingest.demo.scale.build_scale_db`` (reports, cells and findings straight into the schema),
  seconds and database size.  Databases are cached in ``bench/out/scale-<units>x<years>.duckdb`` (with the
  build figures beside them in ``.json``) and reused; ``--rebuild`` makes them again.
* **load**: one ``python -m ingest load``-style write into the big database (``load_parsed`` of 5 reports
  into a copy): the cost of copy-on-write plus re-running every check over all current reports; and one
  review mark (``set_review``: copy-on-write, no checks).
* **pages**: every page's re-render time after a sidebar filter change (``bench/bench_pages.py``'s
  ``bench_db``: one ``AppTest`` run, new year range / region each time, median of ``--repeats``), in a fresh
  child process per size; and that process's peak memory (``VmHWM``: the AppTest process holds the whole
  app, so it is an upper bound of a server with one session).
* **server**: resident memory of a real ``streamlit run`` server after a headless chromium visited every
  page (``bench_pages.server_memory``; skipped without chromium or with ``--no-server``).

Targets: re-render < 300 ms per page and app memory < 500 MB at 40,000 × 7.  Results: stdout and
``bench/out/scale.json``.  No asserts: this is a measurement (the machine may be shared; CPU time is given
beside wall time where it is measured).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

SIZES = (1_000, 10_000, 40_000)
PAGE_NAMES = {"pages/overview.py": "总览", "pages/volume.py": "申请量", "pages/outcomes.py": "办理结果",
              "pages/procurement.py": "政府采购", "pages/trends.py": "年度趋势", "pages/findings.py": "一致性预警",
              "pages/report.py": "报告详情", "pages/data.py": "数据管理"}


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def scale_db(units: int, years: int, rebuild: bool) -> tuple[Path, dict]:
    """The cached database of this size and its build figures (built when missing)."""
    from ingest.demo.scale import build_scale_db

    db = OUT / f"scale-{units}x{years}.duckdb"
    meta = db.with_suffix(".json")
    if db.exists() and meta.exists() and not rebuild:
        info = json.loads(meta.read_text(encoding="utf-8"))
        info["reused"] = True
        return db, info
    print(f"  生成 {units:,} 个单位 × {years} 年……", flush=True)
    t, c = time.perf_counter(), time.process_time()
    info = build_scale_db(db, units=units, years=years)
    info = {k: v for k, v in info.items() if isinstance(v, int | float | str)}
    info.update({"build_s": round(time.perf_counter() - t, 1), "build_cpu_s": round(time.process_time() - c, 1),
                 "size_mb": round(db.stat().st_size / 1e6, 1), "units": units, "years": years})
    meta.write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
    info["reused"] = False
    return db, info


def count(db: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                for t in ("units", "reports", "cells", "findings")}
    finally:
        con.close()


def small_load(db: Path) -> dict:
    """Seconds of a 5-report load into a copy of ``db`` (copy-on-write + every check over all reports)."""
    import duckdb

    from ingest.store.loader import load_parsed
    from ingest.store.review import set_review
    from tests.store_helpers import item_for, make_result

    work = db.with_name(db.stem + ".loadtest.duckdb")
    shutil.copyfile(db, work)
    try:
        items = [item_for(make_result(unit=f"测试{i}镇", region="基准县", year=2023)) for i in range(5)]
        t, c = time.perf_counter(), time.process_time()
        summary = load_parsed(work, items, paths=["/bench/scale"])
        out = {"load_s": round(time.perf_counter() - t, 1), "load_cpu_s": round(time.process_time() - c, 1),
               "phases_s": {k: round(v, 2) for k, v in summary.timings.items()}}
        con = duckdb.connect(str(work), read_only=True)
        fid = con.execute("SELECT finding_id FROM findings ORDER BY finding_id LIMIT 1").fetchall()[0][0]
        con.close()
        t = time.perf_counter()
        set_review(str(work), fid, "confirmed", "基准测试", "bench")
        out["review_s"] = round(time.perf_counter() - t, 1)
        return out
    finally:
        for p in work.parent.glob(work.name + "*"):
            p.unlink()


def child_pages(db: str, label: str, repeats: int) -> None:
    """Run in a fresh process: page re-render times and this process's peak memory, as one JSON line."""
    import logging

    import bench_pages

    logging.disable(logging.WARNING)
    result = bench_pages.bench_db(Path(db), label, repeats)
    result["apptest_peak_rss_mb"] = round(peak_rss_mb())
    print("RESULT " + json.dumps(result, ensure_ascii=False), flush=True)


def pages_in_child(db: Path, label: str, repeats: int) -> dict:
    cmd = [sys.executable, __file__, "--child", str(db), "--label", label, "--repeats", str(repeats)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
        print(line, flush=True)
    raise SystemExit(f"页面测量失败（{label}）：{proc.stderr[-2000:]}")


def code_version() -> str:
    """The commit measured, and whether the app's code had uncommitted changes."""
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    dirty = git("status", "--porcelain", "--", "app.py", "pages", "dashboard", "ingest")
    return git("rev-parse", "--short", "HEAD") + (" + uncommitted changes" if dirty else "")


def table(rows: list[dict]) -> str:
    heads = ["单位 × 年", "报告", "单元格", "生成 s", "库 MB", "入库 5 份 s", "审核 1 条 s", "首次打开 s",
             *PAGE_NAMES.values(), "最慢页 ms", "AppTest 峰值 MB", "服务器 MB"]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for r in rows:
        pages = r.get("pages", {}).get("pages", {})
        med = [pages.get(p, {}).get("median_ms") for p in PAGE_NAMES]
        server = r.get("server", {})
        cells = [f"{r['units']:,} × {r['years']}", f"{r['counts']['reports']:,}", f"{r['counts']['cells']:,}",
                 f"{r['build']['build_s']:.0f}", f"{r['build']['size_mb']:.0f}",
                 f"{r['load']['load_s']:.1f}" if r.get("load") else "—",
                 f"{r['load']['review_s']:.1f}" if r.get("load", {}).get("review_s") is not None else "—",
                 f"{r['pages']['first_run_s']:.1f}" if r.get("pages") else "—",
                 *[f"{m:.0f}" if m is not None else "—" for m in med],
                 f"{max(m for m in med if m is not None):.0f}" if any(m is not None for m in med) else "—",
                 f"{r['pages']['apptest_peak_rss_mb']}" if r.get("pages") else "—",
                 f"{server['rss_mb']} (峰值 {server['peak_rss_mb']})" if "rss_mb" in server else "—"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--years", type=int, default=7)
    ap.add_argument("--repeats", type=int, default=4)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--no-server", action="store_true")
    ap.add_argument("--no-load", action="store_true")
    ap.add_argument("--no-pages", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--label", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child_pages(args.child, args.label, args.repeats)
        return 0

    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.units:
        label = f"{n // 1000}k×{args.years}"
        print(f"== {n:,} 个单位 × {args.years} 年", flush=True)
        db, build = scale_db(n, args.years, args.rebuild)
        row: dict = {"units": n, "years": args.years, "db": str(db), "build": build, "counts": count(db)}
        print(f"  生成 {build['build_s']} 秒{'（沿用已生成的数据库）' if build.get('reused') else ''}，"
              f"{build['size_mb']} MB，报告 {row['counts']['reports']:,} 份，单元格 {row['counts']['cells']:,} 个",
              flush=True)
        if not args.no_load:
            row["load"] = small_load(db)
            print(f"  入库 5 份报告：{row['load']['load_s']} 秒 {row['load']['phases_s']}；"
                  f"审核 1 条：{row['load']['review_s']} 秒", flush=True)
        if not args.no_pages:
            row["pages"] = pages_in_child(db, label, args.repeats)
            print(f"  首次打开 {row['pages']['first_run_s']} 秒；AppTest 进程峰值内存 "
                  f"{row['pages']['apptest_peak_rss_mb']} MB", flush=True)
        if not args.no_server:
            import bench_pages

            row["server"] = bench_pages.server_memory(db, label)
        rows.append(row)
        (OUT / "scale.json").write_text(json.dumps({"rows": rows, "load_average": os.getloadavg(),
                                                    "code": code_version()}, ensure_ascii=False, indent=1),
                                        encoding="utf-8")
    print()
    print(table(rows))
    print(f"\n结果已写入 {OUT / 'scale.json'}（机器负载 {os.getloadavg()[0]:.1f}，{os.cpu_count()} 核）")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
