"""Reports pasted as Markdown (issue: read every real report right, item 3): ``##`` headings, ``**bold**``
subsection titles, ``| a | b |`` rows with a ``|---|`` line under each table's first row, and one table per
row group.  The document is a demo report in its pipe layout rewritten as Markdown; it must read as the
pipe layout does."""

from __future__ import annotations

import re
from pathlib import Path

from ingest.demo.layout import render
from ingest.parse import parse_file
from tests.reportkit import base_report

_SECTION = re.compile(r"^[一二三四五六]、")


def _markdown(pipe_text: str) -> str:
    out: list[str] = []
    in_table = False
    section = ""
    for line in pipe_text.split("\n"):
        if " | " in line or line.rstrip().endswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            row = "| " + " | ".join(cells) + " |"
            # 表四 as three small tables: a new table (and its |---| line) at each group
            new_group = section == "四" and cells[0].startswith(("行政复议", "未经复议", "复议后"))
            if in_table and new_group:
                out.append("")
            out.append(row)
            if not in_table or new_group:
                out.append("|" + " --- |" * len(cells))
            in_table = True
            continue
        in_table = False
        if _SECTION.match(line) and not line.startswith(("一、本年", "二、上年", "三、本年", "四、结转")):
            section = line[0]
            out.append("## " + line)
        elif re.match(r"^（[一二三四五六]）", line):
            out.append("**" + line + "**")
        else:
            out.append(line)
    return "\n".join(out)


def test_markdown_report_reads_like_its_pipe_layout(tmp_path: Path) -> None:
    report = base_report("2021", s2__license__decisions="97", s4__review__maintained="2",
                         s4__review__total="2")
    pipe = render(report, "pipe").decode("utf-8")
    (tmp_path / "pipe.txt").write_text(pipe, encoding="utf-8")
    md = _markdown(pipe)
    assert "## 一、总体情况" in md and "| --- |" in md
    (tmp_path / "report.md.txt").write_text(md, encoding="utf-8")
    want = parse_file(tmp_path / "pipe.txt")
    got = parse_file(tmp_path / "report.md.txt")
    assert got["cells"] == want["cells"]
    assert got["cells"]["s2.license.decisions"] == 97
    assert sorted(f["rule"] for f in got["findings"]) == sorted(f["rule"] for f in want["findings"])


def test_a_row_of_empty_cells_is_not_taken_for_a_markdown_rule(tmp_path: Path) -> None:
    """Only ---/:---: cells make a separator line: a printed row of blank cells keeps its blanks."""
    from ingest.tokens import _MD_RULE

    assert _MD_RULE.match(" --- ") and _MD_RULE.match(":---:")
    assert not _MD_RULE.match("") and not _MD_RULE.match("-") and not _MD_RULE.match("—")


def test_per_row_mini_tables_with_their_own_header_rows(tmp_path: Path) -> None:
    """Some converters give every 表三 row its own small table headed "| 类别 | 数据1 | … | 总计 |".
    Before, the header's 总计 was taken for the 总计 row and 3.其他's numbers went to it."""
    report = base_report("2021", s3__other_other__natural="1", s3__other_other__total="1",
                         s3__new_received__natural="4", s3__new_received__total="4",
                         s3__result_total__natural="4", s3__result_total__total="4")
    pipe = render(report, "pipe").decode("utf-8").replace("收到政府信息公开申请3件", "收到政府信息公开申请4件")
    (tmp_path / "pipe.txt").write_text(pipe, encoding="utf-8")
    out, section = [], ""
    for line in pipe.split("\n"):
        if _SECTION.match(line) and not line.startswith(("一、本年", "二、上年", "三、本年", "四、结转")):
            section = line[0]
        if section == "三" and re.search(r"\| \d+ \|", line):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            out += ["", "| 类别 | " + " | ".join(f"数据{i}" for i in range(1, 7)) + " | 总计 |",
                    "|" + " --- |" * 8, "| " + " | ".join(cells) + " |", ""]
        else:
            out.append(line)
    (tmp_path / "mini.md.txt").write_text("\n".join(out), encoding="utf-8")
    want = parse_file(tmp_path / "pipe.txt")
    got = parse_file(tmp_path / "mini.md.txt")
    assert got["cells"] == want["cells"]
    assert got["cells"]["s3.other_other.natural"] == 1 and got["cells"]["s3.result_total.total"] == 4
    assert sorted(f["rule"] for f in got["findings"]) == sorted(f["rule"] for f in want["findings"])
