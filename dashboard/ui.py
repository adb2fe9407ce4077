"""Small shared widgets: charts with their numbers, tables, KPI rows, severity markers, messages.

``show_chart`` and ``show_table`` are the single places where every chart and table of every
page is drawn; export buttons (PNG/SVG, CSV/XLSX) belong in :func:`_export_slot` only.
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Callable, Sequence
from typing import NoReturn

import altair as alt
import polars as pl
import streamlit as st

from dashboard import config
from dashboard.data.connection import DbChanged, DbUnavailable
from dashboard.data.where import describe
from dashboard.display import MISSING_MARK as MISSING_MARK
from dashboard.display import esc as esc
from dashboard.display import findings_frame as findings_frame
from dashboard.display import fmt_int as fmt_int
from dashboard.display import fmt_pct as fmt_pct
from dashboard.display import md_escape as md_escape
from dashboard.display import with_unit_label as with_unit_label
from dashboard.labels import SEVERITY_FILL, SEVERITY_LABELS, SEVERITY_NAMES
from dashboard.st_internals import (
    leave_pages_directory_mode,
    redirect_to_default_page,
    without_schema_validation,
)

log = logging.getLogger("nianbao.dashboard")

SEVERITY_ICONS = {"error": ":material/error:", "warning": ":material/warning:", "info": ":material/info:"}
SEVERITY_BADGE_COLORS = {"error": "red", "warning": "orange", "info": "blue"}

# ---------------------------------------------------------------- charts and tables


_BAD_FILE_CHARS = re.compile(r'[\\/:*?"<>|\s]+')


def _export_slot(kind: str, title: str, data: pl.DataFrame, key: str, chart: alt.TopLevelMixin | None = None) -> None:
    """Where export buttons go (chart PNG/SVG, table CSV/XLSX): one place for every page.

    ``kind`` is "chart" or "table".  The files are made only when a button is clicked (callable
    ``data``); pictures carry the title, the current filter and the data date (dashboard/export.py).
    """
    from dashboard import export, filters

    stem = _BAD_FILE_CHARS.sub("_", title).strip("_") or "导出"
    buttons = []
    if kind == "chart" and chart is not None:
        scope_line, day = describe(filters.current()), _data_date()
        buttons += [("图片 PNG", "png", "image/png", ":material/image:",
                     lambda: export.chart_png(chart, title=title, scope=scope_line, data_date=day)),
                    ("矢量图 SVG", "svg", "image/svg+xml", ":material/image:",
                     lambda: export.chart_svg(chart, title=title, scope=scope_line, data_date=day))]
    buttons += [("表格 CSV", "csv", "text/csv", ":material/download:", lambda: export.table_csv(data)),
                ("表格 XLSX", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 ":material/download:", lambda: export.table_xlsx(data, title, title=title))]
    for col, (label, ext, mime, icon, make) in zip(st.columns(len(buttons)), buttons, strict=True):
        col.download_button(label, data=make, file_name=f"{stem}.{ext}", mime=mime, key=f"{key}_dl_{ext}",
                            icon=icon, on_click="ignore")


def briefing_buttons(scope) -> None:
    """One-click 简报 (.docx) and 整改清单 (.xlsx) for the current filter; built only when clicked."""
    from dashboard import config
    from dashboard.briefing import build_briefing, build_rectification
    from dashboard.briefing_data import scope_kwargs
    from dashboard.data.options import units_in_scope

    if units_in_scope(scope) == 0:
        # the files would fail to build (BriefingError), and a download that fails does nothing
        st.info("筛选范围内没有乡镇（街道），无法生成简报和整改清单：请放宽县市区、单位层级或名称筛选。",
                icon=":material/info:")
        return
    db = str(config.db_path())
    args = scope_kwargs(scope)
    year = args.get("year") or "全部"
    left, right, _ = st.columns([1, 1, 3])
    left.download_button("下载简报（Word）", data=lambda: build_briefing(db, **args), file_name=f"简报-{year}.docx",
                         mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                         icon=":material/description:", key="briefing_docx", on_click="ignore")
    right.download_button("下载整改清单（Excel）", data=lambda: build_rectification(db, **args),
                          file_name=f"整改清单-{year}.xlsx",
                          mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          icon=":material/checklist:", key="rectification_xlsx", on_click="ignore")


def _data_date() -> str:
    """Date of the latest load (the "数据日期" printed on exported pictures)."""
    from dashboard.data import connection as connection_q

    try:
        when = connection_q.file_query("SELECT max(ingested_at) AS t FROM reports WHERE status = 'current'")["t"][0]
    except connection_q.DbChanged:
        raise                # the page is drawn again from the new version
    except Exception:  # never let a caption break a page
        when = None
    return when.strftime("%Y-%m-%d") if when is not None else "未知"


def _arrow(df: pl.DataFrame):
    """The frame as an Arrow table: Streamlit sends Arrow as is, while a polars frame goes through
    pandas first (~2 ms per table, the largest part of drawing one)."""
    return df.to_arrow()


def show_chart(chart: alt.TopLevelMixin, data: pl.DataFrame, title: str, key: str,
               on_select: str | Callable | None = None):
    """Draw an Altair chart, a "查看数据" expander with its numbers, and (later) export buttons.

    Returns the selection state when ``on_select`` is given.
    """
    kwargs = {"key": key, "width": "stretch"}
    if on_select is not None:
        kwargs["on_select"] = on_select
    event = st.altair_chart(without_schema_validation(chart), **kwargs)
    with st.expander(f"查看数据：{title}", icon=":material/table:"):
        st.dataframe(_arrow(data), hide_index=True, width="stretch", placeholder=MISSING_MARK)
        _export_slot("chart", title, data, key, chart)
    return event


def show_table(df: pl.DataFrame, title: str | None, key: str, *, column_config: dict | None = None,
               height: int | str = "auto", on_select: str | Callable | None = None,
               selection_mode: str = "single-row", caption: str | None = None, styler=None):
    """Draw a table (optionally selectable) with its title, caption and (later) export buttons."""
    if title:
        st.markdown(f"**{title}**")
    if caption:
        st.caption(caption)
    kwargs: dict = {"hide_index": True, "width": "stretch", "key": key, "height": height, "placeholder": MISSING_MARK}
    if column_config:
        kwargs["column_config"] = column_config
    if on_select is not None:
        kwargs["on_select"] = on_select
        kwargs["selection_mode"] = selection_mode
    event = st.dataframe(styler if styler is not None else _arrow(df), **kwargs)
    _export_slot("table", title or key, df, key)
    return event


# ---------------------------------------------------------------- figures


def kpi_row(items: Sequence[tuple[str, str, str | None]]) -> None:
    """One row of key figures: (label, value, help)."""
    cols = st.columns(len(items))
    for col, (label, value, help_) in zip(cols, items, strict=True):
        col.metric(label, value, help=help_, border=True)


def severity_cards(counts: dict[str, int], severities: Sequence[str] = ("error", "warning", "info")) -> None:
    """Big, strongly coloured finding counts per severity (numbers only; no report text)."""
    cells = []
    for s in severities:
        n = int(counts.get(s, 0))
        fill = SEVERITY_FILL[s] if n else "#9e9e9e"
        cells.append(
            f'<div style="flex:1;min-width:140px;background:{fill};color:#fff;border-radius:8px;'
            f'padding:10px 16px;font-weight:700">'
            f'<div style="font-size:14px">{esc(SEVERITY_NAMES[s])}</div>'
            f'<div style="font-size:30px;line-height:1.2">{n:,} <span style="font-size:14px">条</span></div></div>')
    st.html(f'<div style="display:flex;gap:12px;flex-wrap:wrap">{"".join(cells)}</div>')


def severity_badge(severity: str, text: str | None = None) -> None:
    st.badge(text or SEVERITY_NAMES.get(severity, severity), icon=SEVERITY_ICONS.get(severity),
             color=SEVERITY_BADGE_COLORS.get(severity, "gray"))


def severity_column():
    """Table column showing the severity as a strongly coloured tag (no per-cell styling needed)."""
    return st.column_config.MultiselectColumn(
        "级别", options=list(SEVERITY_LABELS.values()), width="small",
        color=[SEVERITY_FILL["error"], SEVERITY_FILL["warning"], SEVERITY_FILL["info"]])


# ---------------------------------------------------------------- messages


def empty_state(what: str, todo: str) -> None:
    """Say what is empty and what to do about it."""
    st.info(f"{what}。{todo}", icon=":material/info:")


def show_db_problem(err: DbUnavailable) -> None:
    if err.kind == "missing":
        head = "还没有数据库，暂时无法显示数据"
    elif err.kind == "schema":
        head = "数据库结构不完整，暂时无法显示数据"
    else:
        head = "数据库文件无法读取，暂时无法显示数据"
    st.error(f"{head}。{err.message}", icon=":material/database:")
    st.markdown(f"**如何处理：** {config.rebuild_hint()}。管理员也可以在“数据管理”页面上传报告文件。")


_IN_APP: contextvars.ContextVar[bool] = contextvars.ContextVar("nianbao_in_app", default=False)


def page_guard() -> None:
    """Make sure a page runs inside app.py (its sidebar filters and navigation).

    Streamlit keeps a legacy mode for apps with a ``pages/`` folder: until a script run has
    called ``st.navigation``, a URL such as ``/overview`` that matches a file name in ``pages/``
    runs that file on its own (the first request after a server start; and every run under
    ``AppTest``, which resets the mode before each run).  When that happens, run app.py right
    here — it draws the sidebar and navigation and runs this same page inside them, in this same
    script run, so widget clicks are not lost — and stop the stand-alone run afterwards.
    """
    if _IN_APP.get():
        return
    import runpy

    leave_pages_directory_mode()
    runpy.run_path(str(config.ROOT / "app.py"), run_name="__main__")
    st.stop()


def default_page_also_at(url_path: str) -> None:
    """Let ``/<url_path>`` open the default page (call before ``st.navigation``).

    ``st.navigation`` serves the default page at ``/`` only: its own ``url_path`` is reserved but
    unreachable, so a typed or bookmarked ``/overview`` showed Streamlit's "Page not found" notice.
    A request that names ``url_path`` (a URL typed in the browser: a page name, no page hash) is
    turned here into a request for the default page, before ``st.navigation`` resolves it; the
    browser then shows the page's canonical address ``/`` (the query string is kept); how:
    :func:`dashboard.st_internals.redirect_to_default_page`.
    """
    redirect_to_default_page(url_path)


def db_guard() -> None:
    """Stop the page with a plain-Chinese message when the database cannot be read."""
    page_guard()
    problem = st.session_state.get("_db_problem")
    if problem is not None:
        show_db_problem(problem)
        st.stop()


VERSION_RERUNS_KEY = "_db_changed_reruns"
MAX_VERSION_RERUNS = 5


def database_changed() -> NoReturn:
    """The database file was replaced during this run (``connection_q.DbChanged``): draw the page again.

    Everything drawn so far came from the version pinned at the start of the run; rerunning shows
    the whole page from the new one.  If the file changes again and again (every run meets a new
    version), stop after a few reruns with a plain message instead of rerunning for ever.
    """
    n = int(st.session_state.get(VERSION_RERUNS_KEY, 0))
    if n < MAX_VERSION_RERUNS:
        st.session_state[VERSION_RERUNS_KEY] = n + 1
        st.rerun()
    st.session_state[VERSION_RERUNS_KEY] = 0
    st.warning("数据库正在更新（有人正在导入报告或保存审核结果），这一页没有显示完整（上面显示的部分都来自同一时刻的"
               "数据）。请稍等片刻后刷新页面。", icon=":material/sync:")
    st.stop()


def run_page(page) -> None:
    """Run a page; turn any error into a plain-Chinese message instead of a traceback."""
    token = _IN_APP.set(True)
    changed = False
    try:
        page.run()
    except DbChanged:
        changed = True
        database_changed()
    except DbUnavailable as e:
        show_db_problem(e)
    except Exception as e:  # the last safety net: never show a traceback to users
        log.exception("page failed")
        st.error("页面显示时出错。请刷新页面重试；如果问题持续，请把下面的信息告诉维护人员。",
                 icon=":material/report:")
        with st.expander("技术信息（供维护人员）"):
            st.text(f"{type(e).__name__}: {e}")
    finally:
        _IN_APP.reset(token)
        if not changed:      # the run got through (or stopped / switched page by itself) on one version
            st.session_state[VERSION_RERUNS_KEY] = 0


# ---------------------------------------------------------------- navigation and problem lists

REPORT_PAGE = "pages/report.py"
FINDINGS_PAGE = "pages/findings.py"


def open_report(unit_id: str, year: int, cell: str | None = None, finding: str | None = None) -> None:
    """Switch to 报告详情 for one unit and year (optionally pointing at a cell / finding)."""
    params = {"unit": unit_id, "year": str(int(year))}
    if cell:
        params["cell"] = cell
    if finding:
        params["finding"] = finding
    st.switch_page(REPORT_PAGE, query_params=params)


def findings_table(df: pl.DataFrame, key: str, title: str | None = None, with_unit: bool = True,
                   height: int | str = "auto") -> int | None:
    """Draw a selectable problem list with unmistakable severity colours; returns the selected row."""
    shown = findings_frame(df, with_unit)
    event = show_table(shown, title, key, on_select="rerun", height=height,
                       column_config={"级别": severity_column(),
                                      "问题说明": st.column_config.TextColumn(width="large"),
                                      "应为": st.column_config.NumberColumn(format="%g"),
                                      "报告为": st.column_config.NumberColumn(format="%g")})
    rows = event.selection.rows if event is not None and hasattr(event, "selection") else []
    rows = fresh_selection(key, list(rows))
    return rows[0] if rows else None


def fresh_selection(key: str, selection: list):
    """``selection`` when it differs from the one already acted on for ``key``, else ``[]``.

    A chart or table selection survives reruns; acting on it once (e.g. opening a report)
    must not repeat every time the page is drawn again.
    """
    last_key = f"_last_selection_{key}"
    if not selection:
        st.session_state[last_key] = None
        return []
    if selection == st.session_state.get(last_key):
        return []
    st.session_state[last_key] = selection
    return selection
