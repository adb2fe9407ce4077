"""The readers, one per source format, registered in :data:`REGISTRY`.

A reader is a function ``read(data: bytes, source: str) -> Document``.  Its module is imported only when a
file of its format is read: starting the CLI to parse a .txt must not import pdfplumber or lxml.
:func:`ingest.sniff.read_document` dispatches through the registry; the Chinese format names in its
messages and the dashboard's accepted upload extensions come from here too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.document import Document

ReadFn = Callable[[bytes, str], "Document"]


@dataclass(frozen=True, slots=True)
class Reader:
    """One source format: how to load its read function, its name for users, its upload extensions."""

    load: Callable[[], ReadFn]
    name: str
    extensions: tuple[str, ...]
    converted: bool = False     # read by converting to another registered format first (LibreOffice)

    def read(self, data: bytes, source: str) -> Document:
        return self.load()(data, source)


def _text() -> ReadFn:
    from ingest.readers.text import read

    return read


def _html() -> ReadFn:
    from ingest.readers.html import read

    return read


def _docx() -> ReadFn:
    from ingest.readers.docx import read

    return read


def _pdf() -> ReadFn:
    from ingest.readers.pdf import read

    return read


def _office(fmt: str) -> Callable[[], ReadFn]:
    def load() -> ReadFn:
        from ingest.readers.office import read

        return lambda data, source: read(data, source, fmt)

    return load


# Format id (what ``sniff.detect_format`` returns; ``Document.format`` for the formats read directly,
# ``Document.converted_from`` for the converted ones) → reader.
REGISTRY: dict[str, Reader] = {
    "text": Reader(_text, "文本文件", ("txt",)),
    "html": Reader(_html, "网页文件", ("htm", "html")),
    "docx": Reader(_docx, "Word 文档（.docx）", ("docx",)),
    "pdf": Reader(_pdf, "PDF 文件", ("pdf",)),
    "doc": Reader(_office("doc"), "旧版 Word 文档（.doc）", ("doc",), converted=True),
    "wps": Reader(_office("wps"), "WPS 文字文档（.wps）", ("wps",), converted=True),
    "rtf": Reader(_office("rtf"), "RTF 文档", ("rtf",), converted=True),
    "odt": Reader(_office("odt"), "OpenDocument 文档（.odt）", ("odt",), converted=True),
}


def format_name(fmt: str | None) -> str:
    """A format's name for users (``旧版 Word 文档（.doc）``); the id itself when unknown."""
    reader = REGISTRY.get(fmt or "")
    return reader.name if reader is not None else (fmt or "")


def upload_extensions() -> tuple[str, ...]:
    """Every extension a user may upload, in registry order (``txt``, ``htm``, ``html``, ``docx``, ``pdf``,
    ``doc``, ``wps``, ``rtf``, ``odt``)."""
    return tuple(ext for reader in REGISTRY.values() for ext in reader.extensions)
