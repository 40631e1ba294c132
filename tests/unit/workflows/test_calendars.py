"""Working-time arithmetic on business calendars: nights, weekends, 调休, overnight shifts, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.calendars import (
    BusinessCalendar,
    CalendarError,
    add_working_days,
    add_working_time,
    always_open,
    format_hours,
    is_working_day,
    is_working_time,
    next_working_day,
    next_working_time,
    office_hours,
    parse_hours,
    start_of_next_working_day,
    working_time_between,
)
from workflows.cn_holidays import CN_HOLIDAYS, holiday_days, makeup_days

CALENDARS = {
    # Chinese office: 09:00-12:00 and 13:00-18:00 Monday to Friday, public holidays and 调休.
    "cn": office_hours("Asia/Shanghai", holidays=holiday_days(), workdays=makeup_days()),
    "cn_24x7": always_open("Asia/Shanghai"),
    "utc_24x7": always_open("UTC"),
    # Night shift 22:00-06:00 starting Monday to Friday evenings.
    "night": office_hours("Asia/Shanghai", "22:00-06:00"),
    "ny": office_hours("America/New_York", "09:00-17:00"),
    "ny_24x7": always_open("America/New_York"),
    "berlin": office_hours("Europe/Berlin", "08:00-16:00"),
    "berlin_24x7": always_open("Europe/Berlin"),
    "berlin_nights": office_hours("Europe/Berlin", "22:00-06:00", weekdays=tuple(range(7))),
}


def at(calendar: str, text: str) -> datetime:
    """Return local ``YYYY-MM-DD HH:MM`` in the calendar's zone as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(CALENDARS[calendar].timezone))


H = timedelta(hours=1)
M = timedelta(minutes=1)

ADD_CASES = [
    # (calendar, start (local), working time to add, expected (local), why)
    ("cn", "2026-03-02 10:00", H, "2026-03-02 11:00", "inside the morning"),
    ("cn", "2026-03-02 11:30", H, "2026-03-02 13:30", "over the lunch break"),
    ("cn", "2026-03-02 17:30", H, "2026-03-03 09:30", "over the night"),
    ("cn", "2026-03-06 17:00", 2 * H, "2026-03-09 10:00", "over the weekend"),
    ("cn", "2026-03-07 10:00", H, "2026-03-09 10:00", "started on a Saturday"),
    ("cn", "2026-03-02 08:00", 30 * M, "2026-03-02 09:30", "started before opening"),
    ("cn", "2026-03-02 12:15", 15 * M, "2026-03-02 13:15", "started in the lunch break"),
    ("cn", "2026-03-02 10:00", 8 * H, "2026-03-03 10:00", "one working day"),
    ("cn", "2026-03-02 17:00", H, "2026-03-02 18:00", "ends exactly at closing"),
    ("cn", "2025-12-31 17:00", 2 * H, "2026-01-04 10:00", "New Year, then Sunday 调休"),
    ("cn", "2026-01-04 10:00", 8 * H, "2026-01-05 10:00", "a make-up Sunday is worked"),
    ("cn", "2026-02-13 17:00", 2 * H, "2026-02-14 10:00", "make-up Saturday before 春节"),
    ("cn", "2026-02-14 17:30", H, "2026-02-24 09:30", "the whole Spring Festival off"),
    ("cn", "2026-02-18 10:00", H, "2026-02-24 10:00", "started during Spring Festival"),
    ("cn", "2026-02-27 17:00", 2 * H, "2026-02-28 10:00", "make-up Saturday after 春节"),
    ("cn", "2026-04-03 17:00", 2 * H, "2026-04-07 10:00", "Qingming"),
    ("cn", "2026-04-30 17:00", 2 * H, "2026-05-06 10:00", "Labour Day week"),
    ("cn", "2026-05-08 17:00", 2 * H, "2026-05-09 10:00", "make-up Saturday after May Day"),
    ("cn", "2026-06-18 17:00", 2 * H, "2026-06-22 10:00", "Dragon Boat"),
    ("cn", "2026-09-19 10:00", H, "2026-09-20 10:00", "make-up Sunday before National Day"),
    ("cn", "2026-09-24 17:00", 2 * H, "2026-09-28 10:00", "Mid-Autumn"),
    ("cn", "2026-09-30 17:00", 2 * H, "2026-10-08 10:00", "Golden Week"),
    ("cn", "2026-10-09 17:00", 2 * H, "2026-10-10 10:00", "make-up Saturday after Golden Week"),
    ("cn", "2026-09-28 10:00", 24 * H, "2026-10-08 10:00", "3 working days over Golden Week"),
    ("cn", "2026-03-07 10:00", 0 * H, "2026-03-07 10:00", "nothing to add"),
    ("cn_24x7", "2026-10-01 10:00", 45 * M, "2026-10-01 10:45", "24x7 ignores holidays"),
    ("utc_24x7", "2026-03-07 23:30", H, "2026-03-08 00:30", "24x7 over midnight"),
    ("night", "2026-03-02 23:00", 2 * H, "2026-03-03 01:00", "overnight shift past midnight"),
    ("night", "2026-03-03 05:00", 2 * H, "2026-03-03 23:00", "end of one night, next night"),
    ("night", "2026-03-06 23:00", 7 * H, "2026-03-07 06:00", "Friday night ends Saturday"),
    ("night", "2026-03-06 23:00", 8 * H, "2026-03-09 23:00", "then Monday night"),
    ("night", "2026-03-08 23:00", H, "2026-03-09 23:00", "no Sunday night shift"),
    ("ny", "2026-03-06 16:00", 2 * H, "2026-03-09 10:00", "New York, over the DST weekend"),
    ("ny_24x7", "2026-03-07 23:00", 4 * H, "2026-03-08 04:00", "spring forward: 2 a.m. skipped"),
    ("ny_24x7", "2026-10-31 23:00", 4 * H, "2026-11-01 02:00", "fall back: 1 a.m. twice"),
    ("berlin", "2026-03-27 15:00", 2 * H, "2026-03-30 09:00", "Berlin, over the DST weekend"),
    ("berlin_24x7", "2026-10-24 22:00", 6 * H, "2026-10-25 03:00", "Berlin fall back"),
    ("berlin_nights", "2026-03-28 22:00", 7 * H, "2026-03-29 06:00", "a 7-hour DST night"),
    ("berlin_nights", "2026-03-28 22:00", 7 * H + 30 * M, "2026-03-29 22:30", "then next night"),
]


@pytest.mark.parametrize(
    ("calendar", "start", "duration", "expected", "why"), ADD_CASES, ids=[c[4] for c in ADD_CASES]
)
def test_add_working_time(calendar, start, duration, expected, why):
    result = add_working_time(CALENDARS[calendar], at(calendar, start), duration)
    assert result == at(calendar, expected), why
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("calendar", "start", "duration", "expected", "why"),
    [c for c in ADD_CASES if c[2] and c[4] != "ends exactly at closing"],
    ids=[c[4] for c in ADD_CASES if c[2] and c[4] != "ends exactly at closing"],
)
def test_working_time_between_measures_what_was_added(calendar, start, duration, expected, why):
    cal = CALENDARS[calendar]
    assert working_time_between(cal, at(calendar, start), at(calendar, expected)) == duration


BETWEEN_CASES = [
    ("cn", "2026-03-02 10:00", "2026-03-03 10:00", 8 * H),
    ("cn", "2026-03-06 17:00", "2026-03-09 10:00", 2 * H),
    ("cn", "2026-03-07 00:00", "2026-03-08 23:59", 0 * H),
    ("cn", "2026-09-30 17:00", "2026-10-08 10:00", 2 * H),
    ("cn", "2026-02-14 00:00", "2026-03-01 00:00", 6 * 8 * H),  # 14th, 24th-27th, 28th
    ("ny_24x7", "2026-03-07 00:00", "2026-03-09 00:00", 47 * H),
    ("berlin_24x7", "2026-10-24 00:00", "2026-10-26 00:00", 49 * H),
    ("berlin_nights", "2026-03-28 22:00", "2026-03-29 06:00", 7 * H),
    ("night", "2026-03-02 12:00", "2026-03-04 12:00", 16 * H),
]


@pytest.mark.parametrize(("calendar", "a", "b", "expected"), BETWEEN_CASES)
def test_working_time_between(calendar, a, b, expected):
    cal = CALENDARS[calendar]
    assert working_time_between(cal, at(calendar, a), at(calendar, b)) == expected
    assert working_time_between(cal, at(calendar, b), at(calendar, a)) == -expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-09-30", "2026-10-08"),
        ("2026-02-13", "2026-02-14"),
        ("2026-02-14", "2026-02-24"),
        ("2026-01-03", "2026-01-04"),
        ("2026-10-09", "2026-10-10"),
        ("2026-10-10", "2026-10-12"),
        ("2026-03-06", "2026-03-09"),
    ],
)
def test_next_working_day_skips_holidays_and_takes_makeup_days(day, expected):
    assert next_working_day(CALENDARS["cn"], date.fromisoformat(day)) == date.fromisoformat(
        expected
    )


@pytest.mark.parametrize(
    ("local", "working"),
    [
        ("2026-01-04 10:00", True),  # make-up Sunday
        ("2026-01-01 10:00", False),  # New Year
        ("2026-03-02 12:30", False),  # lunch
        ("2026-03-02 18:00", False),  # closing time is not working time
        ("2026-03-02 09:00", True),
        ("2026-03-07 10:00", False),  # Saturday
    ],
)
def test_is_working_time(local, working):
    assert is_working_time(CALENDARS["cn"], at("cn", local)) is working


def test_working_days_and_the_next_morning():
    cn = CALENDARS["cn"]
    assert add_working_days(cn, date(2026, 9, 28), 3) == date(2026, 10, 8)
    assert add_working_days(cn, date(2026, 9, 28), 0) == date(2026, 9, 28)
    assert not is_working_day(cn, date(2026, 10, 1))
    assert is_working_day(cn, date(2026, 10, 10))
    assert start_of_next_working_day(cn, at("cn", "2026-09-30 16:00")) == at(
        "cn", "2026-10-08 09:00"
    )
    assert next_working_time(cn, at("cn", "2026-09-30 18:30")) == at("cn", "2026-10-08 09:00")
    assert next_working_time(cn, at("cn", "2026-09-30 10:30")) == at("cn", "2026-09-30 10:30")


def test_a_calendar_without_working_time_says_so_instead_of_looping():
    never = BusinessCalendar("UTC", {}, name="never")
    with pytest.raises(CalendarError):
        add_working_time(never, datetime(2026, 1, 1, tzinfo=UTC), H)
    with pytest.raises(CalendarError):
        next_working_day(never, date(2026, 1, 1))
    assert working_time_between(
        never, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    ) == timedelta(0)


def test_bad_input_is_refused():
    cn = CALENDARS["cn"]
    with pytest.raises(ValueError, match="aware"):
        add_working_time(cn, datetime(2026, 1, 1), H)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="negative"):
        add_working_time(cn, at("cn", "2026-03-02 10:00"), -H)
    with pytest.raises(ValueError, match="interval"):
        parse_hours("9 to 5")
    assert format_hours(parse_hours("09:00-12:00,13:00-18:00")) == "09:00-12:00, 13:00-18:00"


def test_the_shipped_2026_schedule_is_the_official_one():
    blocks = {b.name_en: b for b in CN_HOLIDAYS[2026]}
    assert blocks["Spring Festival"].first == date(2026, 2, 15)
    assert blocks["Spring Festival"].last == date(2026, 2, 23)
    assert makeup_days((2026,)) == {
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    }
    assert len(holiday_days((2026,))) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert not any(b.provisional for b in CN_HOLIDAYS[2026])
    assert all(b.provisional for b in CN_HOLIDAYS[2027])


# -- properties ------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2025, 12, 1), max_value=datetime(2027, 11, 30), timezones=st.just(UTC)
).map(lambda d: d.replace(second=0, microsecond=0))
durations = st.integers(min_value=1, max_value=60 * 24 * 20).map(lambda m: timedelta(minutes=m))
calendars = st.sampled_from(["cn", "night", "ny", "berlin_nights", "ny_24x7"])


@settings(max_examples=150, deadline=None)
@given(calendars, instants, durations)
def test_adding_then_measuring_gives_back_the_duration(name, start, duration):
    cal = CALENDARS[name]
    end = add_working_time(cal, start, duration)
    assert end > start
    assert working_time_between(cal, start, end) == duration


@settings(max_examples=150, deadline=None)
@given(calendars, instants, instants)
def test_measuring_then_adding_lands_on_or_before_the_end(name, a, b):
    cal = CALENDARS[name]
    a, b = min(a, b), max(a, b)
    elapsed = working_time_between(cal, a, b)
    landed = add_working_time(cal, a, elapsed)
    assert landed <= b
    assert working_time_between(cal, landed, b) == timedelta(0)


@settings(max_examples=100, deadline=None)
@given(calendars, instants, durations, durations)
def test_adding_in_two_steps_is_adding_once(name, start, first, second):
    cal = CALENDARS[name]
    two_steps = add_working_time(cal, add_working_time(cal, start, first), second)
    assert two_steps == add_working_time(cal, start, first + second)
