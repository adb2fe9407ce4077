"""Each within-report rule of spec §8 fires on a report that breaks it, and only then."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reportkit import base_report, parse_report, rules_of, set_published


@pytest.mark.parametrize("template", ["2019", "2021"])
@pytest.mark.parametrize("fmt", ["text", "pipe", "html", "docx"])
def test_clean_report_has_no_findings(tmp_path: Path, template: str, fmt: str) -> None:
    got = parse_report(base_report(template), tmp_path, fmt)
    assert got["template"] == template
    noisy = [f for f in got["findings"] if f["rule"] not in ("S2A-6",)]
    assert noisy == [], [f["message"] for f in noisy]


# (template, cell overrides, rule expected, severity, message fragment)
CASES = [
    ("2021", {"s3.result_total.total": "4"}, "S3-1", "error", "表三 总计列：第三项加第四项之和应为 3（第一项加第二项之和），报告为 4"),
    ("2021", {"s3.granted.natural": "1"}, "S3-2", "error", "表三 第（七）项总计 自然人列：应为 2（各办理结果之和），报告为 3"),
    ("2021", {"s3.new_received.total": "5"}, "S3-3", "error", "表三 第一项 本年新收政府信息公开申请数量 总计列：应为 3"),
    ("2021", {"s3.partial.commercial": "-1"}, "S3-4", "error", "第（二）项部分公开 商业企业列：应为非负整数，报告为“-1”"),
    ("2021", {"s3.carry_forward.natural": "9", "s3.carry_forward.total": "9"}, "S3-6", "error", "第四项结转下年度继续办理 9"),
    ("2021", {"s3.new_received.natural": "20", "s3.new_received.total": "20", "s3.carry_forward.natural": "17",
              "s3.carry_forward.total": "17"}, "S3-7", "info", "结转下年度继续办理 17 件"),
    ("2021", {"s4.review.upheld": "1", "s4.review.total": "2"}, "S4-1", "error", "表四 行政复议 总计：应为 1"),
    ("2021", {"s4.suit_direct.pending": "2", "s4.suit_direct.total": "1"}, "S4-2", "error", "未经复议直接起诉 总计：应为 2"),
    ("2019", {"s4.suit_after_review.other": "1", "s4.suit_after_review.total": "0"}, "S4-3", "error", "复议后起诉 总计"),
    ("2021", {"s4.review.upheld": "1.5"}, "S4-4", "error", "表四 行政复议 结果维持：应为非负整数，报告为“1.5”"),
    ("2021", {"s4.suit_after_review.upheld": "1", "s4.suit_after_review.total": "1"}, "S4-6", "info", "大于 行政复议 总计 0"),
    ("2019", {"s2.normative.total": "1", "s2.normative.published": "3", "s2.normative.made": "3"}, "S2A-2", "warning",
     "对外公开总数量：应不小于本年新公开数量 3，报告为 1"),
    ("2019", {"s2.license.prev_items": "3", "s2.license.delta": "-5"}, "S2A-3", "error", "上一年项目数量加本年增/减应不小于 0，报告为 -2"),
    ("2019", {"s2.normative.made": "1", "s2.normative.published": "2", "s2.normative.total": "5"}, "S2A-4", "info",
     "本年新公开数量 2 大于本年新制作数量 1"),
    ("2019", {"s2.license.delta": "2.5"}, "S2A-1", "error", "应为整数"),
    ("2019", {"s2.procurement.amount": "255933.8"}, "S2A-6", "warning", "未注明单位（元或万元），报告为“255933.8”"),
    ("2021", {"s2.normative.issued": "5", "s2.normative.repealed": "1", "s2.normative.valid": "2"}, "S2B-2", "warning",
     "现行有效件数：应不小于本年制发件数减本年废止件数 4，报告为 2"),
    ("2021", {"s2.fee.amount": "25600元"}, "S2B-3", "warning", "报告为“25600元”，疑似按元填报"),
    ("2021", {"s2.fee.amount": "-3"}, "S2B-1", "error", "应为非负数"),
    ("2021", {"s2.regulation.valid": "6"}, "S2-T1", "warning", "规章 现行有效件数：乡镇（街道）无规章制定权，应为 0，报告为 6"),
    ("2019", {"s2.procurement.projects": "555"}, "S2-T2", "info", "报告为 555，对乡镇而言明显偏大"),
]


@pytest.mark.parametrize(("template", "cells", "rule", "severity", "fragment"), CASES,
                         ids=[c[2] for c in CASES])
def test_rule_fires(tmp_path: Path, template: str, cells: dict, rule: str, severity: str, fragment: str) -> None:
    rep = base_report(template)
    rep.cells.update(cells)
    got = rules_of(parse_report(rep, tmp_path))
    assert rule in got, f"{rule} 未触发；实际：{sorted(got)}"
    assert any(f["severity"] == severity and fragment in f["message"] for f in got[rule]), \
        [f["message"] for f in got[rule]]


def test_s4_5_review_without_applications(tmp_path: Path) -> None:
    rep = base_report("2021")
    for k in list(rep.cells):
        if k.startswith("s3."):
            rep.cells[k] = "0"
    rep.cells.update({"s4.review.upheld": "1", "s4.review.total": "1"})
    rep.sections["一"] = "2023年，栖云镇未收到政府信息公开申请，发生行政复议1件。"
    got = rules_of(parse_report(rep, tmp_path))
    assert "S4-5" in got and got["S4-5"][0]["severity"] == "info"


def test_blank_total_is_not_evaluated_against_zero(tmp_path: Path) -> None:
    """Spec §7: a blank printed total → the identity is not evaluated; D11 says so."""
    rep = base_report("2019")
    rep.cells["s3.granted.total"] = ""
    got = rules_of(parse_report(rep, tmp_path))
    assert "S3-3" not in got
    assert got["D11"][0]["message"] == "表三 第（一）项予以公开 总计列：空白，无法核对"


def test_markers_are_assumed_zero_and_recorded(tmp_path: Path) -> None:
    rep = base_report("2021")
    rep.cells["s3.partial.natural"] = "/"
    rep.cells["s3.granted.natural"] = "3"          # breaks S3-2 for 自然人列 with a '/' in the sum
    got = parse_report(rep, tmp_path)
    assert got["cells"]["s3.partial.natural"] is None and got["kinds"]["s3.partial.natural"] == "na_marker"
    s32 = rules_of(got)["S3-2"][0]
    assert "s3.partial.natural" in s32["assumed_zero"]


def test_narrative_mismatch_n1_and_agreement(tmp_path: Path) -> None:
    rep = base_report("2021")
    rep.sections["一"] = "2023年，栖云镇共收到政府信息公开申请5件，全市备案行政复议案件134件。"
    got = rules_of(parse_report(rep, tmp_path))
    assert got["N-1"][0]["expected"] == 3 and got["N-1"][0]["actual"] == 5
    assert "N-5" not in got, "备案 figures are another scope (spec §8.5)"


def test_narrative_combined_granted_and_partial(tmp_path: Path) -> None:
    rep = base_report("2021", **{"s3.partial.natural": "1", "s3.partial.total": "1", "s3.granted.natural": "1",
                                 "s3.granted.total": "1"})
    rep.sections["一"] = "2023年，栖云镇收到政府信息公开申请3件，其中予以公开及部分公开2件，无法提供1件。"
    got = rules_of(parse_report(rep, tmp_path))
    assert "N-3" not in got


def test_n5_zero_statement(tmp_path: Path) -> None:
    rep = base_report("2021", **{"s4.review.upheld": "1", "s4.review.total": "1"})
    rep.sections["四"] = "本年度未发生政府信息公开行政复议、行政诉讼案件。"
    got = rules_of(parse_report(rep, tmp_path))
    assert got["N-5"][0]["expected"] == 1 and got["N-5"][0]["actual"] == 0


def test_template_must_match_year(tmp_path: Path) -> None:
    got = rules_of(parse_report(base_report("2019", year=2022), tmp_path))
    x5 = got["X-5"][0]
    assert x5["severity"] == "error"
    assert x5["message"].startswith("报告年度 2022 应使用国办公开办函〔2021〕30号印发的年度报告格式，实际为2019年格式")


def test_meta_rules(tmp_path: Path) -> None:
    rep = base_report("2021")
    set_published(rep, "2025-05-10")
    rep.sections["六"] = "无。"
    got = rules_of(parse_report(rep, tmp_path))
    assert got["N-9"][0]["message"] == "发布日期 2025-05-10 不在 2024 年"
    assert "N-10" in got


def test_missing_tables_and_sections(tmp_path: Path) -> None:
    rep = base_report("2021")
    rep.omit_tables = ("三",)
    rep.omit_sections = ("五",)
    got = parse_report(rep, tmp_path)
    r = rules_of(got)
    assert any(f["message"] == "三、收到和处理政府信息公开申请情况有标题但无统计表" for f in r["D03"])
    assert any(f["message"] == "缺少“五、存在的主要问题及改进情况”部分" for f in r["D16"])
    assert not any(k.startswith("s3.") for k in got["cells"]), "缺失的表不输出键（不是 0）"


def test_blank_total_column_uses_computed_sums_downstream(tmp_path: Path) -> None:
    rep = base_report("2021")
    for k in list(rep.cells):
        if k.startswith("s3.") and k.endswith(".total"):
            rep.cells[k] = ""
    got = rules_of(parse_report(rep, tmp_path, "html"))
    assert set(got) == {"D11"}, "no identity or narrative finding from blank totals read as 0"
    assert len(got["D11"]) == 4            # the four rows with non-zero components


def test_heading_typo_is_d09(tmp_path: Path) -> None:
    rep = base_report("2021")
    rep.headings["二"] = "二、主动公开政府政府情况"
    got = rules_of(parse_report(rep, tmp_path))
    assert any(f["message"] == "章节标题 标签“二、主动公开政府政府情况”与模板“二、主动公开政府信息情况”不一致"
               for f in got["D09"])


def test_pipe_per_line_keeps_sections_after_tables(tmp_path: Path) -> None:
    rep = base_report("2021")
    rep.style["pipe_per_line"] = True
    got = parse_report(rep, tmp_path, "pipe")
    assert got["sections"]["五"].startswith("工作人员业务水平有待提高")
    assert "信息处理费" in got["sections"]["六"]
    assert len(got["cells"]) == 200 and not got["findings"]
