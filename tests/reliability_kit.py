"""Shared pieces of the reliability tests and benchmarks (issue 7): the demo corpus, real CLI loads.

The corpus is the synthetic demo city (``python -m ingest demo``: 4 counties, 30 townships, 7 years,
text/HTML/DOCX/PDF), generated once per test session into pytest's temp folder.  Loads run as
``python -m ingest load`` in a subprocess of their own session (so SIGKILL reaches the parse
workers too), exactly as a user runs them.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ingest.demo.city import CITY

ROOT = Path(__file__).resolve().parent.parent
BEFORE_COUNTY = "云岭区"      # loaded before the load under test (the "prior content")
SLICE_COUNTY = "星渚县"       # the load under test takes a few townships of this county
SLICE_UNITS = 3              # × 7 years, one PDF kept: 18 files (the parse pool starts at 8)
TRACEBACK = "Traceback (most recent call last)"


def demo_corpus(base: Path) -> Path:
    """The demo city's folder under ``base`` (generated on first use; same seed, same bytes)."""
    from ingest.demo.generate import run_demo

    city = base / "demo" / CITY
    if not city.is_dir():
        with contextlib.redirect_stderr(io.StringIO()):
            assert run_demo(out=str(base / "demo")) == 0
    return city


def county(city: Path, name: str) -> Path:
    return city / name


def unit_slice(city: Path, name: str = SLICE_COUNTY, n: int = SLICE_UNITS, max_pdf: int = 1) -> list[Path]:
    """The report files of the first ``n`` townships of a county (sorted: always the same slice), with at
    most ``max_pdf`` PDFs (a PDF takes ~0.5 s to parse, the other formats ~0.02 s: the slice keeps every
    format but stays quick to load many times)."""
    files: list[Path] = []
    pdfs = 0
    for unit in sorted(p for p in (city / name).iterdir() if p.is_dir())[:n]:
        for f in sorted(unit.iterdir()):
            if f.suffix == ".pdf":
                pdfs += 1
                if pdfs > max_pdf:
                    continue
            files.append(f)
    return files


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("NIANBAO_DB", None)
    return env


def cli_load_cmd(db: Path, paths: list[Path]) -> list[str]:
    return [sys.executable, "-m", "ingest", "load", *map(str, paths), "--db", str(db)]


def _default_sigint() -> None:
    # a job started in the background of a non-interactive shell inherits SIGINT ignored, and Python then
    # keeps ignoring it: give the load the disposition it has in a terminal, so Ctrl-C trials mean something
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_cli_load(db: Path, paths: list[Path]) -> subprocess.Popen:
    """``python -m ingest load PATHS --db DB`` in its own process group (killpg reaches its workers)."""
    return subprocess.Popen(cli_load_cmd(db, paths), cwd=ROOT, env=cli_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True, preexec_fn=_default_sigint)


def cli_load(db: Path, paths: list[Path], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(cli_load_cmd(db, paths), cwd=ROOT, env=cli_env(), capture_output=True, text=True,
                          timeout=timeout)


def load_here(db: Path, paths: list[Path]) -> int:
    """The same load in this process (faster: no interpreter start); returns the exit status."""
    from ingest.store.loader import run_load

    return run_load([str(p) for p in paths], db_path=str(db), progress=False, out=io.StringIO(),
                    err=io.StringIO())


# ---------------------------------------------------------------- SIGKILL trials

@dataclass
class Trial:
    mode: str           # "anytime" | "in_write"
    at: float           # seconds after the start when the signal was sent (or when the load finished)
    hit: bool           # False: the load finished before the signal
    code: int | None    # exit status
    err: str            # stderr of the load


def interrupt_trial(db: Path, paths: list[Path], rng, window: float, mode: str,
                    sig: signal.Signals = signal.SIGKILL) -> Trial:
    """Start a real load into ``db`` and send ``sig`` to it and its parse workers at a random moment.

    ``mode`` "anytime": a random moment within ``window`` seconds of the start (interpreter start-up
    and imports included); "in_write": a random moment after the load's copy-on-write session began
    (its temp copy exists), i.e. while it copies, parses, writes, checks or swaps.
    """
    import time

    from ingest.store.db import temp_glob

    p = start_cli_load(db, paths)
    t0 = time.monotonic()
    if mode == "in_write":
        while not temp_glob(db) and p.poll() is None and time.monotonic() - t0 < 120:
            time.sleep(0.002)
        began = time.monotonic() - t0
        deadline = t0 + began + rng.uniform(0.0, 0.9) * max(0.05, window - began)
    else:
        deadline = t0 + rng.uniform(0.02, 0.95) * window
    while p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    at = time.monotonic() - t0
    hit = p.poll() is None
    if hit:
        os.killpg(p.pid, sig)
    _, err = p.communicate(timeout=120)
    return Trial(mode, at, hit, p.returncode, err.decode("utf-8", "replace"))
