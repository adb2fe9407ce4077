"""True figures → the raw strings a report prints in its table cells.

Counts print as integers; the F2019 procurement amount in 元, 万元 or without unit (the unit's habit); the
F2021 fee in 万元 with two decimals.  Zeros in non-total cells may print as a blank marker (noise.Noise).
"""

from __future__ import annotations

from ingest.demo import labels as L
from ingest.demo.city import YearFigures
from ingest.demo.noise import Noise

# section-二 columns that are flows (may print a blank marker for 0); totals/stocks/money never do
_S2_MARKABLE = {"made", "published", "issued", "repealed", "prev_items", "delta", "decisions", "projects"}


def money_procurement(amount: float, style: str, thousands: bool = False) -> str:
    if not amount:
        return "0"
    if style == "万元":
        return f"{amount / 10000:.2f}万元"
    if style == "元":
        n = round(amount)
        return f"{n:,}元" if thousands else f"{n}元"
    return f"{amount:.1f}" if amount != int(amount) else str(int(amount))


def money_fee(amount: float) -> str:
    return "0" if not amount else f"{amount:.2f}"


def _markable(key: str, scope: str) -> bool:
    sec, _row, col = key.split(".")
    if scope == "regulation":
        return key.startswith("s2.regulation.")
    if col == "total":
        return False
    if scope == "s2":
        return sec == "s2" and col in _S2_MARKABLE
    return sec == scope


def print_cells(fig: YearFigures, template: str, noise: Noise, thousands: bool = False) -> dict[str, str]:
    v = fig.values
    out: dict[str, str] = {}
    for key in L.template_keys(template):
        if key == "s2.procurement.amount":
            out[key] = money_procurement(float(v[key]), fig.procurement_style, thousands)
        elif key == "s2.fee.amount":
            out[key] = money_fee(float(v[key]))
        else:
            n = int(v[key])
            out[key] = noise.marker if (n == 0 and noise.marker_scope and _markable(key, noise.marker_scope)) else str(n)
    return out
