"""Business calendars and working-time arithmetic, as pure functions.

A calendar says when people work: intervals of local wall-clock time per weekday, an IANA
time zone, holidays (no work, whatever the weekday) and make-up working days (work on a
day that is normally free, as with the Chinese 调休). An interval whose end is not after
its start runs past midnight into the next day (``22:00-06:00``); ``00:00-00:00`` is a
whole day, so a 24x7 calendar is seven of those.

Every instant given or returned is an aware datetime; results are in UTC. Local times are
turned into instants with :mod:`zoneinfo`, so days on which clocks change are 23 or 25
hours long, and an interval starting in the spring-forward gap starts at the first
instant after it (``fold=0``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

#: How far ahead (in days) arithmetic looks for working time before giving up.
SEARCH_LIMIT_DAYS = 3660

#: Local working intervals of one day: ``((start, end), ...)``.
DayHours = tuple[tuple[time, time], ...]

_ZERO = timedelta(0)


class CalendarError(ValueError):
    """Signal a calendar that cannot answer (e.g. it has no working time at all)."""


def parse_hours(text: str) -> DayHours:
    """Parse ``"09:00-12:00, 13:00-18:00"`` into intervals (empty text: no work).

    Raises:
        ValueError: if an interval is not ``HH:MM-HH:MM``.
    """
    intervals: list[tuple[time, time]] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        start, sep, end = part.partition("-")
        if not sep:
            raise ValueError(f"{part!r} is not an interval such as 09:00-18:00")
        intervals.append((time.fromisoformat(start.strip()), time.fromisoformat(end.strip())))
    return tuple(intervals)


def format_hours(hours: DayHours) -> str:
    """Return intervals as ``"09:00-12:00, 13:00-18:00"`` (the inverse of parse_hours)."""
    return ", ".join(f"{a.strftime('%H:%M')}-{b.strftime('%H:%M')}" for a, b in hours)


@dataclass(frozen=True)
class BusinessCalendar:
    """Say when work happens: weekly hours in a time zone, holidays and make-up days."""

    #: IANA time zone the hours are written in, e.g. ``Asia/Shanghai``.
    timezone: str
    #: Working intervals per weekday (0 = Monday … 6 = Sunday); missing days have none.
    weekly: Mapping[int, DayHours]
    #: Days without work, whatever their weekday (public holidays).
    holidays: frozenset[date] = frozenset()
    #: Normally free days that are worked (make-up days); they use ``makeup_hours``.
    workdays: frozenset[date] = frozenset()
    #: Hours of a make-up day; None: Monday's hours.
    makeup_hours: DayHours | None = None
    #: Nominal length of one working day, for limits written in working days.
    working_day: timedelta = timedelta(hours=8)
    #: Name, for messages.
    name: str = ""
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Resolve the time zone once (raises ZoneInfoNotFoundError for unknown names)."""
        object.__setattr__(self, "_zone", ZoneInfo(self.timezone))
        for weekday in self.weekly:
            if weekday not in range(7):
                raise ValueError(f"weekday {weekday} is not 0 (Monday) … 6 (Sunday)")

    @property
    def zone(self) -> ZoneInfo:
        """Return the calendar's time zone."""
        return self._zone

    def hours_on(self, day: date) -> DayHours:
        """Return the local working intervals that start on ``day``."""
        if day in self.holidays:
            return ()
        if day in self.workdays:
            return self.makeup_hours if self.makeup_hours is not None else self.weekly.get(0, ())
        return self.weekly.get(day.weekday(), ())


def always_open(timezone: str = "UTC") -> BusinessCalendar:
    """Return a 24x7 calendar: every instant is working time."""
    whole_day: DayHours = ((time(0), time(0)),)
    return BusinessCalendar(
        timezone, dict.fromkeys(range(7), whole_day), working_day=timedelta(hours=24), name="24x7"
    )


def office_hours(
    timezone: str,
    hours: str = "09:00-12:00, 13:00-18:00",
    *,
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4),
    holidays: frozenset[date] = frozenset(),
    workdays: frozenset[date] = frozenset(),
) -> BusinessCalendar:
    """Return a calendar with the same ``hours`` on each of ``weekdays``."""
    parsed = parse_hours(hours)
    length = sum((_interval_length(a, b) for a, b in parsed), _ZERO)
    return BusinessCalendar(
        timezone,
        dict.fromkeys(weekdays, parsed),
        holidays=holidays,
        workdays=workdays,
        working_day=length or timedelta(hours=8),
    )


def _interval_length(start: time, end: time) -> timedelta:
    base = date(2001, 1, 1)  # any day: the nominal (not DST-adjusted) length
    finish = datetime.combine(base + timedelta(days=1 if end <= start else 0), end)
    return finish - datetime.combine(base, start)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")


def _day_periods(calendar: BusinessCalendar, day: date) -> list[tuple[datetime, datetime]]:
    """Return the UTC periods of the intervals that start on local ``day``."""
    periods = []
    for start, end in calendar.hours_on(day):
        end_day = day + timedelta(days=1) if end <= start else day
        begin = datetime.combine(day, start, tzinfo=calendar.zone).astimezone(UTC)
        finish = datetime.combine(end_day, end, tzinfo=calendar.zone).astimezone(UTC)
        if finish > begin:
            periods.append((begin, finish))
    return sorted(periods)


def working_periods(
    calendar: BusinessCalendar, start: datetime, end: datetime | None = None
) -> Iterator[tuple[datetime, datetime]]:
    """Yield the working periods from ``start`` (clipped to ``end``), in UTC, in order.

    Overlapping intervals are clipped so no instant is counted twice; adjacent ones stay
    separate. Without ``end`` the iteration stops after ``SEARCH_LIMIT_DAYS`` days.
    """
    _require_aware(start, "start")
    start = start.astimezone(UTC)
    if end is not None:
        _require_aware(end, "end")
        end = end.astimezone(UTC)
        if end <= start:
            return
    # The previous local day may hold an interval that runs past midnight into ``start``.
    day = start.astimezone(calendar.zone).date() - timedelta(days=1)
    last_day = day + timedelta(days=SEARCH_LIMIT_DAYS)
    cursor = start
    while day <= last_day:
        if end is not None and datetime.combine(day, time(0), tzinfo=calendar.zone) >= end:
            return
        for begin, finish in _day_periods(calendar, day):
            begin = max(begin, cursor)
            if end is not None:
                finish = min(finish, end)
            if finish <= begin:
                continue
            cursor = finish
            yield begin, finish
        day += timedelta(days=1)


def is_working_time(calendar: BusinessCalendar, at: datetime) -> bool:
    """Return True when ``at`` falls inside working hours."""
    for begin, _finish in working_periods(calendar, at, at + timedelta(days=2)):
        return begin == at.astimezone(UTC)
    return False


def next_working_time(calendar: BusinessCalendar, at: datetime) -> datetime:
    """Return ``at`` if it is working time, else the start of the next working period.

    Raises:
        CalendarError: if there is no working time within ``SEARCH_LIMIT_DAYS``.
    """
    for begin, _finish in working_periods(calendar, at):
        return begin
    raise CalendarError(f"calendar {calendar.name!r} has no working time after {at}")


def add_working_time(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """Return the instant when ``duration`` of working time has passed since ``start``.

    Zero returns ``start``. A duration that ends exactly where a working period ends returns
    that end (not the start of the next period).

    Raises:
        ValueError: if ``duration`` is negative.
        CalendarError: if the calendar runs out of working time.
    """
    _require_aware(start, "start")
    if duration < _ZERO:
        raise ValueError("duration must not be negative")
    if duration == _ZERO:
        return start.astimezone(UTC)
    remaining = duration
    for begin, finish in working_periods(calendar, start):
        length = finish - begin
        if remaining <= length:
            return begin + remaining
        remaining -= length
    raise CalendarError(f"calendar {calendar.name!r} has no working time after {start}")


def working_time_between(calendar: BusinessCalendar, a: datetime, b: datetime) -> timedelta:
    """Return the working time from ``a`` to ``b`` (negative when ``b`` is before ``a``)."""
    _require_aware(a, "a")
    _require_aware(b, "b")
    if b < a:
        return -working_time_between(calendar, b, a)
    return sum((finish - begin for begin, finish in working_periods(calendar, a, b)), _ZERO)


def is_working_day(calendar: BusinessCalendar, day: date) -> bool:
    """Return True when some working interval starts on local ``day``."""
    return bool(calendar.hours_on(day))


def next_working_day(calendar: BusinessCalendar, day: date) -> date:
    """Return the first working day after ``day``.

    Raises:
        CalendarError: if there is none within ``SEARCH_LIMIT_DAYS``.
    """
    for offset in range(1, SEARCH_LIMIT_DAYS + 1):
        candidate = day + timedelta(days=offset)
        if is_working_day(calendar, candidate):
            return candidate
    raise CalendarError(f"calendar {calendar.name!r} has no working day after {day}")


def add_working_days(calendar: BusinessCalendar, day: date, days: int) -> date:
    """Return the working day ``days`` working days after ``day`` (0: ``day`` itself).

    Raises:
        ValueError: if ``days`` is negative.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    for _ in range(days):
        day = next_working_day(calendar, day)
    return day


def start_of_next_working_day(calendar: BusinessCalendar, at: datetime) -> datetime:
    """Return when work starts on the working day after ``at``'s local day (UTC)."""
    _require_aware(at, "at")
    day = next_working_day(calendar, at.astimezone(calendar.zone).date())
    return _day_periods(calendar, day)[0][0]
