"""The three statistical tables of one report, laid out as in the national template, as HTML.

Labels come from the template data (``ingest.templates``: keys.tsv + layout.toml), never from
code.  Every piece of text — labels, printed cell text, finding messages in tooltips — goes
through :func:`html.escape`, so a report containing ``<script>`` is shown as text.  Cells named
by a finding are filled with the finding's severity colour; the cell the user came to look at
(``focus``) gets a thick outline and a "◆" marker.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass

from dashboard.labels import SEVERITY_FILL, SEVERITY_SOFT
from ingest.templates import cell_name, key_infos, layout, s3_columns, s3_row_order

SEV_RANK = {"error": 0, "warning": 1, "info": 2}
FILL = SEVERITY_SOFT
EDGE = SEVERITY_FILL
S3_COLS = s3_columns()
S4_GROUPS = ["review", "suit_direct", "suit_after_review"]
S4_COLS = ["upheld", "corrected", "other", "pending", "total"]
RESULTS_L1 = "三、本年度办理结果"

_CSS = ("border-collapse:collapse;font-size:13px;margin:4px 0 14px 0;width:100%;"
        "font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif")
_TD = "border:1px solid #9e9e9e;padding:3px 6px;"
_TH = _TD + "background:#eceff1;font-weight:600;text-align:center;"


def esc(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


@dataclass(frozen=True, slots=True)
class CellInfo:
    raw: str | None
    kind: str | None
    unit: str | None
    location: str | None


@dataclass(frozen=True, slots=True)
class Mark:
    severity: str
    messages: tuple[str, ...]


def marks_for(findings: list[dict], year: int) -> dict[str, Mark]:
    """Per cell key, the most serious finding naming it (keys of other years are skipped)."""
    out: dict[str, tuple[str, list[str]]] = {}
    for f in findings:
        for k in f.get("keys") or []:
            base, _, y = k.partition("@")
            if y and y != str(year):
                continue
            sev, msgs = out.get(base, (f["severity"], []))
            if SEV_RANK.get(f["severity"], 3) < SEV_RANK.get(sev, 3):
                sev = f["severity"]
            msgs.append(f"[{f['rule']}] {f['message']}")
            out[base] = (sev, msgs)
    return {k: Mark(s, tuple(m)) for k, (s, m) in out.items()}


def _value_td(key: str, cells: Mapping[str, CellInfo], marks: Mapping[str, Mark], focus: str | None,
              template: str | None, extra_style: str = "") -> str:
    c = cells.get(key)
    text = "" if c is None else (c.raw or "")
    if c is not None and c.unit and c.unit not in text and text:
        text = f"{text}{c.unit}"
    tip = [cell_name(template, key)]
    style = _TD + "text-align:right;min-width:42px;" + extra_style
    if c is None:
        tip.append("报告中没有这一格")
        style += "background:repeating-linear-gradient(45deg,#fafafa,#fafafa 4px,#eeeeee 4px,#eeeeee 8px);"
    else:
        if c.kind and c.kind not in ("number",):
            tip.append({"blank": "空白", "zero_marker": "无/—（按“无”）", "na_marker": "“/”（不适用）",
                        "text": "非数字文字"}.get(c.kind, c.kind))
        if c.location:
            tip.append(f"位置：{c.location}")
    m = marks.get(key)
    marker = ""
    if m is not None:
        style += f"background:{FILL[m.severity]};outline:2px solid {EDGE[m.severity]};outline-offset:-2px;" \
                 "font-weight:700;"
        tip.extend(m.messages)
    if focus and key == focus:
        style += "outline:4px solid #000;outline-offset:-4px;"
        marker = '<span style="color:#000;font-weight:900">◆ </span>'
    attr_id = ' id="focus-cell"' if focus and key == focus else ""
    return (f'<td{attr_id} style="{style}" title="{esc(chr(10).join(tip))}" data-key="{esc(key)}">'
            f"{marker}{esc(text)}</td>")


def _th(text: str, colspan: int = 1, rowspan: int = 1, left: bool = False) -> str:
    span = (f' colspan="{colspan}"' if colspan > 1 else "") + (f' rowspan="{rowspan}"' if rowspan > 1 else "")
    align = "text-align:left;" if left else ""
    return f'<th{span} style="{_TH}{align}">{esc(text)}</th>'


def table2(template: str, cells: Mapping[str, CellInfo], marks: Mapping[str, Mark], focus: str | None) -> str:
    """表二: the sub-tables of section 二 (five in F2019, four in F2021), each with its caption."""
    infos = [i for k, i in key_infos()[template].items() if k.startswith("s2.")]
    parts = []
    captions = list(dict.fromkeys(i.table for i in infos))
    for cap in captions:
        sub = [i for i in infos if i.table == cap]
        cols = list(dict.fromkeys(i.col_label for i in sub))
        rows = list(dict.fromkeys(i.row_label for i in sub))
        head = f'<tr>{_th(cap, 1 + len(cols), left=True)}</tr><tr>{_th("信息内容")}' + "".join(_th(c) for c in cols)
        body = []
        for r in rows:
            tds = []
            for c in cols:
                info = next((i for i in sub if i.row_label == r and i.col_label == c), None)
                tds.append(_value_td(info.key, cells, marks, focus, template) if info else f'<td style="{_TD}"></td>')
            body.append(f'<tr><td style="{_TD}">{esc(r)}</td>{"".join(tds)}</tr>')
        parts.append(f'<table style="{_CSS}">{head}</tr>{"".join(body)}</table>')
    return "".join(parts)


def _s3_label_parts(template: str, row: str) -> tuple[str | None, str | None]:
    """(group label, item label) of a 表三 row under 三、本年度办理结果; (None, full) for top rows."""
    label = key_infos()[template][f"s3.{row}.natural"].row_label
    if not label.startswith(("（", RESULTS_L1)):
        return None, label
    label = label.removeprefix(RESULTS_L1).strip()
    group, _, item = label.partition(" ")
    return (group, item) if item else (label, None)


def table3(template: str, cells: Mapping[str, CellInfo], marks: Mapping[str, Mark], focus: str | None) -> str:
    """表三 with the template's 3-row header, L1/L2/L3 label columns and 7 value columns."""
    col_labels = ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
    head = ("<tr>" + _th("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", 3, 3)
            + _th("申请人情况", 7) + "</tr><tr>" + _th(col_labels[0], rowspan=2) + _th("法人或其他组织", 5)
            + _th(col_labels[6], rowspan=2) + "</tr><tr>" + "".join(_th(c) for c in col_labels[1:6]) + "</tr>")
    rows = s3_row_order(template)
    parts = [(_s3_label_parts(template, r), r) for r in rows]
    in_results = [r for (g, _), r in parts if g is not None]
    body, l1_done, seen_groups = [], False, set()
    for (group, item), r in parts:
        lab = ""
        if group is None:
            lab = f'<td colspan="3" style="{_TD}font-weight:600">{esc(item)}</td>'
        else:
            if not l1_done:
                lab += (f'<td rowspan="{len(in_results)}" style="{_TD}writing-mode:vertical-rl;text-align:center;'
                        f'font-weight:600;width:26px">{esc(RESULTS_L1)}</td>')
                l1_done = True
            if item is None:
                lab += f'<td colspan="2" style="{_TD}">{esc(group)}</td>'
            elif group not in seen_groups:
                n = sum(1 for (g, i), _ in parts if g == group and i is not None)
                lab += f'<td rowspan="{n}" style="{_TD}">{esc(group)}</td><td style="{_TD}">{esc(item)}</td>'
                seen_groups.add(group)
            else:
                lab += f'<td style="{_TD}">{esc(item)}</td>'
        vals = "".join(_value_td(f"s3.{r}.{c}", cells, marks, focus, template,
                                 "background:#f5f5f5;" if c == "total" else "") for c in S3_COLS)
        body.append(f"<tr>{lab}{vals}</tr>")
    return f'<table style="{_CSS}">{head}{"".join(body)}</table>'


def table4(template: str, cells: Mapping[str, CellInfo], marks: Mapping[str, Mark], focus: str | None) -> str:
    """表四: 行政复议 and the two 行政诉讼 groups, 15 cells in one row."""
    cd = layout()["s4"]["column_display"]
    head = ("<tr>" + _th("行政复议", 5) + _th("行政诉讼", 10) + "</tr><tr>"
            + "".join(_th(cd[c], rowspan=2) for c in S4_COLS) + _th("未经复议直接起诉", 5) + _th("复议后起诉", 5)
            + "</tr><tr>" + "".join(_th(cd[c]) for _ in range(2) for c in S4_COLS) + "</tr>")
    vals = "".join(_value_td(f"s4.{g}.{c}", cells, marks, focus, template) for g in S4_GROUPS for c in S4_COLS)
    return f'<table style="{_CSS}">{head}<tr>{vals}</tr></table>'


def legend() -> str:
    items = [("error", "错误"), ("warning", "警告"), ("info", "提示")]
    spans = "".join(f'<span style="display:inline-block;padding:2px 8px;margin-right:8px;background:{FILL[s]};'
                    f'outline:2px solid {EDGE[s]};outline-offset:-2px;font-weight:700">{esc(n)}</span>'
                    for s, n in items)
    return (f'<div style="font-size:13px;margin:4px 0 8px 0">出错单元格：{spans}'
            '<span style="outline:4px solid #000;outline-offset:-4px;padding:2px 8px">◆ 当前定位的单元格</span>'
            '　斜纹格：报告中没有这一格　（鼠标停在格子上可看到名称、位置和问题）</div>')
