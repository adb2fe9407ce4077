"""A :class:`~dashboard.scope.Scope` as SQL: the ``WHERE`` clause with its parameters."""

from __future__ import annotations

from dashboard.scope import Scope


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
