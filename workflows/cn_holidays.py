"""The Chinese public holiday calendar (法定节假日与调休) shipped for 2026 and 2027.

2026 is the State Council's official arrangement (国务院办公厅关于2026年部分节假日安排的通知,
published November 2025); its make-up working days agree with the ``holidays`` package's
China data (0.109: Jan 4, Feb 14, Feb 28, May 9, Sep 20, Oct 10).

2027 is PROVISIONAL: the official arrangement was not published when this was written, so
these are the statutory days as the ``holidays`` package (0.109) computes them, without
make-up working days. Replace them (the database copy is editable) once it is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final


@dataclass(frozen=True)
class HolidayBlock:
    """A run of days off with its name, and the weekend days worked to make up for it."""

    first: date
    last: date
    name_en: str
    name_zh: str
    makeup_days: tuple[date, ...] = ()
    #: True when the dates are not yet the official arrangement.
    provisional: bool = False

    def days(self) -> list[date]:
        """Return every day off of the block."""
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


_D = date

#: The blocks, by year.
CN_HOLIDAYS: Final[dict[int, tuple[HolidayBlock, ...]]] = {
    2026: (
        HolidayBlock(_D(2026, 1, 1), _D(2026, 1, 3), "New Year's Day", "元旦", (_D(2026, 1, 4),)),
        HolidayBlock(
            _D(2026, 2, 15),
            _D(2026, 2, 23),
            "Spring Festival",
            "春节",
            (_D(2026, 2, 14), _D(2026, 2, 28)),
        ),
        HolidayBlock(_D(2026, 4, 4), _D(2026, 4, 6), "Qingming Festival", "清明节"),
        HolidayBlock(_D(2026, 5, 1), _D(2026, 5, 5), "Labour Day", "劳动节", (_D(2026, 5, 9),)),
        HolidayBlock(_D(2026, 6, 19), _D(2026, 6, 21), "Dragon Boat Festival", "端午节"),
        HolidayBlock(_D(2026, 9, 25), _D(2026, 9, 27), "Mid-Autumn Festival", "中秋节"),
        HolidayBlock(
            _D(2026, 10, 1),
            _D(2026, 10, 7),
            "National Day",
            "国庆节",
            (_D(2026, 9, 20), _D(2026, 10, 10)),
        ),
    ),
    2027: (
        HolidayBlock(_D(2027, 1, 1), _D(2027, 1, 1), "New Year's Day", "元旦", provisional=True),
        HolidayBlock(_D(2027, 2, 5), _D(2027, 2, 10), "Spring Festival", "春节", provisional=True),
        HolidayBlock(
            _D(2027, 4, 5), _D(2027, 4, 5), "Qingming Festival", "清明节", provisional=True
        ),
        HolidayBlock(_D(2027, 5, 1), _D(2027, 5, 4), "Labour Day", "劳动节", provisional=True),
        HolidayBlock(
            _D(2027, 6, 9), _D(2027, 6, 9), "Dragon Boat Festival", "端午节", provisional=True
        ),
        HolidayBlock(
            _D(2027, 9, 15), _D(2027, 9, 15), "Mid-Autumn Festival", "中秋节", provisional=True
        ),
        HolidayBlock(_D(2027, 10, 1), _D(2027, 10, 5), "National Day", "国庆节", provisional=True),
    ),
}


def holiday_days(years: tuple[int, ...] = (2026, 2027)) -> frozenset[date]:
    """Return every day off of ``years``."""
    return frozenset(day for y in years for b in CN_HOLIDAYS[y] for day in b.days())


def makeup_days(years: tuple[int, ...] = (2026, 2027)) -> frozenset[date]:
    """Return every make-up working day of ``years``."""
    return frozenset(day for y in years for b in CN_HOLIDAYS[y] for day in b.makeup_days)
