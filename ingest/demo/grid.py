"""A DemoReport as an ordered list of blocks (title, paragraphs, headings, table grids).

Every renderer walks the same block list, so all formats print the same labels and cells.  Tables are
grids in the HTML sense: a row lists only the cells that *start* in it, each with its colspan/rowspan,
following the template header blocks of spec §4.2/§4.3/§5.

Style options read here (``report.style``):
  ``halfwidth``  (bool)   print （）：， as ()：, (many scraped pages do)
  ``enum``       (str)    enumerator after the digit of item labels: "." (template), "、", "．"
  ``s2_split``   (bool)   print each section-二 sub-table as its own table instead of one table
  ``fourth_span`` (bool)  F2019 （八）（九）: span the last value over the blank 4th column instead of an empty cell
  ``l1_pad``     (int)    empty lines before 三、本年度办理结果 inside its cell (DOCX→text artifact)
  ``date_top``   (bool)   print "发布日期：…" under the title
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.demo import labels as L
from ingest.demo.report import DemoReport

_HALF = str.maketrans({"（": "(", "）": ")", "：": ":", "，": ",", "；": ";"})


@dataclass
class GCell:
    text: str
    colspan: int = 1
    rowspan: int = 1
    head: bool = True          # a label/header cell; False for value cells
    key: str | None = None


@dataclass
class Grid:
    name: str                  # "二", "二（一）" …, "三", "四"
    ncols: int
    rows: list[list[GCell]]
    widths: list[float] = field(default_factory=list)   # relative column widths


@dataclass
class Block:
    kind: str                  # title | meta | para | heading | table | notice
    text: str = ""
    grid: Grid | None = None
    section: str | None = None


class _Labels:
    def __init__(self, report: DemoReport) -> None:
        self.r = report
        self.half = bool(report.style.get("halfwidth"))
        self.enum = report.style.get("enum", ".")

    def __call__(self, label_id: str, default: str) -> str:
        text = self.r.labels.get(label_id, default)
        if self.enum != "." and re.match(r"^\d\.", text):
            text = text[0] + self.enum + text[2:]
        return self.text(text)

    def text(self, s: str) -> str:
        return s.translate(_HALF) if self.half else s


def _value(report: DemoReport, key: str) -> GCell:
    return GCell(report.cells.get(key, ""), head=False, key=key)


def _has(report: DemoReport, prefix: str) -> bool:
    return any(k.startswith(prefix) for k in report.cells)


# ---------------------------------------------------------------- section 二


def s2_grids(report: DemoReport, lab: _Labels) -> list[Grid]:
    subs = L.s2_subtables(report.template)
    grids: list[Grid] = []
    rows: list[list[GCell]] = []
    fourth_span = bool(report.style.get("fourth_span"))
    for sub in subs:
        part: list[list[GCell]] = [[GCell(lab(L.caption_id(sub), sub.caption), colspan=4)]]
        header = [GCell(lab("s2:info", L.S2_INFO))]
        if sub.spanned:
            col, text = sub.cols[0]
            header.append(GCell(lab(f"s2col:{col}", text), colspan=3))
        else:
            for i, (col, text) in enumerate(sub.cols):
                span = 2 if (sub.blank_fourth and fourth_span and i == len(sub.cols) - 1) else 1
                header.append(GCell(lab(f"s2col:{col}", text), colspan=span))
            if sub.blank_fourth and not fourth_span:
                header.append(GCell(""))
        part.append(header)
        for row, row_label in sub.rows:
            line = [GCell(lab(f"s2row:{row}", row_label))]
            if sub.spanned:
                cell = _value(report, f"s2.{row}.{sub.cols[0][0]}")
                cell.colspan = 3
                line.append(cell)
            else:
                for i, (col, _) in enumerate(sub.cols):
                    cell = _value(report, f"s2.{row}.{col}")
                    if sub.blank_fourth and fourth_span and i == len(sub.cols) - 1:
                        cell.colspan = 2
                    line.append(cell)
                if sub.blank_fourth and not fourth_span:
                    line.append(GCell("", head=False))
            part.append(line)
        if report.style.get("s2_split"):
            grids.append(Grid(f"二{sub.caption[-3:]}", 4, part, [3, 2, 2, 2]))
        else:
            rows.extend(part)
    if rows:
        grids.append(Grid("二", 4, rows, [3, 2, 2, 2]))
    return grids


# ---------------------------------------------------------------- section 三


def s3_grid(report: DemoReport, lab: _Labels) -> Grid:
    t = report.template
    rows: list[list[GCell]] = [
        [GCell(lab("s3:note", L.S3_NOTE), colspan=3, rowspan=3), GCell(lab("s3:applicant", L.S3_APPLICANT), colspan=7)],
        [
            GCell(lab("s3col:natural", "自然人"), rowspan=2),
            GCell(lab("s3col:org", L.S3_ORG), colspan=5),
            GCell(lab("s3col:total", "总计"), rowspan=2),
        ],
        [GCell(lab(f"s3col:{c}", L.s3_col_label(c))) for c in L.S3_ORG_COLS],
    ]
    s3rows = L.s3_rows(t)
    n_l1 = sum(1 for r in s3rows if r.level in (2, 3))
    group_sizes: dict[str, int] = {}
    for r in s3rows:
        if r.group:
            group_sizes[r.group] = group_sizes.get(r.group, 0) + 1
    first_l1 = True
    seen_groups: set[str] = set()
    pad = int(report.style.get("l1_pad", 0))
    for r in s3rows:
        line: list[GCell] = []
        if r.level == 1:
            line.append(GCell(lab(f"s3row:{r.row}", r.label), colspan=3))
        else:
            if first_l1:
                line.append(GCell("\n" * pad + lab("s3:l1", L.S3_L1), rowspan=n_l1))
                first_l1 = False
            if r.level == 2:
                line.append(GCell(lab(f"s3row:{r.row}", r.label), colspan=2))
            else:
                assert r.group is not None
                if r.group not in seen_groups:
                    seen_groups.add(r.group)
                    line.append(GCell(lab(f"s3grp:{r.group}", L.S3_GROUP_LABELS[r.group]), rowspan=group_sizes[r.group]))
                line.append(GCell(lab(f"s3row:{r.row}", r.label)))
        line.extend(_value(report, f"s3.{r.row}.{c}") for c in L.S3_COLS)
        rows.append(line)
    return Grid("三", 10, rows, [1.2, 1.6, 4.2] + [1] * 7)


# ---------------------------------------------------------------- section 四


def s4_grid(report: DemoReport, lab: _Labels) -> Grid:
    rows: list[list[GCell]] = [
        [GCell(lab("s4grp:review", L.S4_GROUP_LABELS["review"]), colspan=5), GCell(lab("s4:suit", L.S4_SUIT), colspan=10)],
        [GCell(lab(f"s4col:{c}", L.S4_COL_LABELS[c]), rowspan=2) for c in L.S4_COLS]
        + [GCell(lab(f"s4grp:{g}", L.S4_GROUP_LABELS[g]), colspan=5) for g in L.S4_GROUPS[1:]],
        [GCell(lab(f"s4col:{c}", L.S4_COL_LABELS[c])) for _ in L.S4_GROUPS[1:] for c in L.S4_COLS],
        [_value(report, f"s4.{g}.{c}") for g in L.S4_GROUPS for c in L.S4_COLS],
    ]
    return Grid("四", 15, rows, [1] * 15)


# ---------------------------------------------------------------- document


def blocks(report: DemoReport) -> list[Block]:
    """The report as blocks in reading order."""
    lab = _Labels(report)
    out: list[Block] = [Block("title", lab.text(report.title or report.default_title()))]
    if report.style.get("date_top") and report.published:
        out.append(Block("meta", f"发布日期：{report.published}"))
    out.extend(Block("para", lab.text(p)) for p in report.preamble)
    tables_ok = report.template in L.TEMPLATES
    for sec in L.SECTION_ORDER:
        if sec in report.omit_sections:
            continue
        out.append(Block("heading", lab.text(report.headings.get(sec, L.HEADINGS[sec])), section=sec))
        body = report.sections.get(sec, "")
        out.extend(Block("para", lab.text(p), section=sec) for p in body.split("\n") if p.strip())
        if not tables_ok or sec in report.omit_tables:
            continue
        if sec == "二" and _has(report, "s2."):
            out.extend(Block("table", grid=g, section=sec) for g in s2_grids(report, lab))
        elif sec == "三" and _has(report, "s3."):
            out.append(Block("table", grid=s3_grid(report, lab), section=sec))
        elif sec == "四" and _has(report, "s4."):
            out.append(Block("table", grid=s4_grid(report, lab), section=sec))
    out.extend(Block("para", lab.text(p)) for p in report.sign_off)
    return out


def occupancy(grid: Grid) -> list[list[tuple[str, GCell | None]]]:
    """Per physical row, the slots a DOCX→text export prints, left to right: ("cell", c) for a cell that starts
    in this row, ("cont", c) for the continuation of a cell merged down from above (printed as an empty cell)."""
    covered: dict[tuple[int, int], GCell] = {}
    out: list[list[tuple[str, GCell | None]]] = []
    for r, row in enumerate(grid.rows):
        slots: list[tuple[str, GCell | None]] = []
        it = iter(row)
        c = 0
        while c < grid.ncols:
            if (r, c) in covered:
                cell = covered[(r, c)]
                slots.append(("cont", cell))
                c += cell.colspan
                continue
            cell = next(it, None)
            if cell is None:
                break
            for dr in range(1, cell.rowspan):
                covered[(r + dr, c)] = cell
            slots.append(("cell", cell))
            c += cell.colspan
        out.append(slots)
    return out
