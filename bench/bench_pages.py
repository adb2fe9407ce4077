"""Page re-render time of every dashboard page and the memory of a running server.

    uv run python bench/bench_pages.py                       # demo city + national scale (40,000 × 7)
    uv run python bench/bench_pages.py --scale-db /tmp/x.duckdb   # reuse (or create) the national database
    uv run python bench/bench_pages.py --units 5000 --no-server

The CPU time of the benchmark process is printed next to the wall-clock time: on a shared
machine (other jobs on the 2 cores) the wall clock includes waiting for a core.

Re-render time = one ``AppTest`` run of a page right after a sidebar filter changed (the year
range or the region; each change is a new combination, so the query caches miss), i.e. app.py's
sidebar plus the page, as a user experiences a click.  Targets (issue 5): < 100 ms per page at
city scale, < 300 ms at 40,000 units × 7 years, server memory < 500 MB.  Results are printed
and written to bench/out/pages.json.  No asserts: this is a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from dashboard.pages_list import PAGES as PAGE_LIST  # noqa: E402

PAGES = [p.script for p in PAGE_LIST]
URLS = [p.url for p in PAGE_LIST]


def year_ranges(lo: int, hi: int) -> list[tuple[int, int]]:
    """Distinct year ranges (each one misses the caches)."""
    out = [(a, b) for a in range(lo, hi + 1) for b in range(a + 1, hi + 1) if (a, b) != (lo, hi)]
    return out


def bench_db(db: Path, label: str, repeats: int) -> dict:
    from streamlit.testing.v1 import AppTest

    os.environ["NIANBAO_DB"] = str(db)
    t0 = time.perf_counter()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.run()
    first = time.perf_counter() - t0
    if at.exception or at.error:
        raise SystemExit(f"{label}: the app failed: {[e.value for e in at.exception]} {[e.value for e in at.error]}")
    lo, hi = (int(v) for v in (at.sidebar.slider(key="years").min, at.sidebar.slider(key="years").max))
    ranges = year_ranges(lo, hi)
    regions = at.sidebar.multiselect(key="region").options
    result = {"db": str(db), "size_mb": round(db.stat().st_size / 1e6, 1), "first_run_s": round(first, 2), "pages": {}}
    k = 0
    for page in PAGES:
        at.switch_page(page).run()                      # warm the page's own first run
        times, cpu = [], []
        for i in range(repeats):
            rng = ranges[k % len(ranges)]
            k += 1
            at.sidebar.slider(key="years").set_value(rng)
            if i % 2 and regions:
                at.sidebar.multiselect(key="region").set_value([regions[k % len(regions)]])
            else:
                at.sidebar.multiselect(key="region").set_value([])
            t, c = time.perf_counter(), time.process_time()
            at.run()
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
            if at.exception:
                raise SystemExit(f"{label} {page}: {[e.value for e in at.exception]}")
        result["pages"][page] = {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1),
                                 "median_cpu_ms": round(statistics.median(cpu), 1)}
        print(f"  {label:8s} {page:22s} median {statistics.median(times):7.1f} ms   max {max(times):7.1f} ms"
              f"   (CPU time of this process: median {statistics.median(cpu):6.1f} ms)", flush=True)
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process in MB."""
    cur = peak = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            cur = int(line.split()[1]) / 1024
        elif line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return cur, peak


def server_memory(db: Path, label: str) -> dict:
    """Start the real server, visit every page in chromium, report the server's RSS."""
    chromium = shutil.which("chromium")
    if chromium is None:
        return {"skipped": "chromium 未安装，无法在浏览器中访问页面"}
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = dict(os.environ, NIANBAO_DB=str(db))
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=chromium, headless=True,
                                  args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                                        "--disable-background-networking", "--disable-component-update",
                                        "--disable-sync"])
            pg = b.new_page(viewport={"width": 1400, "height": 1200})
            for url in URLS:
                pg.goto(f"{base}/{url}")
                pg.wait_for_selector("h1", timeout=600_000)
                pg.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=600_000)
            b.close()
        cur, peak = _rss_mb(proc.pid)
        print(f"  {label:8s} server RSS after visiting every page: {cur:.0f} MB (peak {peak:.0f} MB)", flush=True)
        return {"rss_mb": round(cur), "peak_rss_mb": round(peak)}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--demo-db", help="use this demo database instead of generating one")
    ap.add_argument("--scale-db", help="national database path (created with build_scale_db when missing)")
    ap.add_argument("--units", type=int, default=40_000)
    ap.add_argument("--years", type=int, default=7)
    ap.add_argument("--repeats", type=int, default=6)
    ap.add_argument("--no-scale", action="store_true")
    ap.add_argument("--no-server", action="store_true")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="nianbao-bench-"))
    report: dict = {}
    if args.demo_db:
        demo = Path(args.demo_db)
    else:
        from tests.app_fixture import build_demo_db

        print("生成并导入示例城市……", flush=True)
        demo = build_demo_db(tmp)
        if demo is None:
            raise SystemExit("示例数据生成器不可用（ingest.demo.generate）")
    print(f"示例城市：{demo}", flush=True)
    report["city"] = bench_db(demo, "city", args.repeats)
    if not args.no_server:
        report["city"]["server"] = server_memory(demo, "city")

    if not args.no_scale:
        try:
            from ingest.demo.scale import build_scale_db
        except ImportError:
            build_scale_db = None
        scale = Path(args.scale_db) if args.scale_db else tmp / "scale.duckdb"
        if not scale.exists():
            if build_scale_db is None:
                print("ingest.demo.scale.build_scale_db 不存在：跳过全国规模的测量", flush=True)
                report["national"] = {"skipped": "ingest.demo.scale.build_scale_db 不存在"}
                scale = None
            else:
                print(f"生成全国规模数据库（{args.units} 个单位 × {args.years} 年，需要几分钟）……", flush=True)
                t = time.perf_counter()
                build_scale_db(scale, units=args.units, years=args.years)
                print(f"  用时 {time.perf_counter() - t:.0f} 秒", flush=True)
        if scale is not None:
            report["national"] = bench_db(scale, "national", args.repeats)
            if not args.no_server:
                report["national"]["server"] = server_memory(scale, "national")

    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "pages.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"结果已写入 {out / 'pages.json'}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
