"""What a one-document rule may read: the parsed report as the parser holds it before output."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.mapper import Mapping
    from ingest.recognise import Meta
    from ingest.rules.cellview import CellView


@dataclass(slots=True)
class ReportContext:
    meta: Meta                              # template, year, unit, format markers …
    mapping: Mapping                        # what the mapper placed, its labels and extra cells
    cv: CellView                            # the final cells
    units: dict[str, str | None]            # printed unit of each money cell
    headings: dict[str, int]                # section id → token index of its heading
    heading_texts: dict[str, tuple[str, str]]   # section id → (raw, normalised) heading text
    sections: dict[str, str]                # section id → its text
    narrative_text: str
    unread: list[str] = field(default_factory=list)     # tables with labels but no numbers (s2 | s3 | s4)
    cut_off: dict[str, list[str]] = field(default_factory=dict)   # table → its columns missing in every row
    figures: dict = field(default_factory=dict)         # out: the figures the narrative rules read
