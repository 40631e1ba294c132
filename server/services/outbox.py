"""Admin actions on the outbox (the relay itself lives in server.jobs.relay)."""

from __future__ import annotations

from sqlalchemy import update

from server.extensions import db
from server.models import OutboxMessage, OutboxStatus
from server.models.base import utcnow


def redrive_message(message_id: int) -> bool:
    """Give a dead message a fresh set of attempts; False if it is not a dead letter."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.DEAD)
        .values(status=OutboxStatus.PENDING, attempts=0, available_at=utcnow(), last_error=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
