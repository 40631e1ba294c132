"""Dates and times at the door: every API field refuses what no business means, with a message."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from marshmallow import Schema, ValidationError, fields

import mobile_api
import server.api
from server.business_time import (
    EARLIEST,
    LATEST,
    Day,
    Instant,
    OutOfRange,
    check_instant,
    local_instant,
    parse_day,
)

#: Values that are well-formed ISO 8601 but at (or past) the edges of the calendar.
HOSTILE_INSTANTS = [
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59+00:00",
    "1999-12-31T23:59:59Z",
    "2100-01-01T00:00:01Z",
    "2026-03-01T09:00:00",  # naive: no offset
    "2026-02-30T09:00:00+08:00",
    "not a time",
]
HOSTILE_DAYS = ["0001-01-01", "9999-12-31", "2026-02-30", "0000-01-01", "2026-1-1", "x"]


def _schema_classes() -> list[type[Schema]]:
    found: dict[str, type[Schema]] = {}
    for package in (server.api, mobile_api):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            module = importlib.import_module(info.name)
            for _name, value in inspect.getmembers(module, inspect.isclass):
                if issubclass(value, Schema) and value.__module__ == module.__name__:
                    found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[key] for key in sorted(found)]


def _temporal_fields() -> list[tuple[str, str, fields.Field]]:
    rows = []
    for schema_class in _schema_classes():
        for name, field in schema_class().fields.items():
            inner = field.inner if isinstance(field, fields.List) else field
            if isinstance(inner, fields.DateTime | fields.Date):
                rows.append((schema_class.__qualname__, name, inner))
    return rows


TEMPORAL_FIELDS = _temporal_fields()


def test_the_api_schemas_have_date_and_time_fields_to_check():
    assert len(TEMPORAL_FIELDS) >= 20


@pytest.mark.parametrize(
    ("schema", "name", "field"), TEMPORAL_FIELDS, ids=[f"{s}.{n}" for s, n, _ in TEMPORAL_FIELDS]
)
def test_every_api_date_and_time_field_is_the_business_type(schema, name, field):
    assert isinstance(field, Instant | Day), f"{schema}.{name} is a plain {type(field).__name__}"


@pytest.mark.parametrize(
    ("schema", "name", "field"),
    [row for row in TEMPORAL_FIELDS if isinstance(row[2], Instant)],
    ids=[f"{s}.{n}" for s, n, f in TEMPORAL_FIELDS if isinstance(f, Instant)],
)
def test_every_api_datetime_field_refuses_hostile_values_with_a_message(schema, name, field):
    for value in HOSTILE_INSTANTS:
        with pytest.raises(ValidationError) as refused:
            field.deserialize(value)
        assert refused.value.messages, value


@pytest.mark.parametrize(
    ("schema", "name", "field"),
    [row for row in TEMPORAL_FIELDS if isinstance(row[2], Day)],
    ids=[f"{s}.{n}" for s, n, f in TEMPORAL_FIELDS if isinstance(f, Day)],
)
def test_every_api_date_field_refuses_hostile_values_with_a_message(schema, name, field):
    for value in HOSTILE_DAYS:
        with pytest.raises(ValidationError) as refused:
            field.deserialize(value)
        assert refused.value.messages, value


def test_an_instant_keeps_its_offset_and_the_edges_are_inclusive():
    field = Instant()
    loaded = field.deserialize("2026-03-01T09:00:00+08:00")
    assert loaded == datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
    assert loaded.utcoffset() == timedelta(hours=8)
    assert field.deserialize("2000-01-01T08:00:00+08:00") == EARLIEST
    assert field.deserialize("2100-01-01T00:00:00Z") == LATEST
    with pytest.raises(ValidationError, match="2000-01-01"):
        field.deserialize("2000-01-01T07:59:59+08:00")


def test_check_instant_refuses_naive_and_overflowing_values():
    with pytest.raises(ValueError, match="offset"):
        check_instant(datetime(2026, 1, 1))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(OutOfRange):
        check_instant(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))))
    with pytest.raises(OutOfRange):
        check_instant(datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14))))


def test_wall_clock_times_typed_in_a_zone_are_checked_too():
    shanghai = ZoneInfo("Asia/Shanghai")
    assert local_instant(datetime(2026, 3, 1, 9, 0), shanghai) == datetime(  # noqa: DTZ001
        2026, 3, 1, 1, 0, tzinfo=UTC
    )
    for naive in (datetime(9999, 12, 31, 23, 0), datetime(1, 1, 1, 1, 0)):  # noqa: DTZ001
        with pytest.raises(OutOfRange):
            local_instant(naive, shanghai)


def test_days_are_parsed_as_calendar_days_not_patterns():
    assert parse_day("2026-02-28") == date(2026, 2, 28)
    for text in HOSTILE_DAYS:
        with pytest.raises(ValueError):  # noqa: PT011 - OutOfRange is a ValueError
            parse_day(text)
