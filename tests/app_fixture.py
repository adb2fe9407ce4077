"""A small, fully known database for the dashboard tests (built with the store's own write path).

Two counties, eight townships, 2019–2023, with one of each thing the dashboard must show:
a missing report, an error, a wrong template, a late publication, money in 元 / 万元 / no unit,
a superseded version, a rejected file, and report text that contains HTML and Markdown
(``<script>``) which must be displayed as text.
"""

from __future__ import annotations

from pathlib import Path

from tests.store_helpers import item_for, make_result

SCRIPT_UNIT = "<script>alert('x')</script>镇"
SCRIPT_TEXT = "<script>alert('section')</script> **加粗** <b>粗体</b>"

UNITS = [
    ("泉港镇", "丰城市", "镇"),
    ("白土镇", "丰城市", "镇"),
    ("河洲街道", "丰城市", "街道"),
    ("曲江镇", "丰城市", "镇"),
    (SCRIPT_UNIT, "丰城市", "镇"),
    ("大路乡", "樟树市", "乡"),
    ("洋湖乡", "樟树市", "乡"),
    ("临江镇", "樟树市", "镇"),
]
YEARS = range(2019, 2024)
MISSING = ("大路乡", 2021)
ERROR_AT = ("泉港镇", 2020)
WRONG_TEMPLATE_AT = ("白土镇", 2021)
LATE_AT = ("曲江镇", 2022)
FEE_IN_YUAN_AT = ("河洲街道", 2022)
BLANK_TOTAL_AT = ("洋湖乡", 2022)      # 表三 第（一）项予以公开 总计 printed blank: the sum of its columns is used
NO_TABLE4_AT = ("洋湖乡", 2021)        # 表四 absent from the document: its figures are unknown, not 0

S3_2_MESSAGE = "表三 第（七）项总计 自然人列：应为 2（各办理结果之和），报告为 3"


def _result(unit: str, region: str, level: str, year: int) -> dict:
    kw: dict = {"unit": unit, "region": region, "year": year, "level": level}
    if (unit, year) == WRONG_TEMPLATE_AT:
        kw["template"] = "2019"
    if (unit, year) == LATE_AT:
        kw["published"] = f"{year + 1}-05-10"
    if (unit, year) == ERROR_AT:
        kw["findings"] = [{
            "rule": "S3-2", "severity": "error", "keys": ["s3.result_total.natural", "s3.granted.natural"],
            "expected": 2, "actual": 3, "message": S3_2_MESSAGE, "assumed_zero": [],
            "evidence": "表格3 第22行第2格：3"}]
    if year <= 2020:
        unit_for_amount = {"泉港镇": "元", "白土镇": "万元"}.get(unit)
        kw["units"] = {"s2.procurement.amount": unit_for_amount}
        if unit == "泉港镇":
            kw["overrides"] = {"s2.procurement.amount": 255933.8}
    if (unit, year) == FEE_IN_YUAN_AT:
        kw["units"] = {"s2.fee.amount": "元"}
        kw["overrides"] = {"s2.fee.amount": 35000}
    if (unit, year) == BLANK_TOTAL_AT:
        kw["overrides"] = {"s3.granted.total": None}
    if unit == SCRIPT_UNIT:
        kw["sections"] = {"一": f"{year}年，" + SCRIPT_TEXT, "二": "", "三": "", "四": "", "五": "无", "六": "无。"}
    result = make_result(**kw)
    if (unit, year) == NO_TABLE4_AT:
        for part in ("cells", "raw", "kinds", "where"):
            result[part] = {k: v for k, v in result[part].items() if not k.startswith("s4.")}
    return result


def build_app_db(path: str | Path) -> Path:
    """Write the fixture database to ``path`` (replacing nothing else) and return the path."""
    from ingest.store.loader import load_parsed
    from ingest.store.writer import FileItem

    items = []
    for unit, region, level in UNITS:
        for year in YEARS:
            if (unit, year) == MISSING:
                continue
            items.append(item_for(_result(unit, region, level, year)))
    load_parsed(path, items, paths=["/virtual/fixture"])
    # a second, later version of one report (the first stays as superseded)
    newer = make_result(unit="临江镇", region="樟树市", year=2023, seed=7, level="镇", source="临江镇-2023-修订.txt")
    rejected = FileItem("/virtual/扫描件-2022.pdf", "0" * 64, rejected="没有可提取的文字（可能是扫描件，需要 OCR）")
    load_parsed(path, [item_for(newer), rejected], paths=["/virtual/second"])
    return Path(path)


def build_demo_db(folder: str | Path) -> Path | None:
    """The demo city (``python -m ingest demo``) loaded with the real parser, plus one report whose
    unit name and text contain ``<script>``.  None when the demo generator is not available."""
    import contextlib
    import io

    try:
        from ingest.demo.generate import run_demo
        from ingest.store.loader import load_files, load_parsed
    except ImportError:
        return None
    folder = Path(folder)
    out, db = folder / "demo", folder / "demo.duckdb"
    with contextlib.redirect_stdout(io.StringIO()):
        if run_demo(out=str(out)) != 0:
            return None
    load_files([str(out)], db, progress=False, err=io.StringIO())
    load_parsed(db, [item_for(_result(SCRIPT_UNIT, "云岭区", "镇", 2021))], paths=["/virtual/script"])
    return db


if __name__ == "__main__":  # python -m tests.app_fixture out.duckdb
    import sys

    print(build_app_db(sys.argv[1] if len(sys.argv) > 1 else "data/fixture.duckdb"))
