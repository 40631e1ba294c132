"""The daily digest e-mail: queued once a day for each office user who wants it."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import jinja2
from flask import current_app
from sqlalchemy import select

from server.extensions import db
from server.jobs.mail import deliver_email, stable_message_id
from server.jobs.relay import PermanentFailure, deliver_once, task
from server.models import OutboxMessage, Role, User
from server.notify.email import (
    OutgoingEmail,
    create_email_environment,
    render_email,
)
from server.services.digest import daily_summary
from server.services.notification_preferences import wanting

#: Who gets the digest (if their preferences say so).
RECIPIENT_ROLES = (Role.DISPATCHER, Role.MANAGER, Role.ADMIN)


@functools.cache
def _environment() -> jinja2.Environment:
    return create_email_environment()


def queue_daily_digests(now: datetime) -> int:
    """Write one ``digest`` outbox row per office user who wants it; return how many."""
    users = db.session.scalars(
        select(User).where(
            User.role.in_(RECIPIENT_ROLES), User.is_active.is_(True), User.email.is_not(None)
        )
    ).all()
    chosen = wanting(users, "daily_digest", "email")
    db.session.add_all(
        OutboxMessage(
            action="digest", payload={"user_id": user.id}, created_at=now, available_at=now
        )
        for user in chosen
    )
    return len(chosen)


@task("digest")
def send_digest(message: OutboxMessage) -> None:
    """E-mail the digest, with the figures as they are when it is sent."""
    user = db.session.get(User, message.payload.get("user_id"))
    if user is None or not user.is_active or not user.email:
        return
    settings = current_app.config["FIELDWORK_SETTINGS"]
    zone = ZoneInfo(user.timezone or settings.timezone)
    now = datetime.now(zone)
    day_end = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    locale = "zh_CN" if (user.locale or "").startswith("zh") else "en"
    summary = daily_summary(now, day_end, locale)
    context = {
        "recipient_name": user.display_name,
        "day": now.date().isoformat(),
        "summary": summary,
        "console_url": f"{settings.base_url}/",
    }
    address = user.email

    def send() -> tuple[str, str | None]:
        try:
            subject, text, html = render_email(_environment(), "daily_digest", context, locale)
        except jinja2.TemplateError as error:
            raise PermanentFailure(f"digest template: {error}") from error
        email = OutgoingEmail(
            to=[address],
            subject=subject,
            text=text,
            html=html,
            message_id=stable_message_id("outbox", message.id, address),
        )
        return deliver_email(email)

    deliver_once(message, "email", address, send)
