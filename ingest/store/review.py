"""Human review of findings: confirm or dismiss with a note (the app calls these).

A review mark is stored in ``finding_reviews`` under the finding's stable ``finding_id`` (unit,
year, rule, sorted keys — not the report version), which the checks never write to.  So a mark
survives re-loads, new versions of the report and re-runs of the checks for as long as the
finding still occurs; if the finding disappears, the mark stays stored and comes back with it.
A mark applies to what was reviewed: the finding's message (which prints the expected and the
reported values) is stored with it, and when a later check gives a different message the mark is
stale (``v_findings.review_stale``): the finding counts as open again everywhere
(``v_findings.review_status``), while the mark itself stays stored as history.  A re-load with the
same values keeps the mark.

Writes go through the same lock and copy-on-write as a load, so a review made while a load
runs waits for the load and is then applied to the loaded database (never lost).
"""

from __future__ import annotations

import os
from datetime import datetime

from ingest.store.db import DEFAULT_DB, connect_readonly, copy_on_write
from ingest.store.schema import FINDING_REVIEWS, FINDINGS, V_FINDINGS

STATUSES = ("confirmed", "dismissed", "open")

# Shown with a finding whose review mark is stale.
STALE_NOTE = "问题已变化，请重新审核"


class FindingNotFound(KeyError):
    """No current finding has this id (it may have disappeared after a re-check)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "找不到该问题"


def set_reviews(db_path: str | os.PathLike, marks: list[tuple[str, str, str]], reviewer: str,
                timeout: float | None = 60) -> None:
    """Record several review marks at once: ``[(finding_id, status, note), …]``."""
    for _, status, _ in marks:
        if status not in STATUSES:
            raise ValueError(f"审核状态应为 confirmed、dismissed 或 open，而不是“{status}”")
    now = datetime.now()
    with copy_on_write(db_path, timeout=timeout) as session:
        con = session.connect()
        for finding_id, status, note in marks:
            row = con.execute(f"SELECT message FROM {FINDINGS} WHERE finding_id = ?", [finding_id]).fetchone()
            if row is None:
                raise FindingNotFound(f"找不到编号为 {finding_id} 的问题（可能在重新核对后已不存在）")
            con.execute(f"""INSERT OR REPLACE INTO {FINDING_REVIEWS}
                            (finding_id, status, note, reviewed_by, reviewed_at, message_at_review)
                            VALUES (?, ?, ?, ?, ?, ?)""",
                        [finding_id, status, note or None, reviewer or None, now, row[0]])


def set_review(db_path: str | os.PathLike, finding_id: str, status: str, note: str, reviewer: str) -> None:
    """Mark one finding ``confirmed``, ``dismissed`` or back to ``open``, with a note."""
    set_reviews(db_path, [(finding_id, status, note)], reviewer)


def get_review(db_path: str | os.PathLike, finding_id: str) -> dict | None:
    """The finding with its review fields (``review_status`` is ``open`` when never reviewed).

    Returns None when no current finding has this id.
    """
    con = connect_readonly(db_path)
    try:
        cur = con.execute(f"SELECT * FROM {V_FINDINGS} WHERE finding_id = ?", [finding_id])
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cur.description], row, strict=True))
    finally:
        con.close()


def list_reviews(db_path: str | os.PathLike = DEFAULT_DB) -> list[dict]:
    """Every stored review mark, including marks of findings that no longer occur."""
    con = connect_readonly(db_path)
    try:
        cur = con.execute(f"""SELECT v.*, f.finding_id IS NOT NULL AS finding_present
                              FROM {FINDING_REVIEWS} v LEFT JOIN {FINDINGS} f USING (finding_id)
                              ORDER BY v.reviewed_at, v.finding_id""")
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
