"""What the readers share: size limits with their messages, and decoding the bytes of a text file.

The readers import these from here, never from :mod:`ingest.sniff` (which imports the readers' registry):
sniff detects the format and dispatches, this module only checks and decodes.
"""

from __future__ import annotations

import codecs
import re

from ingest import limits
from ingest.errors import RejectedFile
from ingest.textnorm import strip_invisible


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR become LF."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ---------------------------------------------------------------------------------------------
# Size checks: sniff checks the file before detection, the readers the text they extract.

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


def utf16_without_bom(data: bytes) -> str | None:
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
        utf16 = utf16_without_bom(data)
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
