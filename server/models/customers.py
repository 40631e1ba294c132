"""Customers, their contacts, sites and the equipment installed there."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.extensions import db
from server.models.base import JSONType, TimestampMixin, UTCDateTime, enum_values, utcnow
from server.models.enums import CustomerTier, MessagePreference

if TYPE_CHECKING:
    from server.models.auth import User


class Customer(TimestampMixin, db.Model):
    """A household or company we serve; its file holds its whole history."""

    __tablename__ = "customers"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Person's or company's name, in the script the customer uses.
    name: Mapped[str] = mapped_column(String(200), index=True)
    #: Service tier.
    tier: Mapped[CustomerTier] = mapped_column(
        Enum(CustomerTier, values_callable=enum_values, native_enum=False, length=10),
        default=CustomerTier.STANDARD,
    )
    #: Language for e-mails, PDFs and the customer page: ``en`` or ``zh_CN``.
    preferred_locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    #: True for companies, False for households.
    is_company: Mapped[bool] = mapped_column(default=False)
    #: Internal notes for dispatchers.
    notes: Mapped[str | None] = mapped_column(Text)
    #: How the customer wants to hear about their jobs: ``sms``, ``email``, ``both`` or
    #: ``none`` (no messages; the job page still works).
    preferred_channel: Mapped[MessagePreference] = mapped_column(
        Enum(MessagePreference, values_callable=enum_values, native_enum=False, length=10),
        default=MessagePreference.BOTH,
        server_default=MessagePreference.BOTH.value,
    )
    #: When the customer agreed to receive messages about their jobs; None: not given (or
    #: withdrawn). Who recorded it, and when it changed, is in the customer's history.
    message_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Contact.id"
    )
    sites: Mapped[list[Site]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Site.id"
    )


class Contact(TimestampMixin, db.Model):
    """A person to call or write to about a customer's jobs."""

    __tablename__ = "contacts"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The customer.
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    #: Contact's name.
    name: Mapped[str] = mapped_column(String(120))
    #: Phone number (searchable): E.164 (``+8613912345678``) when entered since the console and
    #: the API check numbers; older rows keep what was typed.
    phone: Mapped[str | None] = mapped_column(String(40), index=True)
    #: E-mail address (syntax checked on entry).
    email: Mapped[str | None] = mapped_column(String(254))
    #: The contact to use first.
    is_primary: Mapped[bool] = mapped_column(default=False)

    customer: Mapped[Customer] = relationship(back_populates="contacts")


class Site(TimestampMixin, db.Model):
    """A place where work is done: an address with coordinates and access notes."""

    __tablename__ = "sites"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The customer who owns or rents the site.
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    #: Short name, e.g. "Head office" or "家".
    label: Mapped[str | None] = mapped_column(String(120))
    #: Full postal address.
    address: Mapped[str] = mapped_column(String(300))
    #: District, for grouping and routing.
    district: Mapped[str | None] = mapped_column(String(80))
    #: City.
    city: Mapped[str | None] = mapped_column(String(80))
    #: Latitude, WGS 84 degrees.
    latitude: Mapped[float | None]
    #: Longitude, WGS 84 degrees.
    longitude: Mapped[float | None]
    #: How to get in: door codes, parking, whom to ask.
    access_notes: Mapped[str | None] = mapped_column(Text)

    customer: Mapped[Customer] = relationship(back_populates="sites")
    assets: Mapped[list[Asset]] = relationship(
        back_populates="site", cascade="all, delete-orphan", order_by="Asset.id"
    )


class Asset(TimestampMixin, db.Model):
    """A piece of equipment at a site that we install, repair or maintain."""

    __tablename__ = "assets"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Where it is installed.
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    #: Kind of equipment, e.g. ``hvac``, ``water_heater``.
    kind: Mapped[str | None] = mapped_column(String(40))
    #: Manufacturer.
    manufacturer: Mapped[str | None] = mapped_column(String(80))
    #: Model designation.
    model: Mapped[str] = mapped_column(String(120))
    #: Serial number (searchable).
    serial_number: Mapped[str | None] = mapped_column(String(80), index=True)
    #: Installation date.
    installed_on: Mapped[date | None]
    #: Last day of the warranty.
    warranty_ends_on: Mapped[date | None]

    site: Mapped[Site] = relationship(back_populates="assets")


class CustomerEvent(db.Model):
    """One entry of a customer's append-only history: who changed which detail, and how."""

    __tablename__ = "customer_events"
    __table_args__ = (Index("ix_customer_events_customer_id", "customer_id", "id"),)

    #: Surrogate key; also the order of events.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The customer (the history goes with them when they are erased).
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    #: What happened, in the past tense (``CustomerCreated``, ``CustomerUpdated``).
    kind: Mapped[str] = mapped_column(String(60))
    #: Who did it (None for the system or an import).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: When it was recorded.
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Details: ``changes`` maps each changed field to ``[before, after]``; ``contacts``
    #: lists contacts added, changed (with their changes) and removed.
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    actor: Mapped[User | None] = relationship()
