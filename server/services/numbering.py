"""Work order numbers: ``WO-<year>-<6 digits>``, unique, never reused."""

from __future__ import annotations

from datetime import datetime

from server.models import WorkOrderNumberSequence
from server.services.counters import bump_counter


def next_work_order_number(now: datetime) -> str:
    """Reserve and return the next number of ``now``'s year.

    The year's counter row is bumped under its row lock, so two concurrent orders never
    share a number.
    """
    year = now.year
    value = bump_counter(WorkOrderNumberSequence, "year", year, "last_value")
    if value > 999_999:
        raise OverflowError(f"work order numbers for {year} are exhausted")
    return f"WO-{year}-{value:06d}"
