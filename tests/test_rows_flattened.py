"""Tables flattened to one row per line, as real pages print them after copy-paste (issue: read every real
report right, item 2): single-value rows, long 表三 rows, value cells with a note, label typos, page
furniture between rows.  Each document is a demo report rendered as text, then rewritten the way real
reports vary; the cells must equal the clean rendering's."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.demo.layout import render
from ingest.parse import parse_file
from tests.reportkit import base_report


def _flatten(text: str) -> str:
    """The demo's one-cell-per-line text (cells indented by a tab, rows split by blank lines) → one
    line per table row, cells separated by single spaces."""
    out: list[str] = []
    row: list[str] = []
    for line in text.split("\n"):
        if line.startswith("\t"):
            if line.strip():
                row.append(line.strip())
            continue
        if row:
            out.append(" ".join(row))
            row = []
        if line.strip():
            out.append(line)
    if row:
        out.append(" ".join(row))
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    report = base_report("2021", s2__license__decisions="97", s2__penalty__decisions="7",
                         s2__regulation__valid="5")
    tmp = tmp_path_factory.mktemp("flat")
    cells = parse_file(_write(tmp, "clean", render(report, "text").decode("utf-8")))["cells"]
    return _flatten(render(report, "text").decode("utf-8")), cells


def _write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / f"{name}.txt"
    path.write_text(text, encoding="utf-8")
    return path


def _cells(tmp: Path, text: str) -> dict:
    return parse_file(_write(tmp, "variant", text))


def test_rows_on_one_line_read_every_cell(tmp_path: Path, clean: tuple[str, dict]) -> None:
    """Includes single-value rows (``行政许可 97``) and the long 表三 row ``（六）其他处理 1.申请人无正当理由逾期
    不补正、行政机关不再处理其政府信息公开申请 0 0 0 0 0 0 0`` (a label of over 40 characters)."""
    text, cells = clean
    assert "行政许可 97" in text and "行政处罚 7" in text
    assert any(len(line) - len(" 0 0 0 0 0 0 0") > 40 and line.endswith(" 0 0 0 0 0 0 0")
               for line in text.splitlines())
    assert _cells(tmp_path, text)["cells"] == cells


def test_tab_separated_single_value_row(tmp_path: Path, clean: tuple[str, dict]) -> None:
    text, cells = clean
    got = _cells(tmp_path, text.replace("行政处罚 7", "行政处罚\t7"))["cells"]
    assert got["s2.penalty.decisions"] == 7
    assert got == cells


def test_value_cell_with_a_note(tmp_path: Path, clean: tuple[str, dict]) -> None:
    text, cells = clean
    assert "规章 0 0 5\n" in text
    got = _cells(tmp_path, text.replace("规章 0 0 5\n", "规章 0 0 5（含自然失效2件）\n"))
    assert got["cells"] == cells
    assert got["raw"]["s2.regulation.valid"] == "5（含自然失效2件）"


def test_label_typo_上年转结_maps_with_a_D09(tmp_path: Path, clean: tuple[str, dict]) -> None:
    text, cells = clean
    got = _cells(tmp_path, text.replace("上年结转", "上年转结"))
    assert got["cells"] == cells
    assert any(f["rule"] == "D09" and "上年转结" in f["message"] for f in got["findings"])


@pytest.mark.parametrize("furniture", ["— 5 —", "- 4 -", "第 3 页 共 6 页"])
def test_page_furniture_between_rows_is_not_a_value(tmp_path: Path, clean: tuple[str, dict],
                                                    furniture: str) -> None:
    text, cells = clean
    i = text.index("（二）部分公开")
    got = _cells(tmp_path, text[:i] + furniture + "\n" + text[i:])
    assert got["cells"] == cells


def test_a_sentence_ending_in_a_number_is_not_split(tmp_path: Path) -> None:
    """The single-value rule is for short labels of words only: narrative keeps its sentences."""
    from ingest.tokens import split_run_together

    assert split_run_together("行政许可 97", True) == ("行政许可", "97")
    assert split_run_together("全年共收到申请，其中网上申请 3", False) is None
    assert split_run_together("2023年1月 3", False) is None


@pytest.mark.parametrize(("header", "unit"), [("采购总金额（万元）", "万元"), ("采购总金额（单位：元）", "元")])
def test_a_unit_printed_in_the_header_is_the_unit_of_the_cells(tmp_path: Path, header: str, unit: str) -> None:
    """F2019 表二 第（九）项 with the unit in its column header: the bare amount below has that unit (no S2A-6)."""
    report = base_report("2019", s2__procurement__amount="12.5")
    text = render(report, "text").decode("utf-8")
    assert "\t采购总金额\n" in text
    got = _cells(tmp_path, text.replace("\t采购总金额\n", f"\t{header}\n"))
    assert got["cells"]["s2.procurement.amount"] == 12.5
    assert got["units"]["s2.procurement.amount"] == unit
    assert not [f for f in got["findings"] if f["rule"] == "S2A-6"]
    bare = _cells(tmp_path, text)          # without the header unit the amount's unit is unknown
    assert bare["units"]["s2.procurement.amount"] is None
    assert [f for f in bare["findings"] if f["rule"] == "S2A-6"]


@pytest.mark.parametrize(("old", "new"), [
    ("第二十条第（五）项", "第二十一条第（五）项"),     # caption typo: 第二十一条 for 第二十条
    ("第二十条第（六）项", "第二十条第"),               # caption cut short: the item number lost
    ("现行有效件数", "现行有效件"),                     # header cells cut short by the page
    ("本年处理决定数量", "本年处理决"),
])
def test_damaged_captions_and_headers(tmp_path: Path, old: str, new: str) -> None:
    report = base_report("2021", s2__license__decisions="97", s2__penalty__decisions="7")
    text = _flatten(render(report, "text").decode("utf-8"))
    want = _cells(tmp_path, text)["cells"]
    assert old in text
    got = _cells(tmp_path, text.replace(old, new, 1))
    assert got["cells"] == want
    assert not got.get("extra_cells")


def test_a_table_of_labels_without_numbers_is_unread_not_zero(tmp_path: Path) -> None:
    """表三 printed with every label but no figure (its numbers were an image): its keys are absent, a
    finding says it was not read, and no rule compares the narrative against zeros."""
    report = base_report("2021")
    text = render(report, "text").decode("utf-8")
    head, rest = text.split("三、收到和处理政府信息公开申请情况", 1)
    s3, tail = rest.split("四、政府信息公开行政复议", 1)
    s3 = "\n".join("\t" if line.startswith("\t") and line.strip().isdigit() else line for line in s3.split("\n"))
    got = _cells(tmp_path, head + "三、收到和处理政府信息公开申请情况" + s3 + "四、政府信息公开行政复议" + tail)
    assert not [k for k in got["cells"] if k.startswith("s3.")]
    assert [k for k in got["cells"] if k.startswith("s2.")]          # the other tables are read
    rules = [f["rule"] for f in got["findings"]]
    assert "E-1" in rules and "D03" not in rules
    assert not [f for f in got["findings"] if f["rule"].startswith(("N-1", "N-3", "S3-"))]
    assert any("表三" in f["message"] and "没有读到任何数字" in f["message"] for f in got["findings"])


@pytest.mark.parametrize(("old", "new"), [
    ("行政许可 5", "行 政 许 可 5"),                                  # spaces inside the label
    ("行政许可 5", "“行政许可”（指本机关实施的） 5"),                   # quotation marks and an instruction
    ("行政处罚 ", "行政处罚（行政处罚、行政强制分别填写） "),           # another row's words in the note
])
def test_annotated_labels_map_to_their_row(tmp_path: Path, old: str, new: str) -> None:
    """Regression guard: labels some provinces annotate (spec §12.2) map after the annotation is set aside."""
    report = base_report("2019", s2__license__prev_items="5", s2__license__delta="1",
                         s2__license__decisions="97", s2__penalty__decisions="7")
    text = _flatten(render(report, "text").decode("utf-8"))
    assert old in text
    want = _cells(tmp_path, text)["cells"]
    assert _cells(tmp_path, text.replace(old, new, 1))["cells"] == want
