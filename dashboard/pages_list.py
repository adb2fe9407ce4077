"""The app's pages, written once: ``app.py`` builds its navigation from this list, and the page
tests, the browser test and ``bench/bench_pages.py`` iterate it (importing ``app.py`` would run
Streamlit; this module has no side effects)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PageSpec:
    script: str          # path from the project root
    title: str           # Chinese title in the navigation and the page heading
    icon: str
    url_path: str
    has_charts: bool     # the page draws charts (the chart-export tests visit these)
    default: bool = False

    @property
    def url(self) -> str:
        """The path the browser opens: the default page lives at ``/``."""
        return "" if self.default else self.url_path


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/overview.py", "总览", ":material/dashboard:", "overview", True, default=True),
    PageSpec("pages/volume.py", "申请量", ":material/inbox:", "volume", True),
    PageSpec("pages/outcomes.py", "办理结果", ":material/rule:", "outcomes", True),
    PageSpec("pages/procurement.py", "政府采购", ":material/payments:", "procurement", True),
    PageSpec("pages/trends.py", "年度趋势", ":material/trending_up:", "trends", True),
    PageSpec("pages/findings.py", "一致性预警", ":material/warning:", "findings", False),
    PageSpec("pages/report.py", "报告详情", ":material/description:", "report", False),
    PageSpec("pages/data.py", "数据管理", ":material/database:", "data", False),
)
