"""Bounded fuzz run of every reader and the mapper (issue 7 item 1): no crash, no hang, only parsed
records or one-line refusals.

Inputs are mutations of the real samples (../shared/samples, when present) and of clean demo reports in
every format, drawn from one seeded generator (not hypothesis), so a run is reproducible and every input
can be rebuilt from its case number and seed.  Strategies (tests/fuzzkit.py):

* ``bytes``     bit flips, truncation, insertions, deletions, duplicated chunks, splices; the XML inside a
                DOCX and the inflated content streams of a PDF; blow-ups (100 KB – 1 MB runs of one
                structural unit: tabs, pipes, spaces, <td>, <w:p/>, text operators) that expose
                work growing faster than the input;
* ``encoding``  GBK / UTF-16 without BOM / stray invalid bytes / mixed halves for text; GBK pages that
                declare UTF-8 and the reverse, odd declared charsets for HTML;
* ``text``      label typos, deleted/duplicated/swapped lines, random numbers (negative, decimal, huge),
                markers, whitespace and zero-width characters, pipes and tabs, hostile HTML/JS/Markdown;
* ``report``    a demo report with random cells/narrative/title (numbers, markers, hostile strings),
                rendered to a well-formed file of the format;
* ``document``  (the ``mapper`` row) a Document with shuffled, dropped, duplicated and rewritten blocks,
                rows and cells (now and then blown up to the readers' cell limit), given straight to
                ``parse_document``.

Each input is parsed in a worker process with a time budget: CPU seconds (SIGPROF inside the worker, so a
busy machine does not turn slowness into "hangs"), and a wall-clock kill from the parent if the worker stops
answering (stuck inside C code).  Each worker also runs under an address-space limit (--mem-mb).
Crashes (any exception but RejectedFile, or a result that breaks the output invariants) and hangs are saved
to ``bench/out/`` as reproducers; the summary (per reader: tried, parsed, refused by code, crashes, hangs,
times, which library exceptions 'corrupt' refusals wrapped; max time and RSS) to bench/out/fuzz-summary.json.

    uv run python bench/fuzz_parse.py [--n 10000] [--seed 20251126] [--workers 2] [--budget 10]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import multiprocessing as mp
import os
import random
import resource
import sys
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.errors import RejectedFile  # noqa: E402
from tests import fuzzkit as F  # noqa: E402

OUT = ROOT / "bench" / "out"
READERS = ("text", "html", "docx", "pdf", "mapper")
# Share of inputs per reader (PDF reading is ~50x slower than the others, so it gets fewer inputs).
WEIGHTS = {"text": 30, "html": 22, "docx": 20, "pdf": 10, "mapper": 18}
STRATEGIES = {
    "text": {"bytes": 3, "encoding": 2, "text": 4, "report": 1},
    "html": {"bytes": 3, "encoding": 3, "text": 2, "report": 1},
    "docx": {"bytes": 3, "report": 1},
    "pdf": {"bytes": 3, "report": 1},
    "mapper": {"document": 1},
}


@dataclass
class Case:
    number: int
    seed: int
    reader: str
    strategy: str
    source: str          # the seed it was made from
    filename: str
    data: bytes | None   # None for document cases
    doc: object = None


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def make_case(number: int, seed: int) -> Case:
    """Rebuild case ``number`` from its seed (same seed, same bytes)."""
    rng = random.Random(seed)
    reader = _pick(rng, WEIGHTS)
    strategy = _pick(rng, STRATEGIES[reader])
    if strategy == "document":
        docs = F.seed_documents()
        k = rng.randrange(len(docs))
        doc = F.mutate_document(docs[k], rng)
        return Case(number, seed, reader, strategy, F.all_seeds()[k].name, doc.source, None, doc)
    if strategy == "report":
        rep = F.mutate_report(F.demo_report(rng.choice(("2019", "2021"))), rng, xml_safe=reader == "docx")
        demo_fmt = rng.choice(("text", "pipe")) if reader == "text" else reader
        if reader in ("text", "html") and rng.random() < 0.3:
            rep.style["encoding"] = "gbk"
        try:
            s = F.render_report(rep, demo_fmt)
        except UnicodeEncodeError:          # a character GBK lacks (a bidi control): the page stays UTF-8
            rep.style["encoding"] = "utf-8"
            s = F.render_report(rep, demo_fmt)
        return Case(number, seed, reader, strategy, s.name, s.filename, s.data)
    seeds = F.seeds_for(reader)
    s = rng.choice(seeds)
    if strategy == "bytes":
        names = F.byte_mutators_for(reader)
        data = s.data
        for _ in range(rng.choice((1, 1, 2, 3))):
            data = F.BYTE_MUTATOR[rng.choice(names)](data, rng)
        return Case(number, seed, reader, strategy, s.name, s.filename, data)
    text = F.decoded(s) or ""
    if strategy == "encoding":
        if rng.random() < 0.3:
            text = F.mutate_text(text, rng, 2)
        name, fn = rng.choice(F.ENCODING_MUTATORS[reader])
        return Case(number, seed, reader, f"encoding:{name}", s.name, s.filename, fn(text, rng))
    return Case(number, seed, reader, strategy, s.name, s.filename, F.mutate_text(text, rng).encode("utf-8"))


# ------------------------------------------------------------------------------------------- worker

def _save(case: Case, what: str, detail: str) -> str:
    OUT.mkdir(parents=True, exist_ok=True)
    stem = OUT / f"{what}-{case.number:05d}-{case.reader}-{case.strategy.replace(':', '_')}"
    if case.data is not None:
        Path(f"{stem}{Path(case.filename).suffix or '.bin'}").write_bytes(case.data)
    else:                                   # a mutated Document: its blocks as JSON
        blocks = [{"kind": b.kind, "text": b.text, "where": b.where,
                   "rows": [[[c.text, c.where, c.colspan, c.rowspan] for c in r] for r in b.rows]}
                  for b in case.doc.blocks]
        Path(f"{stem}.document.json").write_text(json.dumps(blocks, ensure_ascii=False), encoding="utf-8")
    Path(f"{stem}.txt").write_text(
        f"case {case.number} seed {case.seed} reader {case.reader} strategy {case.strategy} from {case.source}\n"
        f"rebuild: from bench.fuzz_parse import make_case; make_case({case.number}, {case.seed})\n\n{detail}\n",
        encoding="utf-8")
    return str(stem)


def run_case(case: Case, budget: float) -> dict:
    """Parse one input under the time budget; classify the outcome."""
    from ingest.parse import parse_document

    res = {"n": case.number, "reader": case.reader, "strategy": case.strategy, "source": case.source}
    t, cpu = time.perf_counter(), time.process_time()
    try:
        with F.cpu_budget(budget):
            if case.doc is not None:
                result = parse_document(case.doc, sha256="0" * 64, source=case.source)
            else:
                result = F.parse_bytes(case.data, case.filename)
    except F.OverBudget:
        res.update(outcome="hang", error=f"over the {budget:g} s CPU budget")
    except RejectedFile as e:
        cause = e.__cause__
        res.update(outcome="refused", code=e.code,
                   masked=type(cause).__name__ if cause and not isinstance(cause, RejectedFile) else None)
        try:
            F.check_refusal(e)
        except AssertionError as bad:
            res.update(outcome="crash", error=f"bad refusal: {bad}", where="refusal")
    except Exception as e:
        res.update(outcome="crash", error=f"{type(e).__name__}: {str(e)[:300]}", where=_where(e),
                   trace=traceback.format_exc())
    else:
        try:
            F.check_result(result)
            res["outcome"] = "parsed"
        except Exception as e:       # a result that breaks the output invariants
            res.update(outcome="crash", error=f"invariant: {type(e).__name__}: {str(e)[:300]}",
                       where=_where(e), trace=traceback.format_exc())
    res["cpu"] = time.process_time() - cpu
    res["time"] = time.perf_counter() - t
    res["rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return res


def _where(e: BaseException) -> str:
    tb = traceback.extract_tb(e.__traceback__)
    frame = next((f for f in reversed(tb) if "/ingest/" in f.filename or "fuzzkit" in f.filename),
                 tb[-1] if tb else None)
    return f"{Path(frame.filename).name}:{frame.lineno}" if frame else "?"


def worker(conn: Connection, budget: float, mem_mb: int) -> None:
    logging.disable(logging.WARNING)        # pdfminer's warnings about damaged streams are expected here
    if mem_mb:
        lim = mem_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    while True:
        task = conn.recv()
        if task is None:
            return
        number, seed = task
        try:
            case = make_case(number, seed)
        except Exception as e:
            conn.send({"n": number, "reader": "?", "strategy": "?", "outcome": "generator_error",
                       "error": f"{type(e).__name__}: {e}", "time": 0.0, "rss_kb": 0})
            continue
        res = run_case(case, budget)
        if res["outcome"] in ("crash", "hang"):
            res["saved"] = _save(case, res["outcome"], res.get("trace") or res.get("error", ""))
        conn.send(res)


# ------------------------------------------------------------------------------------------- parent

class Pool:
    """One task at a time per worker, so a worker that stops answering can be killed and its input named."""

    def __init__(self, n: int, budget: float, hard: float, mem_mb: int) -> None:
        self.ctx = mp.get_context("fork")
        self.budget, self.hard, self.mem_mb = budget, hard, mem_mb
        self.workers: list[list] = [self._start() for _ in range(n)]   # [process, conn, task, started]

    def _start(self) -> list:
        parent, child = self.ctx.Pipe()
        p = self.ctx.Process(target=worker, args=(child, self.budget, self.mem_mb), daemon=True)
        p.start()
        child.close()
        return [p, parent, None, 0.0]

    def run(self, tasks: list[tuple[int, int]], on_result) -> None:
        todo = list(reversed(tasks))
        busy = 0
        while todo or busy:
            for w in self.workers:
                if w[2] is None and todo:
                    w[2] = todo.pop()
                    w[3] = time.monotonic()
                    w[1].send(w[2])
                    busy += 1
            ready = wait([w[1] for w in self.workers if w[2] is not None], timeout=1.0)
            for w in self.workers:
                if w[2] is None:
                    continue
                if w[1] in ready:
                    try:
                        res = w[1].recv()
                    except EOFError:     # the worker died (segfault, out-of-memory kill)
                        res = self._lost(w, "worker process died")
                    w[2] = None
                    busy -= 1
                    on_result(res)
                elif time.monotonic() - w[3] > self.hard:
                    res = self._lost(w, f"no answer within {self.hard:g} s (killed)")
                    w[2] = None
                    busy -= 1
                    on_result(res)

    def _lost(self, w: list, why: str) -> dict:
        number, seed = w[2]
        w[0].kill()
        w[0].join()
        w[0], w[1], _, _ = self._start()
        case = make_case(number, seed)
        outcome = "hang" if "killed" in why else "crash"
        return {"n": number, "reader": case.reader, "strategy": case.strategy, "source": case.source,
                "outcome": outcome, "error": why, "time": time.monotonic() - w[3], "rss_kb": 0,
                "saved": _save(case, outcome, why)}

    def close(self) -> None:
        for p, conn, _, _ in self.workers:
            with contextlib.suppress(OSError):
                conn.send(None)
            p.join(timeout=5)
            if p.is_alive():
                p.kill()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10_000, help="inputs to try")
    ap.add_argument("--seed", type=int, default=20251126)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--budget", type=float, default=10.0, help="CPU seconds per input (SIGPROF in the worker)")
    ap.add_argument("--mem-mb", type=int, default=3072, help="address-space limit per worker (0: none)")
    ap.add_argument("--only", choices=READERS, default=None, help="fuzz one reader only")
    args = ap.parse_args()

    t0 = time.time()
    print(f"seeds: {len(F.real_seeds())} real, {len(F.demo_seeds())} demo; building documents…", flush=True)
    F.seed_documents()        # read once in the parent, shared with the forked workers
    master = random.Random(args.seed)
    tasks = [(i, master.getrandbits(63)) for i in range(args.n)]
    if args.only:
        tasks = [t for t in tasks if make_case_reader(t[1]) == args.only]

    stats: dict[str, Counter] = defaultdict(Counter)
    codes: dict[str, Counter] = defaultdict(Counter)
    masked: dict[str, Counter] = defaultdict(Counter)
    strategies: dict[str, Counter] = defaultdict(Counter)
    times: dict[str, list[float]] = defaultdict(list)
    cpus: dict[str, list[float]] = defaultdict(list)
    problems: list[dict] = []
    peak = {"rss_kb": 0, "n": None, "time": 0.0, "time_n": None, "cpu": 0.0, "cpu_n": None}

    def on_result(r: dict) -> None:
        reader = r["reader"]
        stats[reader]["tried"] += 1
        stats[reader][r["outcome"]] += 1
        strategies[reader][f"{r['strategy'].split(':')[0]}:{r['outcome']}"] += 1
        times[reader].append(r["time"])
        cpus[reader].append(r.get("cpu", r["time"]))
        if r["outcome"] == "refused":
            codes[reader][r.get("code", "?")] += 1
            if r.get("masked"):
                masked[reader][r["masked"]] += 1
        if r["outcome"] in ("crash", "hang", "generator_error"):
            problems.append({k: v for k, v in r.items() if k != "trace"})
            print(f"  {r['outcome'].upper()} case {r['n']} {reader}/{r['strategy']}: {r.get('error')} "
                  f"at {r.get('where', '?')} → {r.get('saved', '')}", flush=True)
        if r["rss_kb"] > peak["rss_kb"]:
            peak.update(rss_kb=r["rss_kb"], n=r["n"])
        if r["time"] > peak["time"]:
            peak.update(time=r["time"], time_n=f"{r['n']} ({reader}/{r['strategy']})")
        if r.get("cpu", 0) > peak["cpu"]:
            peak.update(cpu=r["cpu"], cpu_n=f"{r['n']} ({reader}/{r['strategy']})")
        done = sum(s["tried"] for s in stats.values())
        if done % 500 == 0:
            print(f"  {done}/{len(tasks)} inputs, {time.time() - t0:.0f} s", flush=True)

    pool = Pool(args.workers, args.budget, hard=args.budget * 6 + 60, mem_mb=args.mem_mb)
    try:
        pool.run(tasks, on_result)
    finally:
        pool.close()
    elapsed = time.time() - t0
    summary = _summary(args, stats, codes, masked, strategies, times, cpus, problems, peak, elapsed)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "fuzz-summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    _print(summary)
    return 1 if summary["crashes"] or summary["hangs"] else 0


def make_case_reader(seed: int) -> str:
    return _pick(random.Random(seed), WEIGHTS)


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else 0.0


def _summary(args, stats, codes, masked, strategies, times, cpus, problems, peak, elapsed) -> dict:
    per = {}
    for reader in READERS:
        s = stats.get(reader)
        if not s:
            continue
        per[reader] = {
            "tried": s["tried"], "parsed": s["parsed"], "refused": s["refused"], "crashes": s["crash"],
            "hangs": s["hang"], "generator_errors": s["generator_error"],
            "refused_by_code": dict(codes[reader].most_common()),
            "corrupt_refusals_wrapping": dict(masked[reader].most_common()),
            "by_strategy": dict(sorted(strategies[reader].items())),
            "time_p50_s": round(_pct(times[reader], 0.5), 4), "time_p99_s": round(_pct(times[reader], 0.99), 3),
            "time_max_s": round(max(times[reader]), 3), "cpu_max_s": round(max(cpus[reader]), 3),
        }
    return {
        "seed": args.seed, "inputs": sum(s["tried"] for s in stats.values()), "workers": args.workers,
        "budget_s": args.budget, "elapsed_s": round(elapsed, 1), "readers": per,
        "crashes": sum(p["crashes"] for p in per.values()), "hangs": sum(p["hangs"] for p in per.values()),
        "max_time_s": round(peak["time"], 3), "max_time_case": peak["time_n"],
        "max_cpu_s": round(peak["cpu"], 3), "max_cpu_case": peak["cpu_n"],
        "max_rss_mb": round(peak["rss_kb"] / 1024, 1), "max_rss_case": peak["n"], "problems": problems,
    }


def _print(s: dict) -> None:
    print(f"\n{s['inputs']} inputs in {s['elapsed_s']:.0f} s ({s['workers']} workers, "
          f"{s['budget_s']:g} CPU s budget each)")
    print(f"{'reader':7} {'tried':>6} {'parsed':>6} {'refused':>7} {'crash':>5} {'hang':>4} "
          f"{'p50 ms':>7} {'p99 ms':>7} {'max s':>6} {'cpu s':>6}  refusals by code")
    for reader, p in s["readers"].items():
        by_code = ", ".join(f"{k} {v}" for k, v in p["refused_by_code"].items())
        print(f"{reader:7} {p['tried']:6d} {p['parsed']:6d} {p['refused']:7d} {p['crashes']:5d} {p['hangs']:4d} "
              f"{p['time_p50_s'] * 1000:7.1f} {p['time_p99_s'] * 1000:7.0f} {p['time_max_s']:6.2f} "
              f"{p['cpu_max_s']:6.2f}  {by_code}")
        if p["corrupt_refusals_wrapping"]:
            print(f"{'':7} corrupt refusals wrapping: {p['corrupt_refusals_wrapping']}")
    print(f"crashes {s['crashes']}, hangs {s['hangs']}; max time per input {s['max_time_s']:.2f} s wall "
          f"(case {s['max_time_case']}), {s['max_cpu_s']:.2f} s CPU (case {s['max_cpu_case']}); "
          f"max worker RSS {s['max_rss_mb']:.0f} MB (case {s['max_rss_case']})")
    print(f"summary: {OUT / 'fuzz-summary.json'}")


if __name__ == "__main__":
    raise SystemExit(main())
