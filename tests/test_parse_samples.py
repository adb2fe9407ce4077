"""The parser against real published reports (../shared/samples): the ground truth."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from ingest.errors import RejectedFile
from ingest.parse import parse_file

META = ("unit", "unit_level", "region", "year", "template")


def _expected(samples: Path) -> list[tuple[Path, Path]]:
    pairs = []
    for exp in sorted(samples.glob("*.expected.json")):
        stem = exp.name.removesuffix(".expected.json")
        for doc in sorted(samples.glob(stem + ".*")):
            if doc != exp:
                pairs.append((doc, exp))
    return pairs


def test_every_sample_has_documents(samples_dir: Path) -> None:
    assert len(_expected(samples_dir)) >= 4


def test_samples_parse_to_expected_cells(samples_dir: Path) -> None:
    failures = []
    for doc, exp_path in _expected(samples_dir):
        exp = json.loads(exp_path.read_text(encoding="utf-8"))
        got = parse_file(doc)
        for k in META:
            if k in exp and exp[k] != got[k]:
                failures.append(f"{doc.name}: {k} 应为 {exp[k]!r}，得到 {got[k]!r}")
        if got["cells"] != exp["cells"]:
            missing = sorted(set(exp["cells"]) - set(got["cells"]))
            extra = sorted(set(got["cells"]) - set(exp["cells"]))
            wrong = {k: (exp["cells"][k], got["cells"][k]) for k in exp["cells"]
                     if k in got["cells"] and got["cells"][k] != exp["cells"][k]}
            failures.append(f"{doc.name}: 缺 {missing[:5]} 多 {extra[:5]} 错 {list(wrong.items())[:5]}")
        if "units" in exp and got["units"] != exp["units"]:
            failures.append(f"{doc.name}: units {got['units']} != {exp['units']}")
    assert not failures, "\n".join(failures)


def test_values_are_typed_as_printed(samples_dir: Path) -> None:
    got = parse_file(samples_dir / "quangang-2020.txt")
    assert len(got["cells"]) == 198
    assert isinstance(got["cells"]["s2.procurement.amount"], float)
    assert got["cells"]["s2.procurement.amount"] == 255933.8
    assert got["raw"]["s2.procurement.amount"] == "255933.8"
    assert all(isinstance(v, int) for k, v in got["cells"].items() if k.startswith("s3."))
    assert got["where"]["s3.new_received.total"].startswith("第")


def test_seed_findings(samples_dir: Path) -> None:
    got = parse_file(samples_dir / "quangang-2020.txt")
    by_rule: dict[str, list[dict]] = {}
    for f in got["findings"]:
        by_rule.setdefault(f["rule"], []).append(f)
    n1 = by_rule["N-1"]
    assert len(n1) == 1 and n1[0]["expected"] == 2 and n1[0]["actual"] == 1 and n1[0]["severity"] == "warning"
    assert n1[0]["message"] == "正文“收到依申请公开信息1件”与表三 第一项 本年新收政府信息公开申请数量 总计列不一致：表中为 2，正文为 1"
    assert by_rule["S2A-6"][0]["message"] == \
        "表二 第二十条第（九）项 政府集中采购 采购总金额：未注明单位（元或万元），报告为“255933.8”"
    assert by_rule["S2-T2"][0]["actual"] == 555
    d09 = {f["message"] for f in by_rule["D09"]}
    assert len(d09) == 5
    assert "表三 标签“1、信访举报类申请”与模板“1.信访举报投诉类申请”不一致" in d09
    assert any("第二十六条第（六）项" in m for m in d09)
    assert any("不予以公开" in m for m in d09)
    assert any("第三类内部事务" in m for m in d09)
    assert any("（区分处理的），只计" in m for m in d09)
    assert not [f for f in got["findings"] if f["severity"] == "error"], "种子报告不应有错误级问题"
    for rule in ("S3-1", "S3-2", "S3-3", "N-5", "N-9", "D07"):
        assert rule not in by_rule


def test_seed_metadata(samples_dir: Path) -> None:
    got = parse_file(samples_dir / "quangang-2020.txt")
    assert got["published"] is None
    assert got["cited_format_doc"] == "国办公开办函〔2019〕60号"
    assert got["period_year"] == 2020 and got["title_year"] == 2020
    assert set(got["sections"]) == {"一", "二", "三", "四", "五", "六"}
    assert got["sections"]["六"].strip() == "无"


@pytest.mark.parametrize("variant", ["gbk", "gb18030", "utf-16", "utf-16-be-bom", "crlf-bom", "utf-8-bom"])
def test_seed_encodings_parse_identically(samples_dir: Path, tmp_path: Path, variant: str) -> None:
    text = (samples_dir / "quangang-2020.txt").read_text(encoding="utf-8")
    data = {
        "gbk": lambda: text.encode("gbk"),
        "gb18030": lambda: text.encode("gb18030"),
        "utf-16": lambda: text.encode("utf-16"),
        "utf-16-be-bom": lambda: b"\xfe\xff" + text.encode("utf-16-be"),
        "crlf-bom": lambda: b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"),
        "utf-8-bom": lambda: b"\xef\xbb\xbf" + text.encode("utf-8"),
    }[variant]()
    path = tmp_path / f"seed-{variant}.txt"
    path.write_bytes(data)
    base = parse_file(samples_dir / "quangang-2020.txt")
    got = parse_file(path)
    for k in ("unit", "region", "year", "template", "cells", "units", "raw", "findings"):
        assert got[k] == base[k], k


def _sources(samples: Path) -> list[dict]:
    with open(samples / "excerpts" / "SOURCES.tsv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


# Excerpts whose text does not contain the issuer's full name (see SOURCES.tsv notes).
_NAME_NOT_IN_TEXT = {"015.txt", "019.txt"}


def _expected_year(cell: str) -> int:
    """``2021 (text says 2020)``: the document's own text gives the other year (a stale copy of last
    year's dates); only the manifest or the roster can know the filing year, so the parser must read
    what the text says."""
    m = re.search(r"text says (\d{4})", cell)
    return int(m.group(1)) if m else int(cell[:4])


def _expected_level(issuer: str) -> str:
    name = re.sub(r"[(（].*$", "", issuer)
    if name.endswith(("街道办事处", "办事处")):
        return "街道"
    if name.endswith("镇人民政府"):
        return "镇"
    if name.endswith(("乡人民政府", "苏木")):
        return "乡"
    return "其他"          # departments (局, 办公室…) are not townships


def test_excerpts_unit_year_template(samples_dir: Path) -> None:
    failures = []
    for row in _sources(samples_dir):
        path = samples_dir / "excerpts" / row["file"]
        try:
            got = parse_file(path)
        except RejectedFile as e:
            failures.append(f"{row['file']}: 被拒绝：{e.reason}")
            continue
        if got["year"] != _expected_year(row["year"]):
            failures.append(f"{row['file']}: 年度 {got['year']} ≠ {row['year']}")
        if got["template"] != row["template"]:
            failures.append(f"{row['file']}: 模板 {got['template']} ≠ {row['template']}")
        if row["file"] in _NAME_NOT_IN_TEXT:
            continue
        if "name not in excerpt" in row["issuer"]:
            # the text never names the issuer: no fragment may stand in for it
            if got["unit"] is not None:
                failures.append(f"{row['file']}: 正文未写明单位，却识别为 {got['unit']}")
            continue
        if not got["unit"] or got["unit"] not in row["issuer"]:
            failures.append(f"{row['file']}: 单位 {got['unit']} 不在 {row['issuer']} 中")
        elif got["unit_level"] != _expected_level(row["issuer"]):
            failures.append(f"{row['file']}: 级别 {got['unit_level']} ≠ {_expected_level(row['issuer'])}")
        if got["region"] and got["region"] not in row["issuer"]:
            failures.append(f"{row['file']}: 地区 {got['region']} 不在 {row['issuer']} 中")
    assert not failures, "\n".join(failures)


def test_excerpt_tables_partially_extracted(samples_dir: Path) -> None:
    """Excerpts are cut mid-table: what they contain is extracted, the rest is absent (not 0)."""
    ex = samples_dir / "excerpts"
    e001 = parse_file(ex / "001.txt")       # one cell per line, cut inside 第二十条第(六)项
    assert e001["cells"]["s2.regulation.made"] == 0
    assert "s2.license.prev_items" in e001["cells"]
    assert not any(k.startswith("s3.") for k in e001["cells"])
    e020 = parse_file(ex / "020.txt")       # Hubei annotations, signed -11, empty 规章 cells
    assert e020["cells"]["s2.license.delta"] == -11
    assert e020["cells"]["s2.regulation.made"] is None
    assert e020["kinds"]["s2.regulation.made"] == "blank"
    e019 = parse_file(ex / "019.txt")       # pipe rows, truncated header, 政府集中采购 present
    assert "s2.procurement.projects" in e019["cells"]
    assert any(k.startswith("s3.new_received") for k in e019["cells"])
