"""Clean demo reports satisfy the identities and agree with their narrative; injected defects break exactly
what truth.jsonl says they break.  Checked with the independent reading in tests/demo_reference.py."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict

import pytest

from ingest.demo.generate import DemoDoc
from tests.demo_reference import (
    corpus,
    cross_year_failures,
    identity_failures,
    jaccard,
    narrative_claims,
    table_measures,
)

WITHIN = {"S3-1", "S3-2", "S3-3", "S4-1", "S4-2", "S4-3", "S2A-3", "S2B-2", "S2-T1", "S2B-3"}
CROSS = {"X-1", "X-2", "X-3", "X-4"}
N_MEASURES = {
    "N-1": {"new_received"}, "N-2": {"carried_over"}, "N-3": {"granted", "partial", "deny", "unable", "noproc"},
    "N-4": {"carry_forward"}, "N-5": {"review", "suits"}, "N-6": {"normative_issued"},
}
TABLE_OF = {"new_received": "s3.", "carried_over": "s3.", "carry_forward": "s3.", "granted": "s3.", "partial": "s3.",
            "deny": "s3.", "unable": "s3.", "noproc": "s3.", "review": "s4.", "suits": "s4.", "normative_issued": "s2."}


@pytest.fixture(scope="module")
def docs() -> list[DemoDoc]:
    return corpus()[0]


def _rules(doc: DemoDoc) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for i in doc.truth["injected"]:
        out[i["rule"]].update(i["keys"])
    return out


def test_identities_break_exactly_where_injected(docs: list[DemoDoc]) -> None:
    problems = []
    for d in docs:
        t = d.truth
        got = identity_failures(t["cells"], t["template"], t["units"])
        want = {r: k for r, k in _rules(d).items() if r in WITHIN}
        if set(got) != set(want):
            problems.append((t["file"], sorted(got), sorted(want)))
            continue
        for rule, keys in want.items():
            if not keys & got[rule]:
                problems.append((t["file"], rule, sorted(keys)[:4], sorted(got[rule])[:4]))
    assert not problems, problems[:10]
    assert sum(1 for d in docs if not d.truth["injected"]) > 150


def test_cross_year_links_break_exactly_where_injected(docs: list[DemoDoc]) -> None:
    by_unit: dict[str, dict[int, dict]] = defaultdict(dict)
    for d in docs:
        if "duplicate_of" not in d.truth:
            by_unit[d.truth["unit"]][d.truth["year"]] = d.truth
    problems, seen = [], set()
    for years in by_unit.values():
        for y, cur in years.items():
            want = {i["rule"] for i in cur["injected"] if i["rule"] in CROSS}
            prev = years.get(y - 1)
            got = set(cross_year_failures(prev, cur)) if prev else set()
            seen |= got
            if got != want:
                problems.append((cur["file"], sorted(got), sorted(want)))
    assert not problems, problems[:10]
    assert seen == CROSS


def test_narrative_states_the_table_unless_injected(docs: list[DemoDoc]) -> None:
    problems = []
    for d in docs:
        t = d.truth
        text = d.report.sections.get("一", "")
        claims = narrative_claims(text)
        if re.search(r"未收到.{0,20}申请", text):
            claims.setdefault("new_received", []).append(0)
        table = table_measures(t["cells"], t["template"])
        bent = set().union(*(N_MEASURES.get(i["rule"], set()) for i in t["injected"]))
        for name, stated in t["narrative"].items():
            if name not in claims or stated not in claims[name]:
                problems.append((t["file"], "正文未按记录写出", name, stated, claims.get(name)))
        for name, values in claims.items():
            if not any(k.startswith(TABLE_OF[name]) for k in t["cells"]):
                continue                      # that table is missing (D03): nothing to compare with
            if name not in bent and any(v != table[name] for v in values):
                problems.append((t["file"], name, values, table[name], "正文与表格不一致，但未记录为注入问题"))
        for rule, measures in N_MEASURES.items():
            if rule in _rules(d) and all(v == table[m] for m in measures for v in claims.get(m, [])):
                problems.append((t["file"], rule, "注入的不一致没有写进正文"))
    assert not problems, problems[:10]


def test_title_period_and_format_document(docs: list[DemoDoc]) -> None:
    for d in docs:
        t, rep = d.truth, d.report
        rules = _rules(d)
        text = "".join(rep.preamble)
        assert str(t["year"]) in rep.title and rep.unit in rep.title
        period = re.search(r"统计期限自(\d{4})年1月1日起至(\d{4})年12月31日止", text)
        assert period, t["file"]
        want_year = t["year"] - 1 if "N-7" in rules else t["year"]
        assert int(period.group(1)) == int(period.group(2)) == want_year, t["file"]
        doc_no = "国办公开办函〔2021〕30号" if t["year"] >= 2021 else "国办公开办函〔2019〕60号"
        assert (doc_no in text) == ("N-8" not in rules), t["file"]
        years = re.findall(r"(20\d\d)年", rep.sections.get("一", ""))
        assert max(set(years), key=years.count) == str(t["year"]), t["file"]


def test_publication_dates(docs: list[DemoDoc]) -> None:
    for d in docs:
        t = d.truth
        rules = _rules(d)
        y = t["year"]
        if t["published"] is None:
            assert not {"D07", "N-9"} & set(rules)
            continue
        pub = dt.date.fromisoformat(t["published"])
        late = pub > dt.date(y + 1, 3, 31)
        assert late == ("D07" in rules), t["file"]
        assert (pub.year != y + 1) == ("N-9" in rules), t["file"]
        strict = dt.date(y + 1, 1, 31) < pub <= dt.date(y + 1, 3, 31)
        assert strict == any(n["rule"] == "D07" for n in t["noise"]), t["file"]
    late_share = sum(1 for d in docs if any(n["rule"] == "D07" for n in d.truth["noise"])) / len(docs)
    assert late_share < 0.3


def test_copy_paste_only_where_injected(docs: list[DemoDoc]) -> None:
    by_unit: dict[str, dict[int, DemoDoc]] = defaultdict(dict)
    for d in docs:
        if "duplicate_of" not in d.truth:
            by_unit[d.truth["unit"]][d.truth["year"]] = d
    worst = 0.0
    copied = 0
    for years in by_unit.values():
        for y, cur in years.items():
            prev = years.get(y - 1)
            if prev is None:
                continue
            five = jaccard(prev.report.sections["五"], cur.report.sections["五"])
            one = jaccard(prev.report.sections["一"], cur.report.sections["一"])
            if "X-6" in _rules(cur):
                assert five >= 0.9, cur.truth["file"]
                copied += 1
            else:
                worst = max(worst, five, one)
    assert copied >= 1
    assert worst < 0.6, f"相邻年度正文相似度最高为 {worst:.2f}，干净报告不应接近“内容雷同”"


def test_fee_statement_follow_up_and_sections(docs: list[DemoDoc]) -> None:
    for d in docs:
        t, rep = d.truth, d.report
        rules = _rules(d)
        if "D16" in rules:
            assert "六" not in rep.sections and "六" in rep.omit_sections
            continue
        assert set(rep.sections) == {"一", "二", "三", "四", "五", "六"}
        if t["template"] == "2021":
            assert ("信息处理费" in rep.sections["六"]) == ("N-10" not in rules), t["file"]
        if t["template"] == "2021" and t["year"] >= 2022 and "X-6" not in rules:
            follow = re.search(r"上年度|上一年度|\d{4}年度报告所列|\d{4}年度存在", rep.sections["五"])
            assert bool(follow) == ("X-7" not in rules), t["file"]
        if "D03" in rules:
            assert rep.omit_tables and not any(k.startswith("s4.") for k in t["cells"])
