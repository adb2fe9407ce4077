"""The two national templates as data: keys.tsv (the spec's key list) plus layout.toml.

Everything template-specific that the parser and the checker need is read from these two files;
code elsewhere never spells a label or a key list out.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
LAYOUT = HERE / "layout.toml"


@cache
def layout() -> dict:
    with open(LAYOUT, "rb") as fh:
        return tomllib.load(fh)


def template_ids() -> tuple[str, ...]:
    """The national templates' ids, oldest first, as layout.toml lists them now."""
    return tuple(t["id"] for t in layout()["templates"])


TEMPLATES: tuple[str, ...] = template_ids()


def _template(template: str | None) -> dict | None:
    return next((t for t in layout()["templates"] if t["id"] == template), None)


def template_for_year(year: int) -> str | None:
    """The template a report for ``year`` must use; None before the first template existed."""
    for t in layout()["templates"]:
        if t["first_year"] <= year and ("last_year" not in t or year <= t["last_year"]):
            return t["id"]
    return None


def template_name(template: str) -> str:
    """``2019年格式``, ``旧格式``, ``混合格式`` …: the template's name in messages; the id itself if unknown."""
    t = _template(template)
    if t is not None:
        return t["name"]
    return layout()["template_other_names"].get(template, template)


def template_doc(template: str) -> str:
    """The document that issued the template: ``国办公开办函〔2019〕60号``."""
    t = _template(template)
    if t is None:
        raise KeyError(template)
    return t["doc"]


def template_badge(template: str) -> str:
    """The report page's badge: ``2019 年格式（60 号文）``; ``格式：…`` for anything else."""
    t = _template(template)
    return t["badge"] if t is not None else f"格式：{template}"


@dataclass(frozen=True, slots=True)
class KeyInfo:
    key: str
    template: str          # "2019" | "2021"
    section: str           # 二 | 三 | 四
    table: str
    row_label: str
    col_label: str
    unit: str
    kind: str              # count | signed_count | money


@cache
def key_table() -> tuple[dict[str, str], ...]:
    """The rows of keys.tsv as written (``template`` is an id or ``both``); stored in the database as is."""
    with open(HERE / "keys.tsv", encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh, delimiter="\t"))


@cache
def key_infos() -> dict[str, dict[str, KeyInfo]]:
    """template -> key -> KeyInfo, in keys.tsv order."""
    out: dict[str, dict[str, KeyInfo]] = {t: {} for t in TEMPLATES}
    for row in key_table():
        temps = TEMPLATES if row["template"] == "both" else (row["template"],)
        for t in temps:
            out[t][row["key"]] = KeyInfo(
                key=row["key"], template=t, section=row["section"], table=row["table"],
                row_label=row["row_label"], col_label=row["col_label"], unit=row["unit"],
                kind=row["kind"],
            )
    return out


def keys_for(template: str) -> list[str]:
    return list(key_infos().get(template, {}))


@cache
def s3_rows_for(template: str) -> list[dict]:
    return [r for r in layout()["s3"]["rows"] if template in r.get("templates", TEMPLATES)]


@cache
def s3_groups_for(template: str) -> list[dict]:
    return [g for g in layout()["s3"]["groups"] if template in g.get("templates", TEMPLATES)]


@cache
def s3_leaf_rows(template: str) -> list[str]:
    """Outcome leaf rows summed by S3-2 (19 in F2019, 21 in F2021), in template order."""
    skip = {"new_received", "carried_over", "result_total", "carry_forward"}
    order = [k.split(".")[1] for k in keys_for(template) if k.startswith("s3.") and k.endswith(".natural")]
    return [r for r in order if r not in skip]


@cache
def s3_group_rows(template: str, group: str) -> list[str]:
    """The 表三 rows that a group adds up in this template, in template order.

    A group that the template prints as a single row (F2019 （六）其他处理) is that row.
    """
    rows = [r["key"] for r in s3_rows_for(template) if r.get("group") == group]
    if not rows and any(r["key"] == group for r in s3_rows_for(template)):
        rows = [group]
    order = s3_row_order(template)
    return sorted(rows, key=order.index)


def table_name(section: str) -> str:
    """``表二`` for ``s2`` …: a table's name in messages."""
    return layout()["table_names"][section]


def table_names() -> dict[str, str]:
    """Section id → table name, in table order (s2, s3, s4)."""
    return dict(layout()["table_names"])


def s3_columns() -> list[str]:
    """表三's columns: the six kinds of applicant, then 总计 (the same in every template)."""
    return list(layout()["s3"]["columns"])


def s3_applicant_columns() -> list[str]:
    """表三's applicant columns, the parts that add up to 总计."""
    return [c for c in s3_columns() if c != "total"]


def s4_rows() -> list[str]:
    """表四's rows (行政复议 and the two kinds of 行政诉讼), the same in every template."""
    return list(layout()["s4"]["groups"])


@cache
def s3_row_order(template: str) -> list[str]:
    return [k.split(".")[1] for k in keys_for(template) if k.startswith("s3.") and k.endswith(".natural")]


@cache
def s3_row_display(template: str, row: str) -> str:
    """The row's name in messages, e.g. ``第（三）项不予公开 1.属于国家秘密`` (spec §9.3)."""
    for r in layout()["s3"]["rows"]:
        if r["key"] == row and "display" in r:
            return r["display"]
    info = key_infos()[template].get(f"s3.{row}.natural")
    if info is None:
        return row
    label = info.row_label
    group, _, item = label.partition(" ")
    if item:
        g = group.replace("（", "第（", 1).replace("）", "）项", 1)
        return f"{g} {item}"
    return label


def s3_col_display(col: str) -> str:
    return layout()["s3"]["column_display"][col]


def s2_display(template: str, key: str) -> str:
    """``表二 第二十条第（一）项 规章 本年新制作数量`` for a section-二 key."""
    info = key_infos()[template][key]
    return f"表二 {info.table} {info.row_label} {info.col_label}"


def s4_display(key: str) -> str:
    _, group, col = key.split(".")
    lay = layout()["s4"]
    return f"表四 {lay['group_display'][group]} {lay['column_display'][col]}"


@cache
def key_display(template: str, key: str) -> str:
    """Human name of any cell key, for messages and the report view."""
    if key.startswith("s2."):
        return s2_display(template, key)
    if key.startswith("s4."):
        return s4_display(key)
    _, row, col = key.split(".")
    return f"表三 {s3_row_display(template, row)} {s3_col_display(col)}"


def cell_name(template: str | None, key: str) -> str:
    """Display name of a key in the template's own words (spec §9.3); the key itself if unknown.

    A template other than a national one (legacy, mixed, unknown) is named by the newest template
    that has the key.  A cross-year key (``…@2019``) names the year of the report it comes from.
    """
    base, _, year = key.partition("@")
    order = ([template] if template in TEMPLATES else []) + list(reversed(TEMPLATES))
    for t in order:
        try:
            if base in key_infos()[t]:
                name = key_display(t, base)
                return f"{name}（{year}年报告）" if year else name
        except (KeyError, ValueError):
            continue
    return key
