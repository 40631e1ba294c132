"""Use cases for outbound webhooks: subscribe, unsubscribe, queue events, sign deliveries.

Deliveries go through the outbox: ``enqueue_webhooks`` adds one ``webhook`` message per
matching subscription in the same transaction as the event, and the relay's ``webhook``
task (``server.jobs.tasks``) POSTs it, with retries.

Each delivery is a POST of the JSON body ``{"id": "<delivery id>", "event": {...}}`` with
these headers:

- ``Fieldwork-Event``: the event kind (``WorkOrderAssigned``);
- ``Fieldwork-Delivery``: the delivery id, the same on every retry (de-duplicate on it);
- ``Fieldwork-Timestamp``: when this attempt was signed, in Unix seconds;
- ``Fieldwork-Signature``: ``v1=`` followed by the hex HMAC-SHA256, keyed with the
  subscription's secret, of ``f"{timestamp}.{body}"`` (the raw body bytes as received).

A receiver recomputes the HMAC, compares it in constant time, and rejects timestamps more
than a few minutes away from its clock (replays); ``verify_signature`` does all of that.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from server.extensions import db
from server.models import OutboxMessage, WebhookSubscription, WorkOrder, WorkOrderEvent

#: The outbox action (and relay task) that delivers one event to one subscription.
WEBHOOK_ACTION = "webhook"


def create_webhook(data: Mapping[str, Any]) -> WebhookSubscription:
    """Subscribe ``data["url"]`` to ``data["events"]`` with a fresh signing secret."""
    subscription = WebhookSubscription(
        url=data["url"],
        event_kinds=list(dict.fromkeys(data["events"])),
        description=data.get("description"),
        secret=f"whsec_{secrets.token_urlsafe(32)}",
        is_active=True,
    )
    db.session.add(subscription)
    db.session.flush()
    return subscription


def delete_webhook(subscription: WebhookSubscription) -> None:
    """Remove a subscription; its queued messages then finish without sending."""
    db.session.delete(subscription)
    db.session.flush()


def event_document(order: WorkOrder, event: WorkOrderEvent) -> dict[str, Any]:
    """Return the JSON form of ``event`` that subscribers receive."""
    return {
        "id": event.id,
        "kind": event.kind,
        "work_order_id": order.id,
        "number": order.number,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "occurred_at": event.occurred_at.isoformat(),
        "data": event.data,
    }


def enqueue_webhooks(order: WorkOrder, event: WorkOrderEvent) -> None:
    """Queue ``event`` for every active subscription that wants its kind (one query)."""
    subscriptions = db.session.scalars(
        select(WebhookSubscription).where(WebhookSubscription.is_active.is_(True))
    ).all()
    wanted = [s for s in subscriptions if s.wants(event.kind)]
    if not wanted:
        return
    document = event_document(order, event)
    for subscription in wanted:
        db.session.add(
            OutboxMessage(
                action=WEBHOOK_ACTION,
                payload={"subscription_id": subscription.id, "event": document},
                work_order_id=order.id,
                event_id=event.id,
            )
        )
    db.session.flush()


def sign(secret: str, timestamp: int | str, body: bytes | str) -> str:
    """Return the ``Fieldwork-Signature`` value of ``body`` sent at ``timestamp``."""
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256)
    return f"v1={digest.hexdigest()}"


def verify_signature(
    secret: str,
    timestamp: int | str,
    body: bytes | str,
    signature: str,
    tolerance: int = 300,
    now: float | None = None,
) -> bool:
    """Return True when ``signature`` signs ``body`` at ``timestamp`` and that is recent.

    For receivers (and tests): ``timestamp`` and ``signature`` are the ``Fieldwork-Timestamp``
    and ``Fieldwork-Signature`` headers; ``tolerance`` is how many seconds the timestamp may
    differ from the clock.
    """
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature)
