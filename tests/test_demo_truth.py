"""truth.jsonl and missing.jsonl are well formed and describe the files actually written."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections import Counter
from pathlib import Path

import pdfplumber
import pytest

from ingest.demo import labels as L
from ingest.demo.city import CITY, UNITS, YEARS
from ingest.demo.defects import CATALOGUE
from ingest.demo.layout import FORMATS
from tests.demo_reference import primary, read_jsonl, written

FIELDS = {"file", "format", "layout", "encoding", "unit", "unit_level", "region", "year", "template", "published",
          "title", "cells", "units", "injected", "noise", "narrative", "sha256"}
SYNTHETIC = ("示例数据，非真实报告", "示例数据,非真实报告")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return written(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def truth(out: Path) -> list[dict]:
    return read_jsonl(out / "truth.jsonl")


def test_every_line_has_the_fields_and_its_file(out: Path, truth: list[dict]) -> None:
    assert len(truth) >= 200
    files = {t["file"] for t in truth}
    assert len(files) == len(truth), "每个文件只应出现一次"
    on_disk = {p.relative_to(out).as_posix() for p in (out / CITY).rglob("*") if p.is_file()}
    assert on_disk == files
    for t in truth:
        assert set(t) >= FIELDS, t["file"]
        data = (out / t["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == t["sha256"], t["file"]
        assert t["format"] in ("text", "html", "docx", "pdf") and t["layout"] in FORMATS
        assert t["year"] in YEARS and t["template"] in ("2019", "2021")
        assert t["unit"] in t["file"] and t["region"] in t["file"] and str(t["year"]) in t["title"]
        assert t["unit_level"] in ("镇", "乡", "街道") and t["unit"].endswith(t["unit_level"])


def test_cells_follow_the_key_list_of_their_template(truth: list[dict]) -> None:
    for t in truth:
        keys = list(t["cells"])
        allowed = L.template_keys(t["template"])
        assert set(keys) <= set(allowed), (t["file"], sorted(set(keys) - set(allowed))[:5])
        if not any(i["rule"] == "D03" for i in t["injected"]):
            assert keys == list(allowed), f"{t['file']}：未注入缺表问题时应包含模板的全部单元格"
        for k, v in t["cells"].items():
            assert v is None or type(v) in (int, float), (t["file"], k, v)
            kind = L.kind_of(k, t["template"])
            if v is not None and kind != "money":
                assert type(v) is int, (t["file"], k, v)
            if v is not None and kind == "count":
                assert v >= 0 or any(i["rule"] in ("S2A-3",) for i in t["injected"]), (t["file"], k, v)
        money = [k for k in ("s2.procurement.amount", "s2.fee.amount") if k in t["cells"]]
        assert sorted(t["units"]) == sorted(money)
        assert all(u in (None, "元", "万元") for u in t["units"].values())


def test_injected_defects_use_spec_rule_ids(truth: list[dict]) -> None:
    known = {k.rule for k in CATALOGUE}
    placed = Counter(i["rule"] for t in truth for i in t["injected"])
    assert set(placed) <= known
    missing_kinds = known - set(placed)
    assert not missing_kinds, f"未注入的问题类型：{sorted(missing_kinds)}"
    for t in truth:
        for i in t["injected"] + t["noise"]:
            assert set(i) >= {"rule", "keys", "severity"} and i["severity"] in ("error", "warning", "info")
            assert all(isinstance(k, str) for k in i["keys"])
            for k in i["keys"]:
                assert k.startswith("meta.") or k in L.template_keys(t["template"]), (t["file"], i["rule"], k)
    clean = [t for t in truth if not t["injected"]]
    assert len(clean) >= 0.7 * len(truth), "大多数报告应当是没有故意问题的"


def test_formats_templates_and_encodings_are_spread(truth: list[dict]) -> None:
    layouts = Counter(t["layout"] for t in truth)
    assert set(layouts) == set(FORMATS) and min(layouts.values()) >= 30, layouts
    assert {t["encoding"] for t in truth if t["format"] in ("text", "html")} == {"utf-8", "gbk"}
    by_year = {(t["year"], t["template"]) for t in truth if not t["injected"]}
    assert all(tpl == ("2019" if y <= 2020 else "2021") for y, tpl in by_year)
    wrong = [t for t in truth if any(i["rule"] == "X-5" for i in t["injected"])]
    assert wrong and all(t["year"] >= 2021 and t["template"] == "2019" for t in wrong)


def test_missing_reports_and_duplicates(out: Path, truth: list[dict]) -> None:
    missing = read_jsonl(out / "missing.jsonl")
    assert missing
    have = {(t["unit"], t["year"]) for t in truth}
    for m in missing:
        assert (m["unit"], m["year"]) not in have
        assert m["unit"] in {u.name for u in UNITS}
    assert len(primary(truth)) + len(missing) == len(UNITS) * len(YEARS)
    dups = [t for t in truth if "duplicate_of" in t]
    assert dups
    files = {t["file"]: t for t in truth}
    for d in dups:
        first = files[d["duplicate_of"]]
        assert (first["unit"], first["year"]) == (d["unit"], d["year"])
        assert d["changed"] and all(first["cells"][k] != d["cells"][k] for k in d["changed"])
        assert {k for k in d["cells"] if first["cells"][k] != d["cells"][k]} == set(d["changed"])


def test_every_document_says_it_is_synthetic(out: Path, truth: list[dict]) -> None:
    for t in truth:
        data = (out / t["file"]).read_bytes()
        if t["format"] in ("text", "html"):
            text = data.decode(t["encoding"])
        elif t["format"] == "docx":
            text = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode("utf-8")
        else:
            with pdfplumber.open(io.BytesIO(data)) as pdf:
                text = pdf.pages[0].extract_text() or ""
        assert any(s in text for s in SYNTHETIC), t["file"]
        assert t["unit"] in text


def test_unit_names_are_the_fictional_city(truth: list[dict]) -> None:
    names = {u.name for u in UNITS}
    assert len(names) == len(UNITS) == 30
    assert {t["unit"] for t in truth} == names
    assert all(t["file"].startswith(f"{CITY}/") for t in truth)
    assert Counter(u.level for u in UNITS).keys() == {"镇", "乡", "街道"}
