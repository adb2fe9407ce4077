"""Identity and plausibility checks inside one report (spec §8.1–§8.3)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ingest.rules.cellview import CellView
from ingest.rules.context import ReportContext
from ingest.rules.findings import Finding, catalogue, make
from ingest.rules.registry import report_rules
from ingest.templates import key_display, layout, s3_col_display, s3_leaf_rows, s3_row_display, s3_row_order

S3_COLS = layout()["s3"]["columns"]
S4_GROUPS = layout()["s4"]["groups"]
S4_PARTS = ["upheld", "corrected", "other", "pending"]

@dataclass(frozen=True, slots=True)
class _S3Column:
    display: str
    lhs: list[str]         # 本年新收 + 上年结转
    rhs: list[str]         # 办理结果总计 + 结转下年度
    total: str             # 办理结果总计
    carry_forward: str
    leaves: list[str]      # the outcome rows that make up 办理结果总计


@dataclass(frozen=True, slots=True)
class _S3Row:
    display: str
    total: str
    parts: list[str]       # the six applicant columns


@cache
def _s3_plan(template: str) -> tuple[list[_S3Column], list[_S3Row]]:
    """The key lists check_s3 needs, built once per template (they are the same for every report)."""
    leaves = s3_leaf_rows(template)
    columns = [_S3Column(s3_col_display(c), [f"s3.new_received.{c}", f"s3.carried_over.{c}"],
                         [f"s3.result_total.{c}", f"s3.carry_forward.{c}"], f"s3.result_total.{c}",
                         f"s3.carry_forward.{c}", [f"s3.{r}.{c}" for r in leaves]) for c in S3_COLS]
    rows = [_S3Row(s3_row_display(template, r), f"s3.{r}.total", [f"s3.{r}.{c}" for c in S3_COLS[:-1]])
            for r in s3_row_order(template)]
    return columns, rows


def check_s3(cv: CellView) -> list[Finding]:
    t = cv.template
    out: list[Finding] = []
    if not cv.tables["s3"]:
        return out
    columns, rows = _s3_plan(t)
    for c in columns:
        total = cv.read(c.total)
        lhs, az1 = cv.sum(c.lhs)
        rhs, az2 = cv.sum(c.rhs)
        if lhs is not None and rhs is not None and not total.blank and lhs != rhs:
            out.append(make("S3-1", c.lhs + c.rhs, expected=lhs, actual=rhs, assumed_zero=az1 + az2, col=c.display))
        s, az = cv.sum(c.leaves)
        if s is not None and total.value is not None and not total.blank and s != total.value:
            out.append(make("S3-2", [c.total, *c.leaves], expected=s, actual=total.value,
                            assumed_zero=az, col=c.display))
        cf = cv.read(c.carry_forward)
        if lhs is not None and cf.value is not None and cf.value > lhs:
            out.append(make("S3-6", [*c.lhs, c.carry_forward], expected=lhs, actual=cf.value,
                            assumed_zero=az1, col=c.display))
    for r in rows:
        tot = cv.read(r.total)
        s, az = cv.sum(r.parts)
        if tot.value is None or s is None:
            continue
        if tot.blank:
            if s and cv.cells[r.total].kind == "blank":
                out.append(make("D11", [r.total], row=r.display))
            continue
        if s != tot.value:
            out.append(make("S3-3", [r.total, *r.parts], expected=s, actual=tot.value, assumed_zero=az,
                            row=r.display))
    for key in cv.tables["s3"]:
        cell = cv.cells[key]
        bad = cell.kind == "text" or (cell.kind == "number" and (not isinstance(cell.value, int) or cell.value < 0))
        if bad:
            _, r, c = key.split(".")
            out.append(make("S3-4", [key], row=s3_row_display(t, r), col=s3_col_display(c), raw=cell.raw))
    intake, _ = cv.sum(["s3.new_received.total", "s3.carried_over.total"])
    cf = cv.read("s3.carry_forward.total")
    spec = catalogue()["S3-7"]
    if intake is not None and cf.value is not None and intake >= spec["threshold_min_intake"] \
            and cf.value > spec["threshold_share"] * intake:
        out.append(make("S3-7", ["s3.carry_forward.total", "s3.new_received.total", "s3.carried_over.total"],
                        expected=intake, actual=cf.value))
    return out

def check_s4(cv: CellView) -> list[Finding]:
    out: list[Finding] = []
    if not cv.tables["s4"]:
        return out
    disp = layout()["s4"]["group_display"]
    for rule, g in zip(("S4-1", "S4-2", "S4-3"), S4_GROUPS, strict=True):
        parts = [f"s4.{g}.{p}" for p in S4_PARTS]
        tot = cv.read(f"s4.{g}.total")
        s, az = cv.sum(parts)
        if s is None or tot.value is None or tot.blank:
            continue
        if s != tot.value:
            out.append(make(rule, [f"s4.{g}.total", *parts], expected=s, actual=tot.value, assumed_zero=az,
                            group=disp[g]))
    for key in cv.tables["s4"]:
        cell = cv.cells[key]
        if cell.kind == "text" or (cell.kind == "number" and (not isinstance(cell.value, int) or cell.value < 0)):
            out.append(make("S4-4", [key], cell=key_display(cv.template, key), raw=cell.raw))
    intake = cv.sum(["s3.new_received.total", "s3.carried_over.total"])[0]
    review = cv.read("s4.review.total").value
    suits = cv.sum(["s4.suit_direct.total", "s4.suit_after_review.total"])[0]
    if intake == 0:
        if review:
            out.append(make("S4-5", ["s4.review.total", "s3.new_received.total", "s3.carried_over.total"],
                            actual=review, group="行政复议"))
        if suits:
            out.append(make("S4-5", ["s4.suit_direct.total", "s4.suit_after_review.total",
                                     "s3.new_received.total", "s3.carried_over.total"], actual=suits, group="行政诉讼"))
    after = cv.read("s4.suit_after_review.total").value
    if after is not None and review is not None and after > review:
        out.append(make("S4-6", ["s4.suit_after_review.total", "s4.review.total"], expected=review, actual=after))
    return out

def _kind_check(cv: CellView, rule: str) -> list[Finding]:
    from ingest.templates import key_infos

    out = []
    infos = key_infos()[cv.template]
    for key in cv.tables["s2"]:
        cell = cv.cells[key]
        kind = infos[key].kind
        v = cell.value
        what = None
        if cell.kind == "text":
            what = "应为整数" if kind == "signed_count" else ("应为非负数" if kind == "money" else "应为非负整数")
        elif cell.kind == "number":
            if kind == "count" and (not isinstance(v, int) or v < 0):
                what = "应为非负整数"
            elif kind == "signed_count" and not isinstance(v, int):
                what = "应为整数"
            elif kind == "money" and v < 0:
                what = "应为非负数"
        if what:
            out.append(make(rule, [key], cell=key_display(cv.template, key), what=what, raw=cell.raw))
    return out

def check_s2(cv: CellView, units: dict[str, str | None]) -> list[Finding]:
    out: list[Finding] = []
    t = cv.template
    if not cv.tables["s2"]:
        return out
    row_names = {"regulation": "规章", "normative": "规范性文件" if t == "2019" else "行政规范性文件"}
    if t == "2019":
        out += _kind_check(cv, "S2A-1")
        for x in ("regulation", "normative"):
            tot, pub, made = (cv.read(f"s2.{x}.{c}").value for c in ("total", "published", "made"))
            if tot is not None and pub is not None and tot < pub:
                out.append(make("S2A-2", [f"s2.{x}.total", f"s2.{x}.published"], expected=pub, actual=tot,
                                row=row_names[x]))
            if pub is not None and made is not None and pub > made:
                out.append(make("S2A-4", [f"s2.{x}.published", f"s2.{x}.made"], expected=made, actual=pub,
                                row=row_names[x]))
        tables = {"license": ("第二十条第（五）项", "行政许可"), "other_service": ("第二十条第（五）项", "其他对外管理服务事项"),
                  "penalty": ("第二十条第（六）项", "行政处罚"), "coercion": ("第二十条第（六）项", "行政强制"),
                  "fee": ("第二十条第（八）项", "行政事业性收费")}
        for x, (table, row) in tables.items():
            prev, delta = cv.read(f"s2.{x}.prev_items").value, cv.read(f"s2.{x}.delta").value
            if prev is not None and delta is not None and prev + delta < 0:
                out.append(make("S2A-3", [f"s2.{x}.prev_items", f"s2.{x}.delta"], expected=0, actual=prev + delta,
                                table=table, row=row))
        amount = cv.cells.get("s2.procurement.amount")
        if amount is not None and amount.kind == "number" and amount.value != 0 \
                and units.get("s2.procurement.amount") is None:
            out.append(make("S2A-6", ["s2.procurement.amount"], raw=amount.raw.strip()))
    elif t == "2021":
        out += _kind_check(cv, "S2B-1")
        for x in ("regulation", "normative"):
            valid, issued, repealed = (cv.read(f"s2.{x}.{c}").value for c in ("valid", "issued", "repealed"))
            if None not in (valid, issued, repealed) and valid < issued - repealed:
                out.append(make("S2B-2", [f"s2.{x}.valid", f"s2.{x}.issued", f"s2.{x}.repealed"],
                                expected=issued - repealed, actual=valid, row=row_names[x]))
        fee = cv.cells.get("s2.fee.amount")
        if fee is not None and fee.kind == "number":
            spec = catalogue()["S2B-3"]
            if units.get("s2.fee.amount") == "元" or (cv.is_township and fee.value >= spec["threshold_wan"]):
                out.append(make("S2B-3", ["s2.fee.amount"], raw=fee.raw.strip(), actual=fee.value))
    if cv.is_township:
        for key in cv.tables["s2"]:
            cell = cv.cells[key]
            if key.startswith("s2.regulation.") and cell.kind == "number" and cell.value != 0:
                from ingest.templates import key_infos

                out.append(make("S2-T1", [key], expected=0, actual=cell.value, col=key_infos()[t][key].col_label))
        for key, limit in catalogue()["S2-T2"]["thresholds"].items():
            r = cv.read(key)
            if r.value is not None and cv.has(key) and r.value > limit:
                out.append(make("S2-T2", [key], actual=r.value, cell=key_display(t, key)))
    return out

# ---------------------------------------------------------------- registered (ingest/rules/registry.py)

@report_rules("S2-T1", "S2-T2", "S2A-1", "S2A-2", "S2A-3", "S2A-4", "S2A-6", "S2B-1", "S2B-2", "S2B-3", order=60)
def _s2_rules(ctx: ReportContext) -> list[Finding]:
    return check_s2(ctx.cv, ctx.units)


@report_rules("D11", "S3-1", "S3-2", "S3-3", "S3-4", "S3-6", "S3-7", order=61)
def _s3_rules(ctx: ReportContext) -> list[Finding]:
    return check_s3(ctx.cv)


@report_rules("S4-1", "S4-2", "S4-3", "S4-4", "S4-5", "S4-6", order=62)
def _s4_rules(ctx: ReportContext) -> list[Finding]:
    return check_s4(ctx.cv)
