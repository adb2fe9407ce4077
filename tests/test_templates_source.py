"""The template model in ``ingest.templates`` is the one source of template facts.

``cell_names.json`` records, for all 398 (template, key) pairs, the display names that the three
former implementations (``templates.key_display``, ``rules.cross_year.cell_name``,
``dashboard.report_view.cell_name``) agreed on before they were merged into one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest import templates
from ingest.templates import key_infos

HERE = Path(__file__).resolve().parent


def _recorded() -> dict[str, str]:
    return json.loads((HERE / "cell_names.json").read_text(encoding="utf-8"))


def test_cell_name_keeps_every_recorded_name() -> None:
    recorded = _recorded()
    now = {f"{t}|{k}": templates.cell_name(t, k) for t, keys in key_infos().items() for k in keys}
    assert len(now) == 398
    assert now == recorded


def test_every_caller_names_cells_through_the_one_implementation() -> None:
    from dashboard import report_view
    from ingest.rules import cross_year

    assert report_view.cell_name is templates.cell_name
    for pair, name in _recorded().items():
        t, key = pair.split("|")
        assert cross_year.cell_name(key, t) == name
        assert cross_year.cell_name(f"{key}@2020", t) == name
        assert templates.cell_name(t, f"{key}@2020") == f"{name}（2020年报告）"


def test_cell_name_of_a_non_national_template_uses_the_newest_template() -> None:
    assert templates.cell_name("legacy", "s2.normative.valid") == templates.cell_name("2021", "s2.normative.valid")
    assert templates.cell_name("mixed", "s2.procurement.projects") == templates.cell_name("2019", "s2.procurement.projects")
    assert templates.cell_name(None, "no.such.key") == "no.such.key"


def test_today_s_templates() -> None:
    assert templates.TEMPLATES == ("2019", "2021")
    assert [templates.template_for_year(y) for y in (2018, 2019, 2020, 2021, 2026)] == [None, "2019", "2019", "2021", "2021"]
    assert templates.template_doc("2019") == "国办公开办函〔2019〕60号"
    assert templates.template_doc("2021") == "国办公开办函〔2021〕30号"
    names = {t: templates.template_name(t) for t in ("2019", "2021", "legacy", "mixed", "unknown")}
    assert names == {"2019": "2019年格式", "2021": "2021年格式", "legacy": "旧格式", "mixed": "混合格式",
                     "unknown": "无法识别的格式"}
    assert templates.template_badge("2021") == "2021 年格式（30 号文）"
    assert templates.template_badge("legacy") == "格式：legacy"


FAKE_2027 = '''
[[templates]]
id = "2027"
first_year = 2027
doc = "国办公开办函〔2027〕1号"
name = "2027年格式"
badge = "2027 年格式（1 号文）"
'''


@pytest.fixture
def layout_with_2027(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The real layout.toml, with F2021 ending in 2026 and a third template from 2027."""
    text = templates.LAYOUT.read_text(encoding="utf-8")
    head = 'id = "2021"\nfirst_year = 2021\n'
    assert head in text
    fake = tmp_path / "layout.toml"
    fake.write_text(text.replace(head, head + "last_year = 2026\n", 1) + FAKE_2027, encoding="utf-8")
    monkeypatch.setattr(templates, "LAYOUT", fake)
    templates.layout.cache_clear()
    yield
    monkeypatch.undo()
    templates.layout.cache_clear()


def test_a_third_template_needs_only_data(layout_with_2027: None) -> None:
    from ingest.recognise import detect_template
    from ingest.rules.structure import template_year_finding

    assert [templates.template_for_year(y) for y in (2020, 2026, 2027, 2040)] == ["2019", "2021", "2027", "2027"]
    assert templates.template_name("2027") == "2027年格式"
    assert templates.template_doc("2027") == "国办公开办函〔2027〕1号"
    assert templates.template_badge("2027") == "2027 年格式（1 号文）"
    (x5,) = template_year_finding("2021", 2027, {}, False)
    assert "国办公开办函〔2027〕1号" in x5.message and "2021年格式" in x5.message
    assert template_year_finding("2021", 2026, {}, False) == []
    assert detect_template([], "国办公开办函〔2027〕1号")[0] == "2027"
    assert detect_template([], "国办公开办函〔2021〕30号")[0] == "2021"
