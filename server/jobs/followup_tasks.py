"""Follow-up tasks: schedule the survey a workflow asks for, and e-mail it when due.

``schedule_followup`` (a workflow action, written to the outbox on completion) creates the
survey due the next working day; the ``followups.send_surveys`` periodic job hands due
surveys to the outbox as ``send_survey`` messages, which e-mail the invitation, once, in
the customer's language, with a fresh link to the customer page.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from zoneinfo import ZoneInfo

import jinja2
from flask import current_app
from sqlalchemy import select

from server.extensions import db
from server.jobs.mail import deliver_email, stable_message_id
from server.jobs.relay import PermanentFailure, deliver_once, task
from server.models import Contact, OutboxMessage, Survey, WorkOrder
from server.notify.email import (
    OutgoingEmail,
    create_email_environment,
    render_email,
)
from server.services.customer_portal import issue_customer_link
from server.services.customers import wants_messages_by
from server.services.surveys import (
    NextWorkingDay,
    plan_key_customer_calls,
    schedule_followup,
    send_due_surveys,
    weekday_after,
)

#: The working-day rule follow-ups use; the business calendars replace it when installed.
NEXT_WORKING_DAY: NextWorkingDay = weekday_after


@functools.cache
def _environment() -> jinja2.Environment:
    return create_email_environment()


def _language(locale: str | None) -> str:
    return "zh_CN" if (locale or "").startswith("zh") else "en"


@task("schedule_followup")
def schedule_followup_task(message: OutboxMessage) -> None:
    """Create the survey (or call-back) the completed order's workflow asked for."""
    order = db.session.get(WorkOrder, message.work_order_id) if message.work_order_id else None
    if order is None:
        raise PermanentFailure("the work order no longer exists")
    params = message.payload.get("params", {})
    settings = current_app.config["FIELDWORK_SETTINGS"]
    schedule_followup(
        order,
        after=params.get("after"),
        template=params.get("template"),
        timezone=settings.timezone,
        next_working_day=NEXT_WORKING_DAY,
    )


def _format_day(day: date, language: str) -> str:
    if language == "zh_CN":
        return f"{day.year}年{day.month}月{day.day}日"
    return day.strftime("%d %B %Y").lstrip("0")


@task("send_survey")
def send_survey(message: OutboxMessage) -> None:
    """E-mail one survey invitation to the customer's primary contact, once."""
    survey = db.session.get(Survey, message.payload.get("survey_id"))
    if survey is None:
        raise PermanentFailure("the survey no longer exists")
    order = survey.work_order
    contacts = db.session.scalars(
        select(Contact).where(Contact.customer_id == order.customer_id).order_by(Contact.id)
    ).all()
    with_email = [c for c in contacts if c.email]
    primary = [c for c in with_email if c.is_primary] or with_email
    if not primary:
        return  # no address: the customer page shows the survey all the same
    contact = primary[0]
    address = str(contact.email)
    settings = current_app.config["FIELDWORK_SETTINGS"]
    language = _language(order.customer.preferred_locale)

    def send() -> tuple[str, str | None]:
        if not wants_messages_by(order.customer, "email"):
            return "refused", f"the customer prefers {order.customer.preferred_channel.value}"
        link = issue_customer_link(order, None)
        completed = (order.completed_at or survey.created_at).astimezone(
            ZoneInfo(settings.timezone)
        )
        context = {
            "customer_name": contact.name or order.customer.name,
            "order_number": order.number,
            "title": order.title,
            "completed_on": _format_day(completed.date(), language),
            "survey_url": f"{settings.base_url}{link.path}#survey",
            # The company the customer dealt with (FIELDWORK_COMPANY_NAME), as on the sheet.
            "company_name": settings.company_name,
        }
        subject, text, html = render_email(_environment(), survey.template, context, language)
        email = OutgoingEmail(
            to=[address],
            subject=subject,
            text=text,
            html=html,
            message_id=stable_message_id("survey", survey.id, address),
            headers={"Auto-Submitted": "auto-generated"},
        )
        return deliver_email(email)

    deliver_once(message, "email", address, send)


# --- Periodic jobs (listed in server.jobs.scheduler.JOBS) -----------------------------------


def send_surveys_job(now: datetime) -> int:
    """Hand the surveys due now to the outbox."""
    return send_due_surveys(now)


def plan_calls_job(now: datetime) -> int:
    """Plan the coming key-customer calls."""
    settings = current_app.config["FIELDWORK_SETTINGS"]
    return plan_key_customer_calls(now.astimezone(ZoneInfo(settings.timezone)).date())
