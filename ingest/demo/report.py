"""DemoReport: the plain data object every renderer takes, and the cli.md reading of a printed cell.

A DemoReport holds one report *as printed*: raw cell strings (``"0"``, ``"/"``, ``""``, ``"251000元"``),
narrative text per section, and the few presentation choices that noise varies (label overrides, bracket
width, enumerator style).  The same object can be built from a parse result (:meth:`DemoReport.from_parsed`)
so that real samples can be re-rendered to DOCX/PDF in tests.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from ingest.demo import labels as L

MONEY_KEYS = ("s2.procurement.amount", "s2.fee.amount")

_NUM = re.compile(r"^\s*([+-]?\d[\d,，]*(?:\.\d+)?)\s*(万元|元|件|项|个)?\s*$")
_ZERO_MARKERS = {"-", "—", "无", "－", "–", "——"}
_BLANKS = {"", "&nbsp;", "\xa0"}


def cell_reading(raw: str) -> tuple[int | float | None, str | None, str]:
    """(value, unit, kind) of a printed cell, by the rules of cli.md and spec §7/§12.3–12.4.

    Deliberately written apart from :func:`ingest.values.classify`: the demo's truth.jsonl is the
    oracle the parser is tested against, so it must not share the parser's reading of a cell (a bug
    there would otherwise show up on both sides and pass).  It only needs to read what the demo
    itself prints."""
    s = unicodedata.normalize("NFKC", raw).strip()
    if s in _BLANKS or raw.strip() in _BLANKS:
        return None, None, "blank"
    if s == "/":
        return None, None, "na_marker"
    if s in _ZERO_MARKERS or raw.strip() in _ZERO_MARKERS:
        return None, None, "zero_marker"
    m = _NUM.match(s)
    if not m:
        return None, None, "text"
    num = m.group(1).replace(",", "").replace("，", "")
    value: int | float = float(num) if "." in num else int(num)
    unit = m.group(2) if m.group(2) in ("元", "万元") else None
    return value, unit, "number"


@dataclass
class DemoReport:
    """One report as printed.  ``cells`` maps canonical keys to the raw printed string; a key that is not in
    ``cells`` is not printed at all (absent), and a table none of whose keys is present is left out."""

    unit: str
    year: int
    template: str                                   # "2019" | "2021": which table layout is printed
    cells: dict[str, str]
    sections: dict[str, str]                        # "一".."六" -> body text, paragraphs split by "\n"
    published: str | None = None                    # ISO date, printed near the title / at the end
    unit_level: str | None = None
    region: str | None = None
    city: str | None = None
    issuer: str | None = None                       # full issuer name, e.g. 示例市云岭区栖云镇人民政府
    title: str | None = None
    preamble: list[str] = field(default_factory=list)   # paragraphs between the title and section 一
    sign_off: list[str] = field(default_factory=list)   # lines after section 六 (issuer, date)
    headings: dict[str, str] = field(default_factory=dict)   # section heading overrides
    labels: dict[str, str] = field(default_factory=dict)     # table label overrides by label id
    omit_sections: tuple[str, ...] = ()             # sections left out entirely (heading and body)
    omit_tables: tuple[str, ...] = ()               # sections whose tables are left out (D03)
    style: dict[str, Any] = field(default_factory=dict)      # rendering options, see layout.py

    # ------------------------------------------------------------ derived

    def printed_keys(self) -> list[str]:
        return [k for k in L.template_keys(self.template) if k in self.cells] if self.template in L.TEMPLATES else []

    def values(self) -> dict[str, int | float | None]:
        """``cells`` of the cli.md object: the number printed, None for blanks/markers/text."""
        return {k: cell_reading(self.cells[k])[0] for k in self.printed_keys()}

    def units(self) -> dict[str, str | None]:
        return {k: cell_reading(self.cells[k])[1] for k in MONEY_KEYS if k in self.cells}

    def kinds(self) -> dict[str, str]:
        return {k: cell_reading(self.cells[k])[2] for k in self.printed_keys()}

    def number(self, key: str) -> int | float:
        """The value of a printed cell with blanks and markers read as 0 (how the identities read them)."""
        v = cell_reading(self.cells.get(key, ""))[0]
        return 0 if v is None else v

    def default_title(self) -> str:
        return f"{self.issuer or self.unit}{self.year}年政府信息公开工作年度报告"

    # ------------------------------------------------------------ from a parse result

    @classmethod
    def from_parsed(cls, d: dict[str, Any]) -> DemoReport:
        """Build a DemoReport from an ``ingest.parse.parse_file`` result (cli.md object plus extensions).

        Uses ``raw`` when present (the cell text as printed); otherwise prints the value, with its unit from
        ``units``.  Sections come from ``sections`` (or stay empty).  Templates other than 2019/2021 give a
        report without tables.
        """
        raw: dict[str, str] = dict(d.get("raw") or {})
        units: dict[str, str | None] = d.get("units") or {}
        cells: dict[str, str] = {}
        for key, value in (d.get("cells") or {}).items():
            if key in raw:
                cells[key] = raw[key]
            elif value is None:
                cells[key] = ""
            else:
                cells[key] = f"{value}{units.get(key) or ''}"
        template = str(d.get("template") or "unknown")
        return cls(
            unit=d.get("unit") or "",
            year=int(d.get("year") or 0),
            template=template,
            cells=cells,
            sections=dict(d.get("sections") or {}),
            published=d.get("published"),
            unit_level=d.get("unit_level"),
            region=d.get("region"),
            omit_tables=() if template in L.TEMPLATES else ("二", "三", "四"),
        )
