"""A :class:`~dashboard.scope.Scope` two ways: as SQL (:func:`where`, the ``WHERE`` clause with its parameters)
and in words (:func:`describe`, the caption above every page and export), side by side so that both change together."""

from __future__ import annotations

from dashboard.labels import SEVERITY_NAMES
from dashboard.scope import TEMPLATE_NAMES, Scope


def where(scope: Scope, *, years: bool = True, template: bool = True, severity: bool = False,
          prefix: str = "", year_lo_offset: int = 0) -> tuple[str, list]:
    """``WHERE`` clause (always starting with ``WHERE``) and its parameters for a scope.

    The table must have ``year, region, unit_id, unit, level`` (and ``tpl`` / ``severity``
    when those filters are used).  ``year_lo_offset=-1`` also includes the year before the range
    (for year-on-year comparisons).
    """
    a = prefix
    clauses, params = ["TRUE"], []
    if years and scope.years is not None:
        clauses.append(f"{a}year BETWEEN ? AND ?")
        params += [scope.years[0] + year_lo_offset, scope.years[1]]
    if scope.regions:
        clauses.append(f"list_contains(?::VARCHAR[], {a}region)")
        params.append(list(scope.regions))
    if scope.units:
        clauses.append(f"list_contains(?::VARCHAR[], {a}unit_id)")
        params.append(list(scope.units))
    if scope.name:
        clauses.append(f"contains({a}unit, ?)")
        params.append(scope.name)
    if scope.levels:
        clauses.append(f"list_contains(?::VARCHAR[], {a}level)")
        params.append(list(scope.levels))
    if template and scope.templates:
        clauses.append(f"list_contains(?::VARCHAR[], {a}tpl)")
        params.append(list(scope.templates))
    if severity and scope.severities:
        clauses.append(f"list_contains(?::VARCHAR[], {a}severity)")
        params.append(list(scope.severities))
    return "WHERE " + " AND ".join(clauses), params


def describe(scope: Scope) -> str:
    """One Chinese line saying what the current filter is (for captions and exports)."""
    parts = []
    if scope.years:
        parts.append(f"{scope.years[0]}–{scope.years[1]} 年" if scope.years[0] != scope.years[1]
                     else f"{scope.years[0]} 年")
    if scope.regions:
        parts.append("、".join(scope.regions))
    if scope.levels:
        parts.append("层级：" + "、".join(scope.levels))
    if scope.name:
        parts.append(f"名称包含“{scope.name}”")
    if scope.units:
        parts.append(f"选定 {len(scope.units)} 个乡镇（街道）")
    if scope.templates:
        parts.append("模板：" + "、".join(TEMPLATE_NAMES[t] for t in scope.templates))
    if scope.severities:
        parts.append("级别：" + "、".join(SEVERITY_NAMES[s] for s in scope.severities))
    return "筛选：" + ("；".join(parts) if parts else "全部数据")
