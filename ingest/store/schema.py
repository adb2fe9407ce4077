"""DuckDB schema of the nianbao database: tables, views and their names (documented in docs/schema.md).

Other writers (the demo generator's scale mode) call :func:`create_schema` on a fresh
connection and write the same tables; the dashboard reads the views.  Table and view names are
constants here so that no module spells them twice.
"""

from __future__ import annotations

import duckdb

from ingest.store.measures import disclosure_rate, outcome_columns, total_rows
from ingest.templates import key_table, s3_columns

SCHEMA_VERSION = 1

META = "meta"
KEY_LABELS = "key_labels"
UNITS = "units"
REPORTS = "reports"
CELLS = "cells"
EXTRA_CELLS = "extra_cells"
SECTIONS = "sections"
PARSE_FINDINGS = "parse_findings"
FINDINGS = "findings"
FINDING_REVIEWS = "finding_reviews"
INGEST_LOG = "ingest_log"
RUNS = "runs"

V_REPORTS = "v_reports"
V_CELLS = "v_cells"
V_S3_MATRIX = "v_s3_matrix"
V_REPORT_MEASURES = "v_report_measures"
V_FINDINGS = "v_findings"
V_FINDINGS_OPEN = "v_findings_open"
V_SUBMISSION_STATUS = "v_submission_status"
V_REJECTED_FILES = "v_rejected_files"

TABLES = (META, KEY_LABELS, UNITS, REPORTS, CELLS, EXTRA_CELLS, SECTIONS, PARSE_FINDINGS, FINDINGS,
          FINDING_REVIEWS, INGEST_LOG, RUNS)
VIEWS = (V_REPORTS, V_CELLS, V_S3_MATRIX, V_REPORT_MEASURES, V_FINDINGS, V_FINDINGS_OPEN,
         V_SUBMISSION_STATUS, V_REJECTED_FILES)

# Tables whose content is the data itself; ingest_log and runs only grow with every run.
DATA_TABLES = (UNITS, REPORTS, CELLS, EXTRA_CELLS, SECTIONS, PARSE_FINDINGS, FINDINGS, FINDING_REVIEWS)


_TABLE_DDL = f"""
CREATE TABLE IF NOT EXISTS {META} (
    name  VARCHAR PRIMARY KEY,
    value VARCHAR
);
CREATE TABLE IF NOT EXISTS {KEY_LABELS} (
    key        VARCHAR NOT NULL,
    template   VARCHAR NOT NULL,      -- 2019 | 2021 | both
    section    VARCHAR,
    table_name VARCHAR,
    row_label  VARCHAR,
    col_label  VARCHAR,
    unit       VARCHAR,
    kind       VARCHAR,
    note       VARCHAR,
    PRIMARY KEY (key, template)
);
CREATE TABLE IF NOT EXISTS {UNITS} (
    unit_id VARCHAR PRIMARY KEY,      -- "地区/名称" or "名称" when no region is known
    name    VARCHAR NOT NULL,         -- normalised short name: 泉港镇
    level   VARCHAR,                  -- 镇 | 乡 | 街道 | 其他 | NULL
    region  VARCHAR,                  -- county-level region: 丰城市
    aliases VARCHAR[]                 -- every spelling seen in documents or the manifest
);
CREATE TABLE IF NOT EXISTS {REPORTS} (
    report_id        VARCHAR PRIMARY KEY,   -- first 16 hex digits of sha256
    unit_id          VARCHAR,
    year             INTEGER NOT NULL,
    template         VARCHAR,               -- 2019 | 2021 | legacy | mixed | unknown
    published        DATE,
    title_year       INTEGER,
    period_year      INTEGER,
    cited_format_doc VARCHAR,
    unit_raw         VARCHAR,               -- the unit as the document (or the manifest) names it
    unit_name        VARCHAR NOT NULL,      -- normalised name
    unit_level       VARCHAR,
    region_raw       VARCHAR,
    region           VARCHAR,               -- normalised region, NULL when unknown
    pinned           BOOLEAN NOT NULL,      -- unit/region/year came from the manifest
    source_file      VARCHAR NOT NULL,      -- absolute path when loaded
    file_name        VARCHAR NOT NULL,
    format           VARCHAR,               -- the file's format: text | html | docx | pdf | doc | wps | rtf | odt
    sha256           VARCHAR NOT NULL UNIQUE,
    parser_version   VARCHAR,
    run_id           INTEGER NOT NULL,
    ingested_at      TIMESTAMP NOT NULL,
    load_seq         BIGINT NOT NULL,       -- order of loading; the latest non-duplicate is current
    status           VARCHAR NOT NULL,      -- current | superseded | duplicate | held
    version          INTEGER,               -- 1, 2, … among the non-duplicate files of unit+year
    duplicate_of     VARCHAR,               -- for status duplicate: the report with the same figures
    n_cells          INTEGER NOT NULL,      -- canonical cells stored for this report
    narrative        JSON
);
CREATE TABLE IF NOT EXISTS {CELLS} (
    report_id     VARCHAR NOT NULL,
    key           VARCHAR NOT NULL,         -- canonical key (keys.tsv)
    section       VARCHAR NOT NULL,         -- s2 | s3 | s4
    row_key       VARCHAR NOT NULL,
    col_key       VARCHAR NOT NULL,
    value         DOUBLE,                   -- as printed; NULL for blank / marker / text
    raw           VARCHAR,                  -- the cell text as printed ('' for blank)
    kind          VARCHAR,                  -- number | zero_marker | na_marker | blank | text
    unit          VARCHAR,                  -- printed unit (元 / 万元) or NULL
    value_wan     DOUBLE,                   -- money cells in 万元 where the unit is known
    wan_converted BOOLEAN,                  -- value_wan = value / 10000 (printed in 元)
    unknown_unit  BOOLEAN,                  -- money cell whose unit is unknown (value_wan NULL)
    location      VARCHAR                   -- where in the source file (the parse output's "where")
);
CREATE TABLE IF NOT EXISTS {EXTRA_CELLS} (
    report_id  VARCHAR NOT NULL,
    seq        INTEGER NOT NULL,
    table_name VARCHAR,
    label      VARCHAR,
    "values"   VARCHAR[],
    location   VARCHAR
);
CREATE TABLE IF NOT EXISTS {SECTIONS} (
    report_id VARCHAR NOT NULL,
    section   VARCHAR NOT NULL,             -- 一 … 六
    text      VARCHAR
);
CREATE TABLE IF NOT EXISTS {PARSE_FINDINGS} (
    report_id    VARCHAR NOT NULL,
    seq          INTEGER NOT NULL,
    rule         VARCHAR NOT NULL,
    severity     VARCHAR NOT NULL,
    keys         VARCHAR[],
    expected     DOUBLE,
    actual       DOUBLE,
    message      VARCHAR,
    assumed_zero VARCHAR[],
    evidence     VARCHAR,
    defect       VARCHAR,
    detail       JSON                       -- the finding exactly as the parser gave it
);
CREATE TABLE IF NOT EXISTS {FINDINGS} (
    finding_id     VARCHAR PRIMARY KEY,     -- hash of unit_id, year, rule, sorted keys
    unit_id        VARCHAR NOT NULL,
    year           INTEGER NOT NULL,
    report_id      VARCHAR,                 -- the current report of unit+year (NULL for MISSING)
    prev_report_id VARCHAR,                 -- cross-year rules: the Y−1 report
    rule           VARCHAR NOT NULL,
    severity       VARCHAR NOT NULL,        -- error | warning | info
    keys           VARCHAR[],
    expected       DOUBLE,
    actual         DOUBLE,
    message        VARCHAR NOT NULL,
    assumed_zero   VARCHAR[],
    evidence       VARCHAR,
    defect         VARCHAR,
    origin         VARCHAR NOT NULL         -- parse | check
);
CREATE TABLE IF NOT EXISTS {FINDING_REVIEWS} (
    finding_id        VARCHAR PRIMARY KEY,
    status            VARCHAR NOT NULL,     -- confirmed | dismissed | open
    note              VARCHAR,
    reviewed_by       VARCHAR,
    reviewed_at       TIMESTAMP,
    message_at_review VARCHAR               -- the finding's message when it was reviewed
);
CREATE TABLE IF NOT EXISTS {INGEST_LOG} (
    run_id    INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    file      VARCHAR NOT NULL,
    file_name VARCHAR,
    sha256    VARCHAR,
    outcome   VARCHAR NOT NULL,  -- loaded | new_version | unchanged | duplicate | rejected | skipped
    reason    VARCHAR,
    report_id VARCHAR,
    logged_at TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS {RUNS} (
    run_id      INTEGER PRIMARY KEY,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    paths       VARCHAR[],
    files_seen  INTEGER,
    loaded      INTEGER,
    new_version INTEGER,
    unchanged   INTEGER,
    duplicate   INTEGER,
    rejected    INTEGER,
    skipped     INTEGER,
    findings_error   INTEGER,
    findings_warning INTEGER,
    findings_info    INTEGER
);
"""


# The effective review of a finding ``f`` joined with its mark ``v`` in ``finding_reviews``.  A mark
# applies to what was reviewed: the message (which prints the expected and the reported values) is
# stored with the mark, and once the finding's message differs the mark is stale and the finding
# is open again.  Every query that reads review marks uses these two expressions.
REVIEW_STALE_SQL = "(v.status IS NOT NULL AND v.message_at_review IS DISTINCT FROM f.message)"
REVIEW_STATUS_SQL = f"CASE WHEN {REVIEW_STALE_SQL} THEN 'open' ELSE COALESCE(v.status, 'open') END"


def _view_ddl() -> str:
    pivot_cols = ",\n        ".join(f"max(t.total) FILTER (WHERE t.row_key = '{r}') AS t_{r}" for r in total_rows())
    outcome_cols = ",\n       ".join(outcome_columns("m.", "r.template"))
    # "natural" is an SQL keyword (NATURAL JOIN): that column is called natural_person here.
    s3_cols = ",\n        ".join(f"max(value) FILTER (WHERE col_key = '{c}') AS {'natural_person' if c == 'natural' else c}"
                                  for c in s3_columns())
    return f"""
CREATE OR REPLACE VIEW {V_REPORTS} AS
SELECT r.*, u.name AS unit, u.region AS unit_region, u.level AS level
FROM {REPORTS} r LEFT JOIN {UNITS} u USING (unit_id);

CREATE OR REPLACE VIEW {V_CELLS} AS
SELECT r.report_id, r.unit_id, u.name AS unit, u.region, r.year, r.template, c.key, c.section, c.row_key,
       c.col_key, c.value, c.raw, c.kind, c.unit AS printed_unit, c.value_wan, c.wan_converted, c.unknown_unit, c.location,
       r.source_file
FROM {CELLS} c JOIN {REPORTS} r USING (report_id) LEFT JOIN {UNITS} u USING (unit_id)
WHERE r.status = 'current';

-- One row per current report and 表三 row: the seven applicant columns as printed.
CREATE OR REPLACE VIEW {V_S3_MATRIX} AS
SELECT r.report_id, r.unit_id, u.name AS unit, u.region, r.year, r.template, c.row_key,
        {s3_cols}
FROM {CELLS} c JOIN {REPORTS} r USING (report_id) LEFT JOIN {UNITS} u USING (unit_id)
WHERE r.status = 'current' AND c.section = 's3'
GROUP BY ALL;

-- Every finding of the last check run with its human review (open when never reviewed, or when the
-- finding has changed since: review_stale, the stored mark and note are then history only).
CREATE OR REPLACE VIEW {V_FINDINGS} AS
SELECT f.finding_id, f.unit_id, u.name AS unit, u.region, u.level, f.year, f.report_id, f.prev_report_id,
       r.file_name, r.source_file, f.rule, f.severity, f.keys, f.expected, f.actual, f.message,
       f.assumed_zero, f.evidence, f.defect, f.origin,
       {REVIEW_STATUS_SQL} AS review_status, v.note AS review_note, v.reviewed_by, v.reviewed_at,
       {REVIEW_STALE_SQL} AS review_stale
FROM {FINDINGS} f
LEFT JOIN {UNITS} u USING (unit_id)
LEFT JOIN {REPORTS} r ON r.report_id = f.report_id
LEFT JOIN {FINDING_REVIEWS} v USING (finding_id);

-- Findings that still stand: not dismissed by a reviewer (open or confirmed); a stale dismissal is open.
CREATE OR REPLACE VIEW {V_FINDINGS_OPEN} AS
SELECT * FROM {V_FINDINGS} WHERE review_status <> 'dismissed';

-- Key measures, one wide row per current report.  Group figures add the 总计 column of leaf rows
-- only (never a total together with its components).  A row whose printed 总计 holds no number
-- uses the sum of its component columns instead (spec §7: "the computed sum is used downstream");
-- blank and marker cells count as 0 there, as in the identity checks.  A row that is absent from
-- the document (table missing) gives NULL, never 0.
CREATE OR REPLACE VIEW {V_REPORT_MEASURES} AS
WITH t AS (
    SELECT c.report_id, c.row_key,
        COALESCE(max(c.value) FILTER (WHERE c.col_key = 'total'),
                 sum(c.value) FILTER (WHERE c.col_key <> 'total'), 0) AS total
    FROM {CELLS} c JOIN {REPORTS} r USING (report_id)
    WHERE r.status = 'current' AND c.section IN ('s3', 's4')
    GROUP BY c.report_id, c.row_key
), m AS (
    SELECT report_id,
        {pivot_cols}
    FROM t GROUP BY report_id
), money AS (
    SELECT report_id,
        max(value) FILTER (WHERE key = 's2.procurement.projects') AS procurement_projects,
        max(value_wan) FILTER (WHERE key = 's2.procurement.amount') AS procurement_wan,
        bool_or(unknown_unit) FILTER (WHERE key = 's2.procurement.amount') AS procurement_unit_unknown,
        max(value_wan) FILTER (WHERE key = 's2.fee.amount') AS fee_wan,
        bool_or(wan_converted) FILTER (WHERE key = 's2.fee.amount') AS fee_converted
    FROM {CELLS} c JOIN {REPORTS} r USING (report_id)
    WHERE r.status = 'current' AND c.key IN ('s2.procurement.projects', 's2.procurement.amount', 's2.fee.amount')
    GROUP BY report_id
), f AS (
    SELECT report_id,
        count(*) FILTER (WHERE severity = 'error') AS errors,
        count(*) FILTER (WHERE severity = 'warning') AS warnings,
        count(*) FILTER (WHERE severity = 'info') AS infos
    FROM {V_FINDINGS_OPEN} WHERE report_id IS NOT NULL GROUP BY report_id
)
SELECT r.report_id, r.unit_id, u.name AS unit, u.region, u.level, r.year, r.template, r.published,
       r.format, r.file_name, r.source_file,
       {outcome_cols},
       money.procurement_projects,
       money.procurement_wan,
       COALESCE(money.procurement_unit_unknown, false) AS procurement_unit_unknown,
       money.fee_wan,
       COALESCE(money.fee_converted, false) AS fee_converted,
       {disclosure_rate("m.")} AS disclosure_rate,
       COALESCE(f.errors, 0) AS errors,
       COALESCE(f.warnings, 0) AS warnings,
       COALESCE(f.infos, 0) AS infos
FROM {REPORTS} r
LEFT JOIN {UNITS} u USING (unit_id)
LEFT JOIN m USING (report_id)
LEFT JOIN money USING (report_id)
LEFT JOIN f USING (report_id)
WHERE r.status = 'current';

-- Unit × year for every unit and every year from the first to the last report year present.
-- "late" means published after 3月31日 of the next year (D07 warning); townships have no statutory
-- 1月31日 deadline (spec §10.4), so the info-level D07 does not change the status.
CREATE OR REPLACE VIEW {V_SUBMISSION_STATUS} AS
WITH years AS (
    SELECT unnest(range(min(year), max(year) + 1)) AS year FROM {REPORTS} WHERE status = 'current'
), grid AS (
    SELECT u.unit_id, u.name AS unit, u.region, u.level, y.year FROM {UNITS} u CROSS JOIN years y
), fs AS (
    SELECT unit_id, year,
        count(*) FILTER (WHERE rule = 'X-5') AS wrong_template,
        count(*) FILTER (WHERE severity = 'error') AS errors,
        count(*) FILTER (WHERE severity = 'warning') AS warnings,
        count(*) FILTER (WHERE severity = 'info') AS infos,
        count(*) FILTER (WHERE rule = 'D07' AND severity = 'warning') AS late
    FROM {V_FINDINGS_OPEN} GROUP BY unit_id, year
)
SELECT g.unit_id, g.unit, g.region, g.level, g.year, r.report_id, r.published, r.template, r.file_name,
       CASE WHEN r.report_id IS NULL THEN 'missing'
            WHEN COALESCE(fs.wrong_template, 0) > 0 THEN 'wrong_template'
            WHEN COALESCE(fs.errors, 0) > 0 THEN 'has_errors'
            WHEN COALESCE(fs.late, 0) > 0 THEN 'late'
            ELSE 'published' END AS status,
       COALESCE(fs.errors, 0) AS errors, COALESCE(fs.warnings, 0) AS warnings, COALESCE(fs.infos, 0) AS infos
FROM grid g
LEFT JOIN {REPORTS} r ON r.unit_id = g.unit_id AND r.year = g.year AND r.status = 'current'
LEFT JOIN fs ON fs.unit_id = g.unit_id AND fs.year = g.year;

-- The failure queue: files whose latest outcome is rejected.
CREATE OR REPLACE VIEW {V_REJECTED_FILES} AS
SELECT file, file_name, sha256, reason, logged_at, run_id FROM (
    SELECT *, row_number() OVER (PARTITION BY file ORDER BY run_id DESC, seq DESC) AS rn
    FROM {INGEST_LOG} WHERE outcome <> 'skipped'
) WHERE rn = 1 AND outcome = 'rejected';
"""


class SchemaMismatch(RuntimeError):
    """The database was written by another version of this schema."""


def stored_schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    rows = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [META]).fetchall()
    if rows[0][0] == 0:
        return None
    got = con.execute(f"SELECT value FROM {META} WHERE name = 'schema_version'").fetchall()
    return int(got[0][0]) if got else None


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table (if missing) and (re)create every view; fill ``key_labels`` once.

    Raises :class:`SchemaMismatch` on a database of another schema version (no silent migration).
    """
    found = stored_schema_version(con)
    if found is not None and found != SCHEMA_VERSION:
        raise SchemaMismatch(f"数据库结构版本为 {found}，本程序为 {SCHEMA_VERSION}：请换用新的数据库文件重新入库")
    con.execute(_TABLE_DDL)
    con.execute(_view_ddl())
    con.execute(f"INSERT OR REPLACE INTO {META} VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
    if con.execute(f"SELECT count(*) FROM {KEY_LABELS}").fetchall()[0][0] == 0:
        rows = [(r["key"], r["template"], r["section"], r["table"], r["row_label"], r["col_label"],
                 r["unit"], r["kind"], r["note"] or None)
                for r in key_table()]
        with con.appender(KEY_LABELS) as app:
            app.append_rows(rows)
