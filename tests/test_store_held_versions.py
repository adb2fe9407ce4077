"""A new file that reads clearly worse than the current version does not silently replace it.

Issue 18 item 2: a re-downloaded PDF whose tables are pictures (0 cells) used to become current
and every figure of that township-year vanished.  Now it is stored as ``held``; the current
version, its figures and its findings stay; the load summary says what happened and why; and
only an explicit choice (``--accept-worse`` or :func:`adopt_held`) makes it current.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.store.adopt import NotHeld, adopt_held
from ingest.store.versions import worse_reading
from tests.store_helpers import make_result, write_result_file
from tests.test_store_load import load, q

UNIT_YEAR = "SELECT r.status, r.file_name FROM reports r JOIN units u USING (unit_id)" \
            " WHERE u.name = '乙镇' AND r.year = 2021 ORDER BY r.load_seq"


def _start(tmp_path: Path) -> tuple[Path, Path, dict]:
    db, folder = tmp_path / "n.duckdb", tmp_path / "in"
    folder.mkdir()
    good = make_result(unit="乙镇", year=2021, seed=3)
    write_result_file(folder, "乙镇-2021.rpt", good)
    assert load(folder, db)[0] == 0
    return db, folder, good


def _without(result: dict, prefixes: tuple[str, ...]) -> dict:
    r = json.loads(json.dumps(result))
    r["cells"] = {k: v for k, v in r["cells"].items() if not k.startswith(prefixes)}
    r["kinds"] = {k: v for k, v in (r.get("kinds") or {}).items() if not k.startswith(prefixes)}
    r["narrative"] = {**(r.get("narrative") or {}), "note": "重新下载"}   # other bytes, same unit and year
    return r


@pytest.mark.parametrize("lost, why", [
    (("s2.", "s3.", "s4."), "没有读出任何表格数字"),
    (("s3.",), "缺少现行版本已有的表三"),
])
def test_a_worse_reading_is_held_and_the_current_figures_stay(tmp_path: Path, lost, why) -> None:
    db, folder, good = _start(tmp_path)
    granted = q(db, "SELECT granted FROM v_report_measures WHERE unit = '乙镇'")[0][0]
    write_result_file(folder, "乙镇-2021-重新下载.rpt", _without(good, lost))
    code, out, _ = load(folder, db)
    assert code == 0
    assert "暂未采用 1 个" in out and why in out and "乙镇-2021-重新下载.rpt" in out
    assert q(db, UNIT_YEAR) == [("current", "乙镇-2021.rpt"), ("held", "乙镇-2021-重新下载.rpt")]
    assert q(db, "SELECT granted FROM v_report_measures WHERE unit = '乙镇'") == [(granted,)]
    assert q(db, "SELECT count(*) FROM findings WHERE rule = 'CONFLICT'") == [(0,)]
    outcome, reason = q(db, "SELECT outcome, reason FROM ingest_log WHERE file_name = '乙镇-2021-重新下载.rpt'")[0]
    assert outcome == "held" and "现行版本仍为“乙镇-2021.rpt”" in reason and "采用此版本" in reason
    # loading again changes nothing: the held file is known
    assert load(folder, db)[0] == 0
    assert q(db, UNIT_YEAR)[-1] == ("held", "乙镇-2021-重新下载.rpt")


def test_a_genuine_correction_still_becomes_current(tmp_path: Path) -> None:
    db, folder, good = _start(tmp_path)
    fixed = json.loads(json.dumps(good))
    fixed["cells"]["s3.granted.natural"] += 1
    fixed["cells"]["s3.granted.total"] += 1
    write_result_file(folder, "乙镇-2021-更正.rpt", fixed)
    code, out, _ = load(folder, db)
    assert code == 0 and "暂未采用" not in out
    assert q(db, UNIT_YEAR) == [("superseded", "乙镇-2021.rpt"), ("current", "乙镇-2021-更正.rpt")]


def test_accept_worse_on_the_command_makes_a_held_file_current(tmp_path: Path) -> None:
    db, folder, good = _start(tmp_path)
    write_result_file(folder, "乙镇-2021-图片版.rpt", _without(good, ("s2.", "s3.", "s4.")))
    load(folder, db)
    assert q(db, UNIT_YEAR)[-1][0] == "held"
    code, out, _ = load(folder, db, accept_worse=True)
    assert code == 0 and "1 份是已有报告的新版本" in out
    assert q(db, UNIT_YEAR) == [("superseded", "乙镇-2021.rpt"), ("current", "乙镇-2021-图片版.rpt")]


def test_an_admin_adopts_a_held_version_and_it_is_recorded(tmp_path: Path) -> None:
    db, folder, good = _start(tmp_path)
    write_result_file(folder, "乙镇-2021-图片版.rpt", _without(good, ("s3.",)))
    load(folder, db)
    rid = q(db, "SELECT report_id FROM reports WHERE status = 'held'")[0][0]
    assert adopt_held(db, rid, "张三") == "current"
    assert q(db, UNIT_YEAR) == [("superseded", "乙镇-2021.rpt"), ("current", "乙镇-2021-图片版.rpt")]
    assert q(db, "SELECT count(*) FROM findings WHERE rule = 'CONFLICT'") == [(1,)]
    assert "张三" in q(db, "SELECT reason FROM ingest_log WHERE report_id = ? ORDER BY run_id DESC", [rid])[0][0]
    with pytest.raises(NotHeld, match="不是待确认的版本"):
        adopt_held(db, rid, "张三")


def test_worse_reading_rules() -> None:
    full = {f"s{s}.r{i}.c": (1.0, "number", None) for s in (2, 3, 4) for i in range(10)}
    assert worse_reading(full, full) is None
    assert worse_reading({}, {}) is None                              # nothing to lose
    assert "没有读出任何表格数字" in worse_reading(full, {})
    assert "缺少现行版本已有的表四" in worse_reading(full, {k: v for k, v in full.items() if not k.startswith("s4")})
    half = dict(list(full.items())[:6] + list(full.items())[10:14] + list(full.items())[20:24])   # 14 of 30
    assert "明显少于" in worse_reading(full, half)
    blanks = {k: (None, "blank", None) for k in full}
    assert "没有读出任何表格数字" in worse_reading(full, blanks)          # blank cells are not readings
