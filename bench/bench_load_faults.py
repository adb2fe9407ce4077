"""Faults survived: a larger run of the failure cases of tests/test_reliability_load.py, with a summary.

    uv run python bench/bench_load_faults.py                 # 50 SIGKILLs, 10 Ctrl-Cs, full disk, 7 damaged files
    uv run python bench/bench_load_faults.py --kills 200 --seed 3

The load under test is a real ``python -m ingest load`` of 18 reports of the demo city (text, HTML, DOCX,
one PDF; real parser and its worker pool) into a database that already holds another county.

* **SIGKILL** (the load and its workers) and **SIGINT** (Ctrl-C to the process group) at seeded random
  moments, half of them after the copy-on-write session began.  Each time: the database opens and is
  byte for byte the database before the load, or (interrupted after the swap) exactly the complete load;
  then the same load is run again and must give exactly the complete load, with no temp files left.
* **SIGKILL inside the swap**: the load kills itself just before and just after ``os.replace`` (the test-only
  ``NIANBAO_TEST_KILL_AT`` hook of ``ingest.store.db``); the same checks as above.
* **Symlinked database path**: ``--db`` is a symlink to a file in another folder; the load must update the
  target, keep the symlink, and leave no stray file in either folder.
* **Full disk**: ENOSPC injected at three places (copy, DuckDB write, fsync) and, as root, a real tiny tmpfs
  (the copy does not fit / the copy fits but the new reports do not).
* **Damaged database files** (truncated, random bytes, empty, text, a DOCX, damaged header, damaged data
  blocks): the load refuses with one Chinese message and the file is unchanged.

Summary on stdout and in ``bench/out/load_faults.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.store.db import temp_glob  # noqa: E402
from ingest.store.loader import run_load  # noqa: E402
from tests.reliability_kit import (  # noqa: E402
    BEFORE_COUNTY,
    TRACEBACK,
    cli_env,
    cli_load,
    cli_load_cmd,
    county,
    demo_corpus,
    interrupt_trial,
    load_here,
    unit_slice,
)
from tests.store_helpers import digest, file_sha  # noqa: E402
from tests.test_reliability_load import CORRUPTIONS, _fake_checks, _fake_fsync, _fake_full_copy  # noqa: E402


def opens(db: Path) -> bool:
    from ingest.store.db import connect_readonly

    try:
        con = connect_readonly(db)
        try:
            con.execute("SELECT count(*) FROM reports").fetchall()
        finally:
            con.close()
        return True
    except Exception:
        return False


def run_trials(n: int, sig: signal.Signals, s: dict, rng: random.Random) -> dict:
    window = s["duration"]
    out = {"signal": sig.name, "interrupted": 0, "before": 0, "after": 0, "damaged": 0, "rerun_complete": 0,
           "finished_first": 0, "exit_codes": {}, "kill_times_s": []}
    attempts = 0
    while out["interrupted"] < n and attempts < 3 * n:
        attempts += 1
        db = s["base"] / f"{sig.name.lower()}{attempts}.duckdb"
        shutil.copyfile(s["before"], db)
        mode = "in_write" if attempts % 2 == 0 else "anytime"
        trial = interrupt_trial(db, s["paths"], rng, window, mode, sig)
        mode, at, hit = trial.mode, trial.at, trial.hit
        if not hit:
            out["finished_first"] += 1
            window = min(window, at)
            db.unlink()
            continue
        out["interrupted"] += 1
        out["kill_times_s"].append(round(at, 2))
        if sig != signal.SIGKILL:
            status, last = str(trial.code), (trial.err.strip().splitlines() or [""])[-1][:160]
            out["exit_codes"][status] = out["exit_codes"].get(status, 0) + 1
            out.setdefault("last_lines", {}).setdefault(status, []).append(last)
        if opens(db) and file_sha(db) == s["before_sha"]:
            out["before"] += 1
        elif opens(db) and digest(db) == s["after_digest"]:
            out["after"] += 1
        else:
            out["damaged"] += 1
        if load_here(db, s["paths"]) == 0 and digest(db) == s["after_digest"] and temp_glob(db) == []:
            out["rerun_complete"] += 1
        for p in db.parent.glob(db.name + "*"):
            if p.is_file():
                p.unlink()
        print(f"  {sig.name} {out['interrupted']:3d}: {mode:8s} at {at:5.2f} s → "
              f"before {out['before']}, complete {out['after']}, damaged {out['damaged']}", flush=True)
    return out


def swap_window(n: int, s: dict) -> dict:
    out = {}
    for where in ("before_replace", "after_replace"):
        row = {"killed": 0, "before": 0, "after": 0, "damaged": 0, "rerun_complete": 0}
        for i in range(n):
            db = s["base"] / f"swap-{where}-{i}.duckdb"
            shutil.copyfile(s["before"], db)
            done = subprocess.run(cli_load_cmd(db, s["paths"]), cwd=ROOT, capture_output=True, text=True,
                                  env={**cli_env(), "NIANBAO_TEST_KILL_AT": where}, timeout=300)
            row["killed"] += done.returncode == -signal.SIGKILL
            if opens(db) and file_sha(db) == s["before_sha"]:
                row["before"] += 1
            elif opens(db) and digest(db) == s["after_digest"]:
                row["after"] += 1
            else:
                row["damaged"] += 1
            if load_here(db, s["paths"]) == 0 and digest(db) == s["after_digest"] and temp_glob(db) == []:
                row["rerun_complete"] += 1
            for p in db.parent.glob(db.name + "*"):
                if p.is_file():
                    p.unlink()
        out[where] = row
        print(f"  swap kill {where}: {row}", flush=True)
    return out


def symlinked(s: dict) -> dict:
    disk, here = s["base"] / "other-disk", s["base"] / "link-folder"
    disk.mkdir()
    here.mkdir()
    target, link = disk / "real.duckdb", here / "nianbao.duckdb"
    shutil.copyfile(s["before"], target)
    link.symlink_to(target)
    done = cli_load(link, s["paths"])
    row = {"exit": done.returncode, "still_symlink": link.is_symlink() and link.resolve() == target,
           "target_complete": opens(target) and digest(target) == s["after_digest"],
           "reads_through_link": opens(link) and digest(link) == s["after_digest"],
           "link_folder": sorted(p.name for p in here.iterdir()), "target_folder": sorted(p.name for p in disk.iterdir())}
    row["ok"] = (row["exit"] == 0 and row["still_symlink"] and row["target_complete"] and row["reads_through_link"]
                 and row["link_folder"] == [link.name] and row["target_folder"] == [target.name, target.name + ".lock"])
    print(f"  symlinked --db: {row}", flush=True)
    return row


def full_disk(s: dict) -> list[dict]:
    import unittest.mock as mock

    rows = []
    for where, target, fake in [("copy", "ingest.store.db.shutil.copyfile", _fake_full_copy),
                                ("duckdb-write", "ingest.store.loader.run_checks", _fake_checks),
                                ("fsync", "ingest.store.db._fsync_file", _fake_fsync)]:
        db = s["base"] / f"full-{where}.duckdb"
        shutil.copyfile(s["before"], db)
        err = io.StringIO()
        with mock.patch(target, fake):
            code = run_load([str(p) for p in s["small"]], db_path=str(db), progress=False, out=io.StringIO(), err=err)
        rows.append({"case": f"ENOSPC injected: {where}", "exit": code, "intact": file_sha(db) == s["before_sha"],
                     "temp_left": len(temp_glob(db)), "message": err.getvalue().strip()[:120],
                     "plain": "磁盘空间不足" in err.getvalue() and TRACEBACK not in err.getvalue()})
    if os.geteuid() == 0 and shutil.which("mount"):
        size = s["before"].stat().st_size
        for case, room in [("tmpfs: copy does not fit", size + 512 * 1024),
                           ("tmpfs: copy fits, write does not", 2 * size + 128 * 1024)]:
            fs = Path(tempfile.mkdtemp(prefix="nianbao-fs-"))
            if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={room}", "tmpfs", str(fs)],
                              capture_output=True).returncode != 0:
                rows.append({"case": case, "skipped": "mount failed"})
                continue
            try:
                db = fs / "nianbao.duckdb"
                shutil.copyfile(s["before"], db)
                done = cli_load(db, s["paths"])
                rows.append({"case": case, "exit": done.returncode, "intact": file_sha(db) == s["before_sha"],
                             "temp_left": len(temp_glob(db)), "message": done.stderr.strip()[:120],
                             "plain": "磁盘空间不足" in done.stderr and TRACEBACK not in done.stderr})
            finally:
                if subprocess.run(["umount", str(fs)], capture_output=True).returncode != 0:
                    subprocess.run(["umount", "-l", str(fs)], capture_output=True)
                with contextlib.suppress(OSError):
                    fs.rmdir()
    return rows


def damaged(s: dict) -> list[dict]:
    rows = []
    for kind, make in CORRUPTIONS.items():
        db = s["base"] / f"damaged-{kind}.duckdb"
        db.write_bytes(make(s["before"].read_bytes(), random.Random(kind)))
        sha = file_sha(db)
        done = cli_load(db, s["small"])
        rows.append({"case": kind, "exit": done.returncode, "unchanged": file_sha(db) == sha,
                     "temp_left": len(temp_glob(db)), "plain": TRACEBACK not in done.stderr and "重建方法" in done.stderr,
                     "message": done.stderr.strip().split("。")[0][:120]})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--interrupts", type=int, default=10)
    ap.add_argument("--swap-kills", type=int, default=5, help="kills just before and just after os.replace, each")
    ap.add_argument("--seed", type=int, default=20250708)
    args = ap.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="nianbao-faults-"))
    try:
        city = demo_corpus(base)
        before = base / "before.duckdb"
        assert load_here(before, [county(city, BEFORE_COUNTY)]) == 0
        paths = unit_slice(city)
        after = base / "after.duckdb"
        shutil.copyfile(before, after)
        t0 = time.monotonic()
        assert cli_load(after, paths).returncode == 0
        s = {"base": base, "paths": paths, "small": [p for p in paths if p.suffix != ".pdf"][:5], "before": before,
             "before_sha": file_sha(before), "after_digest": digest(after), "duration": time.monotonic() - t0}
        rng = random.Random(args.seed)
        report = {"load": {"files": len(paths), "seconds": round(s["duration"], 2)}}
        print(f"load under test: {len(paths)} files, {s['duration']:.1f} s", flush=True)
        report["sigkill"] = run_trials(args.kills, signal.SIGKILL, s, rng)
        report["sigint"] = run_trials(args.interrupts, signal.SIGINT, s, rng)
        report["swap_kill"] = swap_window(args.swap_kills, s)
        report["symlink"] = symlinked(s)
        report["full_disk"] = full_disk(s)
        report["damaged_db"] = damaged(s)
    finally:
        shutil.rmtree(base, ignore_errors=True)

    k, i = report["sigkill"], report["sigint"]
    fd, dm = report["full_disk"], report["damaged_db"]
    fd_ok = [r for r in fd if r.get("exit") == 1 and r["intact"] and r["temp_left"] == 0 and r["plain"]]
    dm_ok = [r for r in dm if r["exit"] == 1 and r["unchanged"] and r["temp_left"] == 0 and r["plain"]]
    lines = [
        f"SIGKILL: {k['interrupted'] - k['damaged']}/{k['interrupted']} killed loads left the database intact "
        f"({k['before']} exactly as before, {k['after']} killed after the swap = the complete load); "
        f"{k['rerun_complete']}/{k['interrupted']} re-runs completed the load",
        f"Ctrl-C: {i['interrupted'] - i['damaged']}/{i['interrupted']} interrupted loads left the database intact "
        f"({i['before']} as before, {i['after']} complete), exit codes {i['exit_codes']}; "
        f"{i['rerun_complete']}/{i['interrupted']} re-runs completed",
        *[f"SIGKILL {where.replace('_', ' ')}: {r['killed']}/{args.swap_kills} killed at the hook; "
          f"{r['before'] + r['after']}/{args.swap_kills} intact ({r['before']} as before, {r['after']} complete); "
          f"{r['rerun_complete']}/{args.swap_kills} re-runs completed" for where, r in report["swap_kill"].items()],
        f"symlinked --db: {'ok' if report['symlink']['ok'] else 'FAILED'} (target updated, symlink kept, "
        "no stray file in either folder)",
        f"full disk: {len(fd_ok)}/{len([r for r in fd if 'skipped' not in r])} cases refused with 磁盘空间不足, "
        "database unchanged, no temp file left",
        f"damaged database file: {len(dm_ok)}/{len(dm)} kinds refused with a rebuild hint, file unchanged",
    ]
    report["summary"] = lines
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "load_faults.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print("\n".join(["", *lines, f"(details: {out / 'load_faults.json'})"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
