"""What the user is looking at: the sidebar filters as one immutable value.

Kept apart from :mod:`dashboard.filters` (which draws the widgets) so that the query layer can
take a :class:`Scope` without importing Streamlit widgets.  Empty tuples mean "no restriction".
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest import templates

LEVELS = ("镇", "乡", "街道", "其他")
TEMPLATES = (*templates.TEMPLATES, "其他")
TEMPLATE_NAMES = {t: templates.template_name(t) for t in TEMPLATES}


def level_bucket_sql(col: str) -> str:
    """SQL for the scope's level bucket of a unit: 镇 / 乡 / 街道, and 其他 for anything else or unknown."""
    named = ", ".join(f"'{lv}'" for lv in LEVELS if lv != "其他")
    return f"CASE WHEN {col} IN ({named}) THEN {col} ELSE '其他' END"


def template_bucket_sql(col: str) -> str:
    """SQL for the scope's template bucket of a report: its national template, else 其他 (NULL stays NULL)."""
    ids = ", ".join(f"'{t}'" for t in templates.template_ids())
    return f"CASE WHEN {col} IN ({ids}) THEN {col} WHEN {col} IS NULL THEN NULL ELSE '其他' END"


@dataclass(frozen=True, slots=True)
class Scope:
    years: tuple[int, int] | None = None       # inclusive range; None = every year
    regions: tuple[str, ...] = ()              # county-level regions
    units: tuple[str, ...] = ()                # unit_id values ("丰城市/泉港镇")
    name: str = ""                             # part of a unit's name
    levels: tuple[str, ...] = ()               # 镇 / 乡 / 街道 / 其他
    templates: tuple[str, ...] = ()            # 2019 / 2021 / 其他
    severities: tuple[str, ...] = ()           # error / warning / info

    def without_years(self) -> Scope:
        return Scope(None, self.regions, self.units, self.name, self.levels, self.templates, self.severities)

    def is_narrowed_to_units(self) -> bool:
        return bool(self.regions or self.units or self.name or self.levels)
