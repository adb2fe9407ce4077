"""nianbao 年报监测 — the Streamlit entry point: page config, navigation, shared sidebar filters.

Run with ``bash scripts/run-app.sh`` (or ``streamlit run app.py``); the database path comes from
the environment variable ``NIANBAO_DB`` (default ``data/nianbao.duckdb``).
"""

from __future__ import annotations

import streamlit as st

from dashboard import filters, st_internals, ui
from dashboard.data import connection as connection_q
from dashboard.data import snapshot as snapshot_q
from dashboard.pages_list import PAGES as PAGE_LIST

st.set_page_config(page_title="年报监测", page_icon=":material/fact_check:", layout="wide",
                   initial_sidebar_state="expanded")

PAGES = [st.Page(p.script, title=p.title, icon=p.icon, url_path=p.url_path, default=p.default) for p in PAGE_LIST]

st_internals.use_chinese_error_text()      # an error Streamlit redacts reads in Chinese too
ui.default_page_also_at("overview")        # /overview opens 总览 too (the default page lives at /)
page = st.navigation(PAGES)
st.sidebar.caption("年报监测 · 乡镇（街道）政府信息公开工作年度报告")

# One database version for the whole run: every query below reads the file version pinned here;
# if a load swaps the file meanwhile, the run is started again from the new version
# (dashboard/data/connection.py, "One version per script run").
with connection_q.pinned():
    st.session_state["_db_problem"] = None
    try:
        snapshot_q.check_database()
        filters.draw_sidebar()
    except connection_q.DbChanged:
        ui.database_changed()
    except connection_q.DbUnavailable as e:
        st.session_state["_db_problem"] = e
        st.session_state[filters.SCOPE_KEY] = None

    ui.run_page(page)
