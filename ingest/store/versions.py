"""When a new file of a unit and year must not silently replace the current version.

A re-downloaded PDF whose tables are pictures reads as 0 cells; a page saved without its tables
reads as narrative only.  If such a file became current, every figure of that township-year would
disappear from all pages.  So a new version whose reading is clearly *worse* than the current
one is stored as ``held`` (待确认): kept with its provenance, shown to the office, and made
current only by an explicit choice (``load --accept-worse`` or 数据管理 → 采用).

"Worse" is deliberately narrow, so that a genuine correction always wins:

* the current version has numbers and the new one has none;
* the new one lacks a whole table (表二, 表三 or 表四) in which the current one has numbers;
* the new one has fewer than half the numbers of the current one.

Cells are counted when printed (a number, or a zero/not-applicable marker); blank cells are not.
"""

from __future__ import annotations

from ingest.store.rows import Signature
from ingest.templates import table_names

HELD = "held"
_PRINTED = ("number", "zero_marker", "na_marker")
MIN_SHARE = 0.5


def _printed_by_section(sig: Signature) -> dict[str, int]:
    out: dict[str, int] = {}
    for key, (_value, kind, _unit) in sig.items():
        if kind in _PRINTED:
            sec = key.split(".", 1)[0]
            out[sec] = out.get(sec, 0) + 1
    return out


def worse_reading(current: Signature, new: Signature) -> str | None:
    """Why ``new`` reads clearly worse than ``current`` (plain Chinese), or None when it does not."""
    cur, got = _printed_by_section(current), _printed_by_section(new)
    n_cur, n_new = sum(cur.values()), sum(got.values())
    if n_cur == 0:
        return None
    if n_new == 0:
        return f"新文件没有读出任何表格数字（现行版本有 {n_cur} 个），表格可能是图片或未保存"
    lost = [table_names().get(s, s) for s in sorted(cur) if cur[s] and not got.get(s)]
    if lost:
        return f"新文件缺少现行版本已有的{'、'.join(lost)}（现行版本 {n_cur} 个数字，新文件 {n_new} 个）"
    if n_new < n_cur * MIN_SHARE:
        return f"新文件读出的表格数字明显少于现行版本（{n_new} 个，现行版本 {n_cur} 个）"
    return None


def held_reason(unit: str, year: int, why: str, current_file: str) -> str:
    """The load-log reason of a held file: what happened, why, and what the office can do."""
    return (f"{unit}{year}年报告的新文件暂未采用：{why}。现行版本仍为“{current_file}”；"
            "如确认应采用新文件，请在“数据管理”页面选择“采用此版本”，或用 --accept-worse 重新导入")

