"""Unit names, regions, the manifest and grouping reports into units."""

from __future__ import annotations

import pytest

from ingest.store.units import (
    ManifestError,
    UnitObservation,
    level_of,
    normalise_name,
    normalise_region,
    pin_for,
    read_manifest,
    resolve_units,
)


@pytest.mark.parametrize(("raw", "region", "name", "found"), [
    ("泉港镇", None, "泉港镇", None),
    ("泉港镇人民政府", None, "泉港镇", None),
    ("丰城市泉港镇人民政府", "丰城市", "泉港镇", "丰城市"),
    ("丰城市泉港镇人民政府", None, "泉港镇", "丰城市"),
    (" 泉港镇 人民政府 ", None, "泉港镇", None),
    ("经纬街道办事处", None, "经纬街道", None),
    ("哈尔滨市道里区经纬街道办事处", None, "经纬街道", "道里区"),
    ("青岛西海岸新区黄岛街道办事处", None, "黄岛街道", "青岛西海岸新区"),
    ("岑巩县龙田镇人民政府", None, "龙田镇", "岑巩县"),
    ("新市镇", None, "新市镇", None),             # 新市 is part of the name, not a city
    ("城区街道", None, "城区街道", None),
    ("平潭综合实验区", None, "平潭综合实验区", None),  # not a township: left as it is
    ("对坊乡人民政府", "宁都县", "对坊乡", None),
])
def test_normalise_name(raw: str, region: str | None, name: str, found: str | None) -> None:
    assert normalise_name(raw, region) == (name, found)


def test_normalise_region() -> None:
    assert normalise_region("江西省宜春市丰城市") == "丰城市"
    assert normalise_region("丰城市人民政府") == "丰城市"
    assert normalise_region("  ") is None
    assert normalise_region(None) is None


def test_level_of() -> None:
    assert level_of("泉港镇") == "镇"
    assert level_of("经纬街道") == "街道"
    assert level_of("某某民族乡") == "乡"
    assert level_of("平潭综合实验区") is None


def test_resolve_units_joins_spellings_and_regionless_documents() -> None:
    obs = [
        UnitObservation("a", "泉港镇", "丰城市", "镇", "丰城市泉港镇人民政府"),
        UnitObservation("b", "泉港镇", None, "镇", "泉港镇"),
        UnitObservation("c", "城关镇", "甲县", "镇", "城关镇"),
        UnitObservation("d", "城关镇", "乙县", "镇", "城关镇"),
        UnitObservation("e", "城关镇", None, "镇", "城关镇人民政府"),
    ]
    units, assign = resolve_units(obs)
    assert assign["a"] == assign["b"] == "丰城市/泉港镇"
    # two 城关镇 in two counties stay apart; one without a region cannot be placed
    assert len({assign["c"], assign["d"], assign["e"]}) == 3
    by_id = {u.unit_id: u for u in units}
    assert by_id["丰城市/泉港镇"].aliases == ["丰城市泉港镇人民政府", "泉港镇"]
    assert by_id["丰城市/泉港镇"].region == "丰城市"
    # the same set in another order gives the same answer
    units2, assign2 = resolve_units(reversed(obs))
    assert assign2 == assign
    assert [u.unit_id for u in units2] == [u.unit_id for u in units]


def test_manifest(tmp_path) -> None:
    (tmp_path / "sub").mkdir()
    m = tmp_path / "manifest.csv"
    m.write_text("file,unit,region,year\nsub/a.pdf,泉港镇,丰城市,2020\nb.html,,,2021\n", encoding="utf-8")
    pins = read_manifest(m)
    a = pin_for(pins, str(tmp_path / "sub" / "a.pdf"))
    assert (a.unit, a.region, a.year) == ("泉港镇", "丰城市", 2020)
    # a bare name matches a file of that name anywhere
    b = pin_for(pins, "/elsewhere/b.html")
    assert (b.unit, b.region, b.year) == (None, None, 2021)
    assert pin_for(pins, str(tmp_path / "c.txt")) is None


def test_manifest_errors_are_plain_chinese(tmp_path) -> None:
    bad = tmp_path / "m.csv"
    bad.write_text("name,unit\nx,y\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="表头"):
        read_manifest(bad)
    bad.write_text("file,unit,region,year\na.txt,甲镇,,二〇二〇\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="第2行"):
        read_manifest(bad)
