"""报告详情: one report's metadata, cells, sections, findings and versions."""

from __future__ import annotations

import polars as pl

from dashboard.data.connection import file_query
from dashboard.data.findings import SEVERITY_RANK
from dashboard.data.snapshot import snap_query


def report_years(unit_id: str) -> pl.DataFrame:
    """Every year of the unit's grid with its current report (NULL when missing)."""
    return snap_query("SELECT year, report_id, status FROM status WHERE unit_id = ? ORDER BY year", [unit_id])


def all_units(limit: int = 50_000) -> pl.DataFrame:
    return snap_query("""SELECT unit_id, unit || COALESCE('（' || region || '）', '') AS label FROM units
                         ORDER BY region, unit LIMIT ?""", [limit])


def report_meta(report_id: str) -> dict | None:
    df = file_query("""SELECT report_id, unit_id, unit, unit_region AS region, level, year, template, published,
                              title_year, period_year, cited_format_doc, unit_raw, unit_name, region_raw, pinned,
                              source_file, file_name, format, sha256, parser_version, run_id, ingested_at, status,
                              version, duplicate_of, n_cells, narrative
                       FROM v_reports WHERE report_id = ?""", [report_id])
    return df.row(0, named=True) if df.height else None


_CELL_COLS = "key, section, row_key, col_key, value, raw, kind, unit, value_wan, wan_converted, unknown_unit, location"


def report_cells(report_id: str) -> pl.DataFrame:
    """The stored cells of one report.

    Cells are written report by report, so the snapshot keeps each report's rowid range; reading
    that range (and still filtering on report_id) takes milliseconds instead of a scan of every
    cell of the database.
    """
    rng = snap_query("SELECT lo, hi FROM cell_ranges WHERE report_id = ?", [report_id])
    if rng.height:
        df = file_query(f"SELECT {_CELL_COLS} FROM cells WHERE rowid BETWEEN ? AND ? AND report_id = ?",
                        [rng["lo"][0], rng["hi"][0], report_id])
        if df.height:
            return df
    return file_query(f"SELECT {_CELL_COLS} FROM cells WHERE report_id = ?", [report_id])


def report_extra(report_id: str) -> pl.DataFrame:
    return file_query("""SELECT seq, table_name, label, array_to_string("values", ' | ') AS values, location
                         FROM extra_cells WHERE report_id = ? ORDER BY seq""", [report_id])


def report_sections(report_id: str) -> pl.DataFrame:
    return file_query("SELECT section, text FROM sections WHERE report_id = ? ORDER BY section", [report_id])


def unit_year_findings(unit_id: str, year: int) -> pl.DataFrame:
    return file_query(f"""SELECT finding_id, severity, rule, message, keys, expected, actual, assumed_zero, evidence,
                                 review_status, review_note, origin
                          FROM v_findings WHERE unit_id = ? AND year = ?
                          ORDER BY {SEVERITY_RANK}, rule, finding_id""", [unit_id, year])


def report_versions(unit_id: str, year: int) -> pl.DataFrame:
    return file_query("""SELECT version, status, file_name, format, sha256, parser_version, ingested_at,
                                duplicate_of, report_id, source_file
                         FROM reports WHERE unit_id = ? AND year = ?
                         ORDER BY load_seq DESC""", [unit_id, year])
