"""The mapper on the real-world variants of spec §9/§12, built from the seed report's own text."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.parse import parse_file
from ingest.readers.text import read_text
from tests.reportkit import base_report, parse_report, rules_of


@pytest.fixture(scope="module")
def seed(samples_dir: Path) -> tuple[str, dict]:
    path = samples_dir / "quangang-2020.txt"
    return path.read_text(encoding="utf-8"), parse_file(path)


def _reparse(tmp_path: Path, text: str, name: str = "v.txt") -> dict:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return parse_file(p)


def _relayout(text: str, row_fmt) -> str:
    """Rewrite every table of the seed with ``row_fmt(cells) -> str``; paragraphs unchanged."""
    doc = read_text(text, "seed")
    out = []
    for b in doc.blocks:
        if b.kind == "text":
            out.append(b.text)
        else:
            for row in b.rows:
                out.append(row_fmt([c.text for c in row]))
    return "\n".join(out)


LAYOUTS = {
    "pipe rows": lambda cells: " | ".join(c.replace("\n", "") for c in cells),
    "pipe rows with edges": lambda cells: "| " + " | ".join(c.replace("\n", "") for c in cells) + " |",
    "one cell per line": lambda cells: "\n".join(c for c in cells if c),
    "pipe on its own line": lambda cells: "\n|\n".join(c.replace("\n", "") for c in cells) + "\n|",
    "cells run together": lambda cells: " ".join(c.replace("\n", "") for c in cells if c),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_text_layouts_give_the_seed_cells(seed, tmp_path: Path, layout: str) -> None:
    text, base = seed
    got = _reparse(tmp_path, _relayout(text, LAYOUTS[layout]))
    if layout in ("one cell per line", "cells run together"):
        # blank cells cannot survive these layouts; every printed number must
        expected = {k: v for k, v in base["cells"].items() if v is not None}
        assert {k: got["cells"].get(k) for k in expected} == expected
    else:
        assert got["cells"] == base["cells"]
    assert got["template"] == "2019" and got["unit"] == "泉港镇"


def test_half_width_brackets_and_enumerators(seed, tmp_path: Path) -> None:
    text, base = seed
    variant = text.replace("（", "(").replace("）", ")").replace("1、", "1．").replace("2、", "2. ")
    got = _reparse(tmp_path, variant)
    assert got["cells"] == base["cells"]
    d09 = [f["message"] for f in rules_of(got)["D09"]]
    assert len(d09) == 5, "bracket width and enumerator style are normalisation, not label variants"


def test_invisible_characters_and_cjk_spaces(seed, tmp_path: Path) -> None:
    text, base = seed
    variant = text.replace("本年新收", "本\u200b年 新收").replace("行政复议", "行政\ufeff复议")
    got = _reparse(tmp_path, variant)
    assert got["cells"] == base["cells"]


def test_traditional_chinese_mirror(seed, tmp_path: Path) -> None:
    from opencc_purepy import OpenCC

    text, base = seed
    got = _reparse(tmp_path, OpenCC("s2t").convert(text))
    assert got["cells"] == base["cells"]
    assert got["template"] == "2019" and got["year"] == 2020


@pytest.mark.parametrize(("raw", "value", "kind"), [
    ("/", None, "na_marker"), ("—", None, "zero_marker"), ("-", None, "zero_marker"), ("无", None, "zero_marker"),
    ("", None, "blank"), ("\u00a0", None, "blank"), ("０", 0, "number"), ("1,024", 1024, "number"),
])
def test_blank_markers_are_kept_distinct(tmp_path: Path, raw: str, value, kind: str) -> None:
    rep = base_report("2021", **{"s2.penalty.decisions": raw})
    got = parse_report(rep, tmp_path, "html")
    assert got["cells"]["s2.penalty.decisions"] == value
    assert got["kinds"]["s2.penalty.decisions"] == kind


@pytest.mark.parametrize(("raw", "value", "unit"), [
    ("251000元", 251000, "元"), ("25.6万元", 25.6, "万元"), ("70487 元", 70487, "元"), ("255933.8", 255933.8, None),
])
def test_units_inside_money_cells(tmp_path: Path, raw: str, value, unit) -> None:
    rep = base_report("2019", **{"s2.procurement.amount": raw})
    got = parse_report(rep, tmp_path, "docx")
    assert got["cells"]["s2.procurement.amount"] == value
    assert got["units"]["s2.procurement.amount"] == unit


@pytest.mark.parametrize("raw", ["-11", "+3", "－2"])
def test_signed_deltas(tmp_path: Path, raw: str) -> None:
    rep = base_report("2019", **{"s2.license.prev_items": "71", "s2.license.delta": raw})
    got = parse_report(rep, tmp_path, "pipe")
    assert got["cells"]["s2.license.delta"] == int(raw.replace("－", "-"))
    assert "S2A-1" not in rules_of(got)


def test_fourth_column_filled_is_s2a5(seed, tmp_path: Path) -> None:
    text, _ = seed
    variant = text.replace("\t555\n\t255933.8\n\t\n", "\t555\n\t255933.8\n\t12\n")
    got = _reparse(tmp_path, variant)
    s2a5 = rules_of(got)["S2A-5"]
    assert s2a5[0]["severity"] == "error" and "第四列应为空，报告为“12”" in s2a5[0]["message"]
    assert got["cells"]["s2.procurement.amount"] == 255933.8


def test_hubei_annotations_are_d13_not_d09(seed, tmp_path: Path) -> None:
    text, base = seed
    variant = text.replace("\t规范性文件\n", "\t规范性文件(指各行政机关印发的有正式文号的文件)\n")
    got = _reparse(tmp_path, variant)
    assert got["cells"] == base["cells"]
    r = rules_of(got)
    assert any("规范性文件(指各行政机关" in f["message"] for f in r["D13"])
    assert len(r["D09"]) == 5


def test_old_label_in_new_table_is_d10(tmp_path: Path) -> None:
    rep = base_report("2021")
    rep.labels["s2row:normative"] = "规范性文件"
    got = parse_report(rep, tmp_path, "pipe")
    r = rules_of(got)
    if "D10" not in r:
        pytest.fail(f"D10 expected; labels override may not be supported by the renderer: {sorted(r)}")
    assert r["D10"][0]["message"] == "表二 第二十条第（一）项 标签“规范性文件”与模板“行政规范性文件”不一致"


def test_extra_row_kept_not_mapped(seed, tmp_path: Path) -> None:
    text, base = seed
    variant = text.replace("\t规范性文件\n\t0\n\t0\n\t0\n", "\t规范性文件\n\t0\n\t0\n\t0\n\n\t其他主动公开文件\n\t4\n\t4\n\t9\n")
    got = _reparse(tmp_path, variant)
    assert got["cells"] == base["cells"]
    assert any(e["label"] == "其他主动公开文件" and e["values"] == ["4", "4", "9"] for e in got["extra"])
    assert any("其他主动公开文件" in f["message"] for f in rules_of(got)["D13"])


def test_subtotal_row_s3_5(seed, tmp_path: Path) -> None:
    text, _ = seed
    # a value printed on the group label （五）不予处理: 2 where its items sum to 1
    variant = text.replace("\t（五）\n不予\n处理\n", "\t（五）\n不予\n处理\n\t2\n\t0\n\t0\n\t0\n\t0\n\t0\n\t2\n")
    got = _reparse(tmp_path, variant)
    s35 = rules_of(got)["S3-5"]
    assert {f["expected"] for f in s35} == {1} and {f["actual"] for f in s35} == {2}


def test_total_spelled_heji(seed, tmp_path: Path) -> None:
    text, base = seed
    got = _reparse(tmp_path, text.replace("（七）总计", "（七）合计"))
    assert got["cells"] == base["cells"]


@pytest.mark.parametrize(("line", "extra", "table"), [
    # an F2021 row the template does not have, under （六）其他处理: its label is not recognised, so
    # its seven numbers follow 3.其他's own seven
    ("3.其他 |", "\n4.申请人撤回申请 | 1 | 0 | 0 | 0 | 0 | 0 | 1 |", "表三"),
    # a 表二 row printed with one number more than its columns
    ("行政许可 | 12 |", " 5 |", "表二"),
    # 表四 with a sixteenth number after its fifteen
    ("0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |", " 3 |", "表四"),
])
def test_numbers_beyond_the_template_columns_are_reported_not_dropped(tmp_path: Path, line: str, extra: str,
                                                                      table: str) -> None:
    from ingest.demo.layout import render

    text = render(base_report("2021", 2023), "pipe").decode("utf-8")
    row = next(x for x in text.splitlines() if x.startswith(line))
    path = tmp_path / "r.txt"
    path.write_text(text.replace(row, row + extra, 1), encoding="utf-8")
    result = parse_file(path)
    surplus = [e for e in result["extra"] if e["kind"] == "surplus"]
    assert surplus and surplus[0]["table"].startswith(table)
    (d13,) = rules_of(result)["D13"]
    assert d13["message"].startswith(table) and "多出数字" in d13["message"] and "请核对原件" in d13["message"]
    assert f"“{' '.join(surplus[0]['values'])}”" in d13["message"]
    assert extra.replace("|", " ").split()[-1] in surplus[0]["values"]


@pytest.mark.parametrize(("row", "fused", "want"), [
    ("行政许可 | 12 | ||", "行政许可12", {"s2.license.decisions": 12}),
    ("规章 | 0 | 0 | 0 |", "规章000", {"s2.regulation.issued": 0, "s2.regulation.repealed": 0, "s2.regulation.valid": 0}),
    ("规章 | 0 | 0 | 0 |", "规章102", {"s2.regulation.issued": 1, "s2.regulation.repealed": 0, "s2.regulation.valid": 2}),
])
def test_a_label_fused_with_its_numbers_is_read(tmp_path: Path, row: str, fused: str, want: dict) -> None:
    """Text copied from some PDFs: 规章000 after a fused header 信息内容本年制发件数本年废止件数现行有效件数."""
    from ingest.demo.layout import render

    text = render(base_report("2021", 2023), "pipe").decode("utf-8")
    assert row in text
    text = text.replace(row, fused, 1).replace("信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |",
                                               "信息内容本年制发件数本年废止件数现行有效件数", 1)
    path = tmp_path / "r.txt"
    path.write_text(text, encoding="utf-8")
    result = parse_file(path)
    assert {k: result["cells"].get(k) for k in want} == want
    assert "D13" not in rules_of(result)


def test_fused_numbers_that_cannot_be_split_are_reported_not_guessed(tmp_path: Path) -> None:
    from ingest.demo.layout import render

    text = render(base_report("2021", 2023), "pipe").decode("utf-8").replace("规章 | 0 | 0 | 0 |", "规章1203", 1)
    path = tmp_path / "r.txt"
    path.write_text(text, encoding="utf-8")
    result = parse_file(path)
    assert not any(k.startswith("s2.regulation.") for k in result["cells"])
    (d13,) = rules_of(result)["D13"]
    assert "“1203”" in d13["message"] and "规章" in d13["message"] and "请核对原件" in d13["message"]


@pytest.mark.parametrize(("caption", "damaged", "d09"), [
    ("第二十条第（一）项", "第二十一条第（一）项", True),     # a typo in the article number
    ("第二十条第（一）项", "第二十条第", False),              # the item number lost (cut short: not a variant)
    ("第二十条第（五）项", "第二十一条第（五）项", True),
])
def test_a_damaged_caption_does_not_lose_its_rows(tmp_path: Path, caption: str, damaged: str, d09: bool) -> None:
    """Before: with the first caption unreadable, 规章 and 规范性文件 were skipped without a word."""
    from ingest.demo.layout import render

    report = base_report("2021", 2023, s2__normative__issued="3", s2__normative__valid="9", s2__license__decisions="97")
    text = render(report, "pipe").decode("utf-8")
    assert caption in text
    path = tmp_path / "r.txt"
    path.write_text(text.replace(caption, damaged, 1), encoding="utf-8")
    result = parse_file(path)
    assert result["cells"]["s2.normative.issued"] == 3 and result["cells"]["s2.normative.valid"] == 9
    assert result["cells"]["s2.license.decisions"] == 97
    variants = [f for f in rules_of(result).get("D09", []) if damaged in f["message"]]
    assert bool(variants) == d09


@pytest.mark.parametrize(("printed", "typo", "keys"), [
    ("行政许可 |", "行政许和 |", ["s2.license.decisions"]),
    ("行政处罚 |", "行政处法 |", ["s2.penalty.decisions"]),
    ("行政规范性文件 |", "行政规范姓文件 |", ["s2.normative.issued", "s2.normative.valid"]),
    ("1.属于国家秘密", "1.属于国家秘蜜", ["s3.deny_state_secret.natural", "s3.deny_state_secret.total"]),
    ("一、本年新收政府信息公开申请数量", "一、本年新收政府信息公开申情数量", ["s3.new_received.total"]),
])
def test_a_label_typo_is_read_and_reported_as_a_variant(tmp_path: Path, printed: str, typo: str, keys: list) -> None:
    """Before: 行政许和 became an extra row (its number unused) and 国家秘蜜 lost its seven cells silently."""
    from ingest.demo.layout import render

    report = base_report("2021", 2023, s2__license__decisions="97", s2__penalty__decisions="7",
                         s2__normative__issued="3", s2__normative__valid="9",
                         s3__deny_state_secret__natural="1", s3__deny_state_secret__total="1",
                         s3__new_received__natural="4", s3__new_received__total="4",
                         s3__result_total__natural="4", s3__result_total__total="4")
    text = render(report, "pipe").decode("utf-8").replace("收到政府信息公开申请3件", "收到政府信息公开申请4件")
    want = parse_report(report, tmp_path, name="clean")["cells"]
    assert printed in text
    path = tmp_path / "typo.txt"
    path.write_text(text.replace(printed, typo, 1), encoding="utf-8")
    result = parse_file(path)
    assert {k: result["cells"].get(k) for k in keys} == {k: want[k] for k in keys}
    assert result["cells"] == want
    assert any(typo.split(" |")[0].split(".")[-1] in f["message"] for f in rules_of(result)["D09"])


def test_a_typo_never_turns_one_row_into_another() -> None:
    from ingest import fuzzy

    labels = [("license", "行政许可"), ("penalty", "行政处罚"), ("coercion", "行政强制")]
    assert fuzzy.closest("行政许和", labels) == "license"
    assert fuzzy.closest("行政处可", labels) is None        # one edit from 许可 and from 处罚: not told apart
    assert fuzzy.closest("行政", labels) is None            # too far from every label
    assert fuzzy.closest("123", labels) is None


@pytest.mark.parametrize("annotated", ["行政强制（不含行政处罚）", "行政强制（“行政处罚、行政强制”以外）"])
def test_a_note_naming_another_row_does_not_move_the_row(tmp_path: Path, annotated: str) -> None:
    """Before: 行政强制（不含行政处罚） was taken for 行政处罚 (first keyword hit) and its number was lost."""
    from ingest.demo.layout import render

    report = base_report("2021", 2023, s2__penalty__decisions="7", s2__coercion__decisions="5")
    text = render(report, "pipe").decode("utf-8")
    path = tmp_path / "r.txt"
    path.write_text(text.replace("行政强制 |", f"{annotated} |", 1), encoding="utf-8")
    result = parse_file(path)
    assert result["cells"]["s2.coercion.decisions"] == 5 and result["cells"]["s2.penalty.decisions"] == 7
    assert "D13" in rules_of(result)          # annotated label (spec §12.2), not a variant of 行政处罚


@pytest.mark.parametrize("fmt", ["pipe", "text"])
@pytest.mark.parametrize("furniture", ["— 3 —", "- 3 -", "第 2 页 共 4 页"])
def test_a_page_break_inside_table_three_changes_nothing(tmp_path: Path, fmt: str, furniture: str) -> None:
    """A page number and the repeated table header in the middle of 表三 (text copied page by page).
    Before: the header's 总计 became the 总计 row (blank), and "— 3 —" a surplus number."""
    from ingest.demo.layout import render

    text = render(base_report("2021", 2023), fmt).decode("utf-8")
    lines = text.splitlines()
    head = next(i for i, x in enumerate(lines) if "勾稽关系" in x)
    first = next(i for i, x in enumerate(lines) if "本年新收" in x and i > head)
    at = next(i for i, x in enumerate(lines) if "4.保护第三方合法权益" in x)
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    (tmp_path / "b.txt").write_text("\n".join([*lines[:at], furniture, *lines[head:first], *lines[at:]]),
                                    encoding="utf-8")
    want, got = parse_file(tmp_path / "a.txt"), parse_file(tmp_path / "b.txt")
    assert got["cells"] == want["cells"]
    assert got["findings"] == want["findings"]


def test_a_note_naming_another_row_of_table_three_does_not_move_the_row(tmp_path: Path) -> None:
    """Before: 5.属于三类内部事务信息（不含国家秘密） was taken for 1.属于国家秘密; its seven cells were lost."""
    from ingest.demo.layout import render

    report = base_report("2021", 2023, s3__deny_internal__natural="1", s3__deny_internal__total="1",
                         s3__new_received__natural="4", s3__new_received__total="4",
                         s3__result_total__natural="4", s3__result_total__total="4")
    text = render(report, "pipe").decode("utf-8").replace("收到政府信息公开申请3件", "收到政府信息公开申请4件")
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    (tmp_path / "b.txt").write_text(text.replace("5.属于三类内部事务信息", "5.属于三类内部事务信息（不含国家秘密）", 1),
                                    encoding="utf-8")
    want, got = parse_file(tmp_path / "a.txt"), parse_file(tmp_path / "b.txt")
    assert got["cells"] == want["cells"]
    assert "D13" in rules_of(got)


def _cut(text: str, keep: int, table_three: bool) -> str:
    """Every data row of 表三 (or the 表四 row) cut after ``keep`` numbers, as a too-narrow page does."""
    import re

    out, section = [], ""
    for line in text.split("\n"):
        if re.match(r"^[一二三四五六]、", line) and not line.startswith(("一、本年", "二、上年", "三、本年", "四、结转")):
            section = line[0]
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        numbers = [i for i, c in enumerate(cells) if re.fullmatch(r"\d+", c)]
        if ((table_three and section == "三" and len(numbers) == 7)
                or (not table_three and section == "四" and len(numbers) == 15)):
            line = " | ".join(cells[:numbers[keep]]) + " |"
        out.append(line)
    return "\n".join(out)


@pytest.mark.parametrize(("table_three", "keep", "said"), [
    (True, 5, "“其他（法人或其他组织）列”、“总计列”"),
    (True, 6, "“总计列”"),
    (False, 10, "行政诉讼 复议后起诉各列"),
])
def test_a_table_cut_at_the_page_edge_is_reported_not_read_in_part(tmp_path: Path, table_three: bool, keep: int,
                                                                  said: str) -> None:
    """Before: the first columns were read and the rest silently missing (no 总计, no finding)."""
    from ingest.demo.layout import render

    text = render(base_report("2021", 2023), "pipe").decode("utf-8")
    path = tmp_path / "r.txt"
    path.write_text(_cut(text, keep, table_three), encoding="utf-8")
    result = parse_file(path)
    sec = "s3" if table_three else "s4"
    assert not any(k.startswith(sec + ".") for k in result["cells"])
    (e1,) = rules_of(result)["E-1"]
    assert said in e1["message"] and ("表三" if table_three else "表四") in e1["message"]
    other = "s4" if table_three else "s3"
    assert any(k.startswith(other + ".") for k in result["cells"])      # the other table is read as usual
