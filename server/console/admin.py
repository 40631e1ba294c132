"""Admin pages: users and roles, categories, workflows (read-only), outbox and dead letters."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from server.console import bp
from server.console.forms import RedriveForm, UserActiveForm
from server.console.helpers import admin_only, locale_code
from server.extensions import db
from server.models import Category, Delivery, OutboxMessage, OutboxStatus, User, WorkOrder
from server.models.base import utcnow
from server.models.deadlines import BusinessCalendar, CalendarDay, DeadlinePolicy
from server.services.errors import InvalidInput
from server.services.outbox import redrive_message
from server.services.users import set_user_active
from workflows import check_directory, default_definitions_dir, format_problems


@bp.get("/admin")
@admin_only
def admin_index() -> str:
    """Show users and roles, categories, workflows and the outbox."""
    users = db.session.scalars(select(User).order_by(User.role, User.username).limit(500)).all()
    categories = db.session.scalars(select(Category).order_by(Category.code)).all()
    problems = check_directory(default_definitions_dir())
    check_output = (
        format_problems(problems) if problems else _("All workflow definitions are valid.")
    )
    workflows = sorted({c.workflow_name for c in categories} | _definition_names())
    outbox = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    dead = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.DEAD)
        .order_by(OutboxMessage.id.desc())
        .limit(100)
    ).all()
    # The delivery log: what went out (or, without FCM credentials, was only recorded).
    deliveries = db.session.execute(
        select(Delivery, OutboxMessage.action, WorkOrder.number)
        .join(OutboxMessage, OutboxMessage.id == Delivery.outbox_message_id)
        .outerjoin(WorkOrder, WorkOrder.id == OutboxMessage.work_order_id)
        .order_by(Delivery.id.desc())
        .limit(100)
    ).all()
    return render_template(
        "console/admin/index.html",
        deliveries=deliveries,
        users=users,
        categories=categories,
        workflows=workflows,
        check_output=check_output,
        check_ok=not problems,
        outbox=[
            (str(status.value if hasattr(status, "value") else status), n)
            for status, n in outbox.items()
        ],
        dead=dead,
        locale=locale_code(),
        redrive_form=RedriveForm(),
        active_form=UserActiveForm(),
        deadlines=_deadline_settings(),
    )


def _deadline_settings() -> dict[str, object] | None:
    """Return deadline policies and calendars with their coming holidays."""
    today = utcnow().date()
    policies = db.session.scalars(
        select(DeadlinePolicy)
        .options(selectinload(DeadlinePolicy.calendar), selectinload(DeadlinePolicy.steps))
        .order_by(DeadlinePolicy.is_active.desc(), DeadlinePolicy.id)
        .limit(200)
    ).all()
    calendars = db.session.scalars(select(BusinessCalendar).order_by(BusinessCalendar.code)).all()
    days = db.session.scalars(
        select(CalendarDay)
        .where(CalendarDay.day >= today, CalendarDay.day <= today + timedelta(days=366))
        .order_by(CalendarDay.calendar_id, CalendarDay.day)
        .limit(500)
    ).all()
    by_calendar: dict[int, list[object]] = {}
    for day in days:
        by_calendar.setdefault(day.calendar_id, []).append(day)
    return {"policies": policies, "calendars": calendars, "days": by_calendar}


def _definition_names() -> set[str]:
    return {path.name.split(".")[0] for path in default_definitions_dir().glob("*.yaml")}


@bp.post("/admin/users/<int:user_id>/active")
@admin_only
def admin_user_active(user_id: int) -> Response:
    """Disable a user (signed out everywhere at once) or enable them again."""
    form = UserActiveForm()
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("console.admin_index") + "#users")
    active = form.active.data == "1"
    try:
        open_orders = set_user_active(user, active, current_user)
    except InvalidInput:
        db.session.rollback()
        flash(_("You cannot disable your own account."), "error")
        return redirect(url_for("console.admin_index") + "#users")
    db.session.commit()
    if active:
        flash(_("%(name)s can sign in again.", name=user.display_name), "ok")
    elif open_orders:
        flash(
            _(
                "%(name)s is disabled and signed out everywhere; %(count)d open orders are "
                "still assigned to them: hand them to someone else.",
                name=user.display_name,
                count=open_orders,
            ),
            "error",
        )
    else:
        flash(_("%(name)s is disabled and signed out everywhere.", name=user.display_name), "ok")
    return redirect(url_for("console.admin_index") + "#users")


@bp.post("/admin/outbox/<int:message_id>/redrive")
@admin_only
def admin_redrive(message_id: int) -> Response:
    """Give a dead outbox message a fresh set of attempts."""
    if not RedriveForm().validate_on_submit():
        abort(400)
    redriven = redrive_message(message_id)
    db.session.commit()
    if redriven:
        flash(_("Message %(id)d will be tried again.", id=message_id), "ok")
    else:
        flash(_("Message %(id)d is not a dead letter.", id=message_id), "error")
    return redirect(url_for("console.admin_index") + "#outbox")
