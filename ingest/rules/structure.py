"""Structural findings: template vs year, missing sections/tables, label variants, extra rows."""

from __future__ import annotations

import re
from functools import lru_cache

from ingest.mapper import Mapping
from ingest.rules.cellview import CellView
from ingest.rules.context import ReportContext
from ingest.rules.findings import Finding, make
from ingest.rules.registry import report_rules
from ingest.templates import (
    TEMPLATES,
    key_infos,
    layout,
    table_name,
    table_names,
    template_doc,
    template_for_year,
    template_ids,
    template_name,
)
from ingest.textnorm import squash, strip_enum

_ANNOTATION = re.compile(r"\([^()]*\)$")


@lru_cache(maxsize=4096)
def _norm_label(s: str) -> str:
    s = squash(s)
    # enumerators: 1、 / 1. / 1． are normalisation, not variants (spec §12.2)
    s = re.sub(r"^(\d{1,2})[、.．,，]", r"\1.", s)
    return s


@lru_cache(maxsize=4096)
def _body(s: str) -> str:
    return strip_enum(_norm_label(s))


def label_findings(mapping: Mapping, template: str) -> list[Finding]:
    out: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for lab in mapping.labels:
        raw_n, can_n = _norm_label(lab.raw), _norm_label(lab.canonical)
        if raw_n == can_n or _body(lab.raw) == _body(lab.canonical):
            continue
        if can_n.startswith(raw_n) or _body(lab.canonical).startswith(_body(lab.raw)):
            continue                      # cut short by extraction (本年新, 本年增/): not recorded
        if (lab.raw, lab.canonical) in seen:
            continue
        seen.add((lab.raw, lab.canonical))
        keys = _label_keys(lab.key_prefix, template)
        raw_print = lab.raw.replace("\n", "")
        if _body(_ANNOTATION.sub("", _norm_label(lab.raw))) == _body(lab.canonical) \
                or _body(lab.raw).startswith(_body(lab.canonical) + "("):
            out.append(make("D13", keys, table=lab.table, raw=raw_print))
            continue
        rule = "D10" if template == "2021" and lab.key_prefix == "s2.normative" \
            and _body(lab.raw) == "规范性文件" else "D09"
        out.append(make(rule, keys, table=lab.table, raw=raw_print, canonical=lab.canonical))
    return out


@lru_cache(maxsize=1024)
def _label_keys(prefix: str, template: str) -> list[str]:
    if prefix.startswith("s3.group."):
        group = prefix.rsplit(".", 1)[1]
        rows = [r["key"] for r in layout()["s3"]["rows"] if r.get("group") == group]
        return [k for k in key_infos()[template] if k.split(".")[1] in rows]
    if prefix.startswith("s2.") and prefix.count(".") == 1 and len(prefix) <= 4:
        table = f"第二十条第（{prefix[3:]}）项"
        return [k for k, i in key_infos()[template].items() if i.table == table]
    return [k for k in key_infos()[template] if k.startswith(prefix + ".")]


def _is_number(raw: str) -> bool:
    from ingest.values import classify

    return classify(raw).kind == "number"


def extra_findings(mapping: Mapping, cv: CellView) -> list[Finding]:
    out: list[Finding] = []
    for ex in mapping.extras:
        if ex.kind == "fourth_column":
            n = re.search(r"（(.)）", ex.table).group(1)
            row = strip_enum(squash(ex.label))
            keys = [k for k, i in key_infos()[cv.template].items() if i.table == f"第二十条第（{n}）项"]
            out.append(make("S2A-5", keys, n=n, row=row, raw=ex.values[0]))
        elif ex.kind == "subtotal" and ex.children:
            cols = layout()["s3"]["columns"]
            for col, raw in zip(cols, ex.values, strict=False):
                from ingest.values import classify

                v = classify(raw)
                if v.kind != "number":
                    continue
                keys = [f"s3.{r}.{col}" for r in ex.children]
                s, az = cv.sum(keys)
                if s is not None and s != v.value:
                    out.append(make("S3-5", keys, expected=s, actual=v.value, assumed_zero=az,
                                    row=f"{squash(ex.label)} {layout()['s3']['column_display'][col]}"))
        elif ex.kind in ("row", "subtotal"):
            out.append(make("D13", [], table=ex.table, raw=squash(ex.label)))
        elif ex.kind == "fused":
            out.append(make("D13-fused", [], table=ex.table, raw=squash(ex.label), values=ex.values[0],
                            where=ex.where))
        elif ex.kind == "surplus" and any(_is_number(v) for v in ex.values):
            # numbers beyond the row's template columns: never dropped in silence
            out.append(make("D13-surplus", [], table=ex.table, raw=squash(ex.label),
                            values=" ".join(ex.values), where=ex.where))
    return out


def section_findings(headings: dict[str, int], mapping: Mapping, template: str, has_text: bool,
                     heading_texts: dict[str, tuple[str, str]] | None = None) -> list[Finding]:
    """D16 (missing/out of order), D03 (heading without its table), D09 on heading wording.

    ``heading_texts``: section id → (raw heading as printed, squashed form).
    """
    out: list[Finding] = []
    titles = {s["id"]: s["title"] for s in layout()["sections"]}
    accepted = {s["id"]: re.compile(s["accepted"]) for s in layout()["sections"] if "accepted" in s}
    for sid, (raw, key) in (heading_texts or {}).items():
        rx = accepted.get(sid)
        body = re.sub(r"^([一二三四五六])[.,，]", r"\1、", key)
        if rx is not None and not rx.search(body):
            out.append(make("D09", [], table="章节标题", raw=raw, canonical=titles[sid]))
    for sid, title in titles.items():
        if sid not in headings:
            out.append(make("D16", [], title=title))
    order = [headings[s] for s in titles if s in headings]
    if order != sorted(order):
        out.append(make("D16-order", [], title="、".join(s for s in titles if s in headings)))
    if has_text and template in TEMPLATES:
        for sid in ("二", "三", "四"):
            if sid in headings and sid not in mapping.tables_found:
                keys = [k for k, i in key_infos()[template].items() if i.section == sid]
                out.append(make("D03", keys, section=titles[sid]))
    return out


def all_slash_findings(cv: CellView) -> list[Finding]:
    out = []
    for table, name in table_names().items():
        keys = cv.tables[table]
        if len(keys) >= 5 and all(cv.cells[k].kind == "na_marker" for k in keys):
            out.append(make("D12", keys, table=name))
    return out


def template_year(template: str, year: int | None, marker_labels: list[str], evidence: str = "") -> list[Finding]:
    """X-5, the one implementation: the template must match the report year (``template_for_year``).

    ``template`` is a template id, ``legacy``, ``mixed`` or ``unknown``.  "unknown" is not a format
    decision (a scan, or a page cut before the tables, has no labels to judge by; D03/D16 report the
    missing tables), so it never fails.  ``marker_labels`` are labels the report printed that show
    its format (up to two are named).  The defect is D01 for the wrong national template, D02 for a
    legacy or mixed format (spec §13.1).
    """
    want = template_for_year(year) if year is not None else None
    if want is None or template in (want, "unknown"):
        return []
    marker = f"（出现“{'、'.join(marker_labels[:2])}”）" if marker_labels else ""
    defect = "D01" if template in TEMPLATES else ("D02" if template in ("legacy", "mixed") else None)
    return [make("X-5", ["meta.template"], year=year, doc=template_doc(want), found=template_name(template),
                 marker=marker, evidence=evidence, defect=defect)]


def template_year_finding(template: str, year: int | None, markers: dict[str, list[str]], mixed: bool) -> list[Finding]:
    """X-5 as the parser sees it: the format markers the document printed, per template."""
    actual = "mixed" if mixed else template
    labels = [m for t in template_ids() for m in markers.get(t, [])[:1]] if mixed else markers.get(actual, [])
    return template_year(actual, year, labels)


# ---------------------------------------------------------------- registered (ingest/rules/registry.py)

@report_rules("X-5", order=10)
def _template_year_rules(ctx: ReportContext) -> list[Finding]:
    m = ctx.meta
    return template_year_finding(m.template, m.year, m.format_markers, m.mixed)


@report_rules("D03", "D09", "D16", order=20)
def _section_rules(ctx: ReportContext) -> list[Finding]:
    return section_findings(ctx.headings, ctx.mapping, ctx.meta.template, has_text=True,
                            heading_texts=ctx.heading_texts)


@report_rules("D09", "D10", "D13", order=30)
def _label_rules(ctx: ReportContext) -> list[Finding]:
    return label_findings(ctx.mapping, ctx.meta.template)


@report_rules("D13", "S2A-5", "S3-5", order=40)
def _extra_rules(ctx: ReportContext) -> list[Finding]:
    return extra_findings(ctx.mapping, ctx.cv)


@report_rules("D12", order=50)
def _slash_rules(ctx: ReportContext) -> list[Finding]:
    return all_slash_findings(ctx.cv)


@report_rules("E-1", order=90)
def _unread_table_rules(ctx: ReportContext) -> list[Finding]:
    """A table whose labels were found but not one number: unread, never zeros (spec §12.5)."""
    return [*(make("E-1", [], table=table_name(sec)) for sec in ctx.unread),
            *(make("E-1-cut", [], table=table_name(sec), cols="、".join(f"“{c}”" for c in cols))
              for sec, cols in sorted(ctx.cut_off.items()))]
