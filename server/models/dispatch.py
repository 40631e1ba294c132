"""Automatic dispatch: per-category policy, offers made to technicians, last known positions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.models.base import JSONType, UTCDateTime, enum_values, utcnow


class AutoAssignMode(StrEnum):
    """What happens to a new order of a category."""

    OFF = "off"
    SUGGEST = "suggest"
    ASSIGN = "assign"


class OfferStatus(StrEnum):
    """Where one automatic offer of a job to a technician stands."""

    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class DispatchPolicy(db.Model):
    """How orders of one category are dispatched (no row: off)."""

    __tablename__ = "dispatch_policies"

    #: The category the policy applies to.
    category_id: Mapped[int] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True
    )
    #: off: dispatchers assign by hand; suggest: recommendations only; assign: automatic.
    mode: Mapped[AutoAssignMode] = mapped_column(
        Enum(AutoAssignMode, values_callable=enum_values, native_enum=False, length=10),
        default=AutoAssignMode.OFF,
    )
    #: Minutes a technician has to accept an automatic assignment before the next one gets it.
    acceptance_minutes: Mapped[int] = mapped_column(default=15)
    #: Certificate names a technician must hold, valid on the day, e.g. ``["低压电工作业证"]``.
    required_certifications: Mapped[list[str]] = mapped_column(JSONType, default=list)


class DispatchOffer(db.Model):
    """One automatic assignment of an order to a technician, and its answer."""

    __tablename__ = "dispatch_offers"
    __table_args__ = (Index("ix_dispatch_offers_status_expires", "status", "expires_at"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The order offered.
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    #: The technician it was assigned to.
    technician_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: 1 for the top candidate, 2 for the next, …
    rank: Mapped[int]
    #: Where the offer stands.
    status: Mapped[OfferStatus] = mapped_column(
        Enum(OfferStatus, values_callable=enum_values, native_enum=False, length=12),
        default=OfferStatus.OFFERED,
    )
    #: When it was made.
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When it lapses if not accepted.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When the technician answered or the offer lapsed.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why it closed, in a word (``declined``, ``no_answer``).
    reason: Mapped[str | None] = mapped_column(String(40))


class TechnicianPosition(db.Model):
    """Where a technician's phone last reported being."""

    __tablename__ = "technician_positions"

    #: The technician.
    technician_id: Mapped[int] = mapped_column(
        ForeignKey("technician_profiles.user_id", ondelete="CASCADE"), primary_key=True
    )
    #: Latitude, WGS 84 degrees.
    latitude: Mapped[float]
    #: Longitude, WGS 84 degrees.
    longitude: Mapped[float]
    #: When the phone reported it.
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
