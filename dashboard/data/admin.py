"""数据管理: file facts, load runs, rejected files and stored reports."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from dashboard.data.connection import _versions, file_query
from dashboard.data.where import where
from dashboard.scope import Scope, level_bucket_sql, template_bucket_sql


def db_info() -> dict:
    """File facts and the latest load run."""
    path, sig = next(_versions())
    info = {"path": path, "size_mb": sig[1] / 1e6, "modified": datetime.fromtimestamp(sig[0] / 1e9)}
    meta = file_query("SELECT name, value FROM meta")
    info["meta"] = dict(meta.iter_rows())
    counts = file_query("""SELECT count(*) FILTER (WHERE status = 'current') AS current,
                                  count(*) FILTER (WHERE status = 'superseded') AS superseded,
                                  count(*) FILTER (WHERE status = 'duplicate') AS duplicate,
                                  count(DISTINCT unit_id) AS units, max(ingested_at) AS last_ingested
                           FROM reports""")
    info.update(counts.row(0, named=True))
    return info


def load_runs(limit: int = 20) -> pl.DataFrame:
    return file_query("""SELECT run_id, started_at, finished_at, files_seen, loaded, new_version, unchanged, duplicate,
                                rejected, skipped, findings_error, findings_warning, findings_info
                         FROM runs ORDER BY run_id DESC LIMIT ?""", [limit])


def rejected_files(limit: int = 500) -> pl.DataFrame:
    return file_query("""SELECT file_name, reason, logged_at, file, sha256 FROM v_rejected_files
                         ORDER BY logged_at DESC, file LIMIT ?""", [limit])


def held_reports() -> pl.DataFrame:
    """Files kept as ``held`` (ingest/store/versions.py), with the current version they did not replace."""
    return file_query("""
        SELECT h.report_id, u.name AS unit, h.year, h.file_name, h.n_cells, c.file_name AS current_file,
               c.n_cells AS current_cells,
               (SELECT l.reason FROM ingest_log l WHERE l.report_id = h.report_id AND l.outcome = 'held'
                ORDER BY l.run_id DESC LIMIT 1) AS reason
        FROM reports h LEFT JOIN units u USING (unit_id)
        LEFT JOIN reports c ON c.unit_id = h.unit_id AND c.year = h.year AND c.status = 'current'
        WHERE h.status = 'held' ORDER BY u.name, h.year, h.load_seq""")


def loaded_reports(scope: Scope, limit: int = 500) -> pl.DataFrame:
    """Stored report files (every status) in the scope, newest load first."""
    w, p = where(scope)
    return file_query(f"""
        SELECT unit, region, year, template, status, version, format, file_name, ingested_at, parser_version, sha256
        FROM (SELECT r.*, u.name AS unit, u.region AS region, {level_bucket_sql("u.level")} AS level,
                     {template_bucket_sql("r.template")} AS tpl
              FROM reports r LEFT JOIN units u USING (unit_id)) {w}
        ORDER BY load_seq DESC LIMIT ?""", [*p, limit])
