"""Format detection, and the one entry point that reads any file.

``read_document(data, source)`` is what the rest of the project calls: it checks the size,
decides the format (magic bytes first, the file name's extension second), hands the bytes to the
reader registered for it in :data:`ingest.readers.REGISTRY` and guarantees that nothing but
:class:`RejectedFile` escapes, and that no control character survives into the document.

The size checks and text decoding the readers share live in :mod:`ingest.readers.common`.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from pathlib import PurePath

from ingest.document import Document
from ingest.errors import RejectedFile
from ingest.readers import REGISTRY
from ingest.readers.common import check_file_size, check_text_size, utf16_without_bom
from ingest.textnorm import strip_invisible

# ---------------------------------------------------------------------------------------------
# Format detection.

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# The leading comments sit in an atomic group: with backtracking into it, a head of many
# ``<!--x-->`` not followed by a tag took exponential time (the fuzz run found one: > 10 s).
_HTML_START = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?>(?:<!--.*?-->\s*)*)<(?:!doctype\s+html|html|head|body|meta|table|title|div|p[\s>]|style|script|link|font|center|h[1-6])",
                         re.IGNORECASE | re.DOTALL)
_HTML_ANYWHERE = re.compile(rb"<(?:!doctype\s+html|html|body|meta|table)[\s>]", re.IGNORECASE)

_EXT_HTML = {".html", ".htm", ".shtml", ".xhtml", ".jsp", ".asp", ".aspx", ".php"}

# What a user is told for formats we do not read, keyed by what the file is.
_UNSUPPORTED = {
    "xls": "不支持的文件格式（Excel 表格），年度报告请导入 Word、PDF、网页或文本文件",
    "ppt": "不支持的文件格式（PowerPoint 演示文稿），年度报告请导入 Word、PDF、网页或文本文件",
    "encrypted_docx": "Word 文件已加密（设置了打开密码），请取消密码后再导入",
    "ods": "不支持的文件格式（OpenDocument 表格或演示文稿），年度报告请导入 Word、PDF、网页或文本文件",
    "ofd": "不支持的文件格式（OFD 版式文件），请导出为 PDF 后再导入",
    "mht": "不支持的文件格式（MHT 网页归档），请在浏览器中另存为“网页，仅 HTML”后再导入",
    "image": "不支持的文件格式（图片），请导入文字版的报告（图片需要先经过 OCR 文字识别）",
    "archive": "不支持的文件格式（压缩包），请解压后分别导入其中的报告文件",
    "binary": "不支持的文件格式（可执行程序或其他二进制文件）",
}

# Legacy office formats read through LibreOffice (ingest/readers/office.py), by extension.
_EXT_OFFICE = {".doc": "doc", ".dot": "doc", ".wps": "wps", ".wpt": "wps", ".rtf": "rtf", ".odt": "odt"}

_EXT_UNSUPPORTED = {
    ".xls": "xls", ".xlsx": "xls", ".xlsm": "xls",
    ".et": "xls", ".csv": "xls", ".ppt": "ppt", ".pptx": "ppt", ".dps": "ppt", ".ods": "ods", ".odp": "ods",
    ".ofd": "ofd", ".mht": "mht", ".mhtml": "mht",
    ".png": "image", ".jpg": "image", ".jpeg": "image", ".gif": "image", ".bmp": "image",
    ".tif": "image", ".tiff": "image", ".webp": "image",
    ".zip": "archive", ".rar": "archive", ".7z": "archive", ".gz": "archive", ".tar": "archive",
    ".exe": "binary", ".dll": "binary",
}

_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")
_ARCHIVE_MAGIC = (b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b")


def _unsupported(kind: str) -> RejectedFile:
    return RejectedFile(_UNSUPPORTED[kind], "unsupported")


def _zip_kind(data: bytes) -> str | None:
    """What a zip holds: 'docx', an unsupported kind, or None when the zip cannot be opened."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except Exception:
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xls"
    if "ppt/presentation.xml" in names:
        return "ppt"
    if "OFD.xml" in names or any(n.lower() == "ofd.xml" for n in names):
        return "ofd"
    if "content.xml" in names and "mimetype" in names:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                mimetype = zf.read("mimetype")[:100]
        except Exception:
            return None
        return "odt" if mimetype.strip() == b"application/vnd.oasis.opendocument.text" else "ods"
    return "archive"


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


# Stream names in an OLE2 (Compound File) directory, which tell what the file is.
_OLE_WORD, _OLE_ENCRYPTED = _utf16("WordDocument"), _utf16("EncryptedPackage")
_OLE_SHEET, _OLE_SLIDES = (_utf16("Workbook"), _utf16("Book\0")), _utf16("PowerPoint Document")


def _ole_kind(data: bytes, ext: str) -> str:
    """'doc' / 'wps' (Word 97 binary, which WPS 文字 also writes), or an unsupported kind."""
    if _OLE_ENCRYPTED in data:
        return "encrypted_docx"
    if _OLE_WORD in data:
        return "wps" if _EXT_OFFICE.get(ext) == "wps" else "doc"
    if any(s in data for s in _OLE_SHEET) or _EXT_UNSUPPORTED.get(ext) == "xls":
        return "xls"
    if _OLE_SLIDES in data or _EXT_UNSUPPORTED.get(ext) == "ppt":
        return "ppt"
    if ext == ".docx":
        return "encrypted_docx"
    return _EXT_OFFICE.get(ext, "doc")


def _html_head(data: bytes) -> bytes:
    """The first KB of the file as ASCII-compatible bytes (UTF-16 decoded, BOM removed)."""
    head = data[:4096]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or utf16_without_bom(head):
        codec = ("utf-16" if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
                 else utf16_without_bom(head) or "utf-16")
        return head.decode(codec, errors="ignore").encode("utf-8", errors="ignore")
    if head.startswith(codecs.BOM_UTF8):
        return head[3:]
    return head


def detect_format(data: bytes, filename: str) -> str:
    """Return a format id of :data:`ingest.readers.REGISTRY`, or raise :class:`RejectedFile` with a Chinese reason.

    Magic bytes decide first; the extension decides only when the content has no signature
    (plain text, an HTML page without tags near the start) or to name an unsupported format.
    """
    check_file_size(len(data))
    ext = PurePath(filename).suffix.lower()

    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        kind = _zip_kind(data)
        if kind in ("docx", "odt"):
            return kind
        if kind is None:   # truncated or damaged zip: most likely a broken .docx (or .odt)
            if _EXT_OFFICE.get(ext) == "odt":
                return "odt"
            if _EXT_UNSUPPORTED.get(ext) in {"xls", "ppt", "ods", "ofd", "archive"}:
                raise _unsupported(_EXT_UNSUPPORTED[ext])
            return "docx"
        raise _unsupported(kind)
    if data.startswith(_OLE2):
        kind = _ole_kind(data, ext)
        if kind in REGISTRY:
            return kind
        raise _unsupported(kind)
    if data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP") or (
        data.startswith(b"BM") and ext == ".bmp"
    ):
        raise _unsupported("image")
    if data.startswith(_ARCHIVE_MAGIC):
        raise _unsupported("archive")
    if data.startswith(b"{\\rtf"):
        return "rtf"
    if data.startswith(b"\x7fELF") or (data.startswith(b"MZ") and ext in {".exe", ".dll", ""}):
        raise _unsupported("binary")

    head = _html_head(data)
    if head.lstrip()[:13].lower().startswith(b"mime-version:") or ext in {".mht", ".mhtml"}:
        raise _unsupported("mht")
    if _HTML_START.match(head) or (ext in _EXT_HTML and _HTML_ANYWHERE.search(head)):
        return "html"

    if ext == ".pdf":
        raise RejectedFile("不是有效的 PDF 文件，或文件已损坏", "corrupt")
    if ext in {".docx", ".docm", ".dotx"}:
        raise RejectedFile("不是有效的 Word（.docx）文件，或文件已损坏/不完整", "corrupt")
    if ext in _EXT_OFFICE:
        name = REGISTRY[_EXT_OFFICE[ext]].name
        raise RejectedFile(f"不是有效的{name}，或文件已损坏/不完整；请用 Word/WPS 打开确认，或另存为 .docx 后再导入",
                           "corrupt")
    if ext in _EXT_HTML:
        return "html"
    if ext in _EXT_UNSUPPORTED:
        raise _unsupported(_EXT_UNSUPPORTED[ext])
    return "text"


# ---------------------------------------------------------------------------------------------
# The entry point.

def read_document(data: bytes, source: str) -> Document:
    """Detect the format of ``data`` and read it with the matching reader.

    Raises only :class:`RejectedFile`: any other exception inside a reader (a malformed file
    tripping a library) becomes a plain reason naming the format and what to do.  The library's
    exception stays chained (``__cause__``) for maintainers; users never see its class name.
    """
    fmt = detect_format(data, PurePath(source).name)
    reader = REGISTRY[fmt]
    try:
        doc = reader.read(data, source)
    except RejectedFile:
        raise
    except Exception as exc:  # any library failure on a malformed file
        raise RejectedFile(f"{reader.name}已损坏或格式异常，无法读取；请用原软件打开确认，"
                           "或重新下载、另存后再导入", "corrupt") from exc
    _finish(doc)
    return doc


def _finish(doc: Document) -> None:
    """Strip what a reader let through of hidden and control characters; refuse empty or oversized text.

    The readers strip them as they extract text; this pass is the guarantee for every reader, present or
    future, since one control character in a cell breaks the XML exports much later.
    """
    total = 0
    has_text = False
    for b in doc.blocks:
        if b.kind == "text":
            b.text = strip_invisible(b.text)
            total += len(b.text)
            has_text = has_text or bool(b.text.strip())
        else:
            for row in b.rows:
                for c in row:
                    c.text = strip_invisible(c.text)
                    total += len(c.text)
                    has_text = has_text or bool(c.text.strip())
    if not has_text:
        raise RejectedFile("文件中没有可读取的文字内容", "empty")
    check_text_size(total)

