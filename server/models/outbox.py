"""The transactional outbox: side effects recorded with the change that caused them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.models.base import JSONType, UTCDateTime, enum_values, utcnow
from server.models.enums import OutboxStatus


class OutboxMessage(db.Model):
    """One side effect to perform after commit (push, e-mail, PDF, escalation, …)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_status_available", "status", "available_at"),)

    #: Surrogate key; consumers de-duplicate on it.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: What to do: a workflow action name such as ``notify`` or ``request_completion_sheet``.
    action: Mapped[str] = mapped_column(String(60))
    #: The action's parameters and context.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: The order concerned, if any.
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="SET NULL"), index=True
    )
    #: The history event that caused it, if any.
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_order_events.id", ondelete="SET NULL")
    )
    #: Delivery state.
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(OutboxStatus, values_callable=enum_values, native_enum=False, length=20),
        default=OutboxStatus.PENDING,
    )
    #: Not to be handled before this instant (backoff).
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Attempts so far.
    attempts: Mapped[int] = mapped_column(default=0)
    #: Error of the last failed attempt.
    last_error: Mapped[str | None] = mapped_column(Text)
    #: When it was recorded.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When it was handled for good.
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: A worker holds the message until then; after it, the claim is stale and reclaimable.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Which worker holds it (process and thread), for the console and the logs.
    locked_by: Mapped[str | None] = mapped_column(String(64))


class Delivery(db.Model):
    """One message handed to one recipient on one channel; at most one per triple.

    A retried job looks here first, so a push or an e-mail that already went out is not
    sent again (the providers de-duplicate the rare resend after a crash by message id).
    """

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("outbox_message_id", "channel", "recipient"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The outbox message delivered.
    outbox_message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE")
    )
    #: ``push``, ``email`` or ``webhook``.
    channel: Mapped[str] = mapped_column(String(20))
    #: Device id, e-mail address or URL.
    recipient: Mapped[str] = mapped_column(String(320))
    #: ``sent``, ``recorded`` (no provider configured), ``failed`` (permanent), ``dead_token``
    #: or ``refused`` (the customer wants no messages on this channel).
    status: Mapped[str] = mapped_column(String(20))
    #: The provider's id: FCM message name, SMTP Message-ID, webhook delivery id.
    external_id: Mapped[str | None] = mapped_column(String(255))
    #: Why it failed, if it did.
    error: Mapped[str | None] = mapped_column(Text)
    #: When it was handed over.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
