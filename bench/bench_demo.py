"""Benchmark of the demo generator: the default corpus (``python -m ingest demo``) and scale mode.

    uv run python bench/bench_demo.py                      # default corpus + scale mode with 1,000 units
    uv run python bench/bench_demo.py --units 1000 40000   # scale mode sizes (units × 7 years)
    uv run python bench/bench_demo.py --skip-corpus --units 40000 --keep data/scale-40000.duckdb

Prints wall time per step, render time per format, and for scale mode the counts, seconds, file size and the
time of a few dashboard-style queries on the result.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.demo import generate  # noqa: E402
from ingest.demo.layout import render  # noqa: E402
from ingest.demo.scale import build_scale_db  # noqa: E402

QUERIES = {
    "报告数（按年度）": "SELECT year, count(*) FROM v_reports WHERE status = 'current' GROUP BY 1",
    "指标宽表（一年）": "SELECT count(*), avg(received), sum(errors) FROM v_report_measures WHERE year = 2023",
    "未解决问题（按规则）": "SELECT rule, severity, count(*) FROM v_findings_open GROUP BY ALL",
    "报送状态（全部）": "SELECT status, count(*) FROM v_submission_status GROUP BY 1",
    "一个单位的全部单元格": "SELECT count(*) FROM v_cells WHERE unit_id = (SELECT min(unit_id) FROM units)",
}


def bench_corpus(seed: int) -> None:
    timings: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    original = generate.render

    def timed(report, fmt):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        data = original(report, fmt)
        timings[fmt] += time.perf_counter() - t
        counts[fmt] += 1
        return data

    generate.render = timed
    try:
        t0 = time.perf_counter()
        docs, missing = generate.build_corpus(seed)
        build = time.perf_counter() - t0
    finally:
        generate.render = original
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        generate.run_demo(tmp, seed)
        write = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    print(f"默认示例语料：{len(docs)} 份文档，{len(missing)} 份缺报")
    print(f"  build_corpus（内存中）{build:.2f} s；run_demo（含写盘）{write:.2f} s；共 {size / 1e6:.1f} MB")
    for fmt in sorted(counts):
        print(f"  {fmt:5s} {counts[fmt]:4d} 份  渲染 {timings[fmt]:.2f} s（每份 {1000 * timings[fmt] / counts[fmt]:.1f} ms）")
    rep = docs[0].report
    t0 = time.perf_counter()
    for _ in range(20):
        render(rep, "pdf")
    print(f"  单份 PDF 重复渲染：{1000 * (time.perf_counter() - t0) / 20:.1f} ms")


def bench_scale(units: int, years: int, keep: str | None) -> None:
    import duckdb

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(keep) if keep else Path(tmp) / f"scale-{units}.duckdb"
        info = build_scale_db(db, units=units, years=years)
        print(f"规模模式 {units} 个单位 × {years} 年：{info['reports']} 份报告，{info['cells']} 个单元格，"
              f"{info['findings']} 条问题；用时 {info['seconds']:.1f} s；数据库 {info['bytes'] / 1e6:.0f} MB")
        con = duckdb.connect(str(db), read_only=True)
        try:
            for name, sql in QUERIES.items():
                t0 = time.perf_counter()
                con.execute(sql).fetchall()
                print(f"  查询 {name}：{1000 * (time.perf_counter() - t0):.0f} ms")
        finally:
            con.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--units", type=int, nargs="*", default=[1000])
    ap.add_argument("--years", type=int, default=7)
    ap.add_argument("--skip-corpus", action="store_true")
    ap.add_argument("--keep", help="keep the (last) scale database at this path")
    args = ap.parse_args()
    if not args.skip_corpus:
        bench_corpus(args.seed)
    for n in args.units:
        bench_scale(n, args.years, args.keep)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
