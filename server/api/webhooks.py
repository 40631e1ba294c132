"""``/api/v1/webhooks``: admins subscribe URLs to work order events (signed POSTs)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, jsonify
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select

from server.api import bp
from server.api.fields import Text
from server.auth.permissions import Capability
from server.business_time import Instant
from server.extensions import db
from server.models import OutboxMessage, OutboxStatus, WebhookSubscription
from server.operations import operation
from server.problems import Problem, load_json
from server.services.webhooks import WEBHOOK_ACTION, create_webhook, delete_webhook

#: How many recent deliveries the deliveries view shows.
DELIVERIES_SHOWN = 50

SIGNATURE_DESCRIPTION = """\
Fieldwork POSTs `{"id": "<delivery id>", "event": {...}}` as JSON to the URL for every
work order event of the subscribed kinds (`["*"]`: all of them), with the headers
`Fieldwork-Event` (the kind), `Fieldwork-Delivery` (the same on retries: de-duplicate on
it), `Fieldwork-Timestamp` (Unix seconds) and `Fieldwork-Signature: v1=<hex>`, where
`<hex>` is the HMAC-SHA256 of `"<timestamp>.<raw body>"` keyed with the subscription's
secret. Verify it in constant time and refuse timestamps more than five minutes old.
Answer 2xx to acknowledge; 408, 429 (honouring `Retry-After`) and 5xx are retried with
backoff, any other status drops the delivery. The secret is returned only by this call.
"""


def _http_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError("Give an http or https URL.")


# --- Input ----------------------------------------------------------------------------------


class WebhookCreateSchema(Schema):
    """A new subscription."""

    url = fields.String(required=True, validate=[validate.Length(min=1, max=2000), _http_url])
    events = fields.List(
        Text(60, required=True),
        required=True,
        validate=validate.Length(min=1, max=50),
    )
    description = Text(500, allow_none=True)


# --- Output ---------------------------------------------------------------------------------


class WebhookSchema(Schema):
    """A subscription (without its secret)."""

    id = fields.Integer()
    url = fields.String()
    events = fields.List(fields.String(), attribute="event_kinds")
    description = fields.String(allow_none=True)
    is_active = fields.Boolean()
    created_at = Instant()


class WebhookCreatedSchema(WebhookSchema):
    """A new subscription with its signing secret, shown this once."""

    secret = fields.String()


class WebhookListSchema(Schema):
    """All subscriptions."""

    items = fields.List(fields.Nested(WebhookSchema))


class WebhookDeliverySchema(Schema):
    """One event queued for a subscription and how its delivery went."""

    id = fields.Integer()
    event_kind = fields.Function(lambda m: m.payload.get("event", {}).get("kind"))
    event_id = fields.Integer(allow_none=True)
    work_order_id = fields.Integer(allow_none=True)
    status = fields.Enum(OutboxStatus, by_value=True)
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    created_at = Instant()
    processed_at = Instant(allow_none=True)


class WebhookDeliveryListSchema(Schema):
    """A subscription's latest deliveries, newest first."""

    items = fields.List(fields.Nested(WebhookDeliverySchema))


# --- Views ----------------------------------------------------------------------------------


def _load_webhook(webhook_id: int) -> WebhookSubscription:
    subscription = db.session.get(WebhookSubscription, webhook_id)
    if subscription is None:
        raise Problem(404, "not_found", "No such webhook.")
    return subscription


@bp.get("/webhooks")
@operation(
    "List the webhook subscriptions.",
    capability=Capability.WEBHOOKS_MANAGE,
    response=WebhookListSchema(),
    tag="webhooks",
)
def list_webhooks() -> Response:
    """List every subscription, oldest first; secrets are never listed."""
    rows = db.session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id))
    return jsonify(WebhookListSchema().dump({"items": list(rows)}))


@bp.post("/webhooks")
@operation(
    "Subscribe a URL to work order events.",
    capability=Capability.WEBHOOKS_MANAGE,
    body=WebhookCreateSchema(),
    response=WebhookCreatedSchema(),
    status=201,
    tag="webhooks",
    errors=(415, 422),
    description=SIGNATURE_DESCRIPTION,
)
def create_webhook_view() -> tuple[Response, int]:
    """Create a subscription and return its secret, once."""
    subscription = create_webhook(load_json(WebhookCreateSchema()))
    db.session.commit()
    return jsonify(WebhookCreatedSchema().dump(subscription)), 201


@bp.delete("/webhooks/<int:webhook_id>")
@operation(
    "Delete a webhook subscription.",
    capability=Capability.WEBHOOKS_MANAGE,
    status=204,
    tag="webhooks",
    errors=(404,),
)
def delete_webhook_view(webhook_id: int) -> tuple[str, int]:
    """Delete a subscription; events already queued for it are dropped unsent."""
    delete_webhook(_load_webhook(webhook_id))
    db.session.commit()
    return "", 204


@bp.get("/webhooks/<int:webhook_id>/deliveries")
@operation(
    "List a webhook subscription's latest deliveries.",
    capability=Capability.WEBHOOKS_MANAGE,
    response=WebhookDeliveryListSchema(),
    tag="webhooks",
    errors=(404,),
)
def list_webhook_deliveries(webhook_id: int) -> Response:
    """Return the last deliveries queued for a subscription, newest first."""
    subscription = _load_webhook(webhook_id)
    rows = db.session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.action == WEBHOOK_ACTION,
            OutboxMessage.payload["subscription_id"].as_integer() == subscription.id,
        )
        .order_by(OutboxMessage.id.desc())
        .limit(DELIVERIES_SHOWN)
    )
    return jsonify(WebhookDeliveryListSchema().dump({"items": list(rows)}))
