"""Parse throughput per input format (issue 2 targets on a 2-core machine: text and HTML ≥ 500/s,
DOCX ≥ 100/s, PDF ≥ 10/s; .doc, converted by LibreOffice, has none).

Inputs: realistic synthetic reports rendered by the demo generator in every format (both templates,
noise on), plus the real samples in ../shared/samples when present.  Each format is parsed by a pool
of one worker per core, set up and fed in chunks the way `ingest load` parses a batch, and timed
end to end; single-process figures are printed too.

    uv run python bench/bench_parse.py [--n 200] [--formats html text]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.demo.layout import EXTENSIONS, render  # noqa: E402
from ingest.parse import parse_file  # noqa: E402
from ingest.store.loader import chunk_size, worker_init  # noqa: E402
from tests.reportkit import base_report  # noqa: E402

FORMATS = {"text": ("text", "pipe"), "html": ("html",), "docx": ("docx",), "pdf": ("pdf",), "doc": ("docx",)}
# .doc inputs are the .docx renderings saved as Word 97 by LibreOffice (one soffice run for all)
CONVERTED = {"doc": "doc:MS Word 97"}


def _save_as(paths: list[Path], target: str) -> list[Path]:
    import subprocess

    from ingest.readers.office import soffice

    folder = paths[0].parent
    profile = folder / "lo-profile"
    subprocess.run([soffice(), "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
                    "--convert-to", target, "--outdir", str(folder), *map(str, paths)],
                   check=True, capture_output=True)
    ext = target.split(":")[0]
    return [p.with_suffix(f".{ext}") for p in paths]


def make_inputs(folder: Path, n: int, formats: list[str] | None = None) -> dict[str, list[Path]]:
    import random

    rng = random.Random(7)
    shared = ROOT.parent / "shared" / "samples"
    out: dict[str, list[Path]] = {k: [] for k in formats or FORMATS}
    for fmt in out:
        variants = FORMATS[fmt]
        for i in range(n):
            template = "2019" if i % 3 == 0 else "2021"
            rep = base_report(template, unit=f"样本{i % 37}镇")
            for k in list(rep.cells):
                if k.startswith("s2.") and not k.endswith("amount"):
                    rep.cells[k] = str(rng.randint(0, 40))
            variant = variants[i % len(variants)]
            p = folder / f"{fmt}-{i}{EXTENSIONS[variant]}"
            p.write_bytes(render(rep, variant))
            out[fmt].append(p)
        if fmt in CONVERTED:
            out[fmt] = _save_as(out[fmt], CONVERTED[fmt])
            continue
        if shared.is_dir():
            real = [p for p in shared.glob("*") if p.suffix.lstrip(".") in ({"text": "txt"}.get(fmt, fmt),)]
            out[fmt] += real * max(1, n // 20)
        rng.shuffle(out[fmt])           # a batch folder mixes its files; the big real pages are not all last
    return out


def _parse_ok(path: str) -> bool:
    return bool(parse_file(path)["cells"])


def _warm(sample: str) -> None:
    """Import every reader and parse one file, as a parser in the middle of a long batch has."""
    import importlib

    for fmt in ("text", "html", "docx", "pdf", "office"):
        importlib.import_module(f"ingest.readers.{fmt}")
    _parse_ok(sample)


def _warm_worker(sample: str) -> None:
    """Pool worker start-up: the loader's worker set-up, then :func:`_warm`."""
    worker_init()
    _warm(sample)


def bench(paths: list[Path], workers: int) -> float:
    if workers == 1:
        _warm(str(paths[0]))
        t = time.perf_counter()
        for p in paths:
            _parse_ok(str(p))
        return len(paths) / (time.perf_counter() - t)
    with ProcessPoolExecutor(workers, initializer=_warm_worker, initargs=(str(paths[0]),)) as pool:
        list(pool.map(_parse_ok, map(str, paths[:workers * 2])))       # wait until the workers are up
        t = time.perf_counter()
        results = list(pool.map(_parse_ok, map(str, paths), chunksize=chunk_size(len(paths), workers)))
        dt = time.perf_counter() - t
    assert all(results)
    return len(paths) / dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3,
                    help="timed rounds per format; the median and the best are printed (a shared VM's "
                         "neighbours make single rounds vary by ±30%%)")
    ap.add_argument("--formats", nargs="+", choices=list(FORMATS), default=None,
                    help="only these formats (default: all; doc only where LibreOffice is installed)")
    args = ap.parse_args()
    if args.formats is None:
        from ingest.readers.office import soffice

        args.formats = [f for f in FORMATS if f not in CONVERTED or soffice()]
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        inputs = make_inputs(Path(tmp), args.n, args.formats)
        for p in next(iter(inputs.values()))[:3]:
            parse_file(p)
        print(f"reports/s, median (best) of {args.rounds} rounds")
        print(f"{'format':6} {'files':>6} {'1 process':>14} {f'{cores} processes':>14}  target")
        targets = {"text": 500, "html": 500, "docx": 100, "pdf": 10}       # no target set for .doc
        for fmt, paths in inputs.items():
            paths = paths if fmt not in ("pdf", "doc") else paths[: max(20, args.n // 4)]
            single = [bench(paths, 1) for _ in range(args.rounds)]
            multi = [bench(paths, cores) for _ in range(args.rounds)]
            print(f"{fmt:6} {len(paths):6d} {_fmt(single):>14} {_fmt(multi):>14}  {f'≥ {targets[fmt]}' if fmt in targets else '—'}", flush=True)


def _fmt(rates: list[float]) -> str:
    digits = 1 if statistics.median(rates) < 10 else 0
    return f"{statistics.median(rates):.{digits}f} ({max(rates):.{digits}f})"


if __name__ == "__main__":
    main()
