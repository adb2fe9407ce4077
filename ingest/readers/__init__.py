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


# Format id (``Document.format``, what ``sniff.detect_format`` returns) → reader.
REGISTRY: dict[str, Reader] = {
    "text": Reader(_text, "文本文件", ("txt",)),
    "html": Reader(_html, "网页文件", ("htm", "html")),
    "docx": Reader(_docx, "Word 文档（.docx）", ("docx",)),
    "pdf": Reader(_pdf, "PDF 文件", ("pdf",)),
}


def upload_extensions() -> tuple[str, ...]:
    """Every extension a user may upload, in registry order (``txt``, ``htm``, ``html``, ``docx``, ``pdf``)."""
    return tuple(ext for reader in REGISTRY.values() for ext in reader.extensions)
