"""Every Streamlit (and Altair-in-Streamlit) internal that the app relies on, and nothing else.

Streamlit's public API does not cover three things the app needs; each is done here with the
internal it uses named, and ``tests/test_st_internals.py`` checks that each internal still exists
and behaves as assumed, so that a Streamlit upgrade that changes one fails a named test instead of
silently changing the app:

* :func:`leave_pages_directory_mode` — ``PagesManager.uses_pages_directory`` (the legacy mode of an
  app with a ``pages/`` folder, see :func:`dashboard.ui.page_guard`);
* :func:`redirect_to_default_page` — the script run context's ``pages_manager``
  (``intended_page_name``, ``intended_page_script_hash``, ``set_script_intent``);
* :func:`without_schema_validation` — ``st.altair_chart`` converting the chart by calling its
  ``to_dict()``;
* :func:`use_chinese_error_text` — ``streamlit.elements.exception._GENERIC_UNCAUGHT_EXCEPTION_TEXT``,
  the text shown instead of an error's details (``client.showErrorDetails = "none"``).
"""

from __future__ import annotations

import functools
import logging

import altair as alt

log = logging.getLogger("nianbao.dashboard")


def leave_pages_directory_mode() -> None:
    """Tell Streamlit that this app navigates with ``st.navigation``, not by its ``pages/`` folder."""
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False


def redirect_to_default_page(url_path: str) -> None:
    """Turn this run's request for ``/<url_path>`` (typed, no page hash) into one for the default page.

    Call before ``st.navigation``.  Should Streamlit's PagesManager change, the worst case is
    Streamlit's own "Page not found" notice again, never an error.
    """
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    pm = getattr(get_script_run_ctx(), "pages_manager", None)
    try:
        if pm is not None and not pm.intended_page_script_hash \
                and (pm.intended_page_name or "").strip("/") == url_path:
            pm.set_script_intent("", "")
    except AttributeError:
        log.warning("Streamlit's PagesManager has changed: /%s is no longer mapped to the default page", url_path)


def without_schema_validation(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Let Streamlit convert the chart without a JSON-schema validation (~20 ms per chart).

    Streamlit calls ``chart.to_dict()``; the chart builders in dashboard/charts.py are fixed code
    whose specs the AppTest suite validates against the Vega-Lite schema on every page
    (tests/test_app_pages.py::test_chart_specs_are_valid_vega_lite).  ``object.__setattr__``
    because Altair's own ``__setattr__`` would store the attribute in the spec.
    """
    to_dict = chart.to_dict
    object.__setattr__(chart, "to_dict", functools.partial(to_dict, validate=False))
    return chart


GENERIC_ERROR_TEXT = "页面处理时出错，详细信息已记录在服务器日志中。请刷新页面后重试；如果反复出现，请联系系统管理员。"


def use_chinese_error_text() -> None:
    """Show users a Chinese sentence where Streamlit redacts an error it caught itself (a crafted
    message from a browser, say): its own sentence is English."""
    from streamlit.elements import exception as exception_utils

    if not hasattr(exception_utils, "_GENERIC_UNCAUGHT_EXCEPTION_TEXT"):
        log.warning("Streamlit's redacted-error text has moved: users see Streamlit's own sentence")
        return
    exception_utils._GENERIC_UNCAUGHT_EXCEPTION_TEXT = GENERIC_ERROR_TEXT
