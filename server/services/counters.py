"""Counters kept in a row per key, bumped safely by concurrent transactions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from server.extensions import db


def bump_counter(model: Any, key_column: str, key: int, value_column: str) -> int:
    """Add one to ``model.<value_column>`` in the row keyed ``key``; return the new value.

    A single ``UPDATE … RETURNING`` takes the row lock until commit, so concurrent callers
    get distinct values that commit in order; the row is created on first use (a concurrent
    creator wins harmlessly).
    """
    bump = (
        update(model)
        .where(getattr(model, key_column) == key)
        .values({value_column: getattr(model, value_column) + 1})
        .returning(getattr(model, value_column))
    )
    value = db.session.execute(bump).scalar_one_or_none()
    if value is None:
        try:
            with db.session.begin_nested():
                db.session.execute(insert(model).values({key_column: key, value_column: 0}))
        except IntegrityError:
            pass  # created concurrently
        value = db.session.execute(bump).scalar_one()
    return int(value)
