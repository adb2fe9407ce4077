"""Narrative ↔ table agreement (spec §8.5) and the report's own metadata (N-7…N-10).

Narratives often speak of another scope (one applicant class, 予以公开 merged with 部分公开,
city-wide 备案 counts).  So every match of a pattern is considered, matches in another scope are
skipped, and a finding is raised only when *no* in-scope statement agrees with the table; the
finding quotes the statement with its context.  Never errors: warnings or info.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ingest.rules.cellview import CellView
from ingest.rules.context import ReportContext
from ingest.rules.findings import Finding, make
from ingest.rules.registry import report_rules
from ingest.textnorm import squash
from ingest.values import MAX_INT_DIGITS

_OTHER_SCOPE = re.compile(r"备案|全市|全区|全县|全省|各镇|各乡|各街道|各部门|累计|历年|同比|上年度?(?:共|同期)")
_NUM = r"(\d+)"


@dataclass(frozen=True, slots=True)
class Statement:
    snippet: str
    value: int
    context: str


def _statements(text: str, pattern: str, skip_before: str | None = None) -> list[Statement]:
    out = []
    for m in re.finditer(pattern, text):
        start = max(0, m.start() - 12)
        context = text[start:m.end() + 6]
        lead = text[max(0, m.start() - 20):m.start()]
        if _OTHER_SCOPE.search(lead + m.group(0)):
            continue
        if skip_before and re.search(skip_before, text[max(0, m.start() - 8):m.start()]):
            continue
        if len(m.group(m.lastindex)) > MAX_INT_DIGITS:     # not a count (and int() refuses 4300+ digits)
            continue
        out.append(Statement(m.group(0), int(m.group(m.lastindex)), context))
    return out


def _compare(rule: str, keys: list[str], table_value, statements: list[Statement], **fields) -> list[Finding]:
    if table_value is None or not statements:
        return []
    if any(s.value == table_value for s in statements):
        return []
    s = statements[0]
    evidence = "；".join(f"…{x.context}…" for x in statements)
    return [make(rule, keys, expected=table_value, actual=s.value, snippet=s.snippet, evidence=evidence, **fields)]


def check_narrative(cv: CellView, narrative_text: str) -> tuple[list[Finding], dict]:
    """Returns findings and the figures read from the text (the ``narrative`` field of parse output)."""
    text = squash(narrative_text)
    out: list[Finding] = []
    figures: dict[str, list[int]] = {}

    def tv(keys: list[str]):
        return cv.sum(keys)[0] if all(cv.has(k) for k in keys) else None

    def run(rule: str, name: str, pattern: str, keys: list[str], value_fn: Callable | None = None,
            skip_before: str | None = None, **fields) -> None:
        sts = _statements(text, pattern, skip_before)
        if sts:
            figures[name] = [s.value for s in sts]
        table_value = value_fn() if value_fn else tv(keys)
        out.extend(_compare(rule, keys, table_value, sts, **fields))

    # N-1: received (含上年结转 → compare with received + carried over)
    sts = _statements(text, r"(?:收到|受理|新收)[^，。；]{0,12}?申请[^，。；\d]{0,6}?" + _NUM + "件")
    if sts:
        figures["applications_received"] = [s.value for s in sts]
        with_carry = [s for s in sts if "含上年结转" in s.context]
        plain = [s for s in sts if s not in with_carry]
        out += _compare("N-1", ["s3.new_received.total"], tv(["s3.new_received.total"]), plain)
        out += _compare("N-1", ["s3.new_received.total", "s3.carried_over.total"],
                        tv(["s3.new_received.total", "s3.carried_over.total"]), with_carry)
    run("N-2", "carried_over", r"上年度?结转[^，。；\d]{0,6}?" + _NUM + "件", ["s3.carried_over.total"])
    run("N-4", "carry_forward", r"结转下年度?[^，。；\d]{0,6}?" + _NUM + "件", ["s3.carry_forward.total"])
    t = cv.template
    s3_totals = [k for k in cv.tables["s3"] if k.endswith(".total")]
    deny = [k for k in s3_totals if k.startswith("s3.deny_")]
    unable = [k for k in s3_totals if k.startswith("s3.unable_")]
    noproc = [k for k in s3_totals if k.startswith("s3.noproc_")]
    both = r"予以公开(?:及|和|与|、)部分公开[^，。；\d]{0,4}?" + _NUM + "件"
    run("N-3", "granted_and_partial", both, ["s3.granted.total", "s3.partial.total"], row="第（一）项予以公开与第（二）项部分公开")
    run("N-3", "granted", r"(?<!不)予以公开[^，。；\d及和与、部]{0,4}?" + _NUM + "件", ["s3.granted.total"],
        row="第（一）项予以公开")
    run("N-3", "partial", r"部分公开[^，。；\d]{0,4}?" + _NUM + "件", ["s3.partial.total"],
        skip_before=r"(?:予以公开|公开)(?:及|和|与|、)$", row="第（二）项部分公开")
    if deny:
        run("N-3", "denied", r"不予(?:以)?公开[^，。；\d]{0,4}?" + _NUM + "件", sorted(deny), row="第（三）项不予公开")
    if unable:
        run("N-3", "unable", r"无法提供[^，。；\d]{0,4}?" + _NUM + "件", sorted(unable), row="第（四）项无法提供")
    if noproc:
        run("N-3", "not_processed", r"不予处理[^，。；\d]{0,4}?" + _NUM + "件", sorted(noproc), row="第（五）项不予处理")
    # N-5: reviews and suits; "未发生…行政复议/行政诉讼" states zero
    review_sts = _statements(text, r"行政复议(?:案件)?[^，。；\d]{0,4}?" + _NUM + "件")
    suit_sts = _statements(text, r"行政诉讼(?:案件)?[^，。；\d]{0,4}?" + _NUM + "件")
    for m in re.finditer(r"(?:未发生|没有发生|未收到|没有收到|无)[^，。；\d]{0,16}?(?:行政复议|行政诉讼)[^，。；\d]{0,12}",
                         text):
        ctx = text[max(0, m.start() - 10):m.end() + 4]
        if "复议" in m.group(0):
            review_sts.append(Statement(m.group(0), 0, ctx))
        if "诉讼" in m.group(0):
            suit_sts.append(Statement(m.group(0), 0, ctx))
    if review_sts:
        figures["reviews"] = [s.value for s in review_sts]
    if suit_sts:
        figures["suits"] = [s.value for s in suit_sts]
    out += _compare("N-5", ["s4.review.total"], tv(["s4.review.total"]), review_sts, group="行政复议")
    out += _compare("N-5", ["s4.suit_direct.total", "s4.suit_after_review.total"],
                    tv(["s4.suit_direct.total", "s4.suit_after_review.total"]), suit_sts, group="行政诉讼")
    col = "本年新制作数量" if t == "2019" else "本年制发件数"
    key = "s2.normative.made" if t == "2019" else "s2.normative.issued"
    run("N-6", "normative_issued", r"(?:制发|出台)[^，。；\d]{0,8}?规范性文件" + _NUM + "件", [key], col=col)
    return out, figures


def check_meta(meta, sections: dict[str, str]) -> list[Finding]:
    """N-7 (years disagree), N-8 (format document), N-9 (publication year), N-10 (信息处理费)."""
    from ingest.templates import TEMPLATES, template_doc, template_for_year

    out: list[Finding] = []
    years = [meta.title_year, meta.period_year, meta.text_year]
    known = {y for y in years if y is not None}
    if len(known) > 1:
        fmt = [str(y) if y is not None else "未知" for y in years]
        out.append(make("N-7", ["meta.title_year", "meta.period", "meta.report_year"], a=fmt[0], b=fmt[1], c=fmt[2]))
    y = meta.year
    if y is not None and meta.cited_format_doc:
        # before the first template a cited document is compared with the earliest one
        want = template_doc(template_for_year(y) or TEMPLATES[0])
        if meta.cited_format_doc != want:
            out.append(make("N-8", ["meta.cited_format_doc"], raw=meta.cited_format_doc, year=y, doc=want))
    if y is not None and meta.published and int(meta.published[:4]) != y + 1:
        out.append(make("N-9", ["meta.publish_date"], date=meta.published, next_year=y + 1))
    if meta.template == "2021" and "六" in sections and "信息处理费" not in squash(sections["六"]):
        out.append(make("N-10", ["meta.section_6"]))
    return out


# ---------------------------------------------------------------- registered (ingest/rules/registry.py)

@report_rules("N-1", "N-2", "N-3", "N-4", "N-5", "N-6", order=70)
def _narrative_rules(ctx: ReportContext) -> list[Finding]:
    """Text against tables; also hands the figures it read to the parse output (``ctx.figures``)."""
    if not ctx.cv.cells:
        return []
    findings, figures = check_narrative(ctx.cv, ctx.narrative_text)
    ctx.figures.update(figures)
    return findings


@report_rules("N-7", "N-8", "N-9", "N-10", order=80)
def _meta_rules(ctx: ReportContext) -> list[Finding]:
    return check_meta(ctx.meta, ctx.sections)
