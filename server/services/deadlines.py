"""Default deadlines by priority, in calendar time.

Deadline policies per category, customer tier and business calendar replace these; until
an order's category has a policy, these are the promises we make.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from server.models import Priority

#: (respond within, arrive within or None, resolve within) per priority.
DEFAULT_LIMITS: dict[Priority, tuple[timedelta, timedelta | None, timedelta]] = {
    Priority.EMERGENCY: (timedelta(minutes=10), timedelta(minutes=45), timedelta(hours=4)),
    Priority.HIGH: (timedelta(hours=1), timedelta(hours=4), timedelta(hours=24)),
    Priority.NORMAL: (timedelta(hours=1), None, timedelta(hours=72)),
    Priority.LOW: (timedelta(hours=4), None, timedelta(days=7)),
}


def default_deadlines(priority: Priority, start: datetime) -> dict[str, datetime | None]:
    """Return ``respond_by``, ``arrive_by`` and ``resolve_by`` counted from ``start``."""
    respond, arrive, resolve = DEFAULT_LIMITS[priority]
    return {
        "respond_by": start + respond,
        "arrive_by": start + arrive if arrive else None,
        "resolve_by": start + resolve,
    }
