"""The key measures of a report, written once for the database view and the dashboard snapshot.

Both compute the same figures (``received``, ``deny``, ``suits``, ``disclosure_rate`` …) from the
*effective* 总计 of each 表三/表四 row: the printed 总计, else the sum of the row's applicant cells,
else 0 (spec §7).  They differ only in where those row totals live (``m.t_<row>`` in
``v_report_measures``, ``t_<row>`` in the snapshot), so each caller passes the prefix of those
columns (``"m."`` or ``""``).

Which rows a group adds up comes from the template model (``ingest/templates/layout.toml``): a
group is summed from leaf rows only, never a total together with its components, and a group whose
rows differ between templates (（六）其他处理: one row in F2019, three in F2021) is chosen by the
report's template.  A new template is picked up here without a change.
"""

from __future__ import annotations

from ingest.templates import s3_group_rows, s3_row_order, s4_rows, template_ids

# measure -> the one row it is
ROW_MEASURES: dict[str, str] = {
    "received": "new_received",
    "carried_over": "carried_over",
    "granted": "granted",
    "partial": "partial",
}
# measures that add up a 表三 outcome group (layout.toml [[s3.groups]] ids)
GROUP_MEASURES: tuple[str, ...] = ("deny", "unable", "noproc", "other")
# measures after the groups, each one row
TAIL_MEASURES: dict[str, str] = {
    "result_total": "result_total",
    "carry_forward": "carry_forward",
    "reviews": "review",
}
# 行政诉讼: both kinds of suit
SUITS: tuple[str, ...] = ("suit_direct", "suit_after_review")

def total_rows() -> list[str]:
    """Every 表三/表四 row that has an effective total, in template order (all templates)."""
    rows: list[str] = []
    for t in template_ids():
        at = 0                       # a row new in this template goes after its predecessor there
        for r in s3_row_order(t):
            if r in rows:
                at = rows.index(r) + 1
            else:
                rows.insert(at, r)
                at += 1
    return [*rows, *s4_rows()]


def _col(prefix: str, row: str) -> str:
    return f"{prefix}t_{row}"


def group_sum(rows: list[str], prefix: str) -> str:
    """Σ of the rows' effective totals; NULL when every one of them is unknown (table missing)."""
    if len(rows) == 1:
        return _col(prefix, rows[0])
    known = " OR ".join(f"{_col(prefix, r)} IS NOT NULL" for r in rows)
    return f"CASE WHEN {known} THEN ({' + '.join(f'COALESCE({_col(prefix, r)}, 0)' for r in rows)}) END"


def _group_measure(group: str, prefix: str, template: str) -> str:
    """The group's sum; by template where the templates' rows differ.  Reports of no national
    template (legacy, unknown) use the first template's rows, like every other figure."""
    ids = template_ids()
    by_template = {t: s3_group_rows(t, group) for t in ids}
    first = by_template[ids[0]]
    if all(rows == first for rows in by_template.values()):
        return group_sum(first, prefix)
    whens = " ".join(f"WHEN {template} = '{t}' THEN {group_sum(rows, prefix)}"
                     for t, rows in by_template.items() if t != ids[0])
    return f"CASE {whens} ELSE {group_sum(first, prefix)} END"


def outcome_columns(prefix: str, template: str) -> list[str]:
    """``expr AS name`` for received … suits, in this order (the view's and the snapshot's columns).

    ``prefix`` qualifies the ``t_<row>`` columns; ``template`` is the SQL expression of the
    report's template id.
    """
    return [
        *(f"{_col(prefix, row)} AS {name}" for name, row in ROW_MEASURES.items()),
        *(f"{_group_measure(g, prefix, template)} AS {g}" for g in GROUP_MEASURES),
        *(f"{_col(prefix, row)} AS {name}" for name, row in TAIL_MEASURES.items()),
        f"{group_sum(list(SUITS), prefix)} AS suits",
    ]


def disclosure_rate(prefix: str) -> str:
    """(予以公开 + 部分公开) / 总计 of the results; NULL without results or without either figure."""
    total, granted, partial = (_col(prefix, r) for r in ("result_total", "granted", "partial"))
    return (f"CASE WHEN {total} > 0 AND ({granted} IS NOT NULL OR {partial} IS NOT NULL) "
            f"THEN (COALESCE({granted}, 0) + COALESCE({partial}, 0)) / {total} END")
