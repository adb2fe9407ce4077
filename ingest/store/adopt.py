"""An admin adopts a held version (:mod:`ingest.store.versions`): it becomes an ordinary version.

The choice is written like a load — under the write lock, on a copy that replaces the database
only when complete — and recorded in ``runs``/``ingest_log`` with who made it, so the history of
a township-year says why a file that read worse became current.
"""

from __future__ import annotations

import os
from datetime import datetime

from ingest.store.checks import run_checks
from ingest.store.db import copy_on_write
from ingest.store.schema import INGEST_LOG, REPORTS, RUNS, V_FINDINGS_OPEN
from ingest.store.versions import HELD
from ingest.store.writer import insert_rows, refresh_units_and_versions


class NotHeld(LookupError):
    """The report is not (or no longer) a held version."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "该文件不是待确认的版本"


def adopt_held(db_path: str | os.PathLike, report_id: str, admin: str, timeout: float | None = 60) -> str:
    """Make the held report ``report_id`` an ordinary version (current if it is the latest).

    Returns the report's new status (``current`` or ``superseded``).  Raises :class:`NotHeld`.
    """
    now = datetime.now()
    with copy_on_write(db_path, timeout=timeout) as session:
        con = session.connect()
        row = con.execute(f"SELECT source_file, file_name, sha256, status FROM {REPORTS} WHERE report_id = ?",
                          [report_id]).fetchone()
        if row is None or row[3] != HELD:
            raise NotHeld(f"编号为 {report_id} 的文件不是待确认的版本（可能已被采用），请刷新页面后再试")
        con.execute(f"UPDATE {REPORTS} SET status = 'superseded' WHERE report_id = ?", [report_id])
        refresh_units_and_versions(con)
        run_checks(con)
        run_id = con.execute(f"SELECT COALESCE(max(run_id), 0) + 1 FROM {RUNS}").fetchall()[0][0]
        insert_rows(con, INGEST_LOG,
                    ("run_id", "seq", "file", "file_name", "sha256", "outcome", "reason", "report_id", "logged_at"),
                    [(run_id, 0, row[0], row[1], row[2], "new_version",
                      f"管理员{('“' + admin + '”') if admin else ''}采用了此前暂未采用的版本", report_id, now)])
        counts = dict(con.execute(f"SELECT severity, count(*) FROM {V_FINDINGS_OPEN} GROUP BY ALL").fetchall())
        con.execute(f"INSERT INTO {RUNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            run_id, now, datetime.now(), [row[0]], 1, 0, 1, 0, 0, 0, 0,
            counts.get("error", 0), counts.get("warning", 0), counts.get("info", 0)])
        status = con.execute(f"SELECT status FROM {REPORTS} WHERE report_id = ?", [report_id]).fetchone()[0]
    return status
