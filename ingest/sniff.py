"""Format and encoding detection, size checks, and the one entry point that reads any file.

``read_document(data, source)`` is what the rest of the project calls: it checks the size,
decides the format (magic bytes first, the file name's extension second), hands the bytes to the
reader registered for it in :data:`ingest.readers.REGISTRY` and guarantees that nothing but
:class:`RejectedFile` escapes, and that no control character survives into the document.

``decode_text`` is shared with the readers (HTML uses it for pages that declare no usable charset);
``strip_invisible`` (from :mod:`ingest.textnorm`) stays importable from here for the PDF reader.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from pathlib import PurePath

from ingest import limits
from ingest.document import Document
from ingest.errors import RejectedFile
from ingest.readers import REGISTRY
from ingest.textnorm import strip_invisible


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR become LF."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ---------------------------------------------------------------------------------------------
# Size checks shared by the readers.

def check_file_size(size: int) -> None:
    if size == 0:
        raise RejectedFile("文件为空", "empty")
    if size > limits.MAX_FILE_BYTES:
        raise RejectedFile(
            f"文件过大（{size / 1024 / 1024:.1f} MB，上限 {limits.MAX_FILE_BYTES // (1024 * 1024)} MB），"
            "不像是一份年度报告",
            "too_large",
        )


def check_text_size(n_chars: int) -> None:
    if n_chars > limits.MAX_TEXT_CHARS:
        raise RejectedFile(
            f"文字内容过长（约 {n_chars / 10000:.0f} 万字，上限 {limits.MAX_TEXT_CHARS // 10000} 万字），"
            "不像是一份年度报告",
            "too_large",
        )


def too_many_cells() -> RejectedFile:
    """The error for a document whose tables hold more than ``limits.MAX_TABLE_CELLS`` cells."""
    return RejectedFile(
        f"表格单元格过多（超过 {limits.MAX_TABLE_CELLS} 个），不像是一份年度报告", "too_large"
    )


# ---------------------------------------------------------------------------------------------
# Encoding.

_UNDECODABLE = "无法识别文件的文字编码（可能是二进制文件或已损坏）"

# Labels that browsers and Chinese sites use, mapped to the Python codec that reads them.
# GB2312 and GBK pages are read as GB18030, the superset: real "GB2312" pages contain GBK characters.
_CODEC_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
    "gb_2312": "gb18030", "csgb2312": "gb18030", "chinese": "gb18030", "iso-ir-58": "gb18030",
    "gb18030": "gb18030", "cp936": "gb18030", "ms936": "gb18030", "windows-936": "gb18030",
    "big5": "big5hkscs", "big5-hkscs": "big5hkscs", "x-x-big5": "big5hkscs",
    "utf8": "utf-8", "unicode-1-1-utf-8": "utf-8",
}


def codec_for_label(label: str | None) -> str | None:
    """The Python codec for an encoding label found in a file (``gb2312`` → ``gb18030``), or None."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _CODEC_ALIASES:
        return _CODEC_ALIASES[label]
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    # Refuse the codec module's non-text codecs (base64, rot13, ...) that a page could name.
    if not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when NUL bytes sit on one parity only (ASCII chars in UTF-16)."""
    head = data[:8192]
    if len(head) < 4 or len(head) % 2:
        head = head[: len(head) - (len(head) % 2)]
    if len(head) < 4:
        return None
    even = head[0::2].count(0)
    odd = head[1::2].count(0)
    half = len(head) // 2
    need = max(2, half // 50)   # at least 2% of the characters are ASCII
    # CJK characters whose low byte is 0 (开 U+5F00) put a few NULs on the other parity too.
    if odd >= need and even * 4 <= odd:
        return "utf-16-le"
    if even >= need and odd * 4 <= even:
        return "utf-16-be"
    return None


_PLAUSIBLE = re.compile(
    "[\t\n\r\x20-\x7e\u00a0-\u00ff\u2000-\u206f\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]"
)


def _plausible_utf16(text: str) -> bool:
    """Decoded UTF-16 (found by the NUL pattern only) must be mostly ASCII and CJK, not junk."""
    sample = text[:20_000]
    return bool(sample) and len(_PLAUSIBLE.findall(sample)) >= 0.95 * len(sample)


_NOT_CONTROL_BYTES = bytes(b for b in range(256) if not (1 <= b <= 8 or 0x0E <= b <= 0x19 or 0x1C <= b <= 0x1F
                                                        or b == 0x7F))


def _looks_binary(text: str) -> bool:
    """True when decoded text still contains NULs or many control characters."""
    if "\x00" in text:
        return True
    sample = text[:200_000]
    if not sample:
        return False
    # Count the control characters on the UTF-8 bytes (they encode as themselves, and nothing else
    # encodes to bytes below 0x80): bytes.translate runs ~5× faster than a regex over the text.
    controls = len(sample.encode("utf-8", "surrogatepass").translate(None, _NOT_CONTROL_BYTES))
    controls += sample.count("\ufffd")
    return controls > max(8, len(sample) // 200)


def _try(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


# A few damaged bytes (a download cut off inside a character, a byte garbled in transit) must not cost the
# whole report: with one undecodable sequence, or at most one per 1,000 bytes, the text is read with U+FFFD
# in their place.  Text in another encoding fails far more often than that (every GBK character is invalid
# UTF-8, and a report has thousands).
_BYTES_PER_BAD = 1000


def _nearly(data: bytes, codec: str) -> str | None:
    """``data`` decoded with replacement characters when only a few bytes are undecodable, else None."""
    text = data.decode(codec, errors="replace")
    return text if text.count("\ufffd") <= max(1, len(data) // _BYTES_PER_BAD) else None


def decode_text(
    data: bytes, *, declared: str | None = None, max_chars: int | None = limits.MAX_TEXT_CHARS
) -> tuple[str, str]:
    """Decode bytes of a text (or HTML) file; return ``(text, encoding name)``.

    Order: BOM (UTF-8, UTF-16 LE/BE); UTF-16 without BOM (NUL pattern); strict UTF-8, then UTF-8
    with a few damaged bytes; the ``declared`` encoding if any (an HTML ``<meta charset>``); GB18030
    (superset of GBK/GB2312), strict then with a few damaged bytes; charset_normalizer as the last
    resort.  Newlines are normalised to LF and hidden Unicode is
    stripped.  Binary junk and undecodable bytes raise :class:`RejectedFile` (code ``encoding``);
    text longer than ``max_chars`` raises ``too_large`` (pass None to skip, as HTML does for its
    source and checks the extracted text instead).
    """
    text: str | None = None
    encoding = ""
    if data.startswith(codecs.BOM_UTF8):
        text, encoding = _try(data[3:], "utf-8") or _nearly(data[3:], "utf-8"), "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not data.startswith(
        codecs.BOM_UTF32_LE
    ):
        encoding = "utf-16-le" if data.startswith(codecs.BOM_UTF16_LE) else "utf-16-be"
        text = _try(data[2:], encoding)
        encoding = "utf-16"
    else:
        utf16 = _utf16_without_bom(data)
        if utf16:
            text, encoding = _try(data, utf16), utf16
            if text is not None and not _plausible_utf16(text):
                text = None
        if text is None:
            text, encoding = _try(data, "utf-8") or _nearly(data, "utf-8"), "utf-8"
        codec = codec_for_label(declared)
        if text is None and codec and codec != "utf-8":
            text, encoding = _try(data, codec), codec
        if text is None:
            text, encoding = _try(data, "gb18030") or _nearly(data, "gb18030"), "gb18030"
        if text is None:
            text, encoding = _charset_normalizer(data)
    if text is None or _looks_binary(text):
        raise RejectedFile(_UNDECODABLE, "encoding")
    text = strip_invisible(normalise_newlines(text))
    if max_chars is not None and len(text) > max_chars:
        check_text_size(len(text))
    return text, encoding


def _charset_normalizer(data: bytes) -> tuple[str | None, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(data[:1_000_000] if len(data) > 1_000_000 else data).best()
    if best is None or best.encoding is None:
        return None, ""
    text = _try(data, best.encoding)
    return text, best.encoding


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
    "doc": "不支持的文件格式（旧版 Word .doc），请另存为 .docx 后再导入",
    "wps": "不支持的文件格式（WPS 文字 .wps），请另存为 .docx 后再导入",
    "xls": "不支持的文件格式（Excel 表格），年度报告请导入 Word、PDF、网页或文本文件",
    "ppt": "不支持的文件格式（PowerPoint 演示文稿），年度报告请导入 Word、PDF、网页或文本文件",
    "encrypted_docx": "Word 文件已加密（设置了打开密码），请取消密码后再导入",
    "odt": "不支持的文件格式（OpenDocument 文档），请另存为 .docx 后再导入",
    "ofd": "不支持的文件格式（OFD 版式文件），请导出为 PDF 后再导入",
    "rtf": "不支持的文件格式（RTF 文档），请另存为 .docx 后再导入",
    "mht": "不支持的文件格式（MHT 网页归档），请在浏览器中另存为“网页，仅 HTML”后再导入",
    "image": "不支持的文件格式（图片），请导入文字版的报告（图片需要先经过 OCR 文字识别）",
    "archive": "不支持的文件格式（压缩包），请解压后分别导入其中的报告文件",
    "binary": "不支持的文件格式（可执行程序或其他二进制文件）",
}

_EXT_UNSUPPORTED = {
    ".doc": "doc", ".dot": "doc", ".wps": "wps", ".xls": "xls", ".xlsx": "xls", ".xlsm": "xls",
    ".et": "xls", ".csv": "xls", ".ppt": "ppt", ".pptx": "ppt", ".dps": "ppt", ".odt": "odt",
    ".ofd": "ofd", ".rtf": "rtf", ".mht": "mht", ".mhtml": "mht",
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
        return "odt"
    return "archive"


def _html_head(data: bytes) -> bytes:
    """The first KB of the file as ASCII-compatible bytes (UTF-16 decoded, BOM removed)."""
    head = data[:4096]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_without_bom(head):
        codec = ("utf-16" if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
                 else _utf16_without_bom(head) or "utf-16")
        return head.decode(codec, errors="ignore").encode("utf-8", errors="ignore")
    if head.startswith(codecs.BOM_UTF8):
        return head[3:]
    return head


def detect_format(data: bytes, filename: str) -> str:
    """Return "text" | "html" | "docx" | "pdf", or raise :class:`RejectedFile` with a Chinese reason.

    Magic bytes decide first; the extension decides only when the content has no signature
    (plain text, an HTML page without tags near the start) or to name an unsupported format.
    """
    check_file_size(len(data))
    ext = PurePath(filename).suffix.lower()

    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        kind = _zip_kind(data)
        if kind == "docx":
            return "docx"
        if kind is None:   # truncated or damaged zip: most likely a broken .docx
            if _EXT_UNSUPPORTED.get(ext) in {"xls", "ppt", "odt", "ofd", "archive"}:
                raise _unsupported(_EXT_UNSUPPORTED[ext])
            return "docx"
        raise _unsupported(kind)
    if data.startswith(_OLE2):
        if ext == ".docx":
            raise _unsupported("encrypted_docx")
        kind = _EXT_UNSUPPORTED.get(ext, "doc")
        raise _unsupported(kind if kind in {"doc", "wps", "xls", "ppt"} else "doc")
    if data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP") or (
        data.startswith(b"BM") and ext == ".bmp"
    ):
        raise _unsupported("image")
    if data.startswith(_ARCHIVE_MAGIC):
        raise _unsupported("archive")
    if data.startswith(b"{\\rtf"):
        raise _unsupported("rtf")
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

