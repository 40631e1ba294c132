"""Outbound webhooks: integrators subscribe a URL to work order events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.models.base import JSONType, UTCDateTime, utcnow


class WebhookSubscription(db.Model):
    """A URL that receives signed POSTs for the work order events it subscribes to."""

    __tablename__ = "webhook_subscriptions"

    #: Surrogate key; outbox messages name it in their payload.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Where events are POSTed (http or https only, at most 2000 characters).
    url: Mapped[str] = mapped_column(String(2000))
    #: WorkOrderEvent kinds to send (``["WorkOrderAssigned", ...]``), or ``["*"]`` for all.
    event_kinds: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: HMAC-SHA256 signing key, shown once at creation. Stored as is, not hashed: we must
    #: sign every delivery with it, so we need the key itself.
    secret: Mapped[str] = mapped_column(String(100))
    #: False: nothing is queued or sent for this subscription.
    is_active: Mapped[bool] = mapped_column(default=True)
    #: What the subscription is for, for the admins.
    description: Mapped[str | None] = mapped_column(String(500))
    #: When it was created (UTC).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def wants(self, kind: str) -> bool:
        """Return True when this subscription receives events of ``kind``."""
        return "*" in self.event_kinds or kind in self.event_kinds
