"""Every pdfminer function the PDF reader replaces, and why: each bounds the work a crafted file can cause.

The replacements hold for the whole process once this module is imported (the PDF reader imports
it).  Each target is looked up before it is replaced, so a pdfminer upgrade that renames one fails
at import instead of silently dropping the protection; tests/test_pdf_hardening.py checks that
pdfminer still calls each one by that name.
"""

from __future__ import annotations

import zlib
from base64 import a85decode

import pdfminer.pdftypes
from pdfminer.pdfinterp import PDFPageInterpreter

from ingest import limits
from ingest.errors import RejectedFile


def inflate_damaged(data: bytes) -> bytes:
    """pdfminer's fallback for a Flate stream that fails its checksum, in linear time.

    pdfminer feeds such a stream to zlib one byte at a time and concatenates the output, which is
    quadratic: one damaged 1 MB stream took half a minute.  Same result here: the output when the error
    lies in the last 3 bytes (the checksum), else ``zlib.error``; and no more than ``limits.MAX_PDF_PAGE_STREAM``.
    """
    d = zlib.decompressobj()
    out: list[bytes] = []
    size = 0
    for pos in range(0, len(data), 4096):
        chunk = data[pos:pos + 4096]
        before = d.copy()
        try:
            piece = d.decompress(chunk)
        except zlib.error:
            d = before                      # find the failing byte, as pdfminer would
            for i in range(len(chunk)):
                try:
                    out.append(d.decompress(chunk[i:i + 1]))
                except zlib.error:
                    if pos + i < len(data) - 3:
                        raise
                    return b"".join(out)
            piece = b""
        out.append(piece)
        size += len(piece)
        if size > limits.MAX_PDF_PAGE_STREAM:
            raise zlib.error("inflated stream over the page limit")
    return b"".join(out)


_WHITE = b" \t\n\r\x0b\x0c"


def ascii85_decode(data: bytes) -> bytes:
    """pdfminer's ASCII85 decoding without its quadratic regexes.

    pdfminer strips the optional ``<~`` and the ``~>`` end marker with ``^\\s*<?\\s*~\\s*`` and
    ``\\s*~\\s*>?\\s*$``, which retry every start inside a run of white space: 100,000 tabs in a
    content stream took 20 s per decode.  Same result, in linear time.
    """
    head = data.lstrip(_WHITE)
    if head.startswith(b"<"):
        head = head[1:].lstrip(_WHITE)
    if head.startswith(b"~"):
        data = head[1:].lstrip(_WHITE)
    tail = data.rstrip(_WHITE)
    if tail.endswith(b">"):
        tail = tail[:-1].rstrip(_WHITE)
    if tail.endswith(b"~"):
        data = tail[:-1].rstrip(_WHITE)
    return a85decode(data)


# XObjects drawn on one page, nested draws included (a report page draws a handful).
_MAX_DRAWS = 5_000
_pdfminer_do_Do = PDFPageInterpreter.do_Do


def counted_do_Do(self: PDFPageInterpreter, xobjid_arg) -> None:  # type: ignore[no-untyped-def]
    """pdfminer draws a form each time it is named, so forms that draw forms multiply (ten levels of
    ten draws each is 10^10 draws from a 2 KB file).  Counted on the device, which is one per page."""
    draws = getattr(self.device, "_nianbao_draws", 0) + 1
    self.device._nianbao_draws = draws
    if draws > _MAX_DRAWS:
        raise RejectedFile(f"PDF 第{getattr(self.device, 'pageno', '?')}页反复嵌套引用图形对象（超过 {_MAX_DRAWS} "
                           "次，疑似恶意构造的文件），已拒绝", "unsafe")
    _pdfminer_do_Do(self, xobjid_arg)


# (owner, attribute, replacement): applied in the parse workers and, for small uploads, the web server.
PATCHES: tuple[tuple[object, str, object], ...] = (
    (pdfminer.pdftypes, "decompress_corrupted", inflate_damaged),
    (pdfminer.pdftypes, "ascii85decode", ascii85_decode),
    (PDFPageInterpreter, "do_Do", counted_do_Do),
)
for _owner, _name, _new in PATCHES:
    getattr(_owner, _name)  # AttributeError here if pdfminer renamed it
    setattr(_owner, _name, _new)
