"""What customers see and send, and what the office owes them.

Job-page links, surveys, problem reports, follow-up calls, maintenance plans and the
e-mails that opened orders.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.extensions import db
from server.models.base import JSONType, TimestampMixin, UTCDateTime, utcnow
from server.models.categories import Category
from server.models.customers import Asset, Customer, Site
from server.models.work_orders import WorkOrder


class CustomerLink(db.Model):
    """A link to one order's customer page ``/r/<token>``: expiring and revocable.

    The token itself is never stored: it is 32 random bytes shown once (in the e-mail), and
    the row keeps its SHA-256, so a database leak yields no working link.
    """

    __tablename__ = "customer_links"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The one order the link shows.
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    #: Hex SHA-256 of the URL token; looked up on every page view.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: After this instant the link shows a "link expired" page.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When an office user or a newer link revoked it (None: still valid).
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the customer last opened it.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Who issued it (None: the system, e.g. the survey e-mail).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: When it was issued.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    work_order: Mapped[WorkOrder] = relationship()


class Survey(db.Model):
    """The satisfaction survey of one completed order: at most one per order."""

    __tablename__ = "surveys"
    __table_args__ = (Index("ix_surveys_unsent_due", "sent_at", "due_at"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The completed order asked about (one survey per order: it is sent once).
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), unique=True
    )
    #: The customer asked (the order's customer; kept here for the customer file and reports).
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    #: E-mail template the invitation uses (``followup_survey``).
    template: Mapped[str] = mapped_column(String(60), default="followup_survey")
    #: When the invitation goes out and the page shows the survey (next working day).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When the invitation was handed to the outbox (None: not yet).
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the customer answered (None: not yet; a survey is answered once).
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: 1 (very unhappy) to 5 (very happy).
    rating: Mapped[int | None]
    #: The customer's own words.
    comment: Mapped[str | None] = mapped_column(Text)
    #: The customer's answer to "was the problem solved?".
    solved: Mapped[bool | None]
    #: The complaint opened because of an unhappy answer, if any.
    complaint_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="SET NULL")
    )
    #: When the survey was scheduled.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    work_order: Mapped[WorkOrder] = relationship(foreign_keys=[work_order_id])
    complaint_order: Mapped[WorkOrder | None] = relationship(foreign_keys=[complaint_order_id])


class ProblemReport(db.Model):
    """A problem the customer reported from the job page."""

    __tablename__ = "problem_reports"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The order the customer was looking at.
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    #: What the customer wrote.
    description: Mapped[str] = mapped_column(Text)
    #: A phone number to call back on, if given.
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    #: Link the report came through.
    customer_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer_links.id", ondelete="SET NULL")
    )
    #: When it was reported.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FollowUpTask(TimestampMixin, db.Model):
    """A call the office owes a customer: key-customer check-ins and complaint call-backs."""

    __tablename__ = "follow_up_tasks"
    __table_args__ = (
        UniqueConstraint("customer_id", "kind", "due_on"),
        Index("ix_follow_up_tasks_open_due", "done_at", "due_on"),
    )

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whom to call.
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    #: ``key_customer_call`` (periodic) or ``complaint_callback``.
    kind: Mapped[str] = mapped_column(String(30))
    #: The day the call is due.
    due_on: Mapped[date]
    #: First day of the customer's key-customer series: monthly calls in its first year,
    #: quarterly after (None for call-backs).
    series_start_on: Mapped[date | None]
    #: The order the call is about (call-backs), if any.
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="SET NULL")
    )
    #: When the call was made (None: still to do).
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Who made it.
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: What was said.
    notes: Mapped[str | None] = mapped_column(Text)

    customer: Mapped[Customer] = relationship()


class MaintenancePlan(TimestampMixin, db.Model):
    """Recurring work on an asset or a site, generated ahead as work orders."""

    __tablename__ = "maintenance_plans"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The customer who gets the visits.
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    #: The site visited.
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    #: The equipment maintained, if the plan is for one asset.
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    #: Category of the generated orders (normally preventive maintenance).
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    #: Title of the generated orders.
    title: Mapped[str] = mapped_column(String(200))
    #: RFC 5545 recurrence rule without DTSTART, e.g. ``FREQ=MONTHLY;BYMONTHDAY=1``.
    rrule: Mapped[str] = mapped_column(String(500))
    #: First possible visit (the rule's DTSTART), as an aware instant.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: IANA zone the rule is read in (its days and wall-clock times).
    timezone: Mapped[str] = mapped_column(String(60), default="Asia/Shanghai")
    #: How long each visit is planned to take, in minutes.
    duration_minutes: Mapped[int] = mapped_column(default=120)
    #: Orders are generated this many days ahead.
    horizon_days: Mapped[int] = mapped_column(default=60)
    #: What the technician checks: ``[{"key": …, "en": …, "zh_CN": …}]``.
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    #: Inactive plans generate nothing more.
    is_active: Mapped[bool] = mapped_column(default=True)

    customer: Mapped[Customer] = relationship()
    site: Mapped[Site | None] = relationship()
    asset: Mapped[Asset | None] = relationship()
    category: Mapped[Category] = relationship()


class MaintenanceOccurrence(db.Model):
    """One generated visit of a plan; the unique day makes generation idempotent."""

    __tablename__ = "maintenance_occurrences"
    __table_args__ = (UniqueConstraint("plan_id", "occurs_on"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The plan.
    plan_id: Mapped[int] = mapped_column(ForeignKey("maintenance_plans.id", ondelete="CASCADE"))
    #: The day of the visit, in the plan's time zone.
    occurs_on: Mapped[date]
    #: The work order generated for it.
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="SET NULL"), index=True
    )
    #: When it was generated.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    plan: Mapped[MaintenancePlan] = relationship()
    work_order: Mapped[WorkOrder | None] = relationship()


class IntakeMessage(db.Model):
    """An e-mail read from the intake mailbox: it opened an order or commented on one."""

    __tablename__ = "intake_messages"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The e-mail's Message-ID header (or a digest of it when missing): read once only.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    #: The order it opened or commented on.
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="SET NULL"), index=True
    )
    #: ``new_order`` or ``reply``.
    kind: Mapped[str] = mapped_column(String(20))
    #: The sender's address.
    sender: Mapped[str | None] = mapped_column(String(320))
    #: The subject line.
    subject: Mapped[str | None] = mapped_column(String(500))
    #: Message-ID of our acknowledgement, so replies to it find the order.
    ack_message_id: Mapped[str | None] = mapped_column(String(255), index=True)
    #: When we read it.
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
