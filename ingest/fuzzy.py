"""Label typos: the one template label within a small edit distance of a printed label.

Real reports print 行政许和 for 行政许可 or 国家秘蜜 for 国家秘密.  Keywords (layout.toml) catch most
variants; this is the fallback for a label no keyword matches.  It accepts a label only when one
candidate is clearly the closest — within 1 edit for a label of 4–9 characters, 2 from 10 — so a
typo never turns one row into another: the template's row labels differ by more than that.  Every
fuzzy match is reported by the caller as a label variant (D09).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_CJK = re.compile(r"[\u4e00-\u9fff]")


def allowed_edits(label: str) -> int:
    n = len(label)
    return 0 if n < 4 else 1 if n < 10 else 2


def distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of a and b, or ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def closest(label: str, candidates: Iterable[tuple[object, str]]) -> object | None:
    """The candidate whose text is the one nearest ``label`` within the allowed edits, else None
    (also None when two candidates are equally near)."""
    if not _CJK.search(label):
        return None
    best: list[tuple[int, object]] = []
    for ident, text in candidates:
        limit = allowed_edits(text)
        if limit == 0:
            continue
        d = distance(label, text, limit)
        if 0 < d <= limit:
            best.append((d, ident))
    if not best:
        return None
    best.sort(key=lambda x: x[0])
    if len(best) > 1 and best[1][0] == best[0][0] and best[1][1] != best[0][1]:
        return None
    return best[0][1]
