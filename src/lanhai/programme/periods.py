"""Quarterly reporting periods: ``2026-Q3`` runs from 1 July to 30 September 2026."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from lanhai.errors import UsageError

_QUARTER = re.compile(r"^\s*(\d{4})\s*[-_ ]?\s*[Qq]([1-4])\s*$")


@dataclass(frozen=True, order=True)
class Quarter:
    """One calendar quarter."""

    year: int
    quarter: int

    @property
    def key(self) -> str:
        return f"{self.year}-Q{self.quarter}"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 3 * self.quarter - 2, 1)

    @property
    def end(self) -> dt.date:
        if self.quarter == 4:
            return dt.date(self.year, 12, 31)
        return dt.date(self.year, 3 * self.quarter + 1, 1) - dt.timedelta(days=1)

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.quarter == 4 else Quarter(self.year,
                                                                            self.quarter + 1)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def __str__(self) -> str:
        return self.key


def parse_quarter(text: str) -> Quarter:
    """``2026-Q3`` (also ``2026Q3``, ``2026 q3``); UsageError otherwise."""
    match = _QUARTER.match(text or "")
    if match is None or not 1990 <= int(match[1]) <= 2100:
        raise UsageError(f"{text!r} is not a quarter; write YEAR-Qn, e.g. 2026-Q3")
    return Quarter(int(match[1]), int(match[2]))


def quarter_of(day: dt.date) -> Quarter:
    """The quarter ``day`` falls in."""
    return Quarter(day.year, (day.month - 1) // 3 + 1)


def quarters_between(first: Quarter, last: Quarter) -> list[Quarter]:
    """Every quarter from ``first`` to ``last``, both included."""
    out: list[Quarter] = []
    current = first
    while current <= last:
        out.append(current)
        current = current.next()
    return out
