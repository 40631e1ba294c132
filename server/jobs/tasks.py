"""The tasks outbox messages run. Each is idempotent: deliveries are recorded per recipient.

``notify`` tells people about a work order: a push to every active phone of the users it
names (FCM for the Android and iOS apps, Web Push for browsers running the technicians' web
app), and/or an e-mail, in each recipient's language. Without FCM credentials FCM pushes are
recorded (shown in the console's outbox view) instead of sent; Web Push always sends, signed
with the deployment's VAPID key. Without SMTP settings e-mails are written as ``.eml`` files
(see ``server.notify.email``).
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from typing import Any

from flask import current_app
from sqlalchemy import select

from server.extensions import db
from server.jobs.relay import PermanentFailure, RetryLater, deliver_once, task
from server.models import (
    Contact,
    Delivery,
    Device,
    DevicePlatform,
    OutboxMessage,
    Priority,
    Role,
    User,
    WorkOrder,
)
from server.notify.outbound_http import opener
from server.services.notification_preferences import wanting
from server.services.workflow_registry import definition_for

log = logging.getLogger("fieldwork.jobs")

#: Push titles and bodies by template and language; ``{number}``, ``{title}``, ``{state}``.
PUSH_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "work_order_assigned": {
        "en": ("New job {number}", "{title}"),
        "zh_CN": ("新工单 {number}", "{title}"),
    },
    "emergency_assigned": {
        "en": ("EMERGENCY {number}", "{title} — accept now"),
        "zh_CN": ("紧急工单 {number}", "{title}——请立即接单"),
    },
    "work_order_cancelled": {
        "en": ("Job {number} cancelled", "{title}"),
        "zh_CN": ("工单 {number} 已取消", "{title}"),
    },
    "work_order_declined": {
        "en": ("Job {number} declined", "{title}: assign someone else"),
        "zh_CN": ("工单 {number} 被拒接", "{title}：请改派"),
    },
    "assignment_not_accepted": {
        "en": ("Job {number} not accepted", "{title}: nobody accepted it yet"),
        "zh_CN": ("工单 {number} 未接单", "{title}：仍无人接单"),
    },
    "work_order_handed_off": {
        "en": ("Job {number} handed to you", "{title}"),
        "zh_CN": ("工单 {number} 已转交给您", "{title}"),
    },
}
PUSH_TEXTS.update(
    {
        "deadline_warning": {
            "en": ("Job {number} nearly due", "{title}: the deadline is close"),
            "zh_CN": ("工单 {number} 即将超时", "{title}：时限将到"),
        },
        "deadline_breached": {
            "en": ("Job {number} overdue", "{title}: the deadline has passed"),
            "zh_CN": ("工单 {number} 已超时", "{title}：已超过时限"),
        },
        "deadline_escalated": {
            "en": ("Job {number} escalated", "{title}: still overdue"),
            "zh_CN": ("工单 {number} 已升级", "{title}：仍然超时未处理"),
        },
    }
)
#: Any other template: a plain status update.
DEFAULT_PUSH_TEXT = {
    "en": ("Job {number}: {state}", "{title}"),
    "zh_CN": ("工单 {number}：{state}", "{title}"),
}


def _language(locale: str | None) -> str:
    return "zh_CN" if (locale or "").startswith("zh") else "en"


def recipients(order: WorkOrder, to: str) -> list[User]:
    """Return the users a ``notify`` action names (``customer`` is handled separately)."""
    if to == "assignee":
        users = [order.assignee] if order.assignee else []
    elif to in ("dispatcher", "owner"):
        users = [order.owner or order.created_by] if (order.owner or order.created_by) else []
    elif to == "manager":
        users = list(db.session.scalars(select(User).where(User.role == Role.MANAGER)))
    else:
        users = []
    return [user for user in users if user is not None and user.is_active]


#: One sender per configuration, kept for the life of the process (it holds an HTTP session).
_SENDERS: dict[tuple[str, str | None], Any] = {}


def _push_sender(credentials: str, endpoint: str | None) -> Any:
    from server.notify.push import PushSender

    key = (credentials, endpoint)
    if key not in _SENDERS:
        _SENDERS[key] = PushSender(credentials, endpoint=endpoint)
    return _SENDERS[key]


#: One Web Push sender per VAPID configuration (it holds an HTTP session).
_WEB_SENDERS: dict[tuple[str, str, bool], Any] = {}

#: The technicians' app page of a job: a tap on a Web Push notification opens it.
APP_JOB_URL = "/app/jobs/{job_id}"


def _web_push_sender(settings: Any) -> Any:
    from server.notify.webpush import WebPushSender

    key = (settings.vapid_private_key, settings.vapid_subject, settings.webpush_allow_loopback)
    if key not in _WEB_SENDERS:
        _WEB_SENDERS[key] = WebPushSender(
            settings.vapid_private_key,
            settings.vapid_subject,
            allow_loopback=settings.webpush_allow_loopback,
        )
    return _WEB_SENDERS[key]


def close_push_senders() -> None:
    """Close every push sender (Firebase apps, Web Push sessions); the next push opens anew."""
    while _SENDERS:
        _SENDERS.popitem()[1].close()
    while _WEB_SENDERS:
        _WEB_SENDERS.popitem()[1].close()


def web_push_payload(message: OutboxMessage, order: WorkOrder, template: str) -> dict[str, Any]:
    """Return what a Web Push carries: ids only, and the app page to open (the app syncs)."""
    return {
        "v": 1,
        "kind": template,
        "job_id": order.id,
        "event_id": message.event_id,
        "outbox_id": message.id,
        "url": APP_JOB_URL.format(job_id=order.id),
    }


def _push_text(template: str, locale: str, order: WorkOrder) -> tuple[str, str]:
    language = _language(locale)
    title, body = PUSH_TEXTS.get(template, DEFAULT_PUSH_TEXT)[language]
    state = definition_for(order.workflow_name, order.workflow_version).states.get(order.state)
    values = {
        "number": order.number,
        "title": order.title,
        "state": state.labels.text(language) if state else order.state,
    }
    return title.format(**values), body.format(**values)


def push_to(message: OutboxMessage, order: WorkOrder, users: Iterable[User], template: str) -> None:
    """Push to every active phone and browser of ``users``, once each, whatever the retries.

    The phones not yet served by this message go to FCM together (``send_each``, at most
    500 a call); the browsers get one Web Push each (VAPID-signed, the payload encrypted
    for the subscription, ids only). Each outcome is recorded as a delivery, so a retry
    only sends to the devices a push service asked us to try again.
    """
    from server.notify.push import PushMessage, PushOutcome, PushResult

    settings = current_app.config["FIELDWORK_SETTINGS"]
    devices = db.session.scalars(
        select(Device)
        .where(Device.user_id.in_([u.id for u in users]), Device.is_active.is_(True))
        .order_by(Device.id)
    ).all()
    served = set(
        db.session.scalars(
            select(Delivery.recipient).where(
                Delivery.outbox_message_id == message.id, Delivery.channel == "push"
            )
        )
    )
    pending = [device for device in devices if f"device:{device.id}" not in served]
    if not pending:
        return
    phones = [d for d in pending if d.platform is not DevicePlatform.WEB]
    browsers = [d for d in pending if d.platform is DevicePlatform.WEB]
    outcomes: dict[int, tuple[str, str | None] | None] = {}
    results: list[tuple[Device, PushResult]] = []
    if phones:
        pushes = []
        for device in phones:
            title, body = _push_text(template, device.locale or "en", order)
            pushes.append(
                PushMessage(
                    token=device.push_token,
                    title=title,
                    body=body,
                    data={
                        "work_order_id": str(order.id),
                        "number": order.number,
                        "state": order.state,
                        "event_id": str(message.event_id or ""),
                        "outbox_id": str(message.id),
                    },
                    collapse_key=f"wo-{order.id}",
                )
            )
        if not settings.fcm_credentials:
            # No Firebase project configured: the pushes are recorded for the console to show.
            outcomes.update({device.id: ("recorded", None) for device in phones})
        else:
            sender = _push_sender(settings.fcm_credentials, settings.fcm_endpoint)
            results += zip(phones, sender.send(pushes), strict=True)
    if browsers:
        results += _web_push(message, order, browsers, template, settings)
    retry_after: float | None = None
    for device, result in results:
        if result.outcome is PushOutcome.SENT:
            outcomes[device.id] = ("sent", result.message_id)
        elif result.outcome is PushOutcome.TOKEN_DEAD:
            device.is_active = False
            outcomes[device.id] = ("dead_token", result.error_code)
        elif result.outcome is PushOutcome.PAYLOAD_ERROR:
            outcomes[device.id] = ("failed", f"{result.error_code}: {result.detail}"[:255])
        else:
            outcomes[device.id] = None  # retried: nothing recorded for this device yet
            retry_after = max(retry_after or 0, result.retry_after or 0) or None
    for device in pending:
        outcome = outcomes[device.id]
        if outcome is not None:
            status, external_id = outcome
            db.session.add(
                Delivery(
                    outbox_message_id=message.id,
                    channel="push",
                    recipient=f"device:{device.id}",
                    status=status,
                    external_id=external_id,
                )
            )
    db.session.commit()
    if None in outcomes.values():
        raise RetryLater("a push service asked us to retry", after=retry_after)


def _web_push(
    message: OutboxMessage, order: WorkOrder, browsers: list[Device], template: str, settings: Any
) -> list[tuple[Device, Any]]:
    """Send one Web Push to each browser; return each device with its result."""
    from server.notify.push import PushOutcome, PushResult
    from server.notify.webpush import WebPushMessage

    urgent = order.priority is Priority.EMERGENCY or template == "emergency_assigned"
    payload = web_push_payload(message, order, template)
    ready: list[tuple[Device, WebPushMessage]] = []
    results: list[tuple[Device, Any]] = []
    for device in browsers:
        if not (device.webpush_p256dh and device.webpush_auth):
            result = PushResult(device.push_token, PushOutcome.PAYLOAD_ERROR, None, "no_keys")
            results.append((device, result))
            continue
        try:
            push = WebPushMessage(
                endpoint=device.push_token,
                p256dh=device.webpush_p256dh,
                auth=device.webpush_auth,
                payload=payload,
                topic=f"wo-{order.id}",
                urgency="high" if urgent else "normal",
            )
        except ValueError as error:
            result = PushResult(device.push_token, PushOutcome.PAYLOAD_ERROR, None, "invalid")
            results.append((device, dataclasses.replace(result, detail=str(error))))
            continue
        ready.append((device, push))
    if ready:
        sent = _web_push_sender(settings).send([push for _device, push in ready])
        results += zip([device for device, _push in ready], sent, strict=True)
    return results


@task("notify")
def notify(message: OutboxMessage) -> None:
    """Tell the people an action names about the work order (push and/or e-mail)."""
    params = message.payload.get("params", {})
    order = db.session.get(WorkOrder, message.work_order_id) if message.work_order_id else None
    if order is None:
        raise PermanentFailure("the work order no longer exists")
    to = str(params.get("to", "assignee"))
    channels = params.get("channels") or ["push"]
    template = str(params.get("template", "work_order_updated"))
    users = recipients(order, to)
    if to == "users":  # named people, e.g. an escalation's owner, supervisor and managers
        ids = [int(i) for i in params.get("user_ids") or []]
        found = db.session.scalars(select(User).where(User.id.in_(ids))).all()
        users = [u for u in sorted(found, key=lambda u: ids.index(u.id)) if u.is_active]
    push_users = wanting(users, template, "push")
    if "push" in channels and push_users:
        push_to(message, order, push_users, template)
    if "email" in channels:
        email_to(message, order, wanting(users, template, "email"), to, template)


def email_to(
    message: OutboxMessage, order: WorkOrder, users: list[User], to: str, template: str
) -> None:
    """E-mail the users (or the customer's contacts) once each.

    ``params.context`` of the message adds what the template shows beyond the order facts
    (a hand-off's sender and reason).
    """
    extra = message.payload.get("params", {}).get("context") or {}
    addresses = [(u.email, u.locale, u.display_name) for u in users if u.email]
    if to == "customer":
        contacts = db.session.scalars(
            select(Contact).where(Contact.customer_id == order.customer_id)
        ).all()
        with_email = [c for c in contacts if c.email]
        primary = [c for c in with_email if c.is_primary] or with_email
        addresses = [(c.email, order.customer.preferred_locale, c.name) for c in primary[:1]]
    from server.jobs.mail import send_order_email

    for address, locale, name in addresses:
        if not address:
            continue
        deliver_once(
            message,
            "email",
            address,
            lambda address=address, locale=locale, name=name: send_order_email(
                message, order, address, locale, template, name, context=extra
            ),
        )


#: Seconds a webhook receiver has to answer.
WEBHOOK_TIMEOUT = 10
#: The one error recorded for every receiver not reached, whatever the reason.
WEBHOOK_UNREACHABLE = (
    "webhook unreachable: no answer from a public address of this host"
    " (not resolvable, refused as internal, not listening or not answering)"
)


@task("webhook")
def webhook(message: OutboxMessage) -> None:
    """POST one work order event, signed, to one subscription (see ``server.services.webhooks``).

    2xx: delivered. 408, 429, 5xx: retried (honouring ``Retry-After`` seconds). Any other
    answer: dead-lettered. A receiver not reached (no DNS answer, an internal address, a
    closed port, a timeout) is retried under one message, whatever the reason. A
    subscription deleted or deactivated since the event was queued gets nothing.
    """
    from server.models import WebhookSubscription
    from server.services.webhooks import sign

    subscription = db.session.get(WebhookSubscription, message.payload.get("subscription_id"))
    if subscription is None or not subscription.is_active:
        return
    if urllib.parse.urlsplit(subscription.url).scheme not in ("http", "https"):
        raise PermanentFailure("webhook URLs must be http or https")
    event = message.payload["event"]
    allow_private = current_app.config["FIELDWORK_SETTINGS"].webhook_allow_private
    body = json.dumps({"id": str(message.id), "event": event}, separators=(",", ":")).encode()

    def send() -> tuple[str, str | None]:
        timestamp = int(time.time())
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            subscription.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Fieldwork-Webhooks/1",
                "Fieldwork-Event": str(event.get("kind", "")),
                "Fieldwork-Delivery": str(message.id),
                "Fieldwork-Timestamp": str(timestamp),
                "Fieldwork-Signature": sign(subscription.secret, timestamp, body),
            },
        )
        try:
            with opener(allow_private).open(request, timeout=WEBHOOK_TIMEOUT) as response:
                response.read(65536)
                return "sent", str(response.status)
        except urllib.error.HTTPError as error:
            status = error.code
            error.close()
            if status in (408, 429) or status >= 500:
                raise RetryLater(f"webhook answered {status}", after=_retry_after(error)) from None
            raise PermanentFailure(f"webhook answered {status}") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            # One outcome and one text for every target not reached: refused as internal,
            # not resolvable, nothing listening, timed out, not speaking HTTP. Telling them
            # apart would turn the delivery log into a port scanner. The server log keeps
            # the detail for the operator.
            reason = getattr(error, "reason", error)
            log.info("webhook %s not reached: %r", message.id, reason)
            raise RetryLater(WEBHOOK_UNREACHABLE) from None

    # Delivery.recipient holds 320 characters; one message has one URL, so a prefix is enough.
    deliver_once(message, "webhook", subscription.url[:320], send)


def _retry_after(error: urllib.error.HTTPError) -> float | None:
    value = (error.headers.get("Retry-After") or "").strip() if error.headers else ""
    return float(min(int(value), 86400)) if value.isdigit() else None


# Tasks defined in their own modules register when the worker imports this one.
from server.jobs import digest, followup_tasks, imap_intake, pdf_tasks  # noqa: E402, F401
