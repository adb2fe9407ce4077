"""Sidebar filter options: years, regions, levels and units present in the database."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from dashboard.data.snapshot import snap_query
from dashboard.data.where import where
from dashboard.scope import Scope


def filter_options() -> dict:
    """Years, regions and levels present, for the sidebar widgets."""
    yrs = snap_query("SELECT min(year) AS lo, max(year) AS hi FROM status")
    regions = snap_query("SELECT DISTINCT region FROM units WHERE region IS NOT NULL ORDER BY region")
    levels = snap_query("SELECT DISTINCT level FROM units ORDER BY level")
    n_units = snap_query("SELECT count(*) AS n FROM units")["n"][0]
    lo, hi = yrs["lo"][0], yrs["hi"][0]
    return {"years": (int(lo), int(hi)) if lo is not None else None,
            "regions": regions["region"].to_list(), "levels": levels["level"].to_list(), "n_units": int(n_units)}


def unit_options(regions: Sequence[str], levels: Sequence[str], name: str, limit: int) -> pl.DataFrame:
    """Units matching the region/level/name filters (unit_id, label), at most ``limit``."""
    s = Scope(regions=tuple(regions), levels=tuple(levels), name=name)
    w, p = where(s, years=False, template=False)
    return snap_query(f"""SELECT unit_id, unit || COALESCE('（' || region || '）', '') AS label
                          FROM units {w} ORDER BY region, unit LIMIT ?""", [*p, limit])


def units_in_scope(scope: Scope) -> int:
    """How many units the scope's unit filters (region, level, name, picked units) leave."""
    w, p = where(scope, years=False, template=False)
    return int(snap_query(f"SELECT count(*) AS n FROM units {w}", p)["n"][0])


def units_for_labels(labels: Sequence[str]) -> dict[str, str]:
    """unit_id -> label for display labels ("泉港镇（丰城市）") or unit ids found in a URL."""
    if not labels:
        return {}
    df = snap_query("""SELECT unit_id, unit || COALESCE('（' || region || '）', '') AS label FROM units
                       WHERE list_contains(?::VARCHAR[], unit || COALESCE('（' || region || '）', ''))
                          OR list_contains(?::VARCHAR[], unit_id)""", [list(labels), list(labels)])
    return dict(zip(df["unit_id"].to_list(), df["label"].to_list(), strict=True))


def unit_labels(unit_ids: Sequence[str]) -> dict[str, str]:
    if not unit_ids:
        return {}
    df = snap_query("""SELECT unit_id, unit || COALESCE('（' || region || '）', '') AS label FROM units
                       WHERE list_contains(?::VARCHAR[], unit_id)""", [list(unit_ids)])
    return dict(zip(df["unit_id"].to_list(), df["label"].to_list(), strict=True))
