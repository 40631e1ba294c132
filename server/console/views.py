"""Console pages: sign in and out, and the dashboard."""

from __future__ import annotations

from flask import Response as FlaskResponse
from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from server.auth.console_sessions import end_console_session, start_console_session
from server.auth.permissions import Capability, can, work_orders_scope
from server.console import bp
from server.console.forms import LoginForm, LogoutForm
from server.extensions import client_address, db, limiter
from server.models import WorkOrder
from server.models.base import utcnow
from server.services.users import authenticate_user
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
            return redirect(url_for("console.dashboard"))
        db.session.commit()
        error = _("Wrong username or password.")
    return render_template("console/auth/login.html", form=form, error=error)


@bp.post("/logout")
def logout() -> Response:
    """Sign out and end the session on the server."""
    if LogoutForm().validate_on_submit():
        end_console_session()
        logout_user()
        db.session.commit()
    return redirect(url_for("console.login"))


@bp.get("/")
@login_required
def dashboard() -> str | tuple[str, int]:
    """Show open orders by state, breached deadlines and the unassigned queue."""
    if not can(current_user, Capability.CONSOLE_USE):
        return render_template("console/dashboard/technician.html", logout_form=LogoutForm()), 403
    open_orders = WorkOrder.closed_at.is_(None)
    by_state = db.session.execute(
        select(WorkOrder.state, func.count())
        .where(open_orders)
        .group_by(WorkOrder.state)
        .order_by(func.count().desc())
    ).all()
    now = utcnow()
    breached = db.session.scalar(
        select(func.count()).where(
            open_orders, WorkOrder.resolve_met_at.is_(None), WorkOrder.resolve_by < now
        )
    )
    unassigned = db.session.scalar(
        select(func.count()).where(open_orders, WorkOrder.assignee_id.is_(None))
    )
    return render_template(
        "console/dashboard/index.html",
        by_state=by_state,
        breached=breached,
        unassigned=unassigned,
        logout_form=LogoutForm(),
    )


@bp.get("/work-orders/<int:order_id>/workflow.svg")
@login_required
def work_order_workflow_svg(order_id: int) -> FlaskResponse:
    """Draw the order's workflow with its current state highlighted."""
    if not can(current_user, Capability.CONSOLE_USE):
        abort(404)
    order = db.session.scalar(work_orders_scope(current_user).where(WorkOrder.id == order_id))
    if order is None:
        abort(404)
    definition = definition_for(order.workflow_name, order.workflow_version)
    locale = "zh_CN" if current_user.locale.startswith("zh") else "en"
    svg = to_svg(definition, current=order.state, locale=locale)
    return FlaskResponse(svg, mimetype="image/svg+xml")
