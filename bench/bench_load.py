"""Load throughput of the store: ``python bench/bench_load.py [--reports 2000] [--files 1000] [--office 20]``.

Three measurements, each into a fresh database in a temp folder:

1. **write path**: N synthetic parse results (both templates, consistent carry-over chains, a
   few injected defects) written with ``load_parsed`` — the same code ``load`` uses after
   parsing — including unit resolution, versions and every check.  Then the same items again
   (all unchanged), and one small batch into the full database (cost of copy-on-write).
2. **end to end, text/HTML**: ``run_load`` on a folder of real-looking documents made from the
   shared samples (泉港镇 text and 平潭 HTML with the unit name and year replaced), parser included.
3. **end to end, DOCX/PDF**: the same for copies of the 平潭 DOCX (unit name replaced inside the
   XML) and PDF (a trailing comment makes each copy a distinct file).

``--folder DIR`` instead measures ``run_load`` on any folder (e.g. ``python -m ingest demo``).
Figures go to stdout and to ``bench/out/bench_load.json``.  No assertions: this is a measurement.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.store.loader import load_files, load_parsed  # noqa: E402
from ingest.store.writer import FileItem  # noqa: E402
from tests.store_helpers import SAMPLES, make_result  # noqa: E402

CHARS = "东南西北中上下金木水火土山川河湖田林石桥安平兴和新龙凤云白青红黄"


def unit_names(n: int) -> list[str]:
    return [f"{CHARS[i // len(CHARS) % len(CHARS)]}{CHARS[i % len(CHARS)]}{'镇乡'[i % 2]}" for i in range(n)]


def synthetic_items(n: int) -> list[FileItem]:
    """n parse results: n // 5 units × 2019…2023, carry-over chains intact, 2 % with an injected defect."""
    units = unit_names(max(1, n // 5))
    items: list[FileItem] = []
    for i, u in enumerate(units):
        prev = None
        for y in range(2019, 2024):
            if len(items) >= n:
                break
            over = {"s3.carried_over.natural": 99} if (i * 5 + y) % 50 == 0 else None
            prev = make_result(unit=u, region="测试县", year=y, prev=prev, overrides=over)
            data = json.dumps(prev, ensure_ascii=False, sort_keys=True).encode()
            items.append(FileItem(f"/bench/{u}-{y}.txt", hashlib.sha256(data).hexdigest(), result=prev))
    return items


def size_mb(p: Path) -> float:
    return p.stat().st_size / 1048576


def bench_write(n: int, tmp: Path) -> dict:
    items = synthetic_items(n)
    db = tmp / "write.duckdb"
    t, c = time.perf_counter(), time.process_time()
    s = load_parsed(db, items)
    first, cpu = time.perf_counter() - t, time.process_time() - c
    assert s.counts()["loaded"] == len(items)
    phases = {k: round(v, 3) for k, v in s.timings.items()}
    t = time.perf_counter()
    s = load_parsed(db, items)
    again = time.perf_counter() - t
    assert s.counts()["unchanged"] == len(items)
    extra = synthetic_items(n + 25)[n:]
    t = time.perf_counter()
    load_parsed(db, extra)
    small = time.perf_counter() - t
    return {"reports": len(items), "seconds": round(first, 3), "reports_per_s": round(len(items) / first, 1),
            "cpu_s": round(cpu, 3), "phases_s": phases,
            "reload_unchanged_s": round(again, 3), f"add_{len(extra)}_to_full_db_s": round(small, 3),
            "db_mb": round(size_mb(db), 2)}


def make_text_html(folder: Path, n: int) -> None:
    quangang = (SAMPLES / "quangang-2020.txt").read_text(encoding="utf-8")
    pingtan = (SAMPLES / "pingtan-2023.html").read_bytes().decode("utf-8")
    names = unit_names(n)
    for i in range(n):
        u = names[i]
        if i % 2 == 0:
            y = 2019 + (i // 2) % 2
            text = quangang.replace("泉港镇", u).replace("2020", str(y)).replace("2021", str(y + 1))
            (folder / f"{u}-{y}.txt").write_text(text, encoding="utf-8")
        else:
            y = 2021 + (i // 2) % 3
            page = pingtan.replace("平潭综合实验区", u).replace("2023年", f"{y}年").replace("2024年", f"{y + 1}年")
            (folder / f"{u}-{y}.html").write_text(page, encoding="utf-8")


def make_office(folder: Path, n: int) -> None:
    docx = SAMPLES / "pingtan-2023.docx"
    pdf = (SAMPLES / "pingtan-2023.pdf").read_bytes()
    names = unit_names(n)
    for i in range(n):
        if i % 2 == 0:
            out = folder / f"{names[i]}.docx"
            with zipfile.ZipFile(docx) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
                for item in zin.infolist():
                    data = zin.read(item.filename)
                    if item.filename == "word/document.xml":
                        data = data.decode("utf-8").replace("平潭综合实验区", names[i]).encode("utf-8")
                    zout.writestr(item, data)
        else:
            (folder / f"{names[i]}.pdf").write_bytes(pdf + f"\n% copy {i}\n".encode())


def bench_folder(folder: Path, db: Path, label: str) -> dict:
    files = [p for p in folder.rglob("*") if p.is_file()]
    t, c = time.perf_counter(), time.process_time()
    s = load_files([str(folder)], db, progress=False)
    secs, cpu = time.perf_counter() - t, time.process_time() - c
    return {"label": label, "files": len(files), "seconds": round(secs, 3),
            "files_per_s": round(len(files) / secs, 1), "main_process_cpu_s": round(cpu, 3),
            "db_mb": round(size_mb(db), 2),
            "phases_s": {k: round(v, 3) for k, v in s.timings.items()},
            "outcomes": dict(s.counts()), "findings": s.findings}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=2000, help="synthetic parse results for the write path")
    ap.add_argument("--files", type=int, default=1000, help="text/HTML documents end to end (0: skip)")
    ap.add_argument("--office", type=int, default=20, help="DOCX/PDF documents end to end (0: skip)")
    ap.add_argument("--folder", default=None, help="measure run_load on this folder only")
    args = ap.parse_args()
    results: dict = {"cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="bench_load_") as t:
        tmp = Path(t)
        if args.folder:
            results["folder"] = bench_folder(Path(args.folder), tmp / "folder.duckdb", args.folder)
        else:
            results["write_path"] = bench_write(args.reports, tmp)
            print("write path:", json.dumps(results["write_path"], ensure_ascii=False), flush=True)
            if SAMPLES.is_dir() and args.files:
                (tmp / "th").mkdir()
                make_text_html(tmp / "th", args.files)
                results["text_html"] = bench_folder(tmp / "th", tmp / "th.duckdb", "text/html")
                print("text/html:", json.dumps(results["text_html"], ensure_ascii=False), flush=True)
                shutil.rmtree(tmp / "th")
            if SAMPLES.is_dir() and args.office:
                (tmp / "of").mkdir()
                make_office(tmp / "of", args.office)
                results["docx_pdf"] = bench_folder(tmp / "of", tmp / "of.duckdb", "docx/pdf")
                print("docx/pdf:", json.dumps(results["docx_pdf"], ensure_ascii=False), flush=True)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "bench_load.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.folder:
        print(json.dumps(results, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
