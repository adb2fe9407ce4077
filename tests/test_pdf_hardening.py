"""The PDF reader replaces three pdfminer functions (ingest/readers/pdf_patches.py) to bound the work a crafted file can cause.

A replacement only protects while pdfminer still looks the name up where it was replaced: if an
upgrade inlines or renames a call, the patch silently stops applying.  These tests fail then.
"""
from __future__ import annotations

import inspect

import pdfminer.pdftypes
from pdfminer.pdfinterp import PDFPageInterpreter
from pdfminer.pdftypes import PDFStream

from ingest.readers import pdf_patches as patches


def test_every_patched_attribute_is_the_readers_own() -> None:
    assert len(patches.PATCHES) == 3
    for owner, name, new in patches.PATCHES:
        assert getattr(owner, name) is new, f"{owner!r}.{name} is not the reader's replacement"
        assert new.__module__ == patches.__name__


def test_pdfminer_still_calls_the_patched_stream_decoders_by_module_name() -> None:
    source = inspect.getsource(PDFStream.decode)
    for name in ("decompress_corrupted", "ascii85decode"):
        assert (pdfminer.pdftypes, name) in {(o, n) for o, n, _ in patches.PATCHES}
        assert f"{name}(" in source, f"PDFStream.decode no longer calls {name}"
    # a bare-name call resolves through the module globals, which is what was patched
    assert PDFStream.decode.__globals__ is vars(pdfminer.pdftypes)


def test_pdfminer_still_dispatches_operators_to_do_methods_by_name() -> None:
    source = inspect.getsource(PDFPageInterpreter.execute)
    assert '"do_%s"' in source or "do_{}" in source or "'do_%s'" in source, source
    assert PDFPageInterpreter.do_Do is patches.counted_do_Do
