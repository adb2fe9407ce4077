"""Read cells the way the checks need them (spec §7): markers and blanks count as 0, noted."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ingest.templates import s3_applicant_columns
from ingest.values import CellValue


@dataclass(slots=True)
class Read:   # shared between reads (memoised, module constants): never mutate
    value: float | int | None     # None: absent, or not a number
    assumed_zero: bool = False
    blank: bool = False           # printed but empty / marker


_ABSENT = Read(None)
_MARKER = Read(0, assumed_zero=True, blank=True)
_TOTAL_PARTS = tuple(s3_applicant_columns())


@lru_cache(maxsize=4096, typed=True)     # typed: 1 and 1.0 are different reads
def _number(value: float | int) -> Read:
    return Read(value)


def _read(cv: CellValue) -> Read:
    if cv.kind == "number":
        return _number(cv.value)
    if cv.kind in ("blank", "zero_marker", "na_marker"):
        return _MARKER
    return _ABSENT


class CellView:
    """A read-only view of one report's final cells.  Every read is computed once, up front (the
    checks read each key several times), so ``cells`` must not change once the view exists."""

    def __init__(self, cells: dict[str, CellValue], template: str, unit_level: str | None) -> None:
        self.cells = cells
        self.template = template
        self.unit_level = unit_level
        self._reads: dict[str, Read] = {k: _read(cv) for k, cv in cells.items()}
        # the keys of each table ("s2", "s3", "s4"), in order: the checks walk one table at a time
        self.tables: dict[str, list[str]] = {"s2": [], "s3": [], "s4": []}
        for k in cells:
            self.tables.setdefault(k[:2], []).append(k)
        self._derived: dict[str, Read] = dict(self._reads)
        for key, cv in cells.items():
            if cv.kind == "blank" and key.startswith("s3.") and key.endswith(".total"):
                row = key[: -len(".total")]
                s, _ = self.sum([f"{row}.{c}" for c in _TOTAL_PARTS], derived=False)
                if s is not None:
                    self._derived[key] = Read(s)

    @property
    def is_township(self) -> bool:
        return self.unit_level in ("镇", "乡", "街道")

    def has(self, key: str) -> bool:
        return key in self.cells

    def read(self, key: str) -> Read:
        return self._reads.get(key, _ABSENT)

    def derived(self, key: str) -> Read:
        """Like :meth:`read`, but a blank printed 总计-column cell of 表三 (``s3.<row>.total``) is
        replaced by the sum of its row (spec §7: "the computed sum is used downstream")."""
        return self._derived.get(key, _ABSENT)

    def sum(self, keys: list[str], derived: bool = True) -> tuple[float | int | None, list[str]]:
        """Σ of the keys, blanks as 0 (blank 表三 totals as their computed row sum); None when any
        key is absent or not a number."""
        get = (self._derived if derived else self._reads).get
        total: float | int = 0
        assumed: list[str] = []
        for k in keys:
            r = get(k, _ABSENT)
            if r.value is None:
                return None, []
            total += r.value
            if r.assumed_zero:
                assumed.append(k)
        return total, assumed
