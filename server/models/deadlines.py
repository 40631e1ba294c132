"""Deadline policies, business calendars, per-order clocks, escalations and owner chains."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Enum, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.extensions import db
from server.models.auth import User
from server.models.base import JSONType, TimestampMixin, UTCDateTime, enum_values, utcnow
from server.models.enums import CustomerTier, Priority

#: The clocks a policy can limit; ``followup`` has no ``*_by`` column on the order.
CLOCK_KINDS = ("respond", "arrive", "resolve", "followup")
#: When an escalation step fires: at the warning, at the breach, or minutes after it.
STEP_TRIGGERS = ("warning", "breach", "after_breach")
#: What a step can do.
STEP_ACTIONS = (
    "notify_assignee",
    "notify_dispatcher",
    "notify_supervisor",
    "notify_manager",
    "raise_priority",
    "reassign_on_call",
)


class BusinessCalendar(TimestampMixin, db.Model):
    """When a team or region works: weekly hours in a time zone, plus dated exceptions."""

    __tablename__ = "business_calendars"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable code, e.g. ``cn-office`` or ``24x7``.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    #: English name.
    name_en: Mapped[str] = mapped_column(String(120))
    #: Simplified Chinese name.
    name_zh: Mapped[str] = mapped_column(String(120))
    #: IANA time zone the hours are written in.
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    #: Working intervals per weekday: ``{"0": "09:00-12:00, 13:00-18:00", …}`` (0 = Monday).
    weekly_hours: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    #: Hours of a make-up working day (调休); None: Monday's hours.
    makeup_hours: Mapped[str | None] = mapped_column(String(120))
    #: Length of one working day in minutes, for limits written in working days.
    working_day_minutes: Mapped[int] = mapped_column(default=480)
    #: Team this calendar is for (None: any).
    team: Mapped[str | None] = mapped_column(String(40))
    #: Region (site district or city) this calendar is for (None: any).
    region: Mapped[str | None] = mapped_column(String(80))
    #: The calendar used when a policy names none and no region matches.
    is_default: Mapped[bool] = mapped_column(default=False)

    days: Mapped[list[CalendarDay]] = relationship(
        back_populates="calendar", cascade="all, delete-orphan", order_by="CalendarDay.day"
    )


class CalendarDay(db.Model):
    """An exception to a calendar's week: a holiday, or a make-up working day."""

    __tablename__ = "calendar_days"
    __table_args__ = (UniqueConstraint("calendar_id", "day"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The calendar.
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("business_calendars.id", ondelete="CASCADE")
    )
    #: The local date.
    day: Mapped[date] = mapped_column(Date)
    #: True for a make-up working day, False for a day off.
    is_working: Mapped[bool] = mapped_column(default=False)
    #: English name, e.g. "National Day".
    name_en: Mapped[str] = mapped_column(String(120))
    #: Chinese name, e.g. "国庆节".
    name_zh: Mapped[str] = mapped_column(String(120))
    #: Not yet the official arrangement (replace once published).
    is_provisional: Mapped[bool] = mapped_column(default=False)

    calendar: Mapped[BusinessCalendar] = relationship(back_populates="days")


class DeadlinePolicy(TimestampMixin, db.Model):
    """The limits promised for one class of request; the most specific active match wins.

    Every criterion left empty matches anything; among matches, the policy with the most
    criteria set wins (ties: the lowest id).
    """

    __tablename__ = "deadline_policies"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: English name.
    name_en: Mapped[str] = mapped_column(String(120))
    #: Simplified Chinese name.
    name_zh: Mapped[str] = mapped_column(String(120))
    #: Category code it applies to (None: any).
    category_code: Mapped[str | None] = mapped_column(String(40))
    #: Workflow name it applies to, e.g. ``complaint`` (None: any).
    workflow_name: Mapped[str | None] = mapped_column(String(60))
    #: Priority it applies to (None: any).
    priority: Mapped[Priority | None] = mapped_column(
        Enum(Priority, values_callable=enum_values, native_enum=False, length=10)
    )
    #: Complaint severity it applies to: ``general``, ``important``, ``major`` (None: any).
    severity: Mapped[str | None] = mapped_column(String(20))
    #: Customer tier it applies to (None: any).
    customer_tier: Mapped[CustomerTier | None] = mapped_column(
        Enum(CustomerTier, values_callable=enum_values, native_enum=False, length=10)
    )
    #: Respond within, e.g. ``10m`` or ``3 working hours`` (None: no respond clock).
    respond_within: Mapped[str | None] = mapped_column(String(40))
    #: Technician on site within (None: no arrive clock).
    arrive_within: Mapped[str | None] = mapped_column(String(40))
    #: Resolve within (None: no resolve clock).
    resolve_within: Mapped[str | None] = mapped_column(String(40))
    #: Follow-up call within, counted from completion (None: no follow-up clock).
    followup_within: Mapped[str | None] = mapped_column(String(40))
    #: Share of a limit used when the warning fires, in percent.
    warn_percent: Mapped[int] = mapped_column(default=80)
    #: Calendar for working-time limits (None: the region's or the default calendar).
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("business_calendars.id"))
    #: Workflow states in which the clocks stop counting (waiting for customer or parts).
    pause_states: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: Who is told at a breach (None: every manager).
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Inactive policies are not chosen for new clocks.
    is_active: Mapped[bool] = mapped_column(default=True)

    calendar: Mapped[BusinessCalendar | None] = relationship()
    supervisor: Mapped[User | None] = relationship()
    steps: Mapped[list[EscalationStep]] = relationship(
        back_populates="policy",
        cascade="all, delete-orphan",
        order_by="(EscalationStep.clock, EscalationStep.after_minutes, EscalationStep.id)",
    )


class EscalationStep(db.Model):
    """One rung of a policy's escalation ladder for one clock."""

    __tablename__ = "escalation_steps"
    __table_args__ = (UniqueConstraint("policy_id", "clock", "trigger", "after_minutes"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The policy.
    policy_id: Mapped[int] = mapped_column(ForeignKey("deadline_policies.id", ondelete="CASCADE"))
    #: Which clock: ``respond``, ``arrive``, ``resolve`` or ``followup``.
    clock: Mapped[str] = mapped_column(String(10))
    #: ``warning``, ``breach`` or ``after_breach``.
    trigger: Mapped[str] = mapped_column(String(12))
    #: For ``after_breach``: minutes (wall-clock) after the breach; else 0.
    after_minutes: Mapped[int] = mapped_column(default=0)
    #: What to do, from ``STEP_ACTIONS``; the order's owner is always told too.
    actions: Mapped[list[str]] = mapped_column(JSONType, default=list)

    policy: Mapped[DeadlinePolicy] = relationship(back_populates="steps")


class DeadlineClock(db.Model):
    """One running (or finished) deadline of one order: started, paused, met or breached.

    The sweep reads only clocks whose ``next_check_at`` has come (a partial index), so its
    cost follows what is due, not how many orders are open.
    """

    __tablename__ = "deadline_clocks"
    __table_args__ = (
        Index(
            "ix_deadline_clocks_next_check_at",
            "next_check_at",
            "id",
            postgresql_where=text("next_check_at IS NOT NULL"),
            sqlite_where=text("next_check_at IS NOT NULL"),
        ),
        # At most one running clock of each kind per order.
        Index(
            "ux_deadline_clocks_running",
            "work_order_id",
            "kind",
            unique=True,
            postgresql_where=text("stopped_at IS NULL"),
            sqlite_where=text("stopped_at IS NULL"),
        ),
    )

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The order.
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    #: ``respond``, ``arrive``, ``resolve`` or ``followup``.
    kind: Mapped[str] = mapped_column(String(10))
    #: The policy whose limit and ladder apply (None: the built-in defaults).
    policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("deadline_policies.id", ondelete="SET NULL")
    )
    #: The calendar working time is counted on (None: calendar time).
    calendar_id: Mapped[int | None] = mapped_column(
        ForeignKey("business_calendars.id", ondelete="SET NULL")
    )
    #: The limit as written, e.g. ``3 working days``.
    within: Mapped[str] = mapped_column(String(40))
    #: True when the limit counts working time on the calendar.
    is_working_time: Mapped[bool] = mapped_column(default=False)
    #: Share of the limit at which the warning fires, in percent.
    warn_percent: Mapped[int] = mapped_column(default=80)
    #: When it started.
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When the current pause began (None: running or stopped).
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Wall-clock seconds spent paused in finished pauses.
    paused_total_seconds: Mapped[int] = mapped_column(default=0)
    #: Seconds of the clock's own measure (working time for working-time clocks) paused.
    paused_counted_seconds: Mapped[int] = mapped_column(default=0)
    #: When the limit is reached (None while paused).
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: When the warning share is reached (None while paused).
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: When the sweep next has something to do for it (None: nothing, e.g. stopped).
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the sweep found it past its limit.
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When it stopped for good.
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: ``met`` or ``breached`` once stopped (``cancelled`` when the order was cancelled).
    outcome: Mapped[str | None] = mapped_column(String(10))

    policy: Mapped[DeadlinePolicy | None] = relationship()
    pauses: Mapped[list[ClockPause]] = relationship(
        back_populates="clock", cascade="all, delete-orphan", order_by="ClockPause.id"
    )


class ClockPause(db.Model):
    """One pause of a clock: from when, until when, and in which state."""

    __tablename__ = "clock_pauses"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The clock.
    clock_id: Mapped[int] = mapped_column(
        ForeignKey("deadline_clocks.id", ondelete="CASCADE"), index=True
    )
    #: When the pause began.
    paused_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When the clock ran again (None: still paused).
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The workflow state that paused it.
    state: Mapped[str] = mapped_column(String(40))
    #: Who moved the order into that state (None: the system).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    clock: Mapped[DeadlineClock] = relationship(back_populates="pauses")


class EscalationRecord(db.Model):
    """A step done for a clock; the unique key makes each step happen once, whoever sweeps."""

    __tablename__ = "escalation_records"
    __table_args__ = (UniqueConstraint("clock_id", "step_id"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The clock.
    clock_id: Mapped[int] = mapped_column(ForeignKey("deadline_clocks.id", ondelete="CASCADE"))
    #: The step.
    step_id: Mapped[int] = mapped_column(ForeignKey("escalation_steps.id", ondelete="CASCADE"))
    #: The order (for the order's history page).
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    #: When the step was due.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When the sweep did it.
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: What happened: the actions done or skipped and why.
    outcome: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class WorkOrderOwner(db.Model):
    """One link of an order's chain of owners (首问负责制 and hand-offs between departments).

    The first link's user is the order's ``owner_id`` for good; later links are the
    colleagues it was handed to. The open link (``to_at`` None) is who holds it now.
    """

    __tablename__ = "work_order_owners"
    __table_args__ = (Index("ix_work_order_owners_order", "work_order_id", "id"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The order.
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    #: The person holding it.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: Since when.
    from_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Until when (None: still holds it).
    to_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why it came to them: ``intake``, ``first_taken`` or the hand-off reason.
    reason: Mapped[str] = mapped_column(String(200))
    #: Who handed it over (None for the first link).
    handed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
