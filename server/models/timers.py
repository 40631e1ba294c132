"""Workflow timers: when each open order's next timer is due, and which timers fired."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.models.base import UTCDateTime, utcnow


class WorkflowTimerSchedule(db.Model):
    """The next moment one order's workflow timers must be looked at.

    One row per order whose current state has timers; the sweep reads the rows whose
    ``next_at`` has passed through an index, so its cost follows what is due, not how many
    orders are open.
    """

    __tablename__ = "workflow_timer_schedules"

    #: The order (one schedule each).
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True
    )
    #: When the order entered the state the timers watch.
    state_entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When the earliest timer not yet fired is due.
    next_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class WorkflowTimerRun(db.Model):
    """One timer that fired for one stay of an order in a state: it never fires twice."""

    __tablename__ = "workflow_timer_runs"
    __table_args__ = (UniqueConstraint("work_order_id", "timer", "state_entered_at"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The order.
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    #: The timer's name in the workflow definition.
    timer: Mapped[str] = mapped_column(String(60))
    #: The stay in the state it measured (the order's ``state_entered_at`` then).
    state_entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When it fired.
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
