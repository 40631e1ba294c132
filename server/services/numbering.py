"""Work order numbers: ``WO-<year>-<6 digits>``, unique, never reused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from server.extensions import db
from server.models import WorkOrderNumberSequence


def next_work_order_number(now: datetime) -> str:
    """Reserve and return the next number of ``now``'s year.

    The counter row is bumped with a single ``UPDATE … RETURNING``, which both SQLite and
    PostgreSQL serialise, so two concurrent orders never share a number.
    """
    year = now.year
    statement = (
        update(WorkOrderNumberSequence)
        .where(WorkOrderNumberSequence.year == year)
        .values(last_value=WorkOrderNumberSequence.last_value + 1)
        .returning(WorkOrderNumberSequence.last_value)
    )
    value = db.session.execute(statement).scalar_one_or_none()
    if value is None:
        try:
            with db.session.begin_nested():
                db.session.execute(insert(WorkOrderNumberSequence).values(year=year, last_value=0))
        except IntegrityError:
            pass  # another transaction created the year's row first
        value = db.session.execute(statement).scalar_one()
    if value > 999_999:
        raise OverflowError(f"work order numbers for {year} are exhausted")
    return f"WO-{year}-{value:06d}"
