"""Read cells the way the checks need them (spec §7): markers and blanks count as 0, noted."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.values import CellValue


@dataclass(slots=True)
class Read:
    value: float | int | None     # None: absent, or not a number
    assumed_zero: bool = False
    blank: bool = False           # printed but empty / marker


class CellView:
    def __init__(self, cells: dict[str, CellValue], template: str, unit_level: str | None) -> None:
        self.cells = cells
        self.template = template
        self.unit_level = unit_level

    @property
    def is_township(self) -> bool:
        return self.unit_level in ("镇", "乡", "街道")

    def has(self, key: str) -> bool:
        return key in self.cells

    def read(self, key: str) -> Read:
        cv = self.cells.get(key)
        if cv is None:
            return Read(None)
        if cv.kind == "number":
            return Read(cv.value)
        if cv.kind in ("blank", "zero_marker", "na_marker"):
            return Read(0, assumed_zero=True, blank=True)
        return Read(None)

    def derived(self, key: str) -> Read:
        """Like :meth:`read`, but a blank printed 总计-column cell of 表三 (``s3.<row>.total``) is
        replaced by the sum of its row (spec §7: "the computed sum is used downstream")."""
        r = self.read(key)
        if r.blank and key.startswith("s3.") and key.endswith(".total") and self.cells[key].kind == "blank":
            row = key[: -len(".total")]
            parts = [f"{row}.{c}" for c in ("natural", "commercial", "research", "public_interest",
                                              "legal_service", "other_org")]
            s, _ = self.sum(parts, derived=False)
            if s is not None:
                return Read(s)
        return r

    def sum(self, keys: list[str], derived: bool = True) -> tuple[float | int | None, list[str]]:
        """Σ of the keys, blanks as 0 (blank 表三 totals as their computed row sum); None when any
        key is absent or not a number."""
        total: float | int = 0
        assumed: list[str] = []
        for k in keys:
            r = self.derived(k) if derived else self.read(k)
            if r.value is None:
                return None, []
            total += r.value
            if r.assumed_zero:
                assumed.append(k)
        return total, assumed
