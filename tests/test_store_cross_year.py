"""Cross-report rules (spec §8.4, §10.4, §9.4): each fires on the defect it names, and only then."""

from __future__ import annotations

from datetime import date

import pytest

from ingest.rules import cross_year as X
from tests.store_helpers import COLS, make_result


def yr(result: dict, report_id: str | None = None, unit_id: str = "丰城市/泉港镇") -> X.YearReport:
    pub = result.get("published")
    return X.YearReport(report_id or f"r{result['year']}", unit_id, result["unit"], result["year"],
                        result["template"], dict(result["cells"]), dict(result["kinds"]),
                        dict(result["sections"]), date.fromisoformat(pub) if pub else None,
                        f"/data/{result['unit']}-{result['year']}.txt")


def chain(y0: int, template: str | None = None, **kw) -> tuple[dict, dict]:
    """Two consecutive years whose carry-over matches (X-1 passes)."""
    a = make_result(year=y0, template=template)
    co = {c: a["cells"][f"s3.carry_forward.{c}"] for c in COLS}
    b = make_result(year=y0 + 1, template=template, carried_over=co, **kw)
    return a, b


def rules(findings: list[dict]) -> list[str]:
    return [f["rule"] for f in findings]


def test_consistent_years_raise_nothing() -> None:
    for y0, t in ((2019, "2019"), (2022, "2021")):
        a, b = chain(y0, t)
        if t == "2021":  # make the stock identity X-2 hold
            for row in ("regulation", "normative"):
                b["cells"][f"s2.{row}.valid"] = (a["cells"][f"s2.{row}.valid"] + b["cells"][f"s2.{row}.issued"]
                                                 - b["cells"][f"s2.{row}.repealed"])
        else:
            for row in ("license", "other_service", "penalty", "coercion", "fee"):
                b["cells"][f"s2.{row}.prev_items"] = a["cells"][f"s2.{row}.prev_items"] + a["cells"][f"s2.{row}.delta"]
            for row in ("regulation", "normative"):
                b["cells"][f"s2.{row}.total"] = a["cells"][f"s2.{row}.total"] + b["cells"][f"s2.{row}.published"]
        assert X.check_pair(yr(a), yr(b)) == []


def test_x1_per_column_with_exact_message() -> None:
    a, b = chain(2020)
    a["cells"]["s3.carry_forward.natural"] = 3
    b["cells"]["s3.carried_over.natural"] = 1
    found = [f for f in X.check_pair(yr(a), yr(b)) if f["rule"] == "X-1"]
    natural = [f for f in found if "s3.carried_over.natural@2021" in f["keys"]]
    assert len(natural) == 1
    f = natural[0]
    assert f["severity"] == "warning"
    assert f["keys"] == ["s3.carried_over.natural@2021", "s3.carry_forward.natural@2020"]
    assert (f["expected"], f["actual"]) == (3, 1)
    assert f["message"] == ("表三 第二项 上年结转政府信息公开申请数量 自然人列：应为 3"
                            "（2020年报告第四项结转下年度继续办理），报告为 1")
    assert "r2020" in f["evidence"] and "r2021" in f["evidence"]


def test_x1_blank_is_assumed_zero_but_blank_total_is_not_evaluated() -> None:
    a, b = chain(2020)
    a["cells"]["s3.carry_forward.commercial"] = 2
    b["cells"]["s3.carried_over.commercial"] = None
    b["kinds"]["s3.carried_over.commercial"] = "blank"
    a["cells"]["s3.carry_forward.total"] = 9
    b["cells"]["s3.carried_over.total"] = None
    b["kinds"]["s3.carried_over.total"] = "blank"
    found = {f["keys"][0]: f for f in X.check_pair(yr(a), yr(b)) if f["rule"] == "X-1"}
    f = found["s3.carried_over.commercial@2021"]
    assert f["actual"] == 0 and f["assumed_zero"] == ["s3.carried_over.commercial@2021"]
    assert "s3.carried_over.total@2021" not in found


def test_x1_absent_cells_not_evaluated_and_2019_not_checked() -> None:
    a, b = chain(2020)
    del b["cells"]["s3.carried_over.natural"], b["kinds"]["s3.carried_over.natural"]
    a["cells"]["s3.carry_forward.natural"] = 7
    assert not [f for f in X.check_pair(yr(a), yr(b)) if "s3.carried_over.natural@2021" in f["keys"]]
    c, d = chain(2018, "2019")
    d["cells"]["s3.carried_over.natural"] = c["cells"]["s3.carry_forward.natural"] + 5
    assert "X-1" not in rules(X.check_pair(yr(c), yr(d)))


def test_x2_stock_identity_f2021_only_from_2022() -> None:
    a, b = chain(2022, "2021")
    a["cells"]["s2.normative.valid"] = 30
    b["cells"].update({"s2.normative.issued": 4, "s2.normative.repealed": 1, "s2.normative.valid": 40,
                       "s2.regulation.valid": 0, "s2.regulation.issued": 0, "s2.regulation.repealed": 0})
    a["cells"]["s2.regulation.valid"] = 0
    found = [f for f in X.check_pair(yr(a), yr(b)) if f["rule"] == "X-2"]
    assert len(found) == 1
    assert found[0]["message"] == ("表二 第二十条第（一）项 行政规范性文件 现行有效件数：应为 33"
                                   "（2022年现行有效件数加本年制发件数减本年废止件数），报告为 40")
    # 2021 against a 2020 (F2019) report: different concept, never compared
    c, d = chain(2020)
    d["template"] = "2021"
    assert "X-2" not in rules(X.check_pair(yr(c), yr(d)))


def test_x3_and_x4_f2019() -> None:
    a, b = chain(2019, "2019")
    a["cells"].update({"s2.penalty.prev_items": 10, "s2.penalty.delta": -2, "s2.normative.total": 50})
    b["cells"].update({"s2.penalty.prev_items": 9, "s2.normative.published": 4, "s2.normative.total": 50})
    found = {f["rule"]: f for f in X.check_pair(yr(a), yr(b)) if "penalty" in f["keys"][0] or "normative" in f["keys"][0]}
    assert found["X-3"]["message"] == ("表二 第二十条第（六）项 行政处罚 上一年项目数量：应为 8"
                                       "（2019年上一年项目数量加本年增/减），报告为 9")
    assert found["X-3"]["severity"] == "warning"
    assert found["X-4"]["message"] == ("表二 第二十条第（一）项 规范性文件 对外公开总数量：约应为 54"
                                       "（2019年对外公开总数量加本年新公开数量），报告为 50")
    assert found["X-4"]["severity"] == "info"


def test_x6_copied_text_and_short_sections() -> None:
    a, b = chain(2021, "2021")
    b["sections"]["一"] = a["sections"]["一"].replace("2021年", "2022年")
    found = [f for f in X.check_pair(yr(a), yr(b)) if f["rule"] == "X-6"]
    assert len(found) == 1
    assert found[0]["message"].startswith("正文第一部分与2021年报告文字相似度 ")
    assert found[0]["message"].endswith("%，疑似内容雷同")
    assert 90 < found[0]["actual"] <= 100
    # different texts, or identical one-liners, are not flagged
    c, d = chain(2021, "2021")
    c["sections"]["五"] = d["sections"]["五"] = "无。"
    assert "X-6" not in rules(X.check_pair(yr(c), yr(d)))


def test_jaccard() -> None:
    assert X.jaccard("甲乙丙丁", "甲乙丙丁") == 1.0
    assert X.jaccard("甲乙丙丁", "戊己庚辛") == 0.0
    assert X.jaccard("", "甲乙丙") == 0.0


def test_x7_follow_up_of_last_years_problems() -> None:
    a, b = chain(2022, "2021")
    b["sections"]["五"] = "（一）存在的问题：公开内容不够丰富，解读形式单一。（二）改进措施：加强培训，丰富解读形式。"
    found = [f for f in X.check_pair(yr(a), yr(b)) if f["rule"] == "X-7"]
    assert [f["message"] for f in found] == ["正文第五部分未说明2022年报告所列问题的改进情况"]
    assert found[0]["severity"] == "info"
    b["sections"]["五"] = "针对2022年报告指出的公开内容不够丰富的问题，已增设栏目。今年仍存在解读形式单一的问题。"
    assert "X-7" not in rules(X.check_pair(yr(a), yr(b)))


@pytest.mark.parametrize(("year", "template", "msg"), [
    (2023, "2019", "报告年度 2023 应使用国办公开办函〔2021〕30号印发的年度报告格式，实际为2019年格式（出现“政府集中采购”）"),
    (2020, "2021", "报告年度 2020 应使用国办公开办函〔2019〕60号印发的年度报告格式，实际为2021年格式（出现“本年制发件数”）"),
    (2021, "legacy", "报告年度 2021 应使用国办公开办函〔2021〕30号印发的年度报告格式，实际为旧格式"),
])
def test_x5_template_year(year: int, template: str, msg: str) -> None:
    r = make_result(year=year, template=template if template != "legacy" else "2019")
    r["template"] = template
    if template == "legacy":
        r["cells"], r["kinds"] = {}, {}
    found = X.check_template(yr(r))
    assert [f["message"] for f in found] == [msg]
    assert found[0]["severity"] == "error"


def test_x5_passes_matching_unknown_and_pre_2019() -> None:
    assert X.check_template(yr(make_result(year=2020))) == []
    assert X.check_template(yr(make_result(year=2023))) == []
    r = make_result(year=2022)
    r["template"] = "unknown"
    assert X.check_template(yr(r)) == []
    assert X.check_template(yr(make_result(year=2018, template="2019"))) == []


@pytest.mark.parametrize(("published", "severity", "msg"), [
    ("2024-01-31", None, None),
    ("2024-02-01", "info", "发布日期 2024年2月1日 晚于 2024年1月31日"),
    ("2024-03-26", "info", "发布日期 2024年3月26日 晚于 2024年1月31日"),
    ("2024-03-31", "info", "发布日期 2024年3月31日 晚于 2024年1月31日"),
    ("2024-04-01", "warning", "发布日期 2024年4月1日 晚于 2024年3月31日"),
    (None, None, None),
])
def test_d07_deadline(published: str | None, severity: str | None, msg: str | None) -> None:
    found = X.check_deadline(yr(make_result(year=2023, published=published)))
    if severity is None:
        assert found == []
    else:
        assert [(f["rule"], f["severity"], f["message"]) for f in found] == [("D07", severity, msg)]


def test_missing_reports() -> None:
    found = X.missing_reports({"a": {2021, 2022}, "b": {2022}, "c": {2021}}, {"a": "甲镇", "b": "乙镇", "c": "丙镇"})
    assert [(u, y) for u, y, _ in found] == [("b", 2021), ("c", 2022)]
    assert found[0][2]["message"] == "乙镇 缺少 2021 年度报告（已有 2 个其他单位的 2021 年度报告）"
    assert found[0][2]["severity"] == "warning"


def test_version_conflict_names_differing_cells() -> None:
    a = make_result(year=2021)
    b = make_result(year=2021)
    assert X.version_conflict(yr(b, "new"), yr(a, "old")) == []
    b["cells"]["s3.granted.natural"] += 1
    b["cells"]["s4.review.total"] += 2
    found = X.version_conflict(yr(b, "new"), yr(a, "old"))
    assert len(found) == 1
    f = found[0]
    assert f["rule"] == "CONFLICT" and f["severity"] == "warning"
    assert f["keys"] == ["s3.granted.natural", "s4.review.total"]
    assert "表三 第（一）项予以公开 自然人列" in f["message"]
    assert "表四 行政复议 总计" in f["message"]


def test_cell_names_follow_spec_9_3() -> None:
    assert X.cell_name("s3.deny_state_secret.natural") == "表三 第（三）项不予公开 1.属于国家秘密 自然人列"
    assert X.cell_name("s3.other_other.other_org", "2021") == "表三 第（六）项其他处理 3.其他 其他（法人或其他组织）列"
    assert X.cell_name("s2.regulation.made", "2019") == "表二 第二十条第（一）项 规章 本年新制作数量"
    assert X.cell_name("s2.normative.valid", "2021") == "表二 第二十条第（一）项 行政规范性文件 现行有效件数"
    assert X.cell_name("s4.suit_direct.total") == "表四 行政诉讼 未经复议直接起诉 总计"
