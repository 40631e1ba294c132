"""The scheduler's leadership lease: exactly one scheduler acts at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.models.base import UTCDateTime


class SchedulerLease(db.Model):
    """Who runs the periodic jobs now, until when, and in which term (epoch)."""

    __tablename__ = "scheduler_leases"

    #: The lease's name (one per kind of leader; ``scheduler`` for periodic jobs).
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: The process holding it (host:pid).
    holder: Mapped[str] = mapped_column(String(64))
    #: Increases each time leadership changes hands; a job records the epoch it ran in.
    epoch: Mapped[int] = mapped_column(default=1)
    #: The holder must renew before this instant, or another scheduler takes over.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PeriodicRun(db.Model):
    """The last period each periodic job ran for, so a period runs once across schedulers."""

    __tablename__ = "periodic_runs"

    #: Stable dotted job id, e.g. ``cleanup.idempotency``.
    job_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    #: Start of the last period the job ran for.
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When it finished.
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
