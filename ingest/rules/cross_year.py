"""Cross-report checks: rules that need more than one report (spec §8.4, §10.4, §9.4).

Everything here is pure: it takes :class:`YearReport` objects (one report's cells, kinds,
section texts and metadata, as the store reads them back) and returns finding dicts in the
shape of the parse output's ``findings`` items (spec §9.1)::

    {"rule", "severity", "keys", "expected", "actual", "message", "assumed_zero", "evidence", "defect"}

The store decides which reports to compare (the *current* version of each unit and year) and
gives every finding its stable identity.  Rules implemented here:

* X-1 … X-4, X-6, X-7: same unit, years Y−1 → Y (:func:`check_pair`).
* X-5: the template must match the year (:func:`check_template`); the parser raises it too, and
  the store keeps the parser's finding when both do.
* D07: late publication, where the date is known (:func:`check_deadline`).
* ``MISSING``: a unit has no report for a year that other units have (:func:`missing_reports`).
* ``CONFLICT``: one unit and year has two files whose figures differ (:func:`version_conflict`).

``MISSING`` and ``CONFLICT`` are not numbered in the spec; they are named here and documented
in ``docs/schema.md``.  Cross-year keys carry the year (``s3.carry_forward.natural@2019``),
as spec §9.1 asks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from ingest import templates
from ingest.rules.findings import catalogue, make, number_text, plain_number
from ingest.rules.registry import PAIR_RULES, Needs, pair_rule, store_rule
from ingest.rules.structure import template_year

S3_COLUMNS = tuple(templates.s3_columns())
# Totals that, when printed blank, make an identity not evaluable rather than assumed 0 (spec §7).
NO_VALUE_KINDS = frozenset({"blank", "zero_marker", "na_marker"})

# Keys whose presence proves a template, with the label the document printed (spec §13.1).
TEMPLATE_MARKERS: dict[str, tuple[tuple[str, str], ...]] = {
    "2019": (("s2.procurement.projects", "政府集中采购"), ("s2.regulation.made", "本年新制作数量"),
             ("s2.regulation.total", "对外公开总数量"), ("s2.license.prev_items", "上一年项目数量"),
             ("s3.other.total", "（六）其他处理")),
    "2021": (("s2.regulation.issued", "本年制发件数"), ("s2.regulation.valid", "现行有效件数"),
             ("s2.fee.amount", "本年收费金额"), ("s3.other_no_correction.total", "逾期不补正")),
}

SHINGLE = 3                 # characters per shingle for X-6
X6_THRESHOLD = catalogue()["X-6"]["threshold"]   # Jaccard above which X-6 is raised (spec §8.4)
X6_MIN_CHARS = 60           # shorter sections ("无。") are not compared: identical by nature
X7_MIN_CHARS = 20


@dataclass(slots=True)
class YearReport:
    """The parts of one stored report that cross-report rules read."""

    report_id: str
    unit_id: str
    unit_name: str
    year: int
    template: str
    cells: dict[str, float | None] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    sections: dict[str, str] = field(default_factory=dict)
    published: date | None = None
    source_file: str = ""


# ---------------------------------------------------------------- display names (spec §9.3)

def cell_name(key: str, template: str | None = None) -> str:
    """:func:`ingest.templates.cell_name` for a cross-year key, named without its year."""
    return templates.cell_name(template, key.split("@", 1)[0])


# ---------------------------------------------------------------- reading cells for a rule

def _operand(rep: YearReport, key: str) -> tuple[float, bool] | None:
    """The value a rule uses for ``key``: (value, assumed_zero) or None when not evaluable.

    Absent cells are not evaluable.  Blank and marker cells count as 0 with ``assumed_zero``,
    except a printed *total* left blank, which makes the comparison not evaluable (spec §7).
    """
    if key not in rep.kinds and key not in rep.cells:
        return None
    value = rep.cells.get(key)
    if value is not None:
        return float(value), False
    kind = rep.kinds.get(key, "blank")
    if kind not in NO_VALUE_KINDS:
        return None                      # text in a number cell: S3-4/S2A-1 report it
    if key.endswith(".total") and kind == "blank":
        return None
    return 0.0, True


def _finding(entry: str, keys: list[str], expected, actual, assumed_zero: Iterable[str] = (),
             evidence: str = "", defect: str | None = None, **fields) -> dict:
    """:func:`ingest.rules.findings.make` for a cross-report rule, as the dict the store expects."""
    return make(entry, keys, expected=plain_number(expected), actual=plain_number(actual),
                assumed_zero=list(assumed_zero), evidence=evidence, defect=defect, keep_key_order=True,
                **fields).to_dict()


def _evidence(prev: YearReport, cur: YearReport) -> str:
    return f"{prev.year}年报告：{prev.source_file}（{prev.report_id}）；{cur.year}年报告：{cur.source_file}（{cur.report_id}）"


# ---------------------------------------------------------------- X-1 …

def check_pair(prev: YearReport, cur: YearReport) -> list[dict]:
    """Rules comparing a unit's report of year Y (``cur``) with its report of Y−1 (``prev``)."""
    if prev.unit_id != cur.unit_id or prev.year != cur.year - 1:
        raise ValueError("check_pair needs the same unit and consecutive years")
    out: list[dict] = []
    for rule in PAIR_RULES:
        out += rule.check(prev, cur)
    return out


@pair_rule("X-1", Needs(rows=("carried_over", "carry_forward")))
def _x1(prev: YearReport, cur: YearReport) -> list[dict]:
    if cur.year <= 2019:
        return []                        # the 2018 report used the legacy format (spec §8.4)
    out = []
    Y, P = cur.year, prev.year
    for col in S3_COLUMNS:
        k_cur, k_prev = f"s3.carried_over.{col}", f"s3.carry_forward.{col}"
        a, e = _operand(cur, k_cur), _operand(prev, k_prev)
        if a is None or e is None or a[0] == e[0]:
            continue
        az = [f"{k}@{y}" for k, y, op in ((k_cur, Y, a), (k_prev, P, e)) if op[1]]
        out.append(_finding("X-1", [f"{k_cur}@{Y}", f"{k_prev}@{P}"], e[0], a[0], az, _evidence(prev, cur),
                            col=templates.s3_col_display(col), prev_year=P))
    return out


@pair_rule("X-2", Needs(keys=tuple(f"s2.{row}.{col}" for row in ("regulation", "normative")
                                   for col in ("valid", "issued", "repealed"))))
def _x2(prev: YearReport, cur: YearReport) -> list[dict]:
    if not (cur.template == prev.template == "2021" and cur.year >= 2022):
        return []
    out = []
    Y, P = cur.year, prev.year
    for row, name in (("regulation", "规章"), ("normative", "行政规范性文件")):
        k_valid, k_prev = f"s2.{row}.valid", f"s2.{row}.valid"
        k_iss, k_rep = f"s2.{row}.issued", f"s2.{row}.repealed"
        ops = {"cur": _operand(cur, k_valid), "prev": _operand(prev, k_prev),
               "iss": _operand(cur, k_iss), "rep": _operand(cur, k_rep)}
        if any(v is None for v in ops.values()):
            continue
        expected = ops["prev"][0] + ops["iss"][0] - ops["rep"][0]
        actual = ops["cur"][0]
        if expected == actual:
            continue
        keyed = {"cur": f"{k_valid}@{Y}", "prev": f"{k_prev}@{P}", "iss": f"{k_iss}@{Y}", "rep": f"{k_rep}@{Y}"}
        out.append(_finding("X-2", list(keyed.values()), expected, actual,
                            [keyed[n] for n, op in ops.items() if op[1]], _evidence(prev, cur), row=name, prev_year=P))
    return out


_X3_ROWS = (("license", "第二十条第（五）项", "行政许可"),
            ("other_service", "第二十条第（五）项", "其他对外管理服务事项"),
            ("penalty", "第二十条第（六）项", "行政处罚"),
            ("coercion", "第二十条第（六）项", "行政强制"),
            ("fee", "第二十条第（八）项", "行政事业性收费"))


@pair_rule("X-3", Needs(keys=tuple(f"s2.{row}.{col}" for row, _, _ in _X3_ROWS for col in ("prev_items", "delta"))))
def _x3(prev: YearReport, cur: YearReport) -> list[dict]:
    if not (cur.template == prev.template == "2019"):
        return []
    out = []
    Y, P = cur.year, prev.year
    for row, table, name in _X3_ROWS:
        k_items, k_delta = f"s2.{row}.prev_items", f"s2.{row}.delta"
        ops = {"cur": _operand(cur, k_items), "prev": _operand(prev, k_items), "delta": _operand(prev, k_delta)}
        if any(v is None for v in ops.values()):
            continue
        expected = ops["prev"][0] + ops["delta"][0]
        actual = ops["cur"][0]
        if expected == actual:
            continue
        keyed = {"cur": f"{k_items}@{Y}", "prev": f"{k_items}@{P}", "delta": f"{k_delta}@{P}"}
        out.append(_finding("X-3", list(keyed.values()), expected, actual,
                            [keyed[n] for n, op in ops.items() if op[1]], _evidence(prev, cur),
                            table=table, row=name, prev_year=P))
    return out


@pair_rule("X-4", Needs(keys=tuple(f"s2.{row}.{col}" for row in ("regulation", "normative")
                                   for col in ("total", "published"))))
def _x4(prev: YearReport, cur: YearReport) -> list[dict]:
    if not (cur.template == prev.template == "2019"):
        return []
    out = []
    Y, P = cur.year, prev.year
    for row, name in (("regulation", "规章"), ("normative", "规范性文件")):
        k_total, k_pub = f"s2.{row}.total", f"s2.{row}.published"
        ops = {"cur": _operand(cur, k_total), "prev": _operand(prev, k_total), "pub": _operand(cur, k_pub)}
        if any(v is None for v in ops.values()):
            continue
        expected = ops["prev"][0] + ops["pub"][0]
        actual = ops["cur"][0]
        if expected == actual:
            continue
        keyed = {"cur": f"{k_total}@{Y}", "prev": f"{k_total}@{P}", "pub": f"{k_pub}@{Y}"}
        out.append(_finding("X-4", list(keyed.values()), expected, actual,
                            [keyed[n] for n, op in ops.items() if op[1]], _evidence(prev, cur), row=name, prev_year=P))
    return out


_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=8192)
def shingles(text: str, k: int = SHINGLE) -> frozenset[str]:
    """Character k-shingles of a text with all whitespace removed (cached: each section is
    compared with the year before and the year after)."""
    t = _SPACE.sub("", text)
    return frozenset(t[i:i + k] for i in range(len(t) - k + 1))


def jaccard(a: str, b: str, k: int = SHINGLE) -> float:
    sa, sb = shingles(a, k), shingles(b, k)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


@pair_rule("X-6", Needs(texts=("一", "五")))
def _x6(prev: YearReport, cur: YearReport) -> list[dict]:
    out = []
    for sec in ("一", "五"):
        a, b = cur.sections.get(sec) or "", prev.sections.get(sec) or ""
        if len(_SPACE.sub("", a)) < X6_MIN_CHARS or len(_SPACE.sub("", b)) < X6_MIN_CHARS:
            continue
        j = jaccard(a, b)
        if j <= X6_THRESHOLD:
            continue
        pct = int(j * 100)               # floor: never claim more similarity than measured
        out.append(_finding("X-6", [f"section.{sec}@{cur.year}", f"section.{sec}@{prev.year}"], None, pct,
                            (), _evidence(prev, cur) + f"；字符{SHINGLE}元组 Jaccard 相似度 {j:.3f}", "D05",
                            section=sec, prev_year=prev.year, pct=pct))
    return out


def _x7_pattern(prev_year: int) -> re.Pattern[str]:
    return re.compile(rf"(上一?年度?|去年|以往|{prev_year}年|前一年|上年度)")


@pair_rule("X-7", Needs(texts=("五",)))
def _x7(prev: YearReport, cur: YearReport) -> list[dict]:
    """X-7 [R], info only: section 五 of Y says nothing about last year's problems.

    A deliberately simple test: section 五 of both years is present, and that of year Y does
    not refer to the previous year at all (上年/去年/以往/{Y−1}年).  Mentioning the previous year
    is necessary for a follow-up, so a report that fails this certainly lacks one.
    """
    if not (cur.template == prev.template == "2021"):
        return []
    a, b = cur.sections.get("五") or "", prev.sections.get("五") or ""
    if len(_SPACE.sub("", a)) < X7_MIN_CHARS or len(_SPACE.sub("", b)) < X7_MIN_CHARS:
        return []
    if _x7_pattern(prev.year).search(_SPACE.sub("", a)):
        return []
    return [_finding("X-7", [f"section.五@{cur.year}", f"section.五@{prev.year}"], None, None, (),
                     _evidence(prev, cur), prev_year=prev.year)]


# ---------------------------------------------------------------- X-5, D07 (one report, need the year)

store_rule("X-5", Needs(keys=tuple(k for marks in TEMPLATE_MARKERS.values() for k, _ in marks)))
store_rule("D07", Needs())


def check_template(rep: YearReport) -> list[dict]:
    """X-5 on a stored report (:func:`ingest.rules.structure.template_year`), its markers read from
    the cells it printed."""
    marker = next((label for key, label in TEMPLATE_MARKERS.get(rep.template, ()) if key in rep.kinds), None)
    return [f.to_dict() for f in template_year(rep.template, rep.year, [marker] if marker else [],
                                               f"{rep.source_file}（{rep.report_id}）")]


def check_deadline(rep: YearReport) -> list[dict]:
    """D07 (spec §10.4): published after Y+1-01-31 → info; after Y+1-03-31 → warning."""
    if rep.published is None:
        return []                          # not evaluable
    Y1 = rep.year + 1
    shown = f"{rep.published.year}年{rep.published.month}月{rep.published.day}日"
    if rep.published > date(Y1, 3, 31):
        entry, limit = "D07-late", f"{Y1}年3月31日"
    elif rep.published > date(Y1, 1, 31):
        entry, limit = "D07", f"{Y1}年1月31日"
    else:
        return []
    return [_finding(entry, ["meta.publish_date"], None, None, (), f"{rep.source_file}（{rep.report_id}）", "D07",
                     date=shown, deadline=limit)]


# ---------------------------------------------------------------- set-wide: MISSING, CONFLICT

# a unit's missing years, from the list of stored reports (no cells)
store_rule("MISSING", Needs())


def missing_reports(unit_years: Mapping[str, set[int]], unit_names: Mapping[str, str]) -> list[tuple[str, int, dict]]:
    """``MISSING`` (warning): unit u has no report for year Y although other units have one.

    Returns ``(unit_id, year, finding)`` triples; a year counts when at least one *other* unit
    has a report for it.
    """
    per_year: dict[int, int] = {}
    for years in unit_years.values():
        for y in years:
            per_year[y] = per_year.get(y, 0) + 1
    out = []
    for unit_id in sorted(unit_years):
        have = unit_years[unit_id]
        for y in sorted(per_year):
            if y in have:
                continue
            others = per_year[y]
            out.append((unit_id, y, _finding("MISSING", [f"meta.report@{y}"], None, None, (), "",
                                             unit=unit_names.get(unit_id, unit_id), year=y, others=others)))
    return out


def differing_keys(a: YearReport, b: YearReport) -> list[str]:
    """Keys whose printed value or presence differs between two reports (kinds of no-value cells too)."""
    out = []
    for key in sorted(set(a.kinds) | set(b.kinds) | set(a.cells) | set(b.cells)):
        va, vb = a.cells.get(key), b.cells.get(key)
        in_a, in_b = key in a.kinds or key in a.cells, key in b.kinds or key in b.cells
        if in_a != in_b or va != vb or (va is None and a.kinds.get(key) != b.kinds.get(key)):
            out.append(key)
    return out


# two files of one unit and year: the store loads both versions in full for this rule
store_rule("CONFLICT", Needs())


def version_conflict(current: YearReport, other: YearReport, shown: int = 5) -> list[dict]:
    """``CONFLICT`` (warning): another file for the same unit and year prints different figures."""
    diff = differing_keys(current, other)
    if not diff:
        return []
    names = "、".join(f"{cell_name(k, current.template)}（{number_text(other.cells.get(k))}→{number_text(current.cells.get(k))}）"
                     for k in diff[:shown])
    more = f" 等 {len(diff)} 处" if len(diff) > shown else ""
    return [_finding("CONFLICT", diff, None, len(diff), (),
                     f"早先文件：{other.source_file}（{other.report_id}）；现行文件：{current.source_file}（{current.report_id}）",
                     year=current.year, other=Path(other.source_file).name, current=Path(current.source_file).name,
                     names=names, more=more)]
