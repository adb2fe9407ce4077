"""The Streamlit app under ``streamlit.testing.v1.AppTest`` on a known fixture database.

Numbers the app shows are compared with direct SQL on the same file, so a wrong query (e.g. a
total added to its own components) fails here.  The fixture (tests/app_fixture.py) holds one of
each case the pages must show, including report text with ``<script>``.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import duckdb
import pyarrow.ipc as ipc
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.pages_list import PAGES as PAGE_LIST
from ingest.readers import REGISTRY
from tests.app_fixture import ERROR_AT, MISSING, S3_2_MESSAGE, SCRIPT_UNIT, build_app_db, build_demo_db

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PASSWORD = "correct horse 电池 staple"
PAGES = {p.script: p.title for p in PAGE_LIST}
CHART_PAGES = [p.script for p in PAGE_LIST if p.has_charts]


@pytest.fixture(scope="session")
def app_db(tmp_path_factory) -> Path:
    return build_app_db(tmp_path_factory.mktemp("appdb") / "nianbao.duckdb")


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    db = build_demo_db(tmp_path_factory.mktemp("demo"))
    if db is None:
        pytest.skip("示例数据生成器（ingest.demo.generate）不可用，跳过演示数据库上的测试")
    return db


@pytest.fixture
def db(app_db, tmp_path, monkeypatch) -> Path:
    """A private copy of the fixture database (tests may write to it), wired into the app's env."""
    p = tmp_path / "nianbao.duckdb"
    shutil.copyfile(app_db, p)
    monkeypatch.setenv("NIANBAO_DB", str(p))
    monkeypatch.setenv("NIANBAO_ADMIN_PASSWORD", PASSWORD)
    monkeypatch.setenv("NIANBAO_UPLOAD_DIR", str(tmp_path / "uploads"))
    return p


def sql(db: Path, q: str, params: list | None = None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(q, params or []).fetchall()
    finally:
        con.close()


def run(page: str | None = None, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def metric(at: AppTest, label: str) -> str:
    for m in at.metric:
        if m.label == label:
            return m.value
    raise AssertionError(f"no metric {label!r}: {[m.label for m in at.metric]}")


def table_with(at: AppTest, column: str):
    """The first table (as pandas) that has ``column``."""
    for d in at.dataframe:
        if column in d.value.columns:
            return d.value
    raise AssertionError(f"no table with column {column!r}")


def charts(at: AppTest) -> list[tuple[dict, list]]:
    """(Vega-Lite spec, [Arrow tables]) of every chart on the page."""
    out = []
    for el in at.get("vega_lite_chart"):
        spec = json.loads(el.proto.spec)
        tables = [ipc.open_stream(io.BytesIO(d.data.data)).read_all() for d in el.proto.datasets]
        out.append((spec, tables))
    return out


def all_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [t.value for t in at.title] + [s.value for s in at.subheader]
    parts += [h.value for h in at.get("html")] + [c.value for c in at.caption] + [t.value for t in at.text]
    return "\n".join(str(p) for p in parts)


# ---------------------------------------------------------------- every page opens


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_opens_without_errors(db, page):
    at = run(page)
    assert_clean(at)
    assert [t.value for t in at.title] == [PAGES[page]]
    assert len(at.sidebar.multiselect) >= 5          # the shared filters are drawn on every page


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_opens_on_the_demo_city(demo_db, monkeypatch, page):
    monkeypatch.setenv("NIANBAO_DB", str(demo_db))
    at = run(page)
    assert_clean(at)
    assert [t.value for t in at.title] == [PAGES[page]]
    if page in CHART_PAGES:
        assert charts(at) and all(sum(t.num_rows for t in tables) > 0 for _, tables in charts(at))


@pytest.mark.parametrize("page", CHART_PAGES)
def test_charts_carry_data_and_house_style(db, page):
    at = run(page)
    assert_clean(at)
    found = charts(at)
    assert found, f"{page} shows no chart"
    for spec, tables in found:
        assert tables and sum(t.num_rows for t in tables) > 0, spec.get("title")
        assert spec["config"]["font"] == "Noto Sans CJK SC"
        title = spec["title"]["text"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in title), title


@pytest.mark.parametrize("page", CHART_PAGES)
def test_chart_specs_are_valid_vega_lite(db, page):
    """The app skips Altair's run-time validation (speed); every spec it sends is validated here."""
    import altair as alt
    import jsonschema

    schema = alt.vegalite.v6.schema.core.load_schema()
    at = run(page)
    for spec, _ in charts(at):
        jsonschema.validate(spec, schema)


def _scales(spec: dict) -> list[dict]:
    out = []

    def walk(node):
        if isinstance(node, dict):
            if "scale" in node and isinstance(node["scale"], dict) and "domain" in node["scale"]:
                out.append(node["scale"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(spec)
    return out


def test_outcome_colours_are_one_map(db):
    from dashboard.labels import OUTCOME_COLORS, OUTCOME_ORDER

    at = run("pages/outcomes.py")
    outcome_scales = [s for spec, _ in charts(at) for s in _scales(spec) if "予以公开" in s["domain"]]
    assert len(outcome_scales) >= 2           # the share chart and the reasons chart
    for s in outcome_scales:
        assert s["domain"] == OUTCOME_ORDER and s["range"] == OUTCOME_COLORS


def test_outcomes_page_says_other_is_harmonised(db):
    at = run("pages/outcomes.py")
    text = "\n".join(i.value for i in at.info)
    assert "其他处理" in text and "三行相加" in text


# ---------------------------------------------------------------- figures against direct SQL


def test_overview_figures_match_the_database(db):
    at = run()
    assert_clean(at)
    n_reports = sql(db, "SELECT count(*) FROM reports WHERE status = 'current'")[0][0]
    received = sql(db, "SELECT sum(value) FROM cells JOIN reports USING (report_id) "
                       "WHERE status = 'current' AND key = 's3.new_received.total'")[0][0]
    # effective row totals: the printed 总计, or the sum of the columns when it is blank (spec §7)
    g, p, t = sql(db, """WITH r AS (
                             SELECT report_id, row_key, max(value) FILTER (WHERE col_key = 'total') AS tot,
                                    sum(value) FILTER (WHERE col_key <> 'total') AS parts
                             FROM cells JOIN reports USING (report_id)
                             WHERE status = 'current' AND row_key IN ('granted', 'partial', 'result_total')
                             GROUP BY ALL)
                         SELECT sum(COALESCE(tot, parts, 0)) FILTER (WHERE row_key = 'granted'),
                                sum(COALESCE(tot, parts, 0)) FILTER (WHERE row_key = 'partial'),
                                sum(COALESCE(tot, parts, 0)) FILTER (WHERE row_key = 'result_total') FROM r""")[0]
    assert metric(at, "已入库年报") == f"{n_reports:,}"
    assert metric(at, "本年新收申请") == f"{round(received):,}"
    assert metric(at, "公开率") == f"{(g + p) / t:.1%}"
    assert metric(at, "未发布年报") == "1"
    html = "\n".join(h.value for h in at.get("html"))
    n_err = sql(db, "SELECT count(*) FROM v_findings_open WHERE severity = 'error'")[0][0]
    assert f"{n_err:,} <span" in html            # the red card


def test_volume_ranking_never_adds_total_to_components(db):
    at = run("pages/volume.py")
    assert_clean(at)
    rank = table_with(at, "本年新收（总计列）")
    direct = dict(sql(db, """SELECT u.name, sum(c.value) FROM cells c JOIN reports r USING (report_id)
                             JOIN units u USING (unit_id)
                             WHERE r.status = 'current' AND c.key = 's3.new_received.total' GROUP BY ALL"""))
    shown = dict(zip(rank["单位"], rank["本年新收（总计列）"], strict=True))
    assert shown == pytest.approx(direct)
    # the stacked chart holds the six applicant columns only: their sum equals new + carried-over totals
    _spec, tables = charts(at)[0]
    chart_sum = sum(sum(v for v in t.column("件数").to_pylist() if v is not None) for t in tables)
    both = sql(db, """SELECT sum(value) FROM cells JOIN reports USING (report_id) WHERE status = 'current'
                      AND row_key IN ('new_received', 'carried_over') AND col_key = 'total'""")[0][0]
    assert chart_sum == pytest.approx(both)


def test_procurement_keeps_unknown_units_out_of_totals(db):
    at = run("pages/procurement.py")
    assert_clean(at)
    known = sql(db, """SELECT sum(value_wan) FROM cells JOIN reports USING (report_id)
                       WHERE status = 'current' AND key = 's2.procurement.amount' AND value_wan IS NOT NULL""")[0][0]
    n_unknown = sql(db, """SELECT count(*) FROM cells JOIN reports USING (report_id)
                           WHERE status = 'current' AND key = 's2.procurement.amount' AND unknown_unit""")[0][0]
    assert metric(at, "采购总金额合计（万元）") == f"{known:,.2f}"
    assert metric(at, "单位不明的金额") == f"{n_unknown} 份报告"
    fee = sql(db, """SELECT sum(value_wan) FROM cells JOIN reports USING (report_id)
                     WHERE status = 'current' AND key = 's2.fee.amount'""")[0][0]
    assert metric(at, "收费金额合计（万元）") == f"{fee:,.2f}"
    assert metric(at, "按元填报、已换算") == "1 份报告"


# ---------------------------------------------------------------- filters


def test_changing_a_filter_changes_the_numbers(db):
    at = run()
    before = metric(at, "已入库年报")
    at.sidebar.multiselect(key="region").set_value(["樟树市"]).run()
    assert_clean(at)
    n = sql(db, """SELECT count(*) FROM reports r JOIN units u USING (unit_id)
                   WHERE r.status = 'current' AND u.region = '樟树市'""")[0][0]
    assert metric(at, "已入库年报") == str(n) != before
    at.sidebar.slider(key="years").set_value((2021, 2022)).run()
    n2 = sql(db, """SELECT count(*) FROM reports r JOIN units u USING (unit_id)
                    WHERE r.status = 'current' AND u.region = '樟树市' AND r.year BETWEEN 2021 AND 2022""")[0][0]
    assert metric(at, "已入库年报") == str(n2)


def test_filter_survives_switching_pages(db):
    at = run()
    at.sidebar.multiselect(key="region").set_value(["樟树市"]).run()
    at.switch_page("pages/volume.py").run()
    assert_clean(at)
    assert at.sidebar.multiselect(key="region").value == ["樟树市"]
    rank = table_with(at, "本年新收（总计列）")
    assert set(rank["县市区"]) == {"樟树市"}
    at.switch_page("pages/overview.py").run()
    assert at.sidebar.multiselect(key="region").value == ["樟树市"]


def test_url_query_parameters_restore_the_filters(db):
    # bound multiselects carry their displayed labels in the URL
    at = run(query={"region": "樟树市", "years": ["2020", "2022"], "sev": "错误", "town": ["大路乡（樟树市）", "洋湖乡（樟树市）"]})
    assert_clean(at)
    assert at.sidebar.multiselect(key="region").value == ["樟树市"]
    assert tuple(at.sidebar.slider(key="years").value) == (2020, 2022)
    assert at.sidebar.multiselect(key="sev").value == ["error"]
    assert at.sidebar.multiselect(key="town").value == ["樟树市/大路乡", "樟树市/洋湖乡"]
    n = sql(db, """SELECT count(*) FROM reports r JOIN units u USING (unit_id) WHERE r.status = 'current'
                   AND u.name IN ('大路乡', '洋湖乡') AND r.year BETWEEN 2020 AND 2022""")[0][0]
    assert metric(at, "已入库年报") == str(n)


def test_reversed_years_in_a_link_are_read_in_order_with_a_notice(db):
    at = run(query={"years": ["2022", "2020"]})
    assert_clean(at)
    want = run(query={"years": ["2020", "2022"]})
    assert metric(at, "已入库年报") == metric(want, "已入库年报") != metric(run(), "已入库年报")
    assert any("前后颠倒" in el.value and "2020–2022" in el.value for el in at.sidebar.info)


def test_clear_filters_button_restores_everything(db):
    at = run(query={"region": "樟树市", "years": ["2020", "2022"], "q": "湖"})
    everything = metric(run(), "已入库年报")
    assert metric(at, "已入库年报") != everything
    at.button(key="_reset_filters").click().run()
    assert_clean(at)
    assert at.sidebar.multiselect(key="region").value == []
    assert at.sidebar.text_input(key="q").value == ""
    assert tuple(at.sidebar.slider(key="years").value) == (2019, 2023)
    assert metric(at, "已入库年报") == everything


def test_town_found_by_any_part_of_its_name(db):
    at = run()
    at.sidebar.text_input(key="q").input("港").run()
    assert_clean(at)
    assert metric(at, "乡镇（街道）数") == "1"
    opts = at.sidebar.multiselect(key="town").options
    assert len(opts) == 1 and "泉港镇" in opts[0]


def test_severity_filter_limits_the_problem_list(db):
    at = run("pages/findings.py")
    at.sidebar.multiselect(key="sev").set_value(["error"]).run()
    assert_clean(at)
    table = table_with(at, "问题说明")
    assert {v for tags in table["级别"] for v in tags} == {"■ 错误"}
    assert S3_2_MESSAGE in set(table["问题说明"])


# ---------------------------------------------------------------- report view, escaping


def test_report_text_with_script_is_shown_escaped(db):
    unit_id = sql(db, "SELECT unit_id FROM units WHERE name = ?", [SCRIPT_UNIT])[0][0]
    at = run("pages/report.py")
    at.query_params["unit"] = unit_id
    at.query_params["year"] = "2021"
    at.run()
    assert_clean(at)
    for h in at.get("html"):
        assert "<script" not in h.value.lower()
    for m in at.markdown:
        if m.proto.allow_html:
            assert "<script" not in m.value.lower()
    heading = at.subheader[0].value
    assert "\\<script\\>" in heading           # Markdown-escaped: displayed as text
    assert any("<script>alert('section')</script>" in t.value for t in at.text)   # section text via st.text


def test_report_view_highlights_the_offending_cell(db):
    unit_id = sql(db, "SELECT unit_id FROM units WHERE name = ?", [ERROR_AT[0]])[0][0]
    at = run("pages/report.py")
    at.query_params.update({"unit": unit_id, "year": str(ERROR_AT[1]), "cell": "s3.result_total.natural"})
    at.run()
    assert_clean(at)
    table3 = next(h.value for h in at.get("html") if "本列数据的勾稽关系" in h.value)
    assert 'id="focus-cell"' in table3
    focus = table3.split('id="focus-cell"')[1].split("</td>")[0]
    assert 'data-key="s3.result_total.natural"' in focus and "#b71c1c" in focus
    # the template's row labels and column count
    assert table3.count("<tr>") == 3 + 23          # F2019: 3 header rows + 23 data rows
    assert "（三）不予公开" in table3 and "1.属于国家秘密" in table3 and "四、结转下年度继续办理" in table3
    assert "定位" in all_text(at)


def test_report_view_2021_has_25_rows_and_versions(db):
    unit_id = sql(db, "SELECT unit_id FROM units WHERE name = '临江镇'")[0][0]
    at = run("pages/report.py")
    at.query_params.update({"unit": unit_id, "year": "2023"})
    at.run()
    assert_clean(at)
    table3 = next(h.value for h in at.get("html") if "本列数据的勾稽关系" in h.value)
    assert table3.count("<tr>") == 3 + 25
    versions = next(d.value for d in at.dataframe if "版本" in d.value.columns)
    assert len(versions) == 2 and set(versions["状态"]) == {"现行", "已被替代"}
    # users read Chinese only: format and status names, never the stored ids
    assert set(versions["格式"]) <= {r.name for r in REGISTRY.values()}
    prov = next(d.value for d in at.dataframe if "项目" in d.value.columns)
    facts = dict(zip(prov["项目"], prov["内容"], strict=True))
    assert facts["版本"].endswith("（现行）") and facts["格式"] in {r.name for r in REGISTRY.values()}


def test_missing_year_says_so(db):
    unit_id = sql(db, "SELECT unit_id FROM units WHERE name = ?", [MISSING[0]])[0][0]
    at = run("pages/report.py")
    at.query_params.update({"unit": unit_id, "year": str(MISSING[1])})
    at.run()
    assert_clean(at)
    assert any("没有已入库的年报" in w.value for w in at.warning)


def test_problem_opens_report_at_the_cell(db):
    fid = sql(db, "SELECT finding_id FROM findings WHERE rule = 'S3-2'")[0][0]
    at = run("pages/findings.py")
    at.session_state["f_selected"] = fid
    at.run()
    assert_clean(at)
    at.button(key="f_open").click().run()
    assert_clean(at)
    assert [t.value for t in at.title] == ["报告详情"]
    assert at.query_params["cell"] == "s3.result_total.natural"
    assert any('id="focus-cell"' in h.value for h in at.get("html"))


def test_overview_opens_a_report(db):
    at = run()
    at.selectbox(key="overview_open").set_value(
        (sql(db, "SELECT unit_id FROM units WHERE name = '泉港镇'")[0][0], 2020)).run()
    at.button(key="overview_open_btn").click().run()
    assert_clean(at)
    assert [t.value for t in at.title] == ["报告详情"]
    assert "泉港镇" in at.subheader[0].value and "2020" in at.subheader[0].value


# ---------------------------------------------------------------- admin


def _select_finding(db: Path, rule: str = "S3-2") -> tuple[AppTest, str]:
    fid = sql(db, "SELECT finding_id FROM findings WHERE rule = ?", [rule])[0][0]
    at = run("pages/findings.py")
    at.session_state["f_selected"] = fid
    at.run()
    return at, fid


def test_review_refused_without_password(db, monkeypatch):
    from dashboard import admin

    at, fid = _select_finding(db)
    assert_clean(at)
    assert not at.radio                                    # no review form
    assert [t for t in at.text_input if t.key == "f_admin_pw"]
    at.text_input(key="f_admin_pw").input("wrong")
    at.button[[b.label for b in at.button].index("登录")].click().run()
    assert not at.radio
    assert any("密码不正确" in w.value for w in at.warning)
    assert admin.failure_delay(1) > 0 and admin.failure_delay(3) > admin.failure_delay(2)
    assert sql(db, "SELECT count(*) FROM finding_reviews")[0][0] == 0
    # the action itself refuses without an admin session
    monkeypatch.setattr(admin, "is_admin", lambda: False)
    assert admin.review(fid, "dismissed", "x", "y") is not None
    assert sql(db, "SELECT count(*) FROM finding_reviews")[0][0] == 0


def test_review_with_password_dismisses_and_keeps_note(db):
    at, fid = _select_finding(db)
    at.text_input(key="f_admin_pw").input(PASSWORD)
    at.button[[b.label for b in at.button].index("登录")].click().run()
    assert_clean(at)
    at.radio(key="f_action").set_value("dismissed")
    at.text_area(key="f_note").input("已与镇政府核实，系录入笔误")
    at.text_input(key="f_reviewer").input("张三")
    at.button[[b.label for b in at.button].index("保存审核结果")].click().run()
    assert_clean(at)
    assert sql(db, "SELECT status, note, reviewed_by FROM finding_reviews WHERE finding_id = ?", [fid]) == [
        ("dismissed", "已与镇政府核实，系录入笔误", "张三")]
    # the new file is seen at once: the dismissed error no longer counts
    at.switch_page("pages/overview.py").run()
    html = "\n".join(h.value for h in at.get("html"))
    assert "1 <span" in html.split("错误")[1][:200]


def _store_failure(kind: str, db: Path) -> Exception:
    import errno

    from ingest.store.db import DatabaseCorrupt, DiskFull

    if kind == "disk-full":
        return DiskFull(db)
    if kind == "corrupt":
        return DatabaseCorrupt(db, "文件中有数据块校验失败，文件内容已损坏")
    return PermissionError(errno.EACCES, "Permission denied", str(db.parent / f"{db.name}.tmp-1-ab"))


@pytest.mark.parametrize(("kind", "says", "todo"), [
    ("disk-full", "磁盘空间不足", "清理"),
    ("corrupt", "无法读取", "python -m ingest load"),
    ("no-permission", "没有权限", "权限"),
])
def test_review_on_full_disk_or_damaged_database_explains_what_to_do(db, monkeypatch, kind, says, todo):
    """A review mark that the store cannot save (full disk, damaged file, folder not writable) is answered with
    a plain-Chinese error naming the problem and what to do — not the generic "页面显示时出错" safety net."""
    import ingest.store.review as review_store

    def fail(*args, **kwargs):
        raise _store_failure(kind, db)

    at, _ = _select_finding(db)
    at.text_input(key="f_admin_pw").input(PASSWORD)
    at.button[[b.label for b in at.button].index("登录")].click().run()
    assert_clean(at)
    monkeypatch.setattr(review_store, "set_review", fail)
    at.radio(key="f_action").set_value("confirmed")
    at.button[[b.label for b in at.button].index("保存审核结果")].click().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = "\n".join(e.value for e in at.error).replace("\\", "")            # markdown escapes as the user sees them
    assert "审核结果没有保存" in shown and says in shown and todo in shown, shown
    assert str(db.parent) in shown, shown                                       # names the place
    assert "页面显示时出错" not in shown and "技术信息" not in "\n".join(x.label for x in at.expander)
    assert not any(w in shown for w in ("Traceback", "DiskFull", "DatabaseCorrupt", "PermissionError", "Errno"))
    assert not at.success
    assert sql(db, "SELECT count(*) FROM finding_reviews")[0][0] == 0


def test_admin_disabled_when_no_password_configured(db, monkeypatch):
    monkeypatch.delenv("NIANBAO_ADMIN_PASSWORD")
    at, _ = _select_finding(db)
    assert_clean(at)
    assert not [t for t in at.text_input if t.key == "f_admin_pw"]
    assert any("未设置管理员密码" in i.value for i in at.info)
    at.switch_page("pages/data.py").run()
    assert not at.file_uploader


def test_upload_refused_without_password_and_works_with_it(db):
    at = run("pages/data.py")
    assert_clean(at)
    assert not at.file_uploader
    at.text_input(key="data_admin_pw").input(PASSWORD)
    at.button[[b.label for b in at.button].index("登录")].click().run()
    assert_clean(at)
    assert at.file_uploader
    before = sql(db, "SELECT count(*) FROM runs")[0][0]
    # the browser itself refuses other types; check_uploads repeats the checks (see the next test)
    at.file_uploader(key="data_upload").set_value([("../../evil.txt", "不是年报的内容".encode(), "text/plain")]).run()
    at.button(key="data_upload_go").click().run()
    assert_clean(at)
    assert sql(db, "SELECT count(*) FROM runs")[0][0] == before + 1     # the load ran (atomically swapped)
    logged = sql(db, "SELECT file, outcome FROM ingest_log ORDER BY run_id DESC, seq LIMIT 1")[0]
    assert logged[0].endswith("/evil.txt") and ".." not in logged[0]
    assert any("入库完成" in t.value and "evil.txt" in t.value for t in at.text)
    assert sql(db, "SELECT outcome FROM ingest_log ORDER BY run_id DESC, seq LIMIT 1")[0][0] == "rejected"


def test_upload_checks_names_types_and_sizes():
    from dashboard import admin, config

    assert admin.safe_name("../../etc/passwd.txt") == "passwd.txt"
    assert admin.safe_name("..\\..\\win.DOCX") == "win.docx"
    assert admin.safe_name("泉港镇 2020 年报.PDF") == "泉港镇 2020 年报.pdf"
    assert "/" not in admin.safe_name("a/b/c<>|:*?.html") and admin.safe_name("a/b/c<>|:*?.html").endswith(".html")
    assert not admin.safe_name(".hidden.txt").startswith(".")
    big = b"x" * (config.UPLOAD_MAX_MB * 1024 * 1024 + 1)
    res = admin.check_uploads([("a.txt", b"1"), ("a.txt", b"2"), ("b.exe", b"3"), ("c.pdf", big), ("d.htm", b"")])
    assert [n for n, _ in res.accepted] == ["a.txt", "a-1.txt"]
    assert {n for n, _ in res.refused} == {"b.exe", "c.pdf", "d.htm"}


# ---------------------------------------------------------------- the database file


def test_new_file_is_seen_after_a_load(db):
    """A load swaps the file (os.replace); the next rerun must read the new file, not a cached one."""
    from ingest.store.loader import load_parsed
    from tests.store_helpers import item_for, make_result

    at = run()
    before = int(metric(at, "已入库年报").replace(",", ""))
    load_parsed(db, [item_for(make_result(unit="新来镇", region="樟树市", year=2023))])
    at.run()
    assert int(metric(at, "已入库年报").replace(",", "")) == before + 1


@pytest.mark.parametrize("content", [None, b"this is not a duckdb file" * 100])
@pytest.mark.parametrize("page", ["pages/overview.py", "pages/findings.py", "pages/report.py", "pages/data.py"])
def test_missing_or_corrupt_database_is_explained(tmp_path, monkeypatch, content, page):
    p = tmp_path / "broken.duckdb"
    if content is not None:
        p.write_bytes(content)
    monkeypatch.setenv("NIANBAO_DB", str(p))
    at = run(page)
    assert not at.exception, [e.value for e in at.exception]
    msg = "\n".join(e.value for e in at.error)
    assert "数据库" in msg and ("不存在" in msg or "无法读取" in msg)
    assert "scripts/run-app.sh" in all_text(at) and "python -m ingest load" in all_text(at)


def test_snapshot_measures_equal_the_store_view(db):
    """The query layer computes per-report measures itself (fast at national scale); they must equal
    the store's v_report_measures, column by column, so that there is one definition of every figure."""
    from dashboard.data import snapshot as snapshot_q

    cols = ["received", "carried_over", "granted", "partial", "deny", "unable", "noproc", "other", "result_total",
            "carry_forward", "reviews", "suits", "procurement_projects", "procurement_wan",
            "procurement_unit_unknown", "fee_wan", "fee_converted", "disclosure_rate", "errors", "warnings",
            "infos", "unit_id", "unit", "region", "level", "year", "template"]
    mine = snapshot_q.snap_query(f"SELECT report_id, {', '.join(cols)} FROM measures_f ORDER BY report_id")
    con = duckdb.connect(str(db), read_only=True)
    try:
        theirs = con.sql(f"SELECT report_id, {', '.join(cols)} FROM v_report_measures ORDER BY report_id").pl()
    finally:
        con.close()
    assert mine.height == theirs.height > 0
    for c in ["report_id", *cols]:
        a, b = mine[c].to_list(), theirs[c].to_list()
        if mine[c].dtype.is_numeric() and c not in ("year",):
            assert [None if x is None else round(float(x), 6) for x in a] == \
                   [None if x is None else round(float(x), 6) for x in b], c
        else:
            assert [None if x is None else str(x) for x in a] == [None if x is None else str(x) for x in b], c


def test_review_refreshes_findings_without_rebuilding_the_figures(db):
    """A review swaps the file; only the finding tables are rebuilt, and the new counts show at once."""
    from dashboard.data import connection as connection_q
    from dashboard.data import overview as overview_q
    from dashboard.data import snapshot as snapshot_q
    from dashboard.scope import Scope
    from ingest.store.review import set_review

    before = overview_q.findings_by_severity(Scope())
    snap = snapshot_q._snapshot(str(db), connection_q.signature(db))
    fid = sql(db, "SELECT finding_id FROM findings WHERE rule = 'S3-2'")[0][0]
    set_review(db, fid, "dismissed", "核实无误", "测试")
    after = overview_q.findings_by_severity(Scope())
    assert after["error"] == before["error"] - 1
    assert snapshot_q._snapshot(str(db), connection_q.signature(db)) is snap          # same per-load tables
    status = snapshot_q.snap_query("SELECT status FROM status s JOIN units u USING (unit_id) "
                                   "WHERE u.unit = ? AND year = ?", [ERROR_AT[0], ERROR_AT[1]])
    assert status["status"][0] == "published"                                 # no longer "has_errors"


@pytest.mark.parametrize("page", list(PAGES))
def test_tables_show_a_dash_not_none_for_missing_values(db, page):
    """Users are not programmers: an empty cell (e.g. 应为/报告为 of a missing-table finding) shows "—"."""
    at = run(page)
    assert_clean(at)
    for d in at.dataframe:
        assert d.proto.placeholder == "—", (page, d.proto.placeholder)


def test_a_held_file_is_listed_and_an_admin_adopts_it(db):
    from ingest.store.loader import load_parsed
    from tests.store_helpers import item_for, make_result

    good = make_result(unit="试点镇", region="云岭区", year=2024, seed=11)
    worse = json.loads(json.dumps(good))
    worse["cells"] = {k: v for k, v in worse["cells"].items() if not k.startswith("s3.")}
    worse["kinds"] = {k: v for k, v in (worse.get("kinds") or {}).items() if not k.startswith("s3.")}
    load_parsed(db, [item_for(good, "/in/试点镇-2024.html")])
    load_parsed(db, [item_for(worse, "/in/试点镇-2024-图片版.pdf")])
    assert sql(db, "SELECT status FROM reports WHERE file_name = '试点镇-2024-图片版.pdf'") == [("held",)]
    at = run("pages/data.py")
    assert_clean(at)
    assert any("暂未采用" in w.value for w in at.warning)
    assert any("试点镇-2024-图片版.pdf" in df.value.to_string() for df in at.dataframe)
    at.text_input(key="data_held_admin_pw").input(PASSWORD)
    at.button[[b.label for b in at.button].index("登录")].click().run()
    at.text_input(key="data_held_who").input("李四")
    at.button[[b.label for b in at.button].index("采用此版本")].click().run()
    assert_clean(at)
    assert any("已采用" in s.value for s in at.success)
    assert sql(db, "SELECT status FROM reports WHERE file_name = '试点镇-2024-图片版.pdf'") == [("current",)]
    assert "李四" in sql(db, "SELECT reason FROM ingest_log ORDER BY run_id DESC LIMIT 1")[0][0]


def test_briefing_buttons_say_why_when_the_scope_has_no_unit(db):
    """A click on 下载简报 with no township in the filter used to do nothing (the build failed)."""
    at = run(query={"q": "没有这个名字的乡镇"})
    assert_clean(at)
    assert any("无法生成简报和整改清单" in i.value for i in at.info)
    assert not [b for b in at.get("download_button") if "简报" in str(b.proto.label)]
    at = run()
    assert [b for b in at.get("download_button") if "简报" in str(b.proto.label)]
