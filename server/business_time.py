"""The dates and times Fieldwork accepts from people and phones, and the input types that say so.

Every date and datetime that enters through either API or the console goes through here, so a
value no business means (year 1 or 9999, a time without its offset) is refused with a clear
message at the door instead of overflowing later in a page, a sheet or a time-zone change.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import fields

#: Earliest instant accepted (inclusive), compared in UTC after the offset is applied.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
#: Latest instant accepted (inclusive).
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
#: Earliest and latest calendar days accepted by default.
FIRST_DAY = EARLIEST.date()
LAST_DAY = LATEST.date()
#: Earliest day for facts about the past that predate the system (an asset installed in 1995).
HISTORIC_FIRST_DAY = date(1900, 1, 1)


class OutOfRange(ValueError):
    """A date or time is well-formed but outside what the business accepts."""


def range_message(first: date = FIRST_DAY, last: date = LAST_DAY) -> str:
    """Say which dates are accepted."""
    return f"Give a date between {first.isoformat()} and {last.isoformat()}."


def check_instant(
    value: datetime, earliest: datetime = EARLIEST, latest: datetime = LATEST
) -> datetime:
    """Return ``value`` in UTC, or raise ``OutOfRange`` (naive times are a ``ValueError``)."""
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("Give the time with its UTC offset, e.g. 2026-03-01T09:00:00+08:00.")
    # Subtract the offset on naive values: at the edges of the calendar astimezone overflows.
    naive_utc = value.replace(tzinfo=None)
    try:
        naive_utc -= offset
    except OverflowError:
        raise OutOfRange(range_message(earliest.date(), latest.date())) from None
    if not earliest.replace(tzinfo=None) <= naive_utc <= latest.replace(tzinfo=None):
        raise OutOfRange(range_message(earliest.date(), latest.date()))
    return naive_utc.replace(tzinfo=UTC)


def check_day(value: date, first: date = FIRST_DAY, last: date = LAST_DAY) -> date:
    """Return ``value``, or raise ``OutOfRange``."""
    if not first <= value <= last:
        raise OutOfRange(range_message(first, last))
    return value


def parse_day(text: str, first: date = FIRST_DAY, last: date = LAST_DAY) -> date:
    """Parse ``YYYY-MM-DD`` as a real calendar day within range (``ValueError`` otherwise)."""
    if len(text) != 10 or not text[:4].isdigit():
        raise ValueError("Give a date as YYYY-MM-DD.")
    return check_day(date.fromisoformat(text), first, last)


def local_instant(value: datetime, zone: ZoneInfo) -> datetime:
    """Return a wall-clock time in ``zone`` (as typed in a form) as a checked UTC instant."""
    try:
        aware = value.replace(tzinfo=zone)
        aware.utcoffset()
    except OverflowError:
        raise OutOfRange(range_message()) from None
    return check_instant(aware)


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Return the UTC instants where ``day`` starts and ends in ``zone`` (``day`` in range)."""
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


class Instant(fields.AwareDateTime):
    """An ISO 8601 datetime with its offset, within the business range."""

    default_error_messages = {"range": "Give a time between {earliest} and {latest} (UTC)."}

    def __init__(
        self, *, earliest: datetime = EARLIEST, latest: datetime = LATEST, **kwargs: Any
    ) -> None:
        kwargs.setdefault("format", "iso")
        super().__init__(**kwargs)
        self.earliest = earliest
        self.latest = latest

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> datetime:
        try:
            parsed = super()._deserialize(value, attr, data, **kwargs)
        except OverflowError as error:  # an offset that pushes the value off the calendar
            raise self._range_error() from error
        try:
            check_instant(parsed, self.earliest, self.latest)
        except OutOfRange as error:
            raise self._range_error() from error
        return parsed  # with the sender's offset: a phone's local time is part of the record

    def _range_error(self) -> Exception:
        return self.make_error(
            "range", earliest=self.earliest.isoformat(), latest=self.latest.isoformat()
        )


class Day(fields.Date):
    """A calendar day ``YYYY-MM-DD`` within the business range."""

    default_error_messages = {"range": "Give a date between {first} and {last}."}

    def __init__(self, *, first: date = FIRST_DAY, last: date = LAST_DAY, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.first = first
        self.last = last

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> date:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if not self.first <= parsed <= self.last:
            raise self.make_error("range", first=self.first.isoformat(), last=self.last.isoformat())
        return parsed
