"""Scale mode: N fictional units × Y years written straight into a DuckDB file in the schema of a real load
(``ingest.store.schema.create_schema``), without documents, for benchmarks of the store and the dashboard.

Everything is vectorised (numpy per year over all units, DuckDB joins for the long cell table), so a national
database (40,000 units × 7 years ≈ 56 million cells) takes minutes, not hours.

What is written: ``units``, ``reports`` (one current report per unit-year, a few unit-years missing), ``cells``
(every key of the year's template, counts as printed, money with 元/万元/no unit), ``parse_findings`` and
``findings`` for the defects placed (S3-1, S4-1, N-1, S2-T1 as the parser would raise them; X-1, D07 and
MISSING as the checks would), and one ``runs`` row.  No sections, extra cells or ingest log (no documents).
The numbers satisfy the 表三/表四 identities and the 结转 chain except where a defect is placed, so running the
real checks (``ingest.store.checks.run_checks``) over the result finds the same cross-year findings.

Names are synthetic: regions are ``示例<n>县``/``示例<n>区`` and townships are composed from a fixed pool of
characters under them; no real place carries the invented numbers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from ingest.demo import labels as L
from ingest.demo.city import _APPLICANTS, _OUTCOMES
from ingest.rules.findings import make
from ingest.store.checks import finding_id
from ingest.store.schema import create_schema
from ingest.templates import key_infos, layout, s3_col_display

FIRST_YEAR = 2019
_P1 = "云栖鹭岚砚澄渔荷望芦月杉雾鹤苍竹茶翠星银鸥麦柳漫松青桂明湖溪霞霁涧泷汐澜枫杏梧槐榆樟楠桐蓼蘅芷蘋蒹葭芙蕖"
_P2 = "坞坪汀屿岙塘湾坳垄浦渚埠堡墩峪岭冈畈垟"
_LEVELS = (("镇", 0.55), ("乡", 0.25), ("街道", 0.20))
_COLS = list(_APPLICANTS)
_LEAVES = list(_OUTCOMES)
_OTHER = ["other_no_correction", "other_fee_unpaid", "other_other"]
_ITEMS = ("license", "other_service", "penalty", "coercion", "fee")


def unit_names(n: int) -> tuple[list[str], list[str], list[str]]:
    """(name, level, region) of ``n`` synthetic townships, about 15 per region."""
    names, levels, regions = [], [], []
    per_region = 15
    for i in range(n):
        r, j = divmod(i, per_region)
        region = f"示例{r + 1}{'区' if r % 4 == 0 else '县'}"
        a = _P1[(j * 7 + r) % len(_P1)]
        b = _P1[(j * 13 + r * 3 + 5) % len(_P1)]
        c = _P2[(j + r) % len(_P2)]
        level = "街道" if j % 5 == 4 else ("乡" if j % 4 == 3 else "镇")
        names.append(f"{a}{b}{c}{level}")
        levels.append(level)
        regions.append(region)
    return names, levels, regions


def _multinomial(rng: np.random.Generator, n: np.ndarray, pvals: list[float]) -> np.ndarray:
    p = np.asarray(pvals, dtype=float)
    return rng.multinomial(n, p / p.sum())


class _Model:
    """The vectorised number model (same shares and habits as city.simulate, simplified)."""

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self.rng = rng
        self.n = n
        busy = rng.lognormal(mean=-0.3, sigma=1.1, size=n)
        self.base = np.minimum(busy, 60.0)
        self.lam = self.base.copy()
        self.carry = np.zeros((n, 6), dtype=np.int64)
        self.carry[:, 0] = rng.binomial(1, 0.25, n) * (1 + rng.poisson(self.base / 15))
        self.norm_rate = rng.choice([0.0, 0.0, 0.3, 0.6, 1.0, 2.0], n)
        self.norm_total = rng.integers(0, 26, n)
        self.norm_valid = rng.integers(0, 13, n)
        self.items = {k: rng.choice(opts, n) for k, opts in (
            ("license", [0, 0, 0, 3, 8, 15, 26]), ("other_service", [0, 0, 5, 12, 30]),
            ("penalty", [0, 0, 4, 10, 20]), ("coercion", [0, 0, 0, 1, 3]), ("fee", [0, 0, 0, 0, 1, 2]))}
        self.decision_scale = rng.choice([0.0, 0.5, 1.0, 3.0], n)
        self.proc_rate = rng.choice([0.0, 0.0, 0.3, 0.8, 2.0], n)
        self.proc_unit = rng.choice(np.array(["元", "万元", ""], dtype=object), n, p=[0.4, 0.35, 0.25])
        self.fee_rate = rng.choice([0.0, 0.0, 0.0, 0.3, 1.0], n)

    def year(self, year: int, extra_carry: np.ndarray) -> dict[str, np.ndarray]:
        rng, n = self.rng, self.n
        v: dict[str, np.ndarray] = {}
        self.lam = np.maximum(0.05, self.lam * np.exp(rng.normal(0, 0.25, n)) * 0.8 + self.base * 0.2)
        share = np.array(list(_APPLICANTS.values()))
        new = rng.poisson(self.lam[:, None] * share[None, :])
        carried = self.carry.copy()
        carried[:, 0] += extra_carry
        avail = new + carried
        forward = rng.binomial(avail, 0.06)
        intake = avail.sum(axis=1)
        over = (intake >= 10) & (forward.sum(axis=1) * 2 > intake)
        forward[over] = 0
        result = avail - forward
        outcomes = _multinomial(rng, result, list(_OUTCOMES.values()))      # (n, 6, 21)
        self.carry = forward

        def row(name: str, cols: np.ndarray) -> None:
            for i, c in enumerate(_COLS):
                v[f"s3.{name}.{c}"] = cols[:, i]
            v[f"s3.{name}.total"] = cols.sum(axis=1)

        row("new_received", new)
        row("carried_over", carried)
        row("carry_forward", forward)
        for j, leaf in enumerate(_LEAVES):
            row(leaf, outcomes[:, :, j])
        row("other", sum(outcomes[:, :, _LEAVES.index(r)] for r in _OTHER))
        row("result_total", outcomes.sum(axis=2))
        review = np.where(intake > 0, rng.poisson(0.05 * intake), 0)
        direct = np.where(intake > 0, rng.poisson(0.025 * intake), 0)
        after = rng.binomial(review, 0.3)
        for g, tot in (("review", review), ("suit_direct", direct), ("suit_after_review", after)):
            parts = _multinomial(rng, tot, [0.5, 0.15, 0.15, 0.2])
            for i, c in enumerate(L.S4_COLS[:-1]):
                v[f"s4.{g}.{c}"] = parts[:, i]
            v[f"s4.{g}.total"] = tot
        made = rng.poisson(self.norm_rate)
        published = made - rng.binomial(made, 0.15)
        self.norm_total = self.norm_total + published
        repealed = rng.binomial(self.norm_valid, 0.08) if year >= 2021 else np.zeros(n, dtype=np.int64)
        valid = self.norm_valid + made - repealed
        if year >= 2021:
            self.norm_valid = valid
        zero = np.zeros(n, dtype=np.int64)
        v.update({"s2.regulation.made": zero, "s2.regulation.published": zero, "s2.regulation.total": zero,
                  "s2.normative.made": made, "s2.normative.published": published, "s2.normative.total": self.norm_total,
                  "s2.regulation.issued": zero, "s2.regulation.repealed": zero, "s2.regulation.valid": zero,
                  "s2.normative.issued": made, "s2.normative.repealed": repealed, "s2.normative.valid": valid})
        for k in _ITEMS:
            prev = self.items[k]
            step = np.where(rng.random(n) < 0.25, rng.integers(-3, 4, n), 0)
            delta = np.maximum(step, -prev)
            self.items[k] = prev + delta
            v[f"s2.{k}.prev_items"] = prev
            v[f"s2.{k}.delta"] = delta
        for k, base in (("license", 12), ("other_service", 20), ("penalty", 8), ("coercion", 1)):
            v[f"s2.{k}.decisions"] = rng.poisson(base * self.decision_scale * np.where(self.items[k] > 0, 1, 0.2))
        projects = rng.poisson(self.proc_rate)
        yuan = projects * rng.integers(8_000, 400_000, n)
        v["s2.procurement.projects"] = projects
        v["s2.procurement.amount"] = np.where(self.proc_unit == "万元", np.round(yuan / 10000, 2), yuan).astype(float)
        v["s2.fee.amount"] = np.where(rng.random(n) < self.fee_rate, np.round(rng.uniform(0.05, 3.0, n), 2), 0.0)
        return v


def _publication(rng: np.random.Generator, n: int, year: int) -> np.ndarray:
    """Days after Y+1-01-01: mostly January, some February–March, a few late."""
    r = rng.random(n)
    days = np.where(r < 0.82, rng.integers(4, 31, n), np.where(r < 0.97, rng.integers(31, 90, n), rng.integers(91, 180, n)))
    return days


def build_scale_db(db_path: str | os.PathLike, units: int, years: int = 7, seed: int = 1) -> dict[str, Any]:
    """Write ``units`` × ``years`` synthetic reports into a fresh DuckDB file at ``db_path`` (replaced if it
    exists).  Returns counts, seconds and the file size in bytes."""
    t0 = time.perf_counter()
    path = Path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, Path(f"{path}.wal")):
        if p.exists():
            p.unlink()
    rng = np.random.default_rng(seed)
    names, levels, regions = unit_names(units)
    unit_ids = [f"{r}/{n}" for r, n in zip(regions, names, strict=True)]
    con = duckdb.connect(str(path))
    create_schema(con)
    units_tbl = pa.table({"unit_id": unit_ids, "name": names, "level": levels, "region": regions})
    con.register("units_tbl", units_tbl)
    con.execute("INSERT INTO units SELECT unit_id, name, level, region, [name] FROM units_tbl")
    con.unregister("units_tbl")

    model = _Model(rng, units)
    year_list = [FIRST_YEAR + i for i in range(years)]
    missing = rng.random((units, years)) < 0.01
    missing[:, 0] = False
    now = dt.datetime(2026, 1, 1, 8, 0, 0)
    counts = {"reports": 0, "cells": 0, "findings": 0, "parse_findings": 0}
    finding_rows: list[tuple] = []
    parse_rows: list[tuple] = []
    seq = 0
    prev_present = np.zeros(units, dtype=bool)
    prev_ids: list[str | None] = [None] * units
    for yi, year in enumerate(year_list):
        template = "2019" if year <= 2020 else "2021"
        keys = list(L.template_keys(template))
        present = ~missing[:, yi]
        x1 = (rng.random(units) < 0.01) & present & prev_present
        v = model.year(year, x1.astype(np.int64))
        # -------- within-report defects (cells changed, finding as the parser raises it)
        s31 = (rng.random(units) < 0.008) & present
        k31 = rng.integers(1, 3, units)
        for key in ("s3.new_received.natural", "s3.new_received.total"):
            v[key] = v[key] + np.where(s31, k31, 0)
        s41 = (rng.random(units) < 0.005) & present
        v["s4.review.upheld"] = v["s4.review.upheld"] + s41
        n1 = (rng.random(units) < 0.02) & present
        t1 = (rng.random(units) < 0.01) & present & (year == year_list[-1])
        kt1 = rng.integers(1, 4, units)
        for col in (("made", "published", "total") if template == "2019" else ("issued", "valid")):
            v[f"s2.regulation.{col}"] = np.where(t1, kt1, v[f"s2.regulation.{col}"])
        days = _publication(rng, units, year)
        idx = np.flatnonzero(present)
        report_ids, shas = [], []
        for i in idx:
            sha = hashlib.sha256(f"nianbao-scale:{seed}:{unit_ids[i]}:{year}".encode()).hexdigest()
            shas.append(sha)
            report_ids.append(sha[:16])
        rid_of = dict(zip(idx.tolist(), report_ids, strict=True))
        pub = np.datetime64(f"{year + 1}-01-01") + days[idx].astype("timedelta64[D]")
        fmts = np.array(["text", "html", "docx", "pdf"])[(idx + yi) % 4]
        rep = pa.table({
            "idx": pa.array(np.arange(len(idx), dtype=np.int32)),
            "report_id": report_ids, "unit_id": [unit_ids[i] for i in idx], "year": pa.array([year] * len(idx), pa.int32()),
            "published": pa.array(pub.astype("datetime64[D]")), "unit_name": [names[i] for i in idx],
            "unit_level": [levels[i] for i in idx], "region": [regions[i] for i in idx],
            "sha256": shas, "format": fmts.tolist(), "load_seq": pa.array(np.arange(seq, seq + len(idx), dtype=np.int64)),
            "proc_unit": [model.proc_unit[i] or None for i in idx],
        })
        seq += len(idx)
        cited = "国办公开办函〔2019〕60号" if template == "2019" else "国办公开办函〔2021〕30号"
        con.register("rep", rep)
        con.execute(f"""INSERT INTO reports SELECT report_id, unit_id, year, '{template}', published, year, year,
            '{cited}', unit_name, unit_name, unit_level, region, region, false,
            'scale://' || unit_id || '/' || year::VARCHAR, year::VARCHAR || '年政府信息公开工作年度报告', format, sha256,
            'demo-scale', 1, TIMESTAMP '{now}', load_seq, 'current', 1, NULL, {len(keys)}, '{{}}' FROM rep""")
        # -------- cells: long table (report × key) built from the value matrix
        mat = np.column_stack([np.asarray(v[k], dtype=float) for k in keys])[idx]
        cells = pa.table({
            "ridx": pa.array(np.repeat(np.arange(len(idx), dtype=np.int32), len(keys))),
            "kidx": pa.array(np.tile(np.arange(len(keys), dtype=np.int16), len(idx))),
            "value": pa.array(mat.ravel()),
        })
        keytab = pa.table({"kidx": pa.array(np.arange(len(keys), dtype=np.int16)), "key": keys,
                           "section": [k.split(".")[0] for k in keys], "row_key": [k.split(".")[1] for k in keys],
                           "col_key": [k.split(".")[2] for k in keys]})
        con.register("cv", cells)
        con.register("kt", keytab)
        con.execute("""INSERT INTO cells SELECT r.report_id, k.key, k.section, k.row_key, k.col_key, c.value,
            CASE k.key WHEN 's2.procurement.amount' THEN
                     (CASE WHEN r.proc_unit = '万元' THEN printf('%.2f', c.value) ELSE CAST(CAST(c.value AS BIGINT) AS VARCHAR) END)
                     || CASE WHEN c.value = 0 THEN '' ELSE COALESCE(r.proc_unit, '') END
                 WHEN 's2.fee.amount' THEN CASE WHEN c.value = 0 THEN '0' ELSE printf('%.2f', c.value) END
                 ELSE CAST(CAST(c.value AS BIGINT) AS VARCHAR) END,
            'number',
            CASE WHEN k.key = 's2.procurement.amount' AND c.value <> 0 THEN r.proc_unit END,
            CASE k.key WHEN 's2.fee.amount' THEN c.value
                 WHEN 's2.procurement.amount' THEN CASE WHEN c.value = 0 THEN 0 WHEN r.proc_unit = '元' THEN c.value / 10000
                                                        WHEN r.proc_unit = '万元' THEN c.value END END,
            CASE k.key WHEN 's2.fee.amount' THEN false
                 WHEN 's2.procurement.amount' THEN c.value <> 0 AND COALESCE(r.proc_unit = '元', false) END,
            CASE k.key WHEN 's2.fee.amount' THEN false
                 WHEN 's2.procurement.amount' THEN c.value <> 0 AND r.proc_unit IS NULL END,
            NULL
            FROM cv c JOIN rep r ON r.idx = c.ridx JOIN kt k ON k.kidx = c.kidx""")
        for name in ("cv", "kt", "rep"):
            con.unregister(name)
        counts["reports"] += len(idx)
        counts["cells"] += len(idx) * len(keys)
        # -------- findings
        for i in np.flatnonzero(s31):
            for col in ("natural", "total"):
                lhs = int(v[f"s3.new_received.{col}"][i]) + int(v[f"s3.carried_over.{col}"][i])
                rhs = int(v[f"s3.result_total.{col}"][i]) + int(v[f"s3.carry_forward.{col}"][i])
                f = _finding("S3-1", [f"s3.{r}.{col}" for r in ("new_received", "carried_over", "result_total",
                                                                 "carry_forward")], lhs, rhs, col=s3_col_display(col))
                _add(finding_rows, parse_rows, unit_ids[i], year, rid_of[i], None, f, "parse")
        for i in np.flatnonzero(s41):
            parts = sum(int(v[f"s4.review.{c}"][i]) for c in L.S4_COLS[:-1])
            f = _finding("S4-1", [f"s4.review.{c}" for c in L.S4_COLS], parts, int(v["s4.review.total"][i]),
                         group=layout()["s4"]["group_display"]["review"])
            _add(finding_rows, parse_rows, unit_ids[i], year, rid_of[i], None, f, "parse")
        for i in np.flatnonzero(n1):
            table = int(v["s3.new_received.total"][i])
            said = table + 1
            f = _finding("N-1", ["s3.new_received.total"], table, said, snippet=f"收到政府信息公开申请{said}件")
            _add(finding_rows, parse_rows, unit_ids[i], year, rid_of[i], None, f, "parse")
        for i in np.flatnonzero(t1):
            cols = ("made", "published", "total") if template == "2019" else ("issued", "valid")
            for col in cols:
                key = f"s2.regulation.{col}"
                f = _finding("S2-T1", [key], 0, int(kt1[i]), col=key_infos()[template][key].col_label)
                _add(finding_rows, parse_rows, unit_ids[i], year, rid_of[i], None, f, "parse")
        for i in np.flatnonzero(x1):
            for col in ("natural", "total"):
                got = int(v[f"s3.carried_over.{col}"][i])
                f = _finding("X-1", [f"s3.carried_over.{col}@{year}", f"s3.carry_forward.{col}@{year - 1}"], got - 1,
                             got, keep_key_order=True, col=s3_col_display(col), prev_year=year - 1)
                _add(finding_rows, None, unit_ids[i], year, rid_of[i], prev_ids[i], f, "check")
        for i in idx[days[idx] >= 31]:
            d = dt.date(year + 1, 1, 1) + dt.timedelta(days=int(days[i]))
            late = d > dt.date(year + 1, 3, 31)
            limit = f"{year + 1}年3月31日" if late else f"{year + 1}年1月31日"
            f = _finding("D07-late" if late else "D07", ["meta.publish_date"], None, None,
                         date=f"{d.year}年{d.month}月{d.day}日", deadline=limit)
            _add(finding_rows, None, unit_ids[i], year, rid_of[i], None, f, "check")
        for i in np.flatnonzero(~present):
            f = _finding("MISSING", [f"meta.report@{year}"], None, None, unit=names[i], year=year,
                         others=int(present.sum()))
            _add(finding_rows, None, unit_ids[i], year, None, None, f, "check")
        prev_present = present
        prev_ids = [rid_of.get(i) for i in range(units)]
    _write_findings(con, finding_rows, parse_rows)
    counts["findings"], counts["parse_findings"] = len(finding_rows), len(parse_rows)
    sev = {s: sum(1 for r in finding_rows if r[6] == s) for s in ("error", "warning", "info")}
    con.execute("INSERT INTO runs VALUES (1, ?, ?, ['scale'], ?, ?, 0, 0, 0, 0, 0, ?, ?, ?)",
                [now, now, counts["reports"], counts["reports"], sev["error"], sev["warning"], sev["info"]])
    con.execute("CHECKPOINT")
    con.close()
    return {"db": str(path), "units": units, "years": years, **counts,
            "seconds": round(time.perf_counter() - t0, 2), "bytes": path.stat().st_size}


def _finding(entry: str, keys: list[str], expected, actual, keep_key_order: bool = False, **fields) -> tuple:
    """A finding with the message the parser or the store writes (the catalogue's, via ``make``)."""
    f = make(entry, keys, expected=expected, actual=actual, keep_key_order=keep_key_order, **fields)
    return f.rule, f.severity, f.keys, f.expected, f.actual, f.message


def _add(rows: list[tuple], parse_rows: list[tuple] | None, unit_id: str, year: int, report_id: str | None,
         prev_id: str | None, f: tuple, origin: str) -> None:
    rule, sev, keys, expected, actual, message = f
    fid = finding_id(unit_id, year, rule, keys)
    exp = None if expected is None else float(expected)
    act = None if actual is None else float(actual)
    rows.append((fid, unit_id, year, report_id, prev_id, rule, sev, keys, exp, act, message, [], None, None, origin))
    if parse_rows is not None:
        parse_rows.append((report_id, len(parse_rows), rule, sev, keys, exp, act, message, [], None, None, None))


def _write_findings(con: duckdb.DuckDBPyConnection, rows: list[tuple], parse_rows: list[tuple]) -> None:
    cols = ("finding_id", "unit_id", "year", "report_id", "prev_report_id", "rule", "severity", "keys", "expected",
            "actual", "message", "assumed_zero", "evidence", "defect", "origin")
    if rows:
        tbl = pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)},
                       schema=pa.schema([(c, pa.list_(pa.string()) if c in ("keys", "assumed_zero") else
                                          (pa.int32() if c == "year" else pa.float64() if c in ("expected", "actual")
                                           else pa.string())) for c in cols]))
        con.register("ft", tbl)
        con.execute("INSERT INTO findings SELECT DISTINCT ON (finding_id) * FROM ft")
        con.unregister("ft")
    pcols = ("report_id", "seq", "rule", "severity", "keys", "expected", "actual", "message", "assumed_zero",
             "evidence", "defect", "detail")
    if parse_rows:
        tbl = pa.table({c: [r[i] for r in parse_rows] for i, c in enumerate(pcols)},
                       schema=pa.schema([(c, pa.list_(pa.string()) if c in ("keys", "assumed_zero") else
                                          (pa.int32() if c == "seq" else pa.float64() if c in ("expected", "actual")
                                           else pa.string())) for c in pcols]))
        con.register("pt", tbl)
        con.execute("INSERT INTO parse_findings SELECT * FROM pt")
        con.unregister("pt")
