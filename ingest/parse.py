"""One file → one canonical report (the object ``python -m ingest parse`` prints, spec/cli.md).

    file bytes → sniff/reader → Document → tokens → sections, template, metadata
               → mapper (cells) → within-report checks → dict
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ingest import PARSER_VERSION, limits
from ingest.document import Document
from ingest.errors import RejectedFile
from ingest.limits import MAX_FILE_BYTES
from ingest.mapper import Mapping, map_s2, map_s3, map_s4
from ingest.recognise import explainer_title, recognise
from ingest.rules.cellview import CellView
from ingest.rules.context import ReportContext
from ingest.rules.registry import report_families
from ingest.templates import key_infos, layout, template_ids
from ingest.textnorm import TRADITIONAL_SAMPLE_CHARS, looks_traditional, to_simplified
from ingest.tokens import Token, find_headings, table_regions, tokenize

MONEY_KEYS = ("s2.procurement.amount", "s2.fee.amount")


def parse_file(path: str | Path, *, data: bytes | None = None, source: str | None = None) -> dict:
    """Parse one report file.  Raises :class:`RejectedFile` with a plain Chinese reason."""
    path = Path(path)
    if data is None:
        try:
            size = path.stat().st_size
        except OSError as e:
            raise RejectedFile(f"无法打开文件（{e.strerror or e}）", "io") from None
        if size > MAX_FILE_BYTES:
            raise RejectedFile(f"文件过大（{size / 1048576:.1f} MB，上限 {MAX_FILE_BYTES // 1048576} MB），不像是一份年度报告",
                               "too_large")
        data = path.read_bytes()
    from ingest.budget import ParseTimeout, time_budget
    from ingest.sniff import read_document

    try:
        with time_budget():
            doc = read_document(data, str(path))
            return parse_document(doc, sha256=hashlib.sha256(data).hexdigest(), source=source or str(path))
    except ParseTimeout as e:
        if e.kind == "wall":
            wall = limits.PARSE_SECONDS * limits.PARSE_WALL_FACTOR
            raise RejectedFile(f"解析超时（等待超过 {wall:g} 秒仍未读完），文件可能已损坏，"
                               "或文件所在的磁盘、网络位置没有响应；请复制到本机后重试", "timeout") from None
        raise RejectedFile(f"解析超时（处理用时超过 {limits.PARSE_SECONDS:g} 秒），文件可能已损坏或结构异常",
                           "timeout") from None


def _sections(tokens: list[Token], headings: dict[str, int]) -> dict[str, str]:
    order = sorted(headings.items(), key=lambda kv: kv[1])
    out: dict[str, str] = {}
    for i, (sid, start) in enumerate(order):
        stop = order[i + 1][1] if i + 1 < len(order) else len(tokens)
        out[sid] = "\n".join(t.raw for t in tokens[start + 1:stop] if not t.in_table)
    return out


def _tables_without_numbers(cells: dict) -> set[str]:
    """Tables whose labels were all found but whose every value cell is blank: the numbers were not in
    the text (a table given as an image, a scan, a page that lost its figures).  Such a table is unread,
    never a table of zeros (spec §12.5)."""
    kinds: dict[str, set[str]] = {}
    counts: dict[str, int] = {}
    for key, cell in cells.items():
        sec = key.split(".", 1)[0]
        kinds.setdefault(sec, set()).add(cell.kind)
        counts[sec] = counts.get(sec, 0) + 1
    return {sec for sec, ks in kinds.items() if ks == {"blank"} and counts[sec] >= 3}


# The columns of 表三 and 表四 in the order the template prints them (left to right).
_TABLE_COLUMNS = {"s3": tuple(layout()["s3"]["columns"]), "s4": tuple(layout()["s4"]["columns"])}
_COLUMN_NAMES = {"s3": layout()["s3"]["column_display"],
                 "s4": {c: f"{n}列" for c, n in layout()["s4"]["column_display"].items()}}


def _cut_off_tables(cells: dict) -> dict[str, list[str]]:
    """表三 / 表四 whose every row lacks the same last columns: the table was cut at the page edge
    (a web page printed to PDF too narrow).  Reported as incomplete and not read, never mapped
    partly (the missing 总计 would otherwise look like a blank).  Section → names of the missing columns."""
    out: dict[str, list[str]] = {}
    for sec, order in _TABLE_COLUMNS.items():
        rows: dict[str, set[str]] = {}
        for key in cells:
            if key.startswith(sec + "."):
                _, row, col = key.split(".")
                rows.setdefault(row, set()).add(col)
        if sec == "s4" and rows:
            # 表四 prints its three groups side by side: a cut page loses the last groups whole
            groups = layout()["s4"]["groups"]
            lost = [g for g in groups if g not in rows]
            if lost and lost == groups[len(groups) - len(lost):]:
                out[sec] = [f"{layout()['s4']['group_display'][g]}各列" for g in lost]
                continue
        if len(rows) < (5 if sec == "s3" else 2):
            continue
        missing = [c for c in order if not any(c in cols for cols in rows.values())]
        if missing and missing == list(order[len(order) - len(missing):]):
            out[sec] = [_COLUMN_NAMES[sec][c] for c in missing]
    return out


def parse_document(doc: Document, *, sha256: str, source: str) -> dict:
    simplify = None
    if looks_traditional(doc.plain_text(limit=TRADITIONAL_SAMPLE_CHARS)):
        simplify = to_simplified
    tokens = tokenize(doc, simplify)
    if not any(t.key for t in tokens):
        raise RejectedFile("文件中没有可读取的文字", "empty")
    headings = find_headings(tokens)
    sections = _sections(tokens, headings)
    meta = recognise(tokens, sections)
    explainer = explainer_title(tokens)
    if explainer:
        raise RejectedFile(f"不是年度报告：这是对年度报告的解读材料（标题“{explainer}”），请导入报告原文",
                           "not_a_report")
    if meta.year is None and meta.template == "unknown" and len(headings) < 2:
        raise RejectedFile("不像是政府信息公开工作年度报告（未找到报告标题、年度或报告的章节与统计表）", "not_a_report")

    mapping = Mapping()
    if meta.template in template_ids():
        regions = table_regions(tokens, headings)
        for sid, fn in (("二", map_s2), ("三", map_s3), ("四", map_s4)):
            if sid in regions:
                a, b = regions[sid]
                fn(tokens[a:b], meta.template, mapping)
    infos = key_infos().get(meta.template, {})
    mapped = mapping.cells
    ordered = [k for k in infos if k in mapped]
    cells = {k: mapped[k].cell for k in ordered}
    unread = _tables_without_numbers(cells)
    cut_off = _cut_off_tables(cells)
    if unread or cut_off:
        ordered = [k for k in ordered if k.split(".", 1)[0] not in unread and k.split(".", 1)[0] not in cut_off]
        cells = {k: cells[k] for k in ordered}

    cv = CellView(cells, meta.template, meta.unit_level)
    units = {k: cells[k].unit for k in MONEY_KEYS if k in cells}
    narrative_text = "\n".join(sections.get(s, "") for s in ("一", "二", "三", "四", "五", "六")) or \
        "\n".join(t.text for t in tokens if not t.in_table)
    heading_texts = {sid: (tokens[i].raw, tokens[i].key) for sid, i in headings.items()}
    ctx = ReportContext(meta=meta, mapping=mapping, cv=cv, units=units, headings=headings,
                        heading_texts=heading_texts, sections=sections, narrative_text=narrative_text,
                        unread=sorted(unread), cut_off=cut_off)
    findings = [f for family in report_families() for f in family.check(ctx)]
    figures = ctx.figures

    return {
        "source": source,
        "sha256": sha256,
        "format": doc.format,
        "unit": meta.unit,
        "unit_level": meta.unit_level,
        "region": meta.region,
        "year": meta.year,
        "template": meta.template,
        "published": meta.published,
        "cells": {k: c.value for k, c in cells.items()},
        "units": units,
        "narrative": figures,
        "findings": [f.to_dict() for f in findings],
        # extensions (docs/parse-output.md)
        "raw": {k: c.raw for k, c in cells.items()},
        "kinds": {k: c.kind for k, c in cells.items()},
        "where": {k: mapped[k].where for k in ordered},
        "sections": sections,
        "extra": [{"table": e.table, "label": e.label, "values": e.values, "where": e.where, "kind": e.kind}
                  for e in mapping.extras],
        "title_year": meta.title_year,
        "period_year": meta.period_year,
        "cited_format_doc": meta.cited_format_doc,
        "template_markers": meta.format_markers,
        "encoding": doc.encoding,
        "source_format": doc.converted_from or doc.format,
        "parser_version": PARSER_VERSION,
    }
