"""一致性预警: the problem list, filters, opening a problem in its report, confirm/dismiss (admin)."""

import polars as pl
import streamlit as st

from dashboard import admin, filters, report_view, ui
from dashboard.data import findings as findings_q
from dashboard.data import overview as overview_q
from dashboard.data import report as report_q
from dashboard.data.where import describe
from dashboard.labels import REVIEW_NAMES, SEVERITIES, SEVERITY_NAMES
from ingest.store.review import STALE_NOTE

ui.db_guard()
scope = filters.current()

st.title("一致性预警")
st.caption(ui.md_escape(describe(scope)) + "　·　级别、乡镇和年度用左侧筛选；问题说明写明表、行、列，"
           "以及应为多少、报告为多少。")

ui.severity_cards(overview_q.findings_by_severity(scope), scope.severities or SEVERITIES)

rules = findings_q.finding_rules(scope)
c1, c2, c3 = st.columns([3, 2, 1])
rule_names = dict(zip(rules["rule"].to_list(), rules["n"].to_list(), strict=True))
chosen_rules = c1.multiselect("规则", list(rule_names), key="f_rules", format_func=lambda r: f"{r}（{rule_names[r]} 条）",
                              placeholder="全部规则", filter_mode="contains")
review = c2.multiselect("审核状态", list(REVIEW_NAMES), default=["open", "confirmed"], key="f_review",
                        format_func=REVIEW_NAMES.get, placeholder="全部状态")
PAGE = 100
total = findings_q.findings_count(scope, chosen_rules, review)
pages = max(1, -(-total // PAGE))
page_no = c3.number_input(f"页码（共 {pages} 页）", 1, pages, 1, key="f_page")

found = findings_q.findings(scope, chosen_rules, review, limit=PAGE, offset=(page_no - 1) * PAGE)
if found.is_empty():
    ui.empty_state("没有符合条件的问题", "可以在左侧放宽年度、乡镇或级别筛选，或在上方选择其他规则、审核状态")
    st.stop()

st.caption(f"共 {total:,} 条，按级别（错误 → 警告 → 提示）、年度、单位排列；本页第 {(page_no - 1) * PAGE + 1}–"
           f"{min(page_no * PAGE, total)} 条。点击一行查看详情。")
row = ui.findings_table(found, key="f_table", height=min(38 * (found.height + 1), 460))
if row is not None:
    st.session_state["f_selected"] = found["finding_id"][row]
sel_id = st.session_state.get("f_selected")
if sel_id is None or sel_id not in found["finding_id"].to_list():
    st.caption("在表中点击一行，可在下方查看该问题的详情、打开报告定位到出错的单元格，并进行审核。")
    st.stop()

f = findings_q.finding_by_id(sel_id) or found.filter(pl.col("finding_id") == sel_id).row(0, named=True)
st.divider()
with st.container(border=True):
    st.markdown("#### 问题详情")
    ui.severity_badge(f["severity"], f"{SEVERITY_NAMES.get(f['severity'], f['severity'])}　规则 {f['rule']}")
    st.markdown(f"**{ui.md_escape(f['unit'])}（{ui.md_escape(f['region'] or '县市区未知')}） {f['year']} 年**")
    st.markdown(ui.md_escape(f["message"]))
    tpl = None
    if f["report_id"]:
        meta = report_q.report_meta(f["report_id"])
        tpl = meta["template"] if meta else None
    facts = [("应为", "" if f["expected"] is None else f"{f['expected']:g}"),
             ("报告为", "" if f["actual"] is None else f"{f['actual']:g}"),
             ("涉及的单元格", "；".join(report_view.cell_name(tpl, k) for k in (f["keys"] or []))),
             ("按 0 计算的空白格", "；".join(report_view.cell_name(tpl, k) for k in (f["assumed_zero"] or []))),
             ("依据", f["evidence"] or ""), ("文件", f["file_name"] or ""),
             ("审核状态", REVIEW_NAMES.get(f["review_status"], f["review_status"])
              + (f"（{STALE_NOTE}）" if f["review_stale"] else "")),
             ("审核意见", f["review_note"] or ""), ("审核人", f["reviewed_by"] or ""),
             ("审核时间", "" if f["reviewed_at"] is None else str(f["reviewed_at"]))]
    ui.show_table(pl.DataFrame({"项目": [a for a, _ in facts], "内容": [b for _, b in facts]}), None, key="f_facts")
    if f["report_id"]:
        first_key = next((k for k in (f["keys"] or []) if "@" not in k), None)
        if st.button("在报告中查看（定位到出错的单元格）", type="primary", icon=":material/open_in_new:", key="f_open"):
            ui.open_report(f["unit_id"], f["year"], cell=first_key, finding=f["finding_id"])
    else:
        st.caption("该单位该年度没有已入库的年报，无法打开报告。")

    st.markdown("#### 审核")
    if admin.login_box("f_admin", "确认或排除问题"):
        with st.form("f_review_form"):
            action = st.radio("处理", list(admin.REVIEW_ACTIONS), format_func=admin.REVIEW_ACTIONS.get,
                              horizontal=True, key="f_action")
            note = st.text_area("说明（会保存在审核记录中）", key="f_note", max_chars=1000)
            reviewer = st.text_input("审核人", key="f_reviewer", max_chars=50, placeholder="管理员")
            go = st.form_submit_button("保存审核结果", icon=":material/save:")
        if go:
            problem = admin.review(f["finding_id"], action, note or "", reviewer or "")
            if isinstance(problem, admin.StoreProblem):       # the store failed: full disk, damaged file, …
                st.error(ui.md_escape(problem), icon=":material/error:")
            elif problem:
                st.warning(problem, icon=":material/block:")
            else:
                st.success("已保存。审核结果在重新导入和重新核对后仍然保留。", icon=":material/check_circle:")
