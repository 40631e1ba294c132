"""Work orders, their visits, crews and append-only history."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.extensions import db
from server.models.auth import User
from server.models.base import JSONType, TimestampMixin, UTCDateTime, enum_values, utcnow
from server.models.categories import Category
from server.models.customers import Asset, Customer, Site
from server.models.enums import Channel, CrewRole, Priority, VisitStatus

if TYPE_CHECKING:
    from server.models.attachments import Attachment


#: The deadline clocks every order carries; each has ``<clock>_by``, ``_met_at``,
#: ``_breached_at`` columns.
DEADLINE_CLOCKS = ("respond", "arrive", "resolve")


class WorkOrder(TimestampMixin, db.Model):
    """A request for field work, driven through its category's workflow."""

    __tablename__ = "work_orders"
    __table_args__ = (
        Index("ix_work_orders_assignee_state", "assignee_id", "state"),
        Index("ix_work_orders_state_respond_by", "state", "respond_by"),
        Index("ix_work_orders_state_arrive_by", "state", "arrive_by"),
        Index("ix_work_orders_state_resolve_by", "state", "resolve_by"),
        Index("ix_work_orders_updated_at_id", "updated_at", "id"),
        Index("ix_work_orders_created_at_id", "created_at", "id"),
        # A technician's open jobs: the phone's job list, whatever the history's size.
        Index(
            "ix_work_orders_open_assignee",
            "assignee_id",
            "id",
            postgresql_where=text("closed_at IS NULL"),
            sqlite_where=text("closed_at IS NULL"),
        ),
    )

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public number ``WO-<year>-<6 digits>``, unique, never reused.
    number: Mapped[str] = mapped_column(String(20), unique=True)
    #: Request class.
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    #: Workflow definition the order follows.
    workflow_name: Mapped[str] = mapped_column(String(60))
    #: Version of that definition, fixed when the order starts.
    workflow_version: Mapped[int]
    #: Current workflow state (a state name of that definition).
    state: Mapped[str] = mapped_column(String(40), index=True)
    #: When the order entered its current state (workflow timers count from here).
    state_entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Urgency.
    priority: Mapped[Priority] = mapped_column(
        Enum(Priority, values_callable=enum_values, native_enum=False, length=10)
    )
    #: Complaint severity set at triage (``general``, ``important``, ``major``); picks the
    #: deadline policy. None for other requests.
    severity: Mapped[str | None] = mapped_column(String(20))
    #: How the request came in.
    channel: Mapped[Channel] = mapped_column(
        Enum(Channel, values_callable=enum_values, native_enum=False, length=10)
    )
    #: One-line summary.
    title: Mapped[str] = mapped_column(String(200))
    #: What the customer reported.
    description: Mapped[str | None] = mapped_column(Text)
    #: Who asked for the work.
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    #: Where the work is done.
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    #: The equipment concerned.
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"), index=True)
    #: Start of the window the customer asked for.
    requested_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: End of the window the customer asked for.
    requested_end_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Planned start of the work.
    scheduled_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Planned end of the work.
    scheduled_end_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Technician responsible now.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The first person who took the request; owns it until it closes.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: Who created the order (None for orders from the API without a user).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Reply due by.
    respond_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the reply deadline was met.
    respond_met_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the reply deadline was found breached.
    respond_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Technician on site by.
    arrive_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the arrival deadline was met.
    arrive_met_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the arrival deadline was found breached.
    arrive_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Resolution due by.
    resolve_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the resolution deadline was met.
    resolve_met_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the resolution deadline was found breached.
    resolve_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the work was completed (set by the workflow).
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the order was closed or cancelled.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Optimistic-locking counter; every change increments it.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    category: Mapped[Category] = relationship()
    customer: Mapped[Customer] = relationship()
    site: Mapped[Site | None] = relationship()
    asset: Mapped[Asset | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    visits: Mapped[list[Visit]] = relationship(
        back_populates="work_order", cascade="all, delete-orphan", order_by="Visit.sequence"
    )
    events: Mapped[list[WorkOrderEvent]] = relationship(
        back_populates="work_order",
        cascade="all, delete-orphan",
        order_by="WorkOrderEvent.id",
        viewonly=False,
    )
    comments: Mapped[list[Comment]] = relationship(
        back_populates="work_order", cascade="all, delete-orphan", order_by="Comment.id"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="work_order", cascade="all, delete-orphan"
    )

    @property
    def current_visit(self) -> Visit | None:
        """Return the visit the phone works on: the first one not yet done or cancelled."""
        for visit in self.visits:
            if visit.status in (VisitStatus.PLANNED, VisitStatus.IN_PROGRESS):
                return visit
        return None


class WorkOrderNumberSequence(db.Model):
    """The last work order number handed out in each year (numbers are never reused)."""

    __tablename__ = "work_order_number_sequences"

    #: Calendar year the numbers belong to.
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: Highest number used so far in that year.
    last_value: Mapped[int] = mapped_column(default=0)


class Visit(TimestampMixin, db.Model):
    """One trip to the site; an order may need several (parts ordered, a second day)."""

    __tablename__ = "visits"
    __table_args__ = (
        UniqueConstraint("work_order_id", "sequence"),
        Index("ix_visits_lead_planned_start", "lead_technician_id", "planned_start_at"),
    )

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The order.
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    #: 1 for the first visit, 2 for the second, …
    sequence: Mapped[int]
    #: Where the visit stands.
    status: Mapped[VisitStatus] = mapped_column(
        Enum(VisitStatus, values_callable=enum_values, native_enum=False, length=20),
        default=VisitStatus.PLANNED,
    )
    #: Technician leading the visit.
    lead_technician_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Planned start.
    planned_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Planned end.
    planned_end_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the technician set off.
    travel_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the technician arrived on site.
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the technician left the site.
    departed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    work_order: Mapped[WorkOrder] = relationship(back_populates="visits")
    lead_technician: Mapped[User | None] = relationship()
    crew: Mapped[list[VisitCrewMember]] = relationship(
        back_populates="visit", cascade="all, delete-orphan"
    )


class VisitCrewMember(db.Model):
    """A technician on a visit's crew: the lead or a helper."""

    __tablename__ = "visit_crew_members"
    __table_args__ = (
        UniqueConstraint("visit_id", "technician_id"),
        # Helpers see the jobs they help on (leads are the assignee).
        Index(
            "ix_visit_crew_members_helper",
            "technician_id",
            "visit_id",
            postgresql_where=text("role = 'helper'"),
            sqlite_where=text("role = 'helper'"),
        ),
    )

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The visit.
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    #: The technician.
    technician_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: Lead or helper.
    role: Mapped[CrewRole] = mapped_column(
        Enum(CrewRole, values_callable=enum_values, native_enum=False, length=10)
    )

    visit: Mapped[Visit] = relationship(back_populates="crew")
    technician: Mapped[User] = relationship()


class WorkOrderEvent(db.Model):
    """One entry of an order's append-only history (state changes, edits, assignments)."""

    __tablename__ = "work_order_events"
    __table_args__ = (Index("ix_work_order_events_order_id", "work_order_id", "id"),)

    #: Surrogate key; also the order of events.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The order.
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    #: What happened, in the past tense (``WorkOrderAssigned``).
    kind: Mapped[str] = mapped_column(String(60))
    #: Workflow transition that caused it, if any.
    transition: Mapped[str | None] = mapped_column(String(60))
    #: State before.
    from_state: Mapped[str | None] = mapped_column(String(40))
    #: State after.
    to_state: Mapped[str | None] = mapped_column(String(40))
    #: Who did it (None for the system).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: When the server recorded it, by the server's clock.
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When it happened by the phone's clock (the app's ``captured_at``), if a phone said so;
    #: an offline step reaches the server later than it happened.
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Details: changed fields, reasons, the phone's own clock as it sent it.
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    work_order: Mapped[WorkOrder] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class Comment(TimestampMixin, db.Model):
    """A note on an order; internal ones are never shown to the customer."""

    __tablename__ = "comments"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The order.
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    #: Who wrote it.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The text.
    body: Mapped[str] = mapped_column(Text)
    #: Hidden from the customer.
    is_internal: Mapped[bool] = mapped_column(default=True)

    work_order: Mapped[WorkOrder] = relationship(back_populates="comments")
    author: Mapped[User | None] = relationship()


class FieldReport(TimestampMixin, db.Model):
    """What the technician reports for one visit: notes, checklist, resolution, labour."""

    __tablename__ = "field_reports"
    __table_args__ = (UniqueConstraint("work_order_id", "visit_id"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The order.
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    #: The visit it reports on.
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    #: Free-text description of the work done.
    work_notes: Mapped[str | None] = mapped_column(Text)
    #: Checklist answers: ``[{"item": …, "answer": …, "ok": bool}]``.
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    #: Resolution code, e.g. ``replaced_part``.
    resolution_code: Mapped[str | None] = mapped_column(String(40))
    #: Labour time in minutes.
    labour_minutes: Mapped[int | None]
    #: The technician thinks another visit or call is needed.
    follow_up_needed: Mapped[bool] = mapped_column(default=False)
    #: Who wrote the report.
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Optimistic-locking counter.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class PartUsage(TimestampMixin, db.Model):
    """A part used on an order."""

    __tablename__ = "part_usages"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The order.
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    #: The visit the part was used on.
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))
    #: Part number.
    part_number: Mapped[str] = mapped_column(String(60))
    #: Description.
    description: Mapped[str | None] = mapped_column(String(300))
    #: Quantity used (whole units).
    quantity: Mapped[int] = mapped_column(default=1)
    #: Who recorded it.
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
