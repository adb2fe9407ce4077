"""All checks after a load: rebuilds the ``findings`` table from the stored reports.

``findings`` always holds the findings of the *current* report of every unit and year:

* the parser's within-report findings (``parse_findings``) of that report (origin ``parse``);
* X-5 and D07 of that report, unless the parser already raised the same rule (origin ``check``);
* X-1 … X-4, X-6, X-7 against the unit's current report of the year before;
* ``MISSING`` for every unit and year that other units have but this unit lacks;
* ``CONFLICT`` for every earlier, superseded file of the same unit and year whose figures differ.

The table is rebuilt from scratch each time; human review marks live in ``finding_reviews``,
keyed by the stable ``finding_id``, and are never touched here.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

import duckdb

from ingest.rules import cross_year as X
from ingest.rules import registry
from ingest.store.schema import CELLS, FINDINGS, PARSE_FINDINGS, REPORTS, SECTIONS, UNITS
from ingest.store.writer import insert_rows

# The cells the store-side rules read, as the registry declares them (ingest/rules/registry.py);
# CONFLICT loads full reports on demand.
_NEEDED_CELLS = (" AND (c.section IN (SELECT unnest(?)) OR c.row_key IN (SELECT unnest(?))"
                 " OR c.key IN (SELECT unnest(?)))")
FINDING_COLUMNS = ("finding_id", "unit_id", "year", "report_id", "prev_report_id", "rule", "severity", "keys",
                   "expected", "actual", "message", "assumed_zero", "evidence", "defect", "origin")


@dataclass(slots=True)
class _Found:
    unit_id: str
    year: int
    report_id: str | None
    prev_report_id: str | None
    finding: dict
    origin: str


def finding_identity(unit_id: str, year: int, rule: str, keys: list[str]) -> str:
    """The stable identity base of a finding: unit, year, rule and sorted keys (spec §9.1)."""
    return "\x1f".join([unit_id, str(year), rule, *sorted(keys)])


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def finding_id(unit_id: str, year: int, rule: str, keys: list[str]) -> str:
    """The ``finding_id`` of a finding that is alone with its identity (every finding but a rule raised
    twice on the same keys, which :func:`assign_ids` tells apart by message)."""
    return _hash(finding_identity(unit_id, year, rule, keys))


def assign_ids(found: list[_Found]) -> list[tuple[str, _Found]]:
    """``finding_id`` for each finding; identical identities are told apart by their message.

    The parser may raise one rule twice on the same keys (two label variants in one row); the
    message then names the difference, and is as stable as the document is.
    """
    groups: dict[str, list[_Found]] = defaultdict(list)
    for f in found:
        groups[finding_identity(f.unit_id, f.year, f.finding["rule"], f.finding.get("keys") or [])].append(f)
    out = []
    for base, members in groups.items():
        if len(members) == 1:
            m = members[0]
            out.append((finding_id(m.unit_id, m.year, m.finding["rule"], m.finding.get("keys") or []), m))
            continue
        seen: dict[str, int] = defaultdict(int)
        for m in sorted(members, key=lambda m: m.finding.get("message") or ""):
            msg = m.finding.get("message") or ""
            seen[msg] += 1
            suffix = msg if seen[msg] == 1 else f"{msg}\x1f{seen[msg]}"
            out.append((_hash(base + "\x1f" + suffix), m))
    return out


def _year_reports(con: duckdb.DuckDBPyConnection, where: str, params: list | None = None,
                  needs: registry.Needs | None = None) -> dict[str, X.YearReport]:
    """Stored reports as the rules read them: all their cells, or only what ``needs`` names
    (cells and narrative sections)."""
    reps: dict[str, X.YearReport] = {}
    for rid, uid, name, year, template, published, src in con.execute(
            f"SELECT r.report_id, r.unit_id, u.name, r.year, r.template, r.published, r.source_file"
            f" FROM {REPORTS} r LEFT JOIN {UNITS} u USING (unit_id) WHERE {where}", params or []).fetchall():
        reps[rid] = X.YearReport(rid, uid, name or uid, year, template or "unknown", published=published,
                                 source_file=src)
    if not reps:
        return reps
    kf, kparams = "", []
    if needs is not None:
        kf, kparams = _NEEDED_CELLS, [list(needs.sections), list(needs.rows), list(needs.keys)]
    for rid, key, value, kind in con.execute(
            f"SELECT c.report_id, c.key, c.value, c.kind FROM {CELLS} c JOIN {REPORTS} r USING (report_id)"
            f" WHERE ({where}){kf}", [*(params or []), *kparams]).fetchall():
        rep = reps.get(rid)
        if rep is not None:
            rep.cells[key] = value
            rep.kinds[key] = kind
    if needs is not None and needs.texts:
        for rid, sec, text in con.execute(
                f"SELECT s.report_id, s.section, s.text FROM {SECTIONS} s JOIN {REPORTS} r USING (report_id)"
                f" WHERE ({where}) AND s.section IN (SELECT unnest(?))", [*(params or []), list(needs.texts)]).fetchall():
            if rid in reps:
                reps[rid].sections[sec] = text or ""
    return reps


def compute_findings(con: duckdb.DuckDBPyConnection) -> list[tuple[str, _Found]]:
    current = _year_reports(con, "r.status = 'current'", needs=registry.needed())
    found: list[_Found] = []

    parse_rules: dict[str, set[str]] = defaultdict(set)
    for (rid, rule, severity, keys, expected, actual, message, assumed_zero, evidence, defect) in con.execute(
            f"SELECT p.report_id, p.rule, p.severity, p.keys, p.expected, p.actual, p.message, p.assumed_zero,"
            f" p.evidence, p.defect FROM {PARSE_FINDINGS} p JOIN {REPORTS} r USING (report_id)"
            f" WHERE r.status = 'current' ORDER BY p.report_id, p.seq").fetchall():
        rep = current[rid]
        parse_rules[rid].add(rule)
        found.append(_Found(rep.unit_id, rep.year, rid, None, {
            "rule": rule, "severity": severity, "keys": list(keys or []), "expected": expected, "actual": actual,
            "message": message, "assumed_zero": list(assumed_zero or []), "evidence": evidence, "defect": defect,
        }, "parse"))

    by_unit_year: dict[tuple[str, int], X.YearReport] = {}
    for rep in current.values():
        by_unit_year[(rep.unit_id, rep.year)] = rep
        for f in X.check_template(rep) + X.check_deadline(rep):
            if f["rule"] not in parse_rules[rep.report_id]:
                found.append(_Found(rep.unit_id, rep.year, rep.report_id, None, f, "check"))

    for (uid, year), rep in sorted(by_unit_year.items()):
        prev = by_unit_year.get((uid, year - 1))
        if prev is not None:
            for f in X.check_pair(prev, rep):
                found.append(_Found(uid, year, rep.report_id, prev.report_id, f, "check"))

    unit_years: dict[str, set[int]] = defaultdict(set)
    names = {}
    for rep in current.values():
        unit_years[rep.unit_id].add(rep.year)
        names[rep.unit_id] = rep.unit_name
    for uid, year, f in X.missing_reports(unit_years, names):
        found.append(_Found(uid, year, None, None, f, "check"))

    found += _conflicts(con, by_unit_year)
    return assign_ids(found)


def _conflicts(con: duckdb.DuckDBPyConnection, by_unit_year: dict[tuple[str, int], X.YearReport]) -> list[_Found]:
    pairs = con.execute(f"""
        SELECT s.report_id, c.report_id FROM {REPORTS} s
        JOIN {REPORTS} c ON c.unit_id = s.unit_id AND c.year = s.year AND c.status = 'current'
        WHERE s.status = 'superseded' ORDER BY s.load_seq""").fetchall()
    if not pairs:
        return []
    ids = sorted({rid for pair in pairs for rid in pair})
    full = _year_reports(con, "r.report_id IN (SELECT unnest(?))", [ids])
    out = []
    for old_id, cur_id in pairs:
        cur, old = full[cur_id], full[old_id]
        for f in X.version_conflict(cur, old):
            out.append(_Found(cur.unit_id, cur.year, cur_id, old_id, f, "check"))
    return out


def run_checks(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rebuild ``findings``; returns the number of findings per severity."""
    rows = []
    counts = {"error": 0, "warning": 0, "info": 0}
    for fid, f in compute_findings(con):
        d = f.finding
        sev = d.get("severity") or "info"
        counts[sev] = counts.get(sev, 0) + 1
        rows.append((fid, f.unit_id, f.year, f.report_id, f.prev_report_id, d["rule"], sev,
                     [str(k) for k in d.get("keys") or []], _num(d.get("expected")), _num(d.get("actual")),
                     d.get("message") or "", [str(k) for k in d.get("assumed_zero") or []],
                     d.get("evidence"), d.get("defect"), f.origin))
    con.execute(f"DELETE FROM {FINDINGS}")
    insert_rows(con, FINDINGS, FINDING_COLUMNS, rows)
    return counts


def _num(v) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v)
