"""Turning one parse result (``ingest.parse.parse_file`` output) into database rows.

Nothing is converted silently: ``value`` is the number as printed; the 万元 figure of a money
cell is a separate column (``value_wan``) with a flag saying whether it was converted from 元
or whether the unit is unknown (spec §4.1, §5.1, §12.4).
"""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Any

# Money cells and how their 万元 figure is derived from the printed unit.
# s2.fee.amount: the F2021 header prints 万元, so a bare number is 万元 already.
# s2.procurement.amount: the F2019 template prints no unit, so a bare number is unknown.
MONEY_BARE_IS_WAN = {"s2.fee.amount": True, "s2.procurement.amount": False}


def number(v: Any) -> float | None:
    """A finite float, or None for anything that is not a number (bools included)."""
    t = type(v)
    if t is int:
        return float(v)
    if t is float:
        return v if math.isfinite(v) else None
    if t is bool or not isinstance(v, int | float):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def money_wan(key: str, value: float | None, unit: str | None) -> tuple[float | None, bool | None, bool | None]:
    """(value_wan, wan_converted, unknown_unit) of a cell; (None, None, None) for non-money keys."""
    if key not in MONEY_BARE_IS_WAN:
        return None, None, None
    if value is None:
        return None, False, False
    u = (unit or "").strip()
    if u == "元":
        return value / 10000, True, False
    if u == "万元" or (not u and MONEY_BARE_IS_WAN[key]):
        return value, False, False
    if value == 0:
        return 0.0, False, False          # zero is zero in any unit
    return None, False, True


def parse_date(text: Any) -> date | None:
    if not isinstance(text, str):
        return None
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


def split_key(key: str) -> tuple[str, str, str]:
    section, _, rest = key.partition(".")
    row_key, _, col_key = rest.partition(".")
    return section, row_key, col_key


_SPLIT: dict[str, tuple[str, str, str]] = {}


def cell_rows(report_id: str, result: dict) -> list[tuple]:
    """One row per canonical cell present in the document (absent keys are not stored).

    This runs for every cell of every report, so it avoids per-cell function calls where it can.
    """
    cells = result.get("cells") or {}
    units = result.get("units") or {}
    raw = result.get("raw") or {}
    kinds = result.get("kinds") or {}
    where = result.get("where") or {}
    out = []
    append = out.append
    isfinite = math.isfinite
    for key, v in cells.items():
        t = type(v)
        if t is int:
            value = float(v)
        elif t is float:
            value = v if isfinite(v) else None
        else:
            value = number(v)
        parts = _SPLIT.get(key)
        if parts is None:
            parts = _SPLIT[key] = split_key(key)
        unit = units.get(key)
        kind = kinds.get(key) or ("number" if value is not None else "blank")
        text = raw.get(key, "" if value is None else None)
        loc = where.get(key)
        if not (type(text) is str or text is None) or not (type(loc) is str or loc is None) or not (
                type(unit) is str or unit is None) or type(kind) is not str:
            text, loc, unit, kind = (None if x is None else str(x) for x in (text, loc, unit, kind))
        if key in MONEY_BARE_IS_WAN:
            wan, converted, unknown = money_wan(key, value, unit)
        else:
            wan = converted = unknown = None
        append((report_id, key, parts[0], parts[1], parts[2], value, text, kind, unit, wan, converted, unknown, loc))
    return out


CELL_COLUMNS = ("report_id", "key", "section", "row_key", "col_key", "value", "raw", "kind", "unit", "value_wan",
                "wan_converted", "unknown_unit", "location")


def extra_rows(report_id: str, result: dict) -> list[tuple]:
    out = []
    for i, e in enumerate(result.get("extra") or []):
        if not isinstance(e, dict):
            continue
        values = e.get("values") or []
        if not isinstance(values, list):
            values = [values]
        out.append((report_id, i, _text(e.get("table")), _text(e.get("label")), [str(v) for v in values],
                    _text(e.get("where"))))
    return out


def _text(v: Any) -> str | None:
    return None if v is None else str(v)


EXTRA_COLUMNS = ("report_id", "seq", "table_name", "label", "values", "location")


def section_rows(report_id: str, result: dict) -> list[tuple]:
    sections = result.get("sections") or {}
    return [(report_id, name, text) for name, text in sorted(sections.items()) if isinstance(text, str)]


SECTION_COLUMNS = ("report_id", "section", "text")


def finding_rows(report_id: str, result: dict) -> list[tuple]:
    out = []
    for i, f in enumerate(result.get("findings") or []):
        if not isinstance(f, dict) or not f.get("rule"):
            continue
        out.append((report_id, i, str(f["rule"]), str(f.get("severity") or "info"),
                    [str(k) for k in f.get("keys") or []], number(f.get("expected")), number(f.get("actual")),
                    str(f.get("message") or ""), [str(k) for k in f.get("assumed_zero") or []],
                    _text(f.get("evidence")), _text(f.get("defect")),
                    json.dumps(f, ensure_ascii=False, default=str)))
    return out


PARSE_FINDING_COLUMNS = ("report_id", "seq", "rule", "severity", "keys", "expected", "actual", "message",
                         "assumed_zero", "evidence", "defect", "detail")


Signature = dict[str, tuple[float | None, str, str | None]]


def cell_signature(result: dict) -> Signature:
    """What "the same figures" means: every key with its printed value, kind and unit."""
    kinds = result.get("kinds") or {}
    units = result.get("units") or {}
    sig = {}
    for key, v in (result.get("cells") or {}).items():
        value = number(v)
        sig[key] = (value, kinds.get(key) or ("number" if value is not None else "blank"), units.get(key) or None)
    return sig
