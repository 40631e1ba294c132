"""The ``request_completion_sheet`` task: render, sign and store the sheet, e-mail it.

Runs in the background worker (never in a web request): WeasyPrint is imported on the first
sheet and stays loaded in the long-lived worker. The sheet is committed before any e-mail
goes out, so a retry after a failed e-mail reuses the stored sheet rather than issuing
another; each contact gets the e-mail once per outbox message (``deliver_once``).
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from server.extensions import db
from server.jobs.relay import PermanentFailure, RetryLater, deliver_once, task
from server.models import Contact, OutboxMessage, WorkOrder, WorkOrderEvent
from server.notify.email import Attachment
from server.services.completion_sheets import (
    ACTION,
    completion_event,
    customer_page_url,
    issue_completion_sheet,
    sheet_bytes,
    sheet_filename,
    verify_url,
)
from server.storage import StorageError


def customer_addresses(order: WorkOrder) -> list[tuple[str, str]]:
    """Return ``(address, name)`` of the contacts who get the sheet: the primary ones."""
    contacts = db.session.scalars(
        select(Contact).where(Contact.customer_id == order.customer_id).order_by(Contact.id)
    ).all()
    with_email = [c for c in contacts if c.email]
    primary = [c for c in with_email if c.is_primary] or with_email[:1]
    return [(c.email, c.name) for c in primary if c.email]


@task(ACTION)
def request_completion_sheet(message: OutboxMessage) -> None:
    """Issue the completion sheet of the message's completion and e-mail it to the customer."""
    from pdf.labels import language_of
    from pdf.render_process import RenderFailed
    from pdf.sheet import format_time
    from pdf.signing import SigningError

    order = db.session.get(WorkOrder, message.work_order_id) if message.work_order_id else None
    if order is None:
        raise PermanentFailure("the work order no longer exists")
    event_id = message.payload.get("completion_event_id") or message.event_id
    completion = db.session.get(WorkOrderEvent, event_id) if event_id else None
    if completion is None or completion.work_order_id != order.id:
        completion = completion_event(order)
    if completion is None:
        raise PermanentFailure("the work order has no completion to record")
    settings = current_app.config["FIELDWORK_SETTINGS"]
    store = current_app.extensions["fieldwork.blob_store"]
    try:
        sheet = issue_completion_sheet(order, completion, store, settings)
        db.session.commit()
        data = sheet_bytes(sheet, store)
    except (StorageError, SigningError, RenderFailed) as error:
        raise RetryLater(f"completion sheet: {error}") from error
    language = language_of(order.customer.preferred_locale)
    report_text = completion.data.get("resolution_note") or ""
    attachment = Attachment(sheet_filename(sheet), "application/pdf", data)
    from server.jobs.mail import send_order_email
    from server.services.field_reports import current_report, parts_of

    report = current_report(order)
    summary = (report.work_notes if report and report.work_notes else "") or report_text
    addresses = customer_addresses(order)
    context: dict[str, Any] = {
        "customer_name": order.customer.name,
        "completed_at": format_time(
            completion.occurred_at.isoformat(), settings.timezone, language
        ),
        "summary": summary or order.title,
        "work_items": [
            f"{p.part_number} {p.description or ''} × {p.quantity}".strip() for p in parts_of(order)
        ],
        "attachment_name": attachment.filename,
        # A fresh link to the customer's own page; none when nobody is e-mailed.
        "job_url": customer_page_url(order) if addresses else None,
        "rating_url": None,
        "verify_url": verify_url(settings, sheet.document_id),
        "company_name": settings.company_name,
    }
    for address, name in addresses:
        deliver_once(
            message,
            "email",
            address,
            lambda address=address, name=name: send_order_email(
                message,
                order,
                address,
                language,
                "completion_sheet",
                name,
                context={**context, "customer_name": name or order.customer.name},
                attachments=[attachment],
                for_customer=True,
            ),
        )
