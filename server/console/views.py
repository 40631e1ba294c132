"""Console pages: sign in and out, the dashboard, the profile and the workflow diagram."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response as FlaskResponse
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_timezone, refresh
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from server.auth.console_sessions import end_console_session, start_console_session
from server.auth.permissions import Capability, can, work_orders_scope
from server.console import bp
from server.console.app_link import app_link
from server.console.forms import LoginForm, LogoutForm, PasswordForm, ProfileForm
from server.console.helpers import deadline_condition, locale_code, office_only
from server.extensions import client_address, db, limiter
from server.logs import security_event
from server.models import User, WorkOrder
from server.models.base import utcnow
from server.services.errors import InvalidInput
from server.services.users import authenticate_user, change_password
from server.services.workflow_registry import definition_for
from workflows.graph import to_svg


def _failed_login(response: Response) -> bool:
    return request.method == "POST" and response.status_code == 200


def _login_username() -> str:
    return "user:" + (request.form.get("username") or "?").strip().lower()[:64]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10/minute", key_func=client_address, deduct_when=_failed_login, methods=["POST"])
@limiter.limit("10/minute", key_func=_login_username, deduct_when=_failed_login, methods=["POST"])
def login() -> Response | str:
    """Show the sign-in form and sign the user in."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = authenticate_user(form.username.data or "", form.password.data or "")
        if user is not None:
            start_console_session(user)
            login_user(user)
            db.session.commit()
            security_event("auth.login.success", user_id=user.id, username=user.username)
            return redirect(url_for("console.dashboard"))
        db.session.commit()
        security_event("auth.login.failure", username=form.username.data)
        error = _("Wrong username or password.")
    return render_template("console/auth/login.html", form=form, error=error)


@bp.post("/logout")
def logout() -> Response:
    """Sign out and end the session on the server."""
    if LogoutForm().validate_on_submit():
        security_event("auth.logout", user_id=getattr(current_user, "id", None))
        end_console_session()
        logout_user()
        db.session.commit()
    return redirect(url_for("console.login"))


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """Return the UTC instants where ``day`` starts and ends in the user's time zone."""
    zone = ZoneInfo(str(get_timezone()))
    start = datetime.combine(day, time.min, zone)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def local_today() -> date:
    """Return today's date in the user's time zone."""
    return utcnow().astimezone(ZoneInfo(str(get_timezone()))).date()


@bp.get("/")
@login_required
def dashboard() -> str | tuple[str, int]:
    """Show open orders by state, deadlines at risk and breached, the queue, today's jobs."""
    if not can(current_user, Capability.CONSOLE_USE):
        return render_template(
            "console/dashboard/technician.html",
            logout_form=LogoutForm(),
            app_link=app_link(_("QR code: the technicians’ app")),
        ), 403
    now = utcnow()
    open_orders = WorkOrder.closed_at.is_(None)
    rows = db.session.execute(
        select(WorkOrder.workflow_name, WorkOrder.state, func.count())
        .where(open_orders)
        .group_by(WorkOrder.workflow_name, WorkOrder.state)
    ).all()
    by_state: dict[str, int] = {}
    for workflow, state, count in rows:
        try:
            label = definition_for(workflow).states[state].labels.text(locale_code())
        except (KeyError, LookupError, ValueError):
            label = state
        by_state[label] = by_state.get(label, 0) + count

    def count(condition: object) -> int:
        return int(db.session.scalar(select(func.count()).where(condition)) or 0)  # type: ignore[arg-type]

    breached = count(deadline_condition("breached", now))
    at_risk = count(deadline_condition("at_risk", now))
    unassigned = count(open_orders & WorkOrder.assignee_id.is_(None))
    start, end = local_day_bounds(local_today())
    today = db.session.execute(
        select(User.id, User.display_name, func.count(WorkOrder.id))
        .join(WorkOrder, WorkOrder.assignee_id == User.id)
        .where(WorkOrder.scheduled_start_at >= start, WorkOrder.scheduled_start_at < end)
        .group_by(User.id, User.display_name)
        .order_by(func.count(WorkOrder.id).desc(), User.display_name)
    ).all()
    chart = _thirty_days(now)
    return render_template(
        "console/dashboard/index.html",
        by_state=sorted(by_state.items(), key=lambda item: -item[1]),
        breached=breached,
        at_risk=at_risk,
        unassigned=unassigned,
        today=today,
        chart_json=json.dumps(chart, ensure_ascii=False),
        chart=chart,
    )


def local_date(column: Any) -> Any:
    """Return SQL for the calendar date of a UTC timestamp column in the user's time zone."""
    zone = str(get_timezone())
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(zone, column))
    # SQLite stores naive UTC: shift by the zone's current offset (no DST in most of China).
    offset = utcnow().astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)
    return func.date(column, f"{int(offset.total_seconds() // 60):+d} minutes")


def _per_day(column: Any, since: datetime) -> dict[object, int]:
    day = local_date(column)
    return dict(
        db.session.execute(  # type: ignore[arg-type]
            select(day, func.count()).where(column >= since).group_by(day)
        ).all()
    )


def _thirty_days(now: datetime) -> dict[str, object]:
    today = local_today()
    since, _end = local_day_bounds(today - timedelta(days=29))
    created = _per_day(WorkOrder.created_at, since)
    closed = _per_day(WorkOrder.closed_at, since)
    days = [today - timedelta(days=offset) for offset in range(29, -1, -1)]

    def value(table: dict[object, int], day: date) -> int:
        return int(table.get(day, table.get(day.isoformat(), 0)))

    return {
        "labels": [day.isoformat()[5:] for day in days],
        "datasets": [
            {"label": _("Opened"), "data": [value(created, d) for d in days]},
            {"label": _("Closed"), "data": [value(closed, d) for d in days]},
        ],
    }


@bp.get("/work-orders/<int:order_id>/workflow.svg")
@office_only
def work_order_workflow_svg(order_id: int) -> FlaskResponse:
    """Draw the order's workflow with its current state highlighted."""
    order = db.session.scalar(work_orders_scope(current_user).where(WorkOrder.id == order_id))
    if order is None:
        abort(404)
    definition = definition_for(order.workflow_name, order.workflow_version)
    svg = to_svg(definition, current=order.state, locale=locale_code())
    return FlaskResponse(svg, mimetype="image/svg+xml")


@bp.get("/workflows/<name>.svg")
@office_only
def workflow_svg(name: str) -> FlaskResponse:
    """Draw a workflow definition (newest version) for the admin pages."""
    try:
        definition = definition_for(name)
    except (KeyError, LookupError, ValueError):
        abort(404)
    return FlaskResponse(to_svg(definition, locale=locale_code()), mimetype="image/svg+xml")


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile() -> Response | str | tuple[str, int]:
    """Change the interface language, the time zone or the password."""
    form = ProfileForm(prefix="profile", obj=None)
    password_form = PasswordForm(prefix="password")
    status = 200
    if request.method == "GET":
        form.locale.data = current_user.locale
        form.timezone.data = current_user.timezone or ""
    elif "profile-submit" in request.form:
        if form.validate_on_submit():
            current_user.locale = form.locale.data
            current_user.timezone = form.timezone.data or None
            db.session.commit()
            refresh()  # say it in the language just chosen
            flash(_("Your settings are saved."), "ok")
            return redirect(url_for("console.profile"))
        status = 422
    elif "password-submit" in request.form:
        if password_form.validate_on_submit():
            try:
                change_password(
                    current_user,
                    password_form.current_password.data or "",
                    password_form.new_password.data or "",
                )
                errors: dict[str, list[str]] = {}
            except InvalidInput as error:
                errors = {
                    name: [_(message) for message in messages]
                    for name, messages in error.details["errors"].items()
                }
            if not errors:
                # Every session ended, this one too: start a fresh one for this browser.
                user = current_user._get_current_object()
                start_console_session(user)
                login_user(user)
                db.session.commit()
                flash(_("Your password is changed; other sessions are signed out."), "ok")
                return redirect(url_for("console.profile"))
            for name, messages in errors.items():
                getattr(password_form, name).errors = list(messages)
        status = 422
    return render_template(
        "console/profile/edit.html", form=form, password_form=password_form
    ), status
