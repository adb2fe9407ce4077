"""Unit, level, region, year and template from the ways real report beginnings name them (issue: read
every real report right, item 4).  Each document is a small invented beginning that reproduces one kind
of layout seen in published reports; the names are made up."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.parse import parse_file

_BODY = ("一、总体情况\n{y}年，我单位认真贯彻落实《中华人民共和国政府信息公开条例》，"
         "全年主动公开政府信息56条。\n二、主动公开政府信息情况\n")


def _parse(tmp_path: Path, head: str, year: int = 2024, body: str | None = None) -> dict:
    path = tmp_path / "r.txt"
    path.write_text(head + "\n" + (body if body is not None else _BODY.format(y=year)), encoding="utf-8")
    return parse_file(path)


CASES = [
    # title wrapped over two lines: the issuer alone above "YYYY年度…年度报告"
    ("wrapped-title-department", "示例市云岭区农业农村局\n2023年度政府信息公开工作年度报告",
     "示例市云岭区农业农村局", "其他", 2023),
    ("wrapped-title-township", "云岭区栖霞镇人民政府\n2024年政府信息公开工作年度报告", "栖霞镇", "镇", 2024),
    # title running straight into the first sentence, no line break
    ("title-runs-into-sentence",
     "栖云街道2024年政府信息公开工作年度报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）编制。"
     "本报告中所列数据的统计期自2024年1月1日至2024年12月31日止。", "栖云街道", "街道", 2024),
    # the unit named only inside a sentence
    ("现将…工作报告如下", "根据《条例》规定，现将示例县白沙乡2024年度政府信息公开工作报告如下：",
     "白沙乡", "乡", 2024),
    # a title without the unit above the sentence that names it ("政府" of the title is no issuer)
    ("bare-title-then-现将", "2024年政府信息公开工作年度报告\n现将示例市云岭区栖云镇2024年度政府信息公开工作报告如下",
     "栖云镇", "镇", 2024),
    ("现发布《…》", "本报告中所列数据的统计期限自2025年1月1日起至2025年12月31日止。"
     "现发布《示例市云岭区芦溪镇2025年政府信息公开工作年度报告》。", "芦溪镇", "镇", 2025),
    ("请与…综合办公室联系", "本报告中所列数据的统计期限从2024年1月1日起至2024年12月31日止。如有任何疑问，"
     "请与示例市云岭区南门街道综合办公室联系（电话：0000-1234567）。", "南门街道", "街道", 2024),
    # joint issuer in the title, and a 街道-level 办事处 named without 街道
    ("joint-issuer-办事处", "城西办事处、城西园区2024年政府信息公开工作年度报告\n"
     "根据《条例》规定，现公布示例市城西办事处（城西园区）2024年政府信息公开工作年度报告。",
     "城西办事处", "街道", 2024),
    # the title uses a short name that the text defines: 由X（以下简称Y）编制
    ("以下简称", "自治区示例办2022年政府信息公开工作年度报告\n本年度报告根据《条例》要求，"
     "由示例自治区示例经济区规划建设管理办公室（以下简称自治区示例办）编制。",
     "示例自治区示例经济区规划建设管理办公室", "其他", 2022),
    # the district government named in front of the township: "…区人民政府沿江街道办事处"
    ("district-government-prefix", "示例市云岭区人民政府沿江街道办事处2025年政府信息公开工作年度报告",
     "沿江街道", "街道", 2025),
    # named only as the subject of a sentence
    ("subject-township", "2022年在区委区政府的正确领导下，认真做好政府信息公开工作。现将2022年度"
     "政府信息公开工作情况汇报如下：\n长湾镇坚持以人民为中心，全面落实政务公开。", "长湾镇", "镇", 2022),
    ("subject-department", "", "示例市农业农村局", "其他", 2022),
]


@pytest.mark.parametrize(("head", "unit", "level", "year"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_issuer_variants(tmp_path: Path, head: str, unit: str, level: str, year: int) -> None:
    body = None
    if not head:   # the department case: no title at all, the body starts at 一、总体情况
        body = ("一、总体情况\n（一）主动公开情况。2022年，示例市农业农村局在市政府信息公开网上主动公开信息"
                "513条，其中涉农补贴信息26条。\n")
    got = _parse(tmp_path, head, year, body)
    assert (got["unit"], got["unit_level"], got["year"]) == (unit, level, year)


@pytest.mark.parametrize("head", [
    # "调整成立以镇党委书记为组长": a sentence, not a township called 调整成立以镇
    "本报告中所列数据的统计期限自2022年1月1日起至2022年12月31日止。\n（五）监督保障情况。"
    "调整成立以镇党委书记为组长、分管领导为副组长的工作领导小组。",
    # "本年度街道收到…": 年度街道 is no unit
    "本报告中所列数据的统计期限自2024年1月1日起至2024年12月31日止。\n3.依申请公开情况。"
    "本年度街道收到依申请公开申请0件。",
])
def test_no_fragment_is_returned_as_the_unit(tmp_path: Path, head: str) -> None:
    got = _parse(tmp_path, head, body="")
    assert got["unit"] is None


def test_region_drops_the_verb_before_it(tmp_path: Path) -> None:
    head = ("示例镇2022年政府信息公开工作年度报告\n如对本报告有疑问，可与云岭区示例镇人民政府联系。"
            "现公布云岭区示例镇2022年政府信息公开工作年度报告。")
    got = _parse(tmp_path, head, 2022)
    assert (got["unit"], got["region"]) == ("示例镇", "云岭区")


def test_pinyin_notes_from_a_traditional_converter_are_ignored(tmp_path: Path) -> None:
    head = ("一、總體情況 根據(jù)《中華人民共和國(guó)政府信息公開條例》的文件精神，特向社會(huì)公布2020年"
            "示例市農(nóng)業(yè)農(nóng)村局政府信息公開工作年度報(bào)告。本報(bào)告中所列數(shù)據(jù)的統(tǒng)計期限自2020年1月1日起"
            "至2020年12月31日止。如對(duì)本報(bào)告有任何疑問，請(qǐng)與示例市農(nóng)業(yè)農(nóng)村局辦公室聯(lián)系。")
    got = _parse(tmp_path, head, body="")
    assert (got["unit"], got["unit_level"], got["year"]) == ("示例市农业农村局", "其他", 2020)


@pytest.mark.parametrize(("cite", "template"), [
    ("按照《中华人民共和国政府信息公开工作年度报告格式》有关要求", "2021"),
    ("按照《中华人民共和国政府信息公开工作年度报告格式（试行）》有关要求", "2019"),
    ("按照《关于政府信息公开工作年度报告有关事项的通知》要求", "unknown"),   # names no template
])
def test_template_from_the_cited_document_title(tmp_path: Path, cite: str, template: str) -> None:
    head = f"示例镇2022年政府信息公开工作年度报告\n本报告{cite}编制。"
    assert _parse(tmp_path, head, 2022)["template"] == template


def test_old_outline_headings_do_not_make_a_legacy_template(tmp_path: Path) -> None:
    """A 2020 report that keeps the pre-2019 outline (收费及减免情况) in its narrative, tables absent."""
    head = "示例镇人民政府2020年政府信息公开工作年度报告"
    body = ("一、总体情况\n（一）主动公开\n2020年主动公开信息20条。\n（二）依申请公开政府信息情况\n"
            "全年未收到申请。\n（三）政府信息公开的收费及减免情况\n未收取费用。\n")
    assert _parse(tmp_path, head, 2020, body)["template"] == "unknown"


@pytest.mark.parametrize("title", [
    "图解：示例镇2024年政府信息公开工作年度报告",
    "《示例镇2024年政府信息公开工作年度报告》政策解读",
    "一图读懂示例镇2024年度政府信息公开工作年度报告",
])
def test_an_explainer_is_refused_as_not_a_report(tmp_path: Path, title: str) -> None:
    from ingest.errors import RejectedFile

    with pytest.raises(RejectedFile) as e:
        _parse(tmp_path, title, 2024)
    assert e.value.reason.startswith("不是年度报告") and "解读材料" in e.value.reason


def test_a_report_page_with_a_解读_link_in_its_chrome_is_read(tmp_path: Path) -> None:
    got = _parse(tmp_path, "首页\n政策解读\n示例镇2024年政府信息公开工作年度报告", 2024)
    assert got["unit"] == "示例镇"
