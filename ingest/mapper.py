"""Table cells → canonical keys (spec §2, §4, §5, §12).

The mapper walks the token stream of each table region.  A text token that matches a row label
(by keywords from ``templates/layout.toml``) opens a row; the value tokens that follow are that
row's cells, in order — never by grid index, never by the flattened header's order (spec §12.5).
Surplus empty cells left by merged or spanned cells are dropped from the ends of a row.

The mapper records what it saw but does not judge the numbers: label variants (D09/D10),
non-template rows (D13), a filled 4th column (S2A-5), subtotals (S3-5) and missing tables (D03)
come out as *observations* that ``rules/structure.py`` turns into findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ingest import fuzzy
from ingest.templates import key_infos, layout, s3_groups_for, s3_rows_for
from ingest.textnorm import squash, strip_enum
from ingest.tokens import Token
from ingest.values import CellValue, classify


@dataclass(slots=True)
class MappedCell:
    key: str
    cell: CellValue
    where: str


@dataclass(slots=True)
class LabelSeen:
    table: str            # display name of the table, e.g. 表三
    raw: str              # label as printed
    canonical: str        # template label
    key_prefix: str       # s3.noproc_petition / s2.procurement / caption


@dataclass(slots=True)
class Extra:
    table: str
    label: str
    values: list[str]
    where: str
    kind: str = "row"               # row | subtotal | fourth_column | surplus | fused
    children: list[str] = field(default_factory=list)   # keys a subtotal should equal the sum of


@dataclass(slots=True)
class Mapping:
    cells: dict[str, MappedCell] = field(default_factory=dict)
    labels: list[LabelSeen] = field(default_factory=list)
    extras: list[Extra] = field(default_factory=list)
    tables_found: set[str] = field(default_factory=set)   # "二", "三", "四"


@dataclass(slots=True)
class _Row:
    kind: str                      # leaf | group | extra
    ident: str                     # row key / group id / raw label
    label: str
    where: str
    values: list[tuple[CellValue, Token]] = field(default_factory=list)
    table: str = ""                # section-二 sub-table number
    mark: int = -1                 # index of the token that started the label's physical table row


def _text_cell(tok: Token, current: _Row | None, row_mark: int, width: int) -> bool:
    """A text token that sits in the value cells of the current row: same physical table row as the
    label, after it, while the row still lacks cells (``见附件``, ``不适用``, ``<script>…``).  Kept as a
    ``text`` cell so that the cells after it keep their columns (spec §12.5: order within the row)
    and the checks report it; outside tables such a token may be a wrapped label, so it is not taken."""
    return (current is not None and current.kind == "leaf" and tok.in_table and not tok.row_start
            and current.mark == row_mark and len(current.values) < width)


def fit_values(values: list[tuple[CellValue, Token]], n: int) -> tuple[list, list]:
    """Choose the row's ``n`` cells from what followed its label; return (cells, surplus)."""
    start, end = 0, len(values)          # (indices, not pop(0): a row may hold a million blank cells)
    while end - start > n and values[end - 1][0].kind == "blank":
        end -= 1
    while end - start > n and values[start][0].kind == "blank":
        start += 1
    vals = list(values[start:end])
    if len(vals) > n:
        nonblank = [v for v in vals if v[0].kind != "blank"]
        if len(nonblank) == n:
            return nonblank, []
        return vals[:n], vals[n:]
    return vals, []


# ------------------------------------------------------------------ section 二

_CAPTION = re.compile(layout()["s2"]["caption_regex"])


@lru_cache(maxsize=4096)
@lru_cache(maxsize=1)
def _s2_labels() -> tuple[tuple[str, str], ...]:
    """(row, template label) for every 表二 row of every template, for typo matching."""
    pairs = [(k.split(".")[1], squash(strip_enum(i.row_label))) for infos in key_infos().values()
             for k, i in infos.items() if k.startswith("s2.")]
    return tuple(dict.fromkeys(pairs))


# A note inside a label: 行政强制（不含行政处罚）, 部分公开（区分处理的，只计这一情形，不计其他情形）.
_NOTE = re.compile(r"[(（][^()（）]*[)）]")


def _without_notes(label: str) -> str:
    """The label with its bracketed notes removed (a leading enumerator is removed first by the caller)."""
    return _NOTE.sub("", label)


@lru_cache(maxsize=8192)
def _match_s2_row(key: str) -> dict | None:
    body = strip_enum(key)
    if len(body) > 40:
        return None
    rows = layout()["s2"]["rows"]
    core = _without_notes(body)
    # the label without its notes first: a note may name another row (行政强制（不含行政处罚）)
    for text in ((core, body) if core != body else (body,)):
        for r in rows:
            if any(k in text for k in r["keywords"]):
                return r
    typo = fuzzy.closest(body, _s2_labels())       # 行政许和 → 行政许可 (reported as D09)
    return next((r for r in rows if r["key"] == typo), None) if typo else None


@lru_cache(maxsize=256)
def _s2_width(row_key: str, template: str) -> int:
    """Value cells of a section-二 row (with the blank 4th column where the template has one)."""
    lay = layout()["s2"]
    sub = next(d for d in lay["rows"] if d["key"] == row_key)["table"]
    cols = lay["columns"][template].get(sub)
    if cols is None:
        return 0
    return len(cols) + (1 if lay.get("blank_fourth_column", {}).get(template, {}).get(sub) else 0)


# What is left of a damaged sub-table caption: 第二十一条第（一）项 (typo), 第二十条第 (item number lost).
_CAPTION_DAMAGED = re.compile(r"^第二十.{0,2}条")

# A row label with its numbers fused on, no separator: 行政许可97, 规章000 (text copied from some PDFs).
_FUSED = re.compile(r"^(?P<label>.*[\u4e00-\u9fff)）])(?P<digits>\d+(?:\.\d+)?)$")


def _split_fused(digits: str, width: int) -> list[str] | None:
    """The values of a fused label: the whole number for a one-value row, one digit per value when
    there are exactly as many digits as values (规章000 → 0 0 0); None when it cannot be told."""
    if width == 1:
        return [digits]
    if "." not in digits and len(digits) == width:
        return list(digits)
    return None


def map_s2(tokens: list[Token], template: str, out: Mapping) -> None:
    lay = layout()["s2"]
    columns = lay["columns"][template]
    blank_fourth = lay.get("blank_fourth_column", {}).get(template, {})
    infos = key_infos()[template]
    header_labels = {squash(v) for v in lay["header_labels"].values()}
    rows: list[_Row] = []
    current: _Row | None = None
    table: str | None = None
    header_units: dict[str, str] = {}
    row_mark = -1
    damaged_caption: Token | None = None
    for tok in tokens:
        if tok.row_start:
            row_mark = tok.index
        m = _CAPTION.search(tok.key)
        if m and len(tok.key) <= 30:
            current = None
            table = m.group(1)
            canonical = lay["canonical_caption"].format(n=table)
            out.labels.append(LabelSeen("表二", tok.raw, canonical, f"s2.{table}"))
            out.tables_found.add("二")
            continue
        if _CAPTION_DAMAGED.match(tok.key) and len(tok.key) <= 30:
            damaged_caption, current, table = tok, None, None
            continue
        if table is None:
            # no readable caption (damaged or missing): a row the template names tells its sub-table
            row = _match_s2_row(tok.key) or (_match_s2_row(f["label"]) if (f := _FUSED.match(tok.key)) else None)
            if row is None:
                continue
            table = row["table"]
            out.tables_found.add("二")
            if damaged_caption is not None:
                out.labels.append(LabelSeen("表二", damaged_caption.raw, lay["canonical_caption"].format(n=table),
                                            f"s2.{table}"))
                damaged_caption = None
        cv = classify(tok.raw)
        if cv.is_value:
            if current is not None:
                current.values.append((cv, tok))
            continue
        hm = _HEADER_UNIT.search(tok.key)
        # (not the template's own header: F2021 prints 本年收费金额（单位：万元） in every report)
        if hm and tok.key not in header_labels and _match_s2_row(tok.key) is None:
            header_units[table] = hm.group(1)       # "采购总金额（万元）": the unit of the cells below
            current = None
            continue
        row = _match_s2_row(tok.key)
        fused = _FUSED.match(tok.key) if row is not None else None
        if fused and _match_s2_row(fused["label"]) is row:
            sub = row["table"]
            width = len(columns.get(sub, ()))
            label = tok.raw[:len(tok.raw.rstrip()) - len(fused["digits"])].rstrip()
            current = _Row("leaf", row["key"], label, tok.where, table=table, mark=row_mark)
            rows.append(current)
            parts = _split_fused(fused["digits"], width) if width else None
            if parts is None:
                out.extras.append(Extra(f"表二 第二十条第（{sub}）项", label, [fused["digits"]], tok.where,
                                        kind="fused"))
                current = None
            else:
                current.values.extend((classify(d), tok) for d in parts)
            continue
        if row is not None:
            current = _Row("leaf", row["key"], tok.raw, tok.where, table=table, mark=row_mark)
            rows.append(current)
            continue
        if current is not None and current.kind == "leaf" \
                and _text_cell(tok, current, row_mark, _s2_width(current.ident, template)):
            current.values.append((CellValue(tok.raw, "text", None), tok))
            continue
        if tok.key in header_labels or tok.key.startswith("信息内容") or len(tok.key) <= 2:
            current = None
            continue
        if current is not None and not current.values:
            continue          # wrapped or annotated label: keep the row open
        if re.search(r"\d", tok.key) and current is not None and len(tok.key) <= 12:
            current.values.append((CellValue(tok.raw, "text", None), tok))
            continue
        current = _Row("extra", tok.raw, tok.raw, tok.where, table=table)
        rows.append(current)

    for r in rows:
        if r.kind == "extra":
            if any(v.kind != "blank" for v, _ in r.values):
                out.extras.append(Extra(f"表二 第二十条第（{r.table}）项", r.label,
                                        [v.raw for v, _ in r.values], r.where))
            continue
        row_def = next(d for d in lay["rows"] if d["key"] == r.ident)
        sub = row_def["table"]
        cols = columns.get(sub)
        if cols is None:
            continue                   # a row of the other template (e.g. 政府集中采购 in F2021)
        n = len(cols)
        if blank_fourth.get(sub):
            cells, surplus = fit_values(r.values, n + 1)
            if len(cells) == n + 1:
                fourth = cells.pop()
                if fourth[0].kind != "blank":
                    out.extras.append(Extra(f"表二 第二十条第（{sub}）项", r.label, [fourth[0].raw],
                                            fourth[1].where, kind="fourth_column"))
        else:
            cells, surplus = fit_values(r.values, n)
        canonical_row = infos[f"s2.{r.ident}.{cols[0]}"].row_label
        out.labels.append(LabelSeen(f"表二 第二十条第（{sub}）项", r.label, canonical_row, f"s2.{r.ident}"))
        for col, (cv, tok) in zip(cols, cells, strict=False):
            key = f"s2.{r.ident}.{col}"
            if key in infos and key not in out.cells:
                unit = header_units.get(r.table)
                if unit and cv.kind == "number" and cv.unit is None and infos[key].kind == "money":
                    cv = CellValue(cv.raw, cv.kind, cv.value, unit)
                out.cells[key] = MappedCell(key, cv, tok.where)
        if any(v.kind != "blank" for v, _ in surplus):
            out.extras.append(Extra(f"表二 第二十条第（{sub}）项", r.label, [v.raw for v, _ in surplus],
                                    surplus[0][1].where, kind="surplus"))


# a money column's header that prints the unit: 采购总金额（万元）, 金额（单位：元）
_HEADER_UNIT = re.compile(r"金额[(（](?:单位[:：])?(万元|元)[)）]")


# ------------------------------------------------------------------ section 三

@lru_cache(maxsize=8192)
def _match_s3(key: str, template: str, group: str | None) -> tuple[str, dict] | None:
    body = strip_enum(key)
    core = _without_notes(body)
    # a note may name another row (5.属于三类内部事务信息（不含国家秘密）): the label alone first
    hit = (_s3_by_words(core, (), template, group) if core and core != body else None) \
        or _s3_by_words(key, (body, key), template, group)
    if hit is not None:
        return hit
    typo = fuzzy.closest(core or body, _s3_labels(template, group))    # 国家秘蜜 → 国家秘密 (D09)
    if typo:
        return "leaf", next(r for r in s3_rows_for(template) if r["key"] == typo)
    return None


def _s3_by_words(text: str, exact_forms: tuple[str, ...], template: str,
                 group: str | None) -> tuple[str, dict] | None:
    """A 表三 row (by its exact forms or keywords, in layout order) or group (by keywords) for
    ``text``; rows matched only exactly need one of ``exact_forms`` (none: those rows are skipped)."""
    for r in s3_rows_for(template):
        if any(k in text for k in r.get("exclude", [])):
            continue
        if "exact" in r:
            if any(f in r["exact"] for f in exact_forms) and not (r.get("group") and r["group"] != group):
                return "leaf", r
            continue
        if any(k in text for k in r["keywords"]):
            return "leaf", r
    for g in s3_groups_for(template):
        if any(k in text for k in g["keywords"]):
            return "group", g
    return None


@lru_cache(maxsize=64)
def _s3_labels(template: str, group: str | None) -> tuple[tuple[str, str], ...]:
    """(row, template label) of the 表三 rows a label under ``group`` may be, for typo matching:
    never a row of another group, never the rows matched only exactly (其他, 总计)."""
    infos = key_infos()[template]
    out = []
    for r in s3_rows_for(template):
        if "exact" in r or (r.get("group") and r["group"] != group):
            continue
        info = infos.get(f"s3.{r['key']}.natural")
        if info is not None:
            out.append((r["key"], squash(strip_enum(info.row_label.split(" ", 1)[-1]))))
    return tuple(out)


@lru_cache(maxsize=8192)
def _starts_s3(key: str) -> bool:
    return any(k in key for k in layout()["s3"]["start_keywords"])


@lru_cache(maxsize=8192)
def _names_group(key: str, template: str, group: str) -> bool:
    """Does the label also name its group (by the group's keywords)?"""
    return any(any(k in key for k in g["keywords"]) for g in s3_groups_for(template) if g["id"] == group)


# The header row of a per-row mini table (Markdown from converters and chat tools):
# "| 类别 | 数据1 | … | 数据6 | 总计 |" — neither labels nor values.
_MINI_HEADER_FIRST = frozenset({"类别", "项目", "类型", "指标", "名称"})


def map_s3(tokens: list[Token], template: str, out: Mapping) -> None:
    lay = layout()["s3"]
    cols = lay["columns"]
    infos = key_infos()[template]
    started = False
    group: str | None = None
    rows: list[_Row] = []
    current: _Row | None = None
    row_mark = -1
    in_mini_header = False
    header_words = frozenset(lay["header_words"])
    after_header_word = False
    for tok in tokens:
        if tok.row_start:
            row_mark = tok.index
            in_mini_header = started and tok.key in _MINI_HEADER_FIRST
        if in_mini_header:
            continue
        if started and (tok.key in header_words or "勾稽关系" in tok.key or
                        (after_header_word and tok.key in ("总计", "合计", "其他"))):
            # the header repeated after a page break: its words are neither rows nor values
            after_header_word = True
            current = None
            continue
        after_header_word = False
        if not started:
            if _starts_s3(tok.key):
                started = True
                out.tables_found.add("三")
            else:
                continue
        cv = classify(tok.raw)
        if cv.is_value:
            if current is not None:
                current.values.append((cv, tok))
            continue
        hit = _match_s3(tok.key, template, group)
        if hit is not None:
            kind, d = hit
            if kind == "group":
                group = d["id"]
                current = _Row("group", d["id"], tok.raw, tok.where)
            else:
                if d.get("group") is None:
                    group = None
                elif _names_group(tok.key, template, d["group"]):
                    # a cell holding group + item (e.g. "（三）不予公开1.属于国家秘密") also sets the group
                    group = d["group"]
                current = _Row("leaf", d["key"], tok.raw, tok.where, mark=row_mark)
            rows.append(current)
            continue
        if "小计" in tok.key:
            current = _Row("extra", tok.raw, tok.raw, tok.where)
            rows.append(current)
            continue
        if _text_cell(tok, current, row_mark, len(cols)):
            current.values.append((CellValue(tok.raw, "text", None), tok))
            continue
        if current is not None and current.kind == "leaf" and len(current.values) < len(cols) \
                and re.search(r"\d", tok.key) and len(tok.key) <= 12:
            current.values.append((CellValue(tok.raw, "text", None), tok))
            continue
        # anything else is a wrapped label fragment or stray text: ignore it
    _emit_s3(rows, template, cols, infos, out)


@lru_cache(maxsize=256)
def _s3_row_keys(row: str) -> tuple[str, ...]:
    return tuple(f"s3.{row}.{col}" for col in layout()["s3"]["columns"])


@lru_cache(maxsize=8)
def _s3_groups(template: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Each 表三 group's row keys, and its label (shared between reports: never mutate)."""
    group_children: dict[str, list[str]] = {}
    for d in s3_rows_for(template):
        if d.get("group"):
            group_children.setdefault(d["group"], []).append(d["key"])
    return group_children, {g["id"]: g["label"] for g in s3_groups_for(template)}


def _emit_s3(rows: list[_Row], template: str, cols: list[str], infos: dict, out: Mapping) -> None:
    group_children, group_labels = _s3_groups(template)
    for r in rows:
        cells, surplus = fit_values(r.values, len(cols))
        if r.kind == "group":
            if r.ident in group_labels:
                out.labels.append(LabelSeen("表三", r.label,
                                            group_labels[r.ident], f"s3.group.{r.ident}"))
            if any(v.kind != "blank" for v, _ in cells) and r.ident in group_children:
                out.extras.append(Extra("表三", r.label, [v.raw for v, _ in cells], r.where,
                                        kind="subtotal", children=list(group_children[r.ident])))
            continue
        if r.kind == "extra":
            if any(v.kind != "blank" for v, _ in cells):
                out.extras.append(Extra("表三", r.label, [v.raw for v, _ in cells], r.where, kind="subtotal"))
            continue
        info = infos.get(f"s3.{r.ident}.natural")
        if info is not None:
            item = info.row_label.split(" ", 1)[-1]
            out.labels.append(LabelSeen("表三", r.label, item, f"s3.{r.ident}"))
        for key, (cv, tok) in zip(_s3_row_keys(r.ident), cells, strict=False):
            if key in infos and key not in out.cells:
                out.cells[key] = MappedCell(key, cv, tok.where)
        if surplus and any(v.kind != "blank" for v, _ in surplus):
            out.extras.append(Extra("表三", r.label, [v.raw for v, _ in surplus], surplus[0][1].where,
                                    kind="surplus"))


# ------------------------------------------------------------------ section 四

def map_s4(tokens: list[Token], template: str, out: Mapping) -> None:
    lay = layout()["s4"]
    infos = key_infos()[template]
    start = next((i for i, t in enumerate(tokens) if any(k in t.key for k in lay["anchor_keywords"])), None)
    if start is None:
        return
    out.tables_found.add("四")
    # the data row follows the last header (text) token before the first number
    last_text = start
    first_number = None
    for i in range(start, len(tokens)):
        cv = classify(tokens[i].text)
        if cv.kind == "number" or cv.kind in ("zero_marker", "na_marker"):
            first_number = i
            break
        if cv.kind == "text":
            last_text = i
    if first_number is None:
        return
    values: list[tuple[CellValue, Token]] = []
    data_row = -1           # the physical row of the first value
    row_mark = -1
    for tok in tokens[last_text + 1:]:
        if tok.row_start:
            row_mark = tok.index
        cv = classify(tok.raw)
        if not cv.is_value:
            if re.search(r"\d", tok.key) and len(tok.key) <= 12 and len(values) < 15:
                values.append((CellValue(tok.raw, "text", None), tok))
                continue
            # a text cell inside the data row (see _text_cell) keeps the columns after it in place
            if values and tok.in_table and not tok.row_start and row_mark == data_row and len(values) < 15:
                values.append((CellValue(tok.raw, "text", None), tok))
                continue
            break
        if not values:
            data_row = row_mark
        values.append((cv, tok))
    cells, surplus = fit_values(values, 15)
    keys = [f"s4.{g}.{c}" for g in lay["groups"] for c in lay["columns"]]
    for key, (cv, tok) in zip(keys, cells, strict=False):
        if key in infos:
            out.cells[key] = MappedCell(key, cv, tok.where)
    if any(v.kind != "blank" for v, _ in surplus):
        out.extras.append(Extra("表四", "（数据行之后）", [v.raw for v, _ in surplus], surplus[0][1].where,
                                kind="surplus"))
