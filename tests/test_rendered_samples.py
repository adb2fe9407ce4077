"""The real samples re-rendered as DOCX, PDF, HTML and pipe text parse to the same cells as their source."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.demo.layout import EXTENSIONS, render
from ingest.demo.report import DemoReport
from ingest.parse import parse_file

SOURCES = ["quangang-2020.txt", "pingtan-2023.html"]


@pytest.mark.parametrize("fmt", ["docx", "pdf", "html", "pipe", "text"])
@pytest.mark.parametrize("source", SOURCES)
def test_rendered_sample_parses_like_its_source(samples_dir: Path, tmp_path: Path, source: str, fmt: str) -> None:
    base = parse_file(samples_dir / source)
    rep = DemoReport.from_parsed(base)
    out = tmp_path / f"rendered{EXTENSIONS[fmt]}"
    out.write_bytes(render(rep, fmt))
    got = parse_file(out)
    assert got["template"] == base["template"] and got["year"] == base["year"]
    assert got["unit"] == base["unit"]
    assert got["cells"] == base["cells"]
    assert got["units"] == base["units"]
