"""Template structure for the demo renderers: keys, captions and verbatim labels, read from keys.tsv.

keys.tsv is the single source of key names and labels (spec §2); this module only regroups its rows into
the shape a renderer needs (sub-tables of section 二, rows of 表三, groups of 表四) and names each label
with a stable *label id*, so that noise (typos, line breaks, variants) can override one label by id.

Label ids:
  ``cap:<key row>``     caption of the section-二 sub-table holding that row (``cap:license``)
  ``s2row:<row>``       section-二 row label (``s2row:normative``)
  ``s2col:<col>``       section-二 column header (``s2col:made``)
  ``s3row:<row>``       表三 row / item label (``s3row:deny_internal``)
  ``s3grp:<group>``     表三 group label: ``deny``, ``unable``, ``noproc``, ``other`` (F2021 only)
  ``s3col:<col>``       表三 column header (``s3col:commercial``), ``s3col:org`` for 法人或其他组织
  ``s3:note``, ``s3:applicant``, ``s3:l1``   header note, 申请人情况, 三、本年度办理结果
  ``s4grp:<group>``, ``s4col:<col>``, ``s4:suit``   表四 labels
  ``head:<一..六>``     section headings
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

KEYS_TSV = Path(__file__).resolve().parents[1] / "templates" / "keys.tsv"

TEMPLATES = ("2019", "2021")
S3_COLS = ("natural", "commercial", "research", "public_interest", "legal_service", "other_org", "total")
S3_ORG_COLS = S3_COLS[1:6]
S4_GROUPS = ("review", "suit_direct", "suit_after_review")
S4_COLS = ("upheld", "corrected", "other", "pending", "total")

HEADINGS = {
    "一": "一、总体情况",
    "二": "二、主动公开政府信息情况",
    "三": "三、收到和处理政府信息公开申请情况",
    "四": "四、政府信息公开行政复议、行政诉讼情况",
    "五": "五、存在的主要问题及改进情况",
    "六": "六、其他需要报告的事项",
}
SECTION_ORDER = tuple(HEADINGS)

S3_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
S3_APPLICANT = "申请人情况"
S3_ORG = "法人或其他组织"
S3_L1 = "三、本年度办理结果"
S2_INFO = "信息内容"
S4_SUIT = "行政诉讼"


@dataclass(frozen=True)
class KeyRow:
    key: str
    template: str
    section: str
    table: str
    row_label: str
    col_label: str
    unit: str
    kind: str


@cache
def key_rows() -> tuple[KeyRow, ...]:
    with KEYS_TSV.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return tuple(
        KeyRow(r["key"], r["template"], r["section"], r["table"], r["row_label"], r["col_label"], r["unit"], r["kind"])
        for r in rows
    )


@cache
def template_keys(template: str) -> tuple[str, ...]:
    """The canonical keys of one template, in keys.tsv order."""
    return tuple(r.key for r in key_rows() if r.template in (template, "both"))


@cache
def key_info(template: str) -> dict[str, KeyRow]:
    return {r.key: r for r in key_rows() if r.template in (template, "both")}


def kind_of(key: str, template: str) -> str:
    return key_info(template)[key].kind


# ---------------------------------------------------------------- section 二


@dataclass(frozen=True)
class SubTable:
    """One section-二 sub-table: caption, column headers (value columns), rows of (row key, label)."""

    caption: str
    cols: tuple[tuple[str, str], ...]          # (col key, header label)
    rows: tuple[tuple[str, str], ...]          # (row key, row label)
    spanned: bool = False                      # F2021 (五)(六)(八): one value column spanning three
    blank_fourth: bool = False                 # F2019 (八)(九): the 4th column is blank by design


@cache
def s2_subtables(template: str) -> tuple[SubTable, ...]:
    out: list[SubTable] = []
    by_caption: dict[str, list[KeyRow]] = {}
    for r in key_rows():
        if r.section == "二" and r.template in (template, "both"):
            by_caption.setdefault(r.table, []).append(r)
    for caption, rows in by_caption.items():
        cols: list[tuple[str, str]] = []
        rws: list[tuple[str, str]] = []
        for r in rows:
            row, col = r.key.split(".")[1:]
            if (col, r.col_label) not in cols:
                cols.append((col, r.col_label))
            if (row, r.row_label) not in rws:
                rws.append((row, r.row_label))
        spanned = template == "2021" and len(cols) == 1
        out.append(SubTable(caption, tuple(cols), tuple(rws), spanned, template == "2019" and len(cols) == 2))
    return tuple(out)


def caption_id(sub: SubTable) -> str:
    return f"cap:{sub.rows[0][0]}"


# ---------------------------------------------------------------- section 三


@dataclass(frozen=True)
class S3Row:
    row: str            # row key
    label: str          # item label (or the full label for rows without a group)
    group: str | None   # group id (deny/unable/noproc/other) or None
    level: int          # 1: spans L1-L3 (一、二、四、); 2: spans L2-L3 under 三、; 3: item under a group


S3_GROUP_LABELS = {"deny": "（三）不予公开", "unable": "（四）无法提供", "noproc": "（五）不予处理", "other": "（六）其他处理"}


@cache
def s3_rows(template: str) -> tuple[S3Row, ...]:
    out: list[S3Row] = []
    seen: set[str] = set()
    for r in key_rows():
        if r.section != "三" or r.template not in (template, "both"):
            continue
        row = r.key.split(".")[1]
        if row in seen:
            continue
        seen.add(row)
        label = r.row_label
        if row in ("new_received", "carried_over", "carry_forward"):
            out.append(S3Row(row, label, None, 1))
        elif label.startswith(S3_L1 + " "):
            out.append(S3Row(row, label[len(S3_L1) + 1:], None, 2))
        elif " " in label:
            grp_label, item = label.split(" ", 1)
            grp = next(g for g, lab in S3_GROUP_LABELS.items() if lab == grp_label)
            out.append(S3Row(row, item, grp, 3))
        else:
            out.append(S3Row(row, label, None, 2))
    return tuple(out)


def s3_col_label(col: str) -> str:
    lab = key_info("2019")[f"s3.new_received.{col}"].col_label
    return lab.split(" ", 1)[1] if " " in lab else lab


# ---------------------------------------------------------------- section 四

S4_GROUP_LABELS = {"review": "行政复议", "suit_direct": "未经复议直接起诉", "suit_after_review": "复议后起诉"}
S4_COL_LABELS = {"upheld": "结果维持", "corrected": "结果纠正", "other": "其他结果", "pending": "尚未审结", "total": "总计"}


def s3_leaf_rows(template: str) -> tuple[str, ...]:
    """Outcome leaf rows summed by （七）总计 (spec §8.0)."""
    return tuple(r.row for r in s3_rows(template) if r.level in (2, 3) and r.row != "result_total")
