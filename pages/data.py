"""数据管理: what was loaded, what was rejected and why, freshness, and (admin) uploads."""

import polars as pl
import streamlit as st

from dashboard import admin, config, filters, labels, ui
from dashboard.data import admin as admin_q
from dashboard.data.where import describe
from ingest.readers import format_name
from ingest.templates import template_name

ui.page_guard()
st.title("数据管理")

problem = st.session_state.get("_db_problem")
if problem is not None:
    ui.show_db_problem(problem)
else:
    scope = filters.current()
    info = admin_q.db_info()
    st.subheader("数据库")
    ui.kpi_row([
        ("现行年报", ui.fmt_int(info["current"]), "每个单位每年的最新一份"),
        ("旧版本 / 重复文件", f"{ui.fmt_int(info['superseded'])} / {ui.fmt_int(info['duplicate'])}",
         "被新版本替代的文件仍保留；内容相同的文件只记一次"),
        ("单位数", ui.fmt_int(info["units"]), None),
    ])
    last = str(info["last_ingested"] or "")[:16] or "—"
    st.info(f"**数据更新时间：** 数据库文件最后修改于 {info['modified']:%Y-%m-%d %H:%M}（导入或审核），"
            f"最近一次导入新文件在 {last}。", icon=":material/schedule:")
    st.caption(f"数据库文件：{ui.md_escape(info['path'])}（{info['size_mb']:.1f} MB，"
               f"结构版本 {ui.md_escape(info['meta'].get('schema_version', '未知'))}）")

    st.subheader("无法解析的文件")
    rejected = admin_q.rejected_files()
    if rejected.is_empty():
        st.success("最近一次处理中没有无法解析的文件。", icon=":material/check_circle:")
    else:
        ui.show_table(rejected.select(pl.col("file_name").alias("文件名"), pl.col("reason").alias("原因"),
                                      pl.col("logged_at").alias("时间"), pl.col("file").alias("文件位置")),
                      None, key="data_rejected",
                      caption="这些文件没有进入数据库，也不会出现在统计中。常见原因：扫描件（需要 OCR）、不是年度报告、文件损坏。")

    held = admin_q.held_reports()
    if not held.is_empty():
        st.subheader("暂未采用的新文件")
        st.warning(f"有 {len(held)} 个新文件读出的内容明显少于同一单位同一年度的现行版本（例如表格是图片、缺少整张表），"
                   "为避免现行数字被替换掉，它们暂未采用；现行版本的数字照常显示。请核对原文件后决定是否采用。",
                   icon=":material/pending:")
        ui.show_table(held.select(pl.col("unit").alias("单位"), pl.col("year").alias("年度"),
                                  pl.col("file_name").alias("暂未采用的文件"), pl.col("n_cells").alias("读出的单元格"),
                                  pl.col("current_file").alias("现行版本"), pl.col("current_cells").alias("现行版本单元格"),
                                  pl.col("reason").alias("原因")),
                      None, key="data_held")
        if admin.login_box("data_held_admin", "采用暂未采用的文件"):
            choices = {r["report_id"]: f"{r['unit']} {r['year']}年：{r['file_name']}" for r in held.iter_rows(named=True)}
            with st.form("data_held_form"):
                chosen = st.selectbox("要采用的文件", list(choices), format_func=choices.get, key="data_held_pick")
                who = st.text_input("采用人", key="data_held_who")
                go = st.form_submit_button("采用此版本", type="primary")
            if go and chosen:
                problem_text = admin.adopt(chosen, who)
                if problem_text is None:
                    st.success(f"已采用：{ui.md_escape(choices[chosen])}。各页面的数字已按此文件重新核对。",
                               icon=":material/check_circle:")
                else:
                    st.error(ui.md_escape(str(problem_text)), icon=":material/error:")

    st.subheader("导入记录")
    runs = admin_q.load_runs()
    ui.show_table(runs.rename({"run_id": "批次", "started_at": "开始", "finished_at": "结束", "files_seen": "文件数",
                               "loaded": "新入库", "new_version": "新版本", "unchanged": "未变化", "duplicate": "重复",
                               "rejected": "无法解析", "skipped": "跳过", "findings_error": "错误",
                               "findings_warning": "警告", "findings_info": "提示"}),
                  None, key="data_runs")

    st.subheader("已入库的文件")
    reports = admin_q.loaded_reports(scope)
    ui.show_table(reports.select(pl.col("unit").alias("单位"), pl.col("region").alias("县市区"),
                                 pl.col("year").alias("年度"),
                                 pl.col("template").map_elements(template_name, return_dtype=pl.String).alias("模板"),
                                 pl.col("status").replace_strict(labels.VERSION_STATUS_NAMES, default="其他").alias("状态"),
                                 pl.col("version").alias("版本"), pl.col("format").map_elements(format_name, return_dtype=pl.String).alias("格式"),
                                 pl.col("file_name").alias("文件名"), pl.col("ingested_at").alias("入库时间"),
                                 pl.col("parser_version").alias("解析程序版本")),
                  None, key="data_reports", height=360,
                  caption=ui.md_escape(describe(scope)) + "（最多列出最近导入的 500 个）")

st.subheader("上传报告文件")
st.caption(f"接受 {'、'.join(config.UPLOAD_TYPES)} 文件，每个不超过 {config.UPLOAD_MAX_MB} MB。"
           "上传后自动解析、入库并重新核对；导入完成前数据库保持原样，失败不会损坏已有数据。")
if admin.login_box("data_admin", "上传报告"):
    files = st.file_uploader("选择报告文件（可多选）", type=list(config.UPLOAD_TYPES), accept_multiple_files=True,
                             key="data_upload", max_upload_size=config.UPLOAD_MAX_MB)
    if files and st.button("导入这些文件", type="primary", icon=":material/upload:", key="data_upload_go"):
        check = admin.check_uploads([(f.name, f.getvalue()) for f in files])
        for name, reason in check.refused:
            st.warning(f"{ui.md_escape(name)}：{reason}", icon=":material/block:")
        if check.accepted:
            try:
                with st.spinner(f"正在解析并导入 {len(check.accepted)} 个文件……"):
                    folder = admin.save_uploads(check.accepted)
                    ok, text = admin.run_upload_load(folder)
            except admin.UploadNotSaved as e:
                st.error(str(e), icon=":material/hard_drive:")
            else:
                (st.success if ok else st.warning)("导入完成" if ok else "导入没有完成", icon=":material/info:")
                st.text(text)
