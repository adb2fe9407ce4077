"""Reader throughput: ``ingest.sniff.read_document`` alone (bytes → Document), per format.

Targets (issue 2, per process on a 2-core machine): HTML well above 500/s, DOCX ≥ 100/s,
PDF ≥ 10/s for realistic 2–5 page reports.  Inputs:

* the real samples ../shared/samples/pingtan-2023.{html,docx,pdf} when present (a whole saved
  web page with site chrome; the PDF is a 7-page browser print of it);
* synthetic reports rendered by the demo generator (ingest.demo) in both templates: a typical
  township report, 2 PDF pages.

Files are read into memory first, so the figures exclude disk I/O.  Single process; docs/s is
wall-clock, "cpu docs/s" divides by the process's CPU time (closer to an idle machine's figure).

    uv run python bench/bench_readers.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.sniff import read_document  # noqa: E402

FORMATS = ("html", "docx", "pdf")


def real_inputs() -> dict[str, list[tuple[str, bytes]]]:
    samples = ROOT.parent / "shared" / "samples"
    out: dict[str, list[tuple[str, bytes]]] = {f: [] for f in FORMATS}
    if not samples.is_dir():
        print(f"(no real samples: {samples} not found)")
        return out
    for fmt in FORMATS:
        for path in sorted(samples.glob(f"*.{fmt}")):
            out[fmt].append((path.name, path.read_bytes()))
    return out


def synthetic_inputs(n: int = 6) -> dict[str, list[tuple[str, bytes]]]:
    out: dict[str, list[tuple[str, bytes]]] = {f: [] for f in FORMATS}
    try:
        from ingest.demo.layout import render
        from tests.reportkit import base_report
    except ImportError as exc:   # the demo generator is someone else's module: degrade, don't die
        print(f"(no synthetic inputs: {exc})")
        return out
    for i in range(n):
        template = "2019" if i % 2 else "2021"
        rep = base_report(template, unit=f"样本{i}镇")
        for fmt in FORMATS:
            out[fmt].append((f"demo-{template}-{i}.{fmt}", render(rep, fmt)))
    return out


def pdf_pages(data: bytes) -> int:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return len(pdf.pages)


def measure(docs: list[tuple[str, bytes]], seconds: float) -> tuple[int, float, float]:
    """Parse the documents round-robin for about ``seconds``; return (count, wall, cpu seconds).

    CPU time is printed too because on a shared machine wall time also counts waiting for a core.
    """
    for name, data in docs:            # warm-up: imports, CMap loading, first-call caches
        read_document(data, name)
    count = 0
    start = time.perf_counter()
    cpu_start = time.process_time()
    while True:
        for name, data in docs:
            read_document(data, name)
            count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count, elapsed, time.process_time() - cpu_start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=3.0, help="time budget per format and input set")
    args = ap.parse_args()

    sets = {"real": real_inputs(), "synthetic": synthetic_inputs()}
    print(f"{'inputs':<10} {'format':<6} {'files':>5} {'pages':>6} {'docs/s':>8} {'ms/doc':>8} "
          f"{'ms/page':>8} {'cpu docs/s':>11}")
    for label, inputs in sets.items():
        for fmt in FORMATS:
            docs = inputs[fmt]
            if not docs:
                continue
            count, elapsed, cpu = measure(docs, args.seconds)
            per_doc = elapsed / count * 1000
            pages = ""
            per_page = ""
            if fmt == "pdf":
                n_pages = sum(pdf_pages(d) for _, d in docs) / len(docs)
                pages = f"{n_pages:.1f}"
                per_page = f"{per_doc / n_pages:.0f}"
            print(f"{label:<10} {fmt:<6} {len(docs):>5} {pages:>6} {count / elapsed:>8.1f} {per_doc:>8.1f} "
                  f"{per_page:>8} {count / cpu:>11.1f}")


if __name__ == "__main__":
    main()
