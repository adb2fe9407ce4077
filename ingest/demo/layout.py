"""``render(report, fmt) -> bytes``: one entry point for every demo output format.

Formats: ``text`` (DOCX→text tab layout), ``pipe`` (scraped pipe-flattened text), ``html`` (saved web page),
``docx``, ``pdf``.  ``EXTENSIONS`` gives the file extension of each.
"""

from __future__ import annotations

from ingest.demo.render_docx import render_docx
from ingest.demo.render_html import render_html
from ingest.demo.render_pdf import render_pdf
from ingest.demo.render_text import render_text
from ingest.demo.report import DemoReport

FORMATS = ("text", "pipe", "html", "docx", "pdf")
EXTENSIONS = {"text": ".txt", "pipe": ".txt", "html": ".html", "docx": ".docx", "pdf": ".pdf"}
SOURCE_FORMAT = {"text": "text", "pipe": "text", "html": "html", "docx": "docx", "pdf": "pdf"}


def render(report: DemoReport, fmt: str) -> bytes:
    """Render one report to the bytes of a file in format ``fmt`` (see FORMATS)."""
    if fmt == "text":
        return render_text(report, "tab")
    if fmt == "pipe":
        return render_text(report, "pipe")
    if fmt == "html":
        return render_html(report)
    if fmt == "docx":
        return render_docx(report)
    if fmt == "pdf":
        return render_pdf(report)
    raise ValueError(f"unknown demo format {fmt!r}; expected one of {', '.join(FORMATS)}")
