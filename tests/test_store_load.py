"""Loading parse results: provenance, idempotence, versions, duplicates, rejects, views, reviews."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import duckdb
import pytest

from ingest.store.db import connect_readonly
from ingest.store.loader import load_parsed, run_load
from ingest.store.review import FindingNotFound, get_review, list_reviews, set_review
from ingest.store.schema import DATA_TABLES, TABLES, VIEWS, create_schema
from ingest.store.units import Pin
from tests.store_helpers import COLS, item_for, json_parser, make_result, snapshot, write_result_file


def q(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = connect_readonly(db)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def load(folder: Path, db: Path, *paths: Path, **kw) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_load([str(p) for p in (paths or [folder])], db_path=str(db), parser=json_parser, out=out, err=err,
                    **kw)
    return code, out.getvalue(), err.getvalue()


def corpus(folder: Path, units=("甲镇", "乙镇", "丙街道"), years=(2020, 2021, 2022)) -> list[Path]:
    """A consistent corpus: carry-over chains hold, so only rules about the data itself fire."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for u in units:
        prev = None
        for y in years:
            prev = make_result(unit=u, region="丰城市", year=y, prev=prev, level="街道" if "街道" in u else "镇")
            paths.append(write_result_file(folder, f"{u}-{y}.rpt", prev))
    return paths


# ---------------------------------------------------------------- basics and provenance

def test_schema_is_idempotent_and_complete() -> None:
    con = duckdb.connect()
    create_schema(con)
    create_schema(con)
    names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert set(TABLES) | set(VIEWS) <= names


def test_load_stores_every_cell_with_raw_text_and_location(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    r = make_result(year=2020, overrides={"s3.deny_internal.natural": None},
                    kinds={"s3.deny_internal.natural": "na_marker"},
                    units={"s2.procurement.amount": "元"})
    r["raw"]["s3.deny_internal.natural"] = "/"
    summary = load_parsed(db, [item_for(r, "/docs/泉港镇2020.txt")])
    assert summary.counts()["loaded"] == 1
    (rid, n_cells, status, unit_id) = q(db, "SELECT report_id, n_cells, status, unit_id FROM reports")[0]
    assert n_cells == len(r["cells"]) == 198 and status == "current" and unit_id == "丰城市/泉港镇"
    rows = {k: rest for k, *rest in q(db, "SELECT key, value, raw, kind, location FROM cells WHERE report_id = ?",
                                      [rid])}
    assert len(rows) == 198
    assert rows["s3.deny_internal.natural"] == [None, "/", "na_marker", r["where"]["s3.deny_internal.natural"]]
    assert rows["s3.new_received.total"][0] == r["cells"]["s3.new_received.total"]
    # money: the printed number stays; the 万元 figure is separate and flagged as converted
    (value, unit, wan, conv, unknown), = q(db, "SELECT value, unit, value_wan, wan_converted, unknown_unit FROM cells"
                                               " WHERE key = 's2.procurement.amount'")
    assert value == r["cells"]["s2.procurement.amount"] and unit == "元"
    assert wan == pytest.approx(value / 10000) and conv and not unknown
    assert q(db, "SELECT count(*) FROM extra_cells")[0][0] == 1
    assert q(db, "SELECT count(*) FROM sections WHERE report_id = ?", [rid])[0][0] == 6
    assert q(db, "SELECT source_file, file_name FROM reports")[0] == ("/docs/泉港镇2020.txt", "泉港镇2020.txt")


def test_money_unknown_unit_and_fee_in_yuan(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    a = make_result(unit="甲镇", year=2020)                         # procurement amount without unit
    b = make_result(unit="乙镇", year=2022, overrides={"s2.fee.amount": 25600}, units={"s2.fee.amount": "元"})
    load_parsed(db, [item_for(a), item_for(b)])
    m = {u: (p, pu, f, fc) for u, p, pu, f, fc in q(
        db, "SELECT unit, procurement_wan, procurement_unit_unknown, fee_wan, fee_converted FROM v_report_measures")}
    assert m["甲镇"][0] is None and m["甲镇"][1] is True
    assert m["乙镇"][2] == pytest.approx(2.56) and m["乙镇"][3] is True


# ---------------------------------------------------------------- the measures view

def test_measures_never_add_a_total_to_its_components(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    r19 = make_result(unit="甲镇", year=2020)
    r21 = make_result(unit="乙镇", year=2021)
    load_parsed(db, [item_for(r19), item_for(r21)])
    got = {row[0]: row[1:] for row in q(db, """SELECT unit, received, carried_over, granted, partial, deny, unable,
        noproc, other, result_total, carry_forward, reviews, suits, disclosure_rate FROM v_report_measures""")}
    for unit, r in (("甲镇", r19), ("乙镇", r21)):
        c = r["cells"]
        def tot(rows, c=c):
            return sum(c[f"s3.{x}.total"] for x in rows)
        other = c["s3.other.total"] if r["template"] == "2019" else tot(
            ["other_no_correction", "other_fee_unpaid", "other_other"])
        want = (c["s3.new_received.total"], c["s3.carried_over.total"], c["s3.granted.total"],
                c["s3.partial.total"],
                tot([k.split(".")[1] for k in c if k.startswith("s3.deny_") and k.endswith(".total")]),
                tot([k.split(".")[1] for k in c if k.startswith("s3.unable_") and k.endswith(".total")]),
                tot([k.split(".")[1] for k in c if k.startswith("s3.noproc_") and k.endswith(".total")]),
                other, c["s3.result_total.total"], c["s3.carry_forward.total"], c["s4.review.total"],
                c["s4.suit_direct.total"] + c["s4.suit_after_review.total"],
                (c["s3.granted.total"] + c["s3.partial.total"]) / c["s3.result_total.total"])
        assert got[unit] == pytest.approx(want)
        # received is the printed total, not total + the six applicant columns
        assert got[unit][0] == sum(c[f"s3.new_received.{col}"] for col in COLS)
        # the outcome groups add up to the result total
        assert sum(got[unit][2:8]) == got[unit][8]


def test_measures_use_component_sum_when_a_printed_total_is_blank(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    r = make_result(year=2020)
    c = r["cells"]
    want = c["s3.granted.total"]
    c["s3.granted.total"] = None
    r["kinds"]["s3.granted.total"] = "blank"
    del c["s3.deny_process.natural"], r["kinds"]["s3.deny_process.natural"]   # an absent cell is not 0 either
    load_parsed(db, [item_for(r)])
    assert q(db, "SELECT granted FROM v_report_measures")[0][0] == want


def test_measures_are_null_when_the_table_is_absent(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    r = make_result(year=2020)
    for k in [k for k in r["cells"] if k.startswith("s3.")]:
        del r["cells"][k], r["kinds"][k]
    load_parsed(db, [item_for(r)])
    assert q(db, "SELECT received, granted, deny, result_total, disclosure_rate FROM v_report_measures")[0] == (
        None, None, None, None, None)


def test_applicant_breakdown_is_reachable(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    r = make_result(year=2021)
    load_parsed(db, [item_for(r)])
    rows = q(db, "SELECT row_key, natural_person, commercial, total FROM v_s3_matrix WHERE row_key = 'new_received'")
    assert rows == [("new_received", r["cells"]["s3.new_received.natural"], r["cells"]["s3.new_received.commercial"],
                     r["cells"]["s3.new_received.total"])]


# ---------------------------------------------------------------- idempotence, versions, duplicates

def test_loading_twice_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    corpus(tmp_path / "in")
    code, out, _ = load(tmp_path / "in", db)
    assert code == 0 and "新入库报告 9 份" in out
    # a consistent corpus raises nothing: no false alarms from the cross-year checks
    assert q(db, "SELECT rule, message FROM findings") == []
    before = snapshot(db)
    code, out, _ = load(tmp_path / "in", db)
    assert code == 0
    assert "新入库报告 0 份" in out and "未变化 9 个" in out
    assert snapshot(db) == before
    assert q(db, "SELECT outcome, count(*) FROM ingest_log WHERE run_id = 2 GROUP BY ALL") == [("unchanged", 9)]
    assert q(db, "SELECT count(*) FROM runs")[0][0] == 2


def test_changed_file_becomes_current_and_old_version_is_kept(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    folder = tmp_path / "in"
    corpus(folder)
    load(folder, db)
    old_id = q(db, "SELECT report_id FROM reports WHERE file_name = '乙镇-2021.rpt'")[0][0]
    r = json.loads((folder / "乙镇-2021.rpt").read_text(encoding="utf-8"))
    r["cells"]["s3.granted.natural"] += 1
    r["cells"]["s3.granted.total"] += 1
    write_result_file(folder, "乙镇-2021-更正.rpt", r)
    code, out, _ = load(folder, db)
    assert code == 0 and "1 份是已有报告的新版本" in out
    rows = q(db, "SELECT report_id, status, version, file_name FROM reports r JOIN units u USING (unit_id)"
                 " WHERE u.name = '乙镇' AND year = 2021 ORDER BY version")
    assert [(s, v) for _, s, v, _ in rows] == [("superseded", 1), ("current", 2)]
    assert rows[0][0] == old_id and rows[1][3] == "乙镇-2021-更正.rpt"
    # both versions keep all their cells
    assert q(db, "SELECT count(DISTINCT report_id) FROM cells WHERE report_id IN (?, ?)", [old_id, rows[1][0]]) == [(2,)]
    # the view shows the current version only, and the differing figures are reported
    assert q(db, "SELECT granted FROM v_report_measures WHERE unit = '乙镇' AND year = 2021")[0][0] == \
        r["cells"]["s3.granted.total"]
    conflict = q(db, "SELECT keys, severity, message FROM v_findings WHERE rule = 'CONFLICT'")
    assert len(conflict) == 1 and conflict[0][0] == ["s3.granted.natural", "s3.granted.total"]
    assert conflict[0][1] == "warning" and "乙镇-2021-更正.rpt" in conflict[0][2]
    assert q(db, "SELECT outcome FROM ingest_log WHERE file_name = '乙镇-2021-更正.rpt'") == [("new_version",)]


def test_same_bytes_under_another_name_is_a_duplicate(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    folder = tmp_path / "in"
    corpus(folder, units=("甲镇",), years=(2020,))
    load(folder, db)
    (folder / "copy.rpt").write_bytes((folder / "甲镇-2020.rpt").read_bytes())
    code, out, _ = load(folder, db)
    assert code == 0 and "重复 1 个" in out
    assert q(db, "SELECT outcome, reason FROM ingest_log WHERE file_name = 'copy.rpt'") == [
        ("duplicate", "与已入库的“甲镇-2020.rpt”内容完全相同")]
    assert q(db, "SELECT count(*) FROM reports")[0][0] == 1


def test_same_figures_in_another_format_is_the_same_report(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    html = make_result(year=2023, fmt="html")
    pdf = make_result(year=2023, fmt="pdf")
    pdf["where"] = {k: "第3页" for k in pdf["where"]}
    s = load_parsed(db, [item_for(html, "/d/a.html"), item_for(pdf, "/d/a.pdf")])
    assert [e.outcome for e in s.log] == ["loaded", "duplicate"]
    assert q(db, "SELECT format, status, duplicate_of IS NOT NULL FROM reports ORDER BY load_seq") == [
        ("html", "current", False), ("pdf", "duplicate", True)]
    assert q(db, "SELECT count(*) FROM findings WHERE rule = 'CONFLICT'")[0][0] == 0
    assert q(db, "SELECT count(*) FROM v_report_measures")[0][0] == 1


def test_newest_file_of_a_batch_is_current(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    folder = tmp_path / "in"
    folder.mkdir()
    a = make_result(year=2021)
    b = make_result(year=2021, seed=1)
    pb = write_result_file(folder, "a-修订.rpt", b)       # sorts first by name …
    pa = write_result_file(folder, "b.rpt", a)
    now = time.time()
    os.utime(pa, (now - 100, now - 100))                 # … but is the newer file
    os.utime(pb, (now, now))
    load(folder, db)
    assert q(db, "SELECT file_name FROM reports WHERE status = 'current'") == [("a-修订.rpt",)]


# ---------------------------------------------------------------- rejects, skips, failures

def test_rejected_files_are_recorded_and_the_batch_continues(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    folder = tmp_path / "in"
    corpus(folder, units=("甲镇",), years=(2020, 2021))
    (folder / "bad-scan.rpt").write_text("x", encoding="utf-8")
    (folder / "crash.rpt").write_text("y", encoding="utf-8")
    (folder / "README.md").write_text("说明", encoding="utf-8")
    (folder / ".hidden.rpt").write_text("x", encoding="utf-8")
    code, out, _ = load(folder, db, folder, tmp_path / "nowhere")
    assert code == 0
    assert "新入库报告 2 份" in out and "无法解析 3 个" in out
    assert "bad-scan.rpt：没有可提取的文字（可能是扫描件，需要 OCR）" in out
    log = dict(q(db, "SELECT file_name, outcome || ':' || COALESCE(reason, '') FROM ingest_log"))
    assert log["bad-scan.rpt"] == "rejected:没有可提取的文字（可能是扫描件，需要 OCR）"
    assert log["crash.rpt"].startswith("rejected:解析时发生内部错误（RuntimeError")
    assert log["nowhere"] == "rejected:文件或文件夹不存在"
    assert log["README.md"].startswith("skipped:")
    assert ".hidden.rpt" not in log
    assert {r[0] for r in q(db, "SELECT file_name FROM v_rejected_files")} == {"bad-scan.rpt", "crash.rpt", "nowhere"}


def test_unknown_unit_is_rejected_unless_the_manifest_names_it(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    folder = tmp_path / "in"
    folder.mkdir()
    r = make_result(year=2021)
    r["unit"] = None
    write_result_file(folder, "noname.rpt", r)
    load(folder, db)
    assert q(db, "SELECT outcome, reason FROM ingest_log")[0][0] == "rejected"
    assert "清单" in q(db, "SELECT reason FROM ingest_log")[0][0]
    m = tmp_path / "manifest.csv"
    m.write_text("file,unit,region,year\nnoname.rpt,丁镇人民政府,樟树市,2022\n", encoding="utf-8")
    code, _, _ = load(folder, db, manifest=str(m))
    assert code == 0
    assert q(db, "SELECT unit_id, year, pinned, unit_raw FROM reports") == [("樟树市/丁镇", 2022, True, "丁镇人民政府")]


def test_manifest_pin_corrects_a_stored_file(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    r = make_result(unit="甲镇", year=2020)
    item = item_for(r, "/d/x.txt")
    load_parsed(db, [item])
    item.pin = Pin(None, None, 2021)
    s = load_parsed(db, [item])
    assert s.log[0].outcome == "unchanged" and "清单" in s.log[0].reason
    assert q(db, "SELECT year, pinned FROM reports") == [(2021, True)]


def test_failed_run_leaves_the_database_as_it_was(tmp_path: Path, monkeypatch) -> None:
    db = tmp_path / "n.duckdb"
    folder = tmp_path / "in"
    corpus(folder, units=("甲镇",))
    load(folder, db)
    before = Path(db).read_bytes()
    corpus(folder, units=("乙镇",))

    def broken(con):
        raise RuntimeError("磁盘已满")
    monkeypatch.setattr("ingest.store.loader.run_checks", broken)
    code, out, err = load(folder, db)
    assert code != 0 and "数据库保持本次运行之前的状态" in err and out == ""
    assert Path(db).read_bytes() == before
    assert not list(tmp_path.glob("n.duckdb.tmp-*"))


# ---------------------------------------------------------------- findings and review marks

def test_within_report_findings_are_stored_with_stable_ids(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    f = {"rule": "N-1", "severity": "warning", "keys": ["s3.new_received.total"], "expected": 2, "actual": 1,
         "message": "正文“收到依申请公开信息1件”与表三 第一项 本年新收政府信息公开申请数量 总计列不一致：表中为 2，正文为 1",
         "assumed_zero": [], "evidence": "收到依申请公开信息1件，其中自然人1件"}
    r = make_result(year=2020, findings=[f])
    load_parsed(db, [item_for(r)])
    rows = q(db, "SELECT finding_id, rule, severity, keys, expected, actual, message, origin, review_status"
                 " FROM v_findings WHERE rule = 'N-1'")
    assert len(rows) == 1
    fid = rows[0][0]
    assert rows[0][1:] == ("N-1", "warning", ["s3.new_received.total"], 2.0, 1.0, f["message"], "parse", "open")
    # a new version of the report keeps the identity (unit + year + rule + keys), not the file
    r2 = make_result(year=2020, findings=[{**f, "actual": 3}], seed=5)
    load_parsed(db, [item_for(r2)])
    assert q(db, "SELECT finding_id FROM findings WHERE rule = 'N-1'") == [(fid,)]


def test_dismissed_finding_stays_dismissed_after_reload_and_recheck(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    folder = tmp_path / "in"
    paths = corpus(folder, units=("甲镇",), years=(2020, 2021))
    r = json.loads(paths[1].read_text(encoding="utf-8"))
    r["cells"]["s3.carried_over.natural"] += 1       # X-1 in 2021
    write_result_file(folder, paths[1].name, r)
    load(folder, db)
    (fid, msg), = q(db, "SELECT finding_id, message FROM findings WHERE rule = 'X-1' AND 's3.carried_over.natural@2021'"
                        " = ANY(keys)")
    set_review(str(db), fid, "dismissed", "乡镇已书面说明：系统迁移造成", "张三")
    rev = get_review(str(db), fid)
    assert (rev["review_status"], rev["review_note"], rev["reviewed_by"]) == ("dismissed", "乡镇已书面说明：系统迁移造成", "张三")
    # re-load the same files: unchanged, the mark holds
    load(folder, db)
    assert get_review(str(db), fid)["review_status"] == "dismissed"
    # a new version of the 2021 report that still has the problem: the mark holds
    r["sections"]["六"] = "更正版。"
    write_result_file(folder, "甲镇-2021-v2.rpt", r)
    load(folder, db)
    assert q(db, "SELECT count(*) FROM reports WHERE status = 'superseded'")[0][0] == 1
    rev = get_review(str(db), fid)
    assert rev["review_status"] == "dismissed" and rev["message"] == msg and rev["review_stale"] is False
    # dismissed findings do not count as open problems
    assert fid not in {r[0] for r in q(db, "SELECT finding_id FROM v_findings_open")}
    # a re-check (any later load) keeps it too
    corpus(tmp_path / "other", units=("乙镇",), years=(2021,))
    load(tmp_path / "other", db)
    assert get_review(str(db), fid)["review_status"] == "dismissed"
    # a version that fixes the problem makes the finding disappear; the mark is kept, not shown
    r["cells"]["s3.carried_over.natural"] -= 1
    write_result_file(folder, "甲镇-2021-v3.rpt", r)
    load(folder, db)
    assert get_review(str(db), fid) is None
    assert [m["finding_present"] for m in list_reviews(str(db)) if m["finding_id"] == fid] == [False]


def test_review_rejects_unknown_findings_and_statuses(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    load_parsed(db, [item_for(make_result(year=2020))])
    before = snapshot(db)
    with pytest.raises(FindingNotFound):
        set_review(str(db), "nope", "confirmed", "", "李四")
    with pytest.raises(ValueError, match="审核状态"):
        set_review(str(db), "nope", "maybe", "", "李四")
    assert snapshot(db) == before


def test_submission_status_matrix(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    items = [item_for(make_result(unit="甲镇", year=2020)),
             item_for(make_result(unit="甲镇", year=2022, published="2023-05-06")),
             item_for(make_result(unit="乙镇", year=2021, template="2019")),
             item_for(make_result(unit="乙镇", year=2022, published="2023-02-15")),
             item_for(make_result(unit="丙镇", year=2022, findings=[
                 {"rule": "S3-1", "severity": "error", "keys": ["s3.result_total.natural"], "expected": 1, "actual": 2,
                  "message": "表三 自然人列：第三项加第四项之和应为 1（第一项加第二项之和），报告为 2"}]))]
    load_parsed(db, items)
    m = {(u, y): s for u, y, s in q(db, "SELECT unit, year, status FROM v_submission_status")}
    assert len(m) == 9                                   # 3 units × 2020…2022
    assert m[("甲镇", 2020)] == "published"
    assert m[("甲镇", 2021)] == "missing"
    assert m[("甲镇", 2022)] == "late"
    assert m[("乙镇", 2021)] == "wrong_template"
    assert m[("乙镇", 2022)] == "published"            # after 1月31日 only: an info, not "late"
    assert m[("丙镇", 2022)] == "has_errors"
    missing = q(db, "SELECT unit, year FROM v_findings WHERE rule = 'MISSING' ORDER BY ALL")
    assert ("甲镇", 2021) in missing and ("乙镇", 2020) in missing


def test_data_tables_constant_matches_schema(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    load_parsed(db, [item_for(make_result(year=2020))])
    assert set(snapshot(db)) == set(DATA_TABLES)


def test_database_of_another_schema_version_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    load_parsed(db, [item_for(make_result(year=2020))])
    con = duckdb.connect(str(db))
    con.execute("UPDATE meta SET value = '0' WHERE name = 'schema_version'")
    con.close()
    before = db.read_bytes()
    code, _, err = load(tmp_path, db, tmp_path / "nothing-here")
    assert code != 0 and "数据库结构版本为 0" in err
    assert db.read_bytes() == before


def test_parse_pool_works_in_a_process_with_other_threads(tmp_path: Path) -> None:
    """The dashboard calls the loader from a threaded server: the pool must not fork it."""
    import threading

    from ingest.store.loader import load_files

    corpus(tmp_path / "in", units=("甲镇", "乙镇", "丙镇", "丁镇"), years=(2020, 2021, 2022))
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        s = load_files([str(tmp_path / "in")], tmp_path / "n.duckdb", progress=False, parser=json_parser, workers=2)
    finally:
        stop.set()
        t.join()
    assert s.counts()["loaded"] == 12


def test_a_malformed_parse_result_is_rejected_alone(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    good = make_result(unit="甲镇", year=2020)
    good["raw"]["s3.granted.total"] = int(good["cells"]["s3.granted.total"])   # not a string: stored as text
    bad = make_result(unit="乙镇", year=2020)
    bad["cells"] = [1, 2, 3]
    s = load_parsed(db, [item_for(bad, "/d/bad.txt"), item_for(good, "/d/good.txt")])
    assert [e.outcome for e in s.log] == ["rejected", "loaded"]
    assert s.log[0].reason.startswith("解析结果无法入库")
    assert q(db, "SELECT count(*) FROM reports") == [(1,)]
    assert q(db, "SELECT raw FROM cells WHERE key = 's3.granted.total'") == [(str(good["cells"]["s3.granted.total"]),)]
