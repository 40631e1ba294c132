"""E-mails about work orders, rendered in the recipient's language and sent once."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
from flask import current_app

from server.jobs.customer_mail import (
    CUSTOMER_TEMPLATE,
    OWN_TEMPLATES,
    customer_context,
    is_for_customer,
)
from server.jobs.relay import RetryLater
from server.models import OutboxMessage, WorkOrder
from server.notify.email import (
    Attachment,
    EmailError,
    OutgoingEmail,
    create_email_environment,
    render_email,
    send_email,
)
from server.services.customers import wants_messages_by
from server.services.workflow_registry import definition_for

#: Used when an action names a template that has no e-mail version (staff e-mails).
GENERIC_TEMPLATE = "work_order_update"


@functools.cache
def _environment() -> jinja2.Environment:
    return create_email_environment()


def order_context(order: WorkOrder, locale: str, recipient_name: str) -> dict[str, Any]:
    """Return what work order e-mails to staff show (the keys the templates document)."""
    language = "zh_CN" if locale.startswith("zh") else "en"
    state = definition_for(order.workflow_name, order.workflow_version).states.get(order.state)
    settings = current_app.config["FIELDWORK_SETTINGS"]
    return {
        "recipient_name": recipient_name,
        "technician_name": order.assignee.display_name if order.assignee else recipient_name,
        "order_number": order.number,
        "title": order.title,
        "priority": str(order.priority),
        "state_label": state.labels.text(language) if state else order.state,
        "customer_name": order.customer.name,
        "site_address": order.site.address if order.site else "",
        "scheduled_for": None,
        "notes": None,
        "order_url": f"{settings.base_url}/work-orders/{order.id}",
    }


def send_order_email(
    message: OutboxMessage,
    order: WorkOrder,
    address: str,
    locale: str,
    template: str,
    recipient_name: str,
    *,
    context: Mapping[str, Any] | None = None,
    attachments: Sequence[Attachment] = (),
    for_customer: bool | None = None,
) -> tuple[str, str | None]:
    """Render and send one e-mail; return the delivery status and Message-ID.

    ``context`` adds what a template needs beyond the order facts; ``attachments`` go with
    the e-mail (the completion sheet's PDF). ``for_customer`` (default: the message's
    ``to`` is ``customer``) picks the customer's words and links: a status message for
    the event the message was queued for, with a link to the customer's own page only,
    and nothing at all (status ``refused``) to a customer who wants no e-mail.
    """
    if for_customer is None:
        for_customer = is_for_customer(message)
    if for_customer and not wants_messages_by(order.customer, "email"):
        # Recorded, not sent: the customer file shows it in the customer's message log.
        return "refused", f"the customer prefers {order.customer.preferred_channel.value}"
    if for_customer:
        # A status message for the event unless the e-mail has a template of its own; never
        # the staff's generic e-mail, which links to the console.
        context = {
            **customer_context(message, order, locale, recipient_name, template),
            **(context or {}),
        }
        email_template = template if template in OWN_TEMPLATES else CUSTOMER_TEMPLATE
        subject, text, html = render_email(_environment(), email_template, context, locale)
    else:
        context = {**order_context(order, locale, recipient_name), **(context or {})}
        try:
            subject, text, html = render_email(_environment(), template, context, locale)
        except (jinja2.TemplateNotFound, jinja2.UndefinedError):
            # No e-mail of its own, or one that needs more than order facts: the generic one.
            subject, text, html = render_email(_environment(), GENERIC_TEMPLATE, context, locale)
    email = OutgoingEmail(
        to=[address],
        subject=subject,
        text=text,
        html=html,
        attachments=tuple(attachments),
        message_id=stable_message_id("outbox", message.id, address),
    )
    return deliver_email(email)


def stable_message_id(kind: str, key: object, address: str) -> str:
    """Return a Message-ID that is the same on every attempt for one recipient.

    Mail systems drop a rare duplicate (a worker killed after sending, before recording) by it.
    """
    settings = current_app.config["FIELDWORK_SETTINGS"]
    domain = settings.base_url.split("//")[-1].split("/")[0].split(":")[0] or "localhost"
    return f"<{kind}-{key}-{hashlib.sha256(address.encode()).hexdigest()[:12]}@{domain}>"


def deliver_email(email: OutgoingEmail) -> tuple[str, str | None]:
    """Send ``email`` over the configured SMTP server (or into ``instance/outbox/``).

    Returns the delivery status and Message-ID; SMTP trouble worth retrying raises RetryLater.
    """
    settings = current_app.config["FIELDWORK_SETTINGS"]
    try:
        message_id = send_email(
            email,
            smtp_url=settings.smtp_url,
            mail_from=settings.mail_from,
            outbox_dir=Path(settings.instance_path) / "outbox",
        )
    except EmailError as error:
        if error.retryable:
            raise RetryLater(f"SMTP: {error}") from error
        return "failed", str(error)[:255]
    return "sent", message_id
