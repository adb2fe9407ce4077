"""Errors that end the parsing of one file, with a plain-words Chinese reason for the user."""

from __future__ import annotations


class RejectedFile(Exception):
    """A file that cannot be read as a report.

    ``reason`` is one line of plain Chinese saying what is wrong (never a traceback); the CLI
    prints ``<file>: <reason>`` and the loader records it in the ingest log.
    ``code`` is a short stable English tag for tests and statistics (``empty``, ``too_large``,
    ``needs_ocr``, ``not_a_report``, ``corrupt``, ``unsafe``, ``unsupported``, ``encoding``).
    """

    def __init__(self, reason: str, code: str = "rejected") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code

    def __str__(self) -> str:
        return self.reason
