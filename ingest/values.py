"""Interpret one printed cell: number, marker or text (spec §7, §12.3, §12.4)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ingest.textnorm import clean

# A number may carry a bracketed note ("55（含自然失效29件）"): the number is the value, the note stays in raw.
_NUMBER = re.compile(r"^([+-]?\d[\d,，]*(?:\.\d+)?)(万元|元|件|项|个|条)?(?:[（(][^（）()]{1,30}[）)])?$")
ZERO_MARKERS = {"-", "—", "——", "–", "－", "无", "〃"}
NA_MARKERS = {"/", "／", "\\"}
# No count or amount in a report comes near 10^15: a longer run of digits is a typo or junk, and past it a
# DOUBLE (the store) loses exactness, DuckDB refuses integers over 128 bits, int() refuses over 4300 digits
# and float() overflows to inf (not valid JSON).  Such a cell is text, which the checks report (S3-4 …).
MAX_INT_DIGITS = 15


@dataclass(frozen=True, slots=True)
class CellValue:
    raw: str
    kind: str                  # number | zero_marker | na_marker | blank | text
    value: int | float | None
    unit: str | None = None

    @property
    def is_value(self) -> bool:
        """True for anything that can sit in a value cell (numbers, markers, blanks)."""
        return self.kind != "text"


@lru_cache(maxsize=1 << 16)
def classify(raw: str) -> CellValue:
    s = re.sub(r"\s+", "", clean(raw)).replace("−", "-")
    if s == "":
        return CellValue(raw, "blank", None)
    if s in NA_MARKERS:
        return CellValue(raw, "na_marker", None)
    if s in ZERO_MARKERS:
        return CellValue(raw, "zero_marker", None)
    m = _NUMBER.match(s)
    if m:
        num = m.group(1).replace(",", "").replace("，", "")
        if len(num.split(".")[0].lstrip("+-")) > MAX_INT_DIGITS:
            return CellValue(raw, "text", None)
        unit = m.group(2)
        if unit in ("件", "项", "个", "条"):
            unit = None
        value: int | float = float(num) if "." in num else int(num)
        return CellValue(raw, "number", value, unit)
    return CellValue(raw, "text", None)
