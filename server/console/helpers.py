"""What every console page shares: the office-only guard, formatting and deadline status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from babel.dates import format_datetime as babel_format_datetime
from flask import abort, make_response, request, url_for
from flask_babel import format_date, format_decimal, format_time, get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import ColumnElement, and_, func, literal, or_, select

from server.auth.permissions import Capability, can
from server.console import bp
from server.extensions import db
from server.logs import security_event
from server.models import Role, WorkOrder, WorkOrderEvent
from server.models.base import utcnow
from server.models.work_orders import DEADLINE_CLOCKS
from server.services.workflow_registry import definition_for

F = TypeVar("F", bound=Callable[..., Any])

#: Share of a deadline's limit after which an order counts as at risk.
AT_RISK_SHARE = 0.8


def _signed_in(view: F) -> F:
    """Like ``login_required``, but a poll from htmx gets 401 and a redirect header.

    Without this an expired session would swap the login page into the polled fragment.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated and request.headers.get("HX-Request"):
            response = make_response("", 401)
            response.headers["HX-Redirect"] = url_for("console.login")
            return response
        return login_required(view)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def office_only(view: F) -> F:
    """Let signed-in office staff in (dispatchers, managers, admins); others get 403."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not can(current_user, Capability.CONSOLE_USE):
            security_event("authz.denied", reason=Capability.CONSOLE_USE)
            abort(403)
        return view(*args, **kwargs)

    return _signed_in(wrapper)  # type: ignore[arg-type]


def admin_only(view: F) -> F:
    """Let admins in; everybody else gets 403."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not can(current_user, Capability.USERS_MANAGE):
            security_event("authz.denied", reason=Capability.USERS_MANAGE)
            abort(403)
        return view(*args, **kwargs)

    return login_required(wrapper)  # type: ignore[return-value]


def locale_code() -> str:
    """Return ``zh_CN`` or ``en`` for the signed-in user."""
    locale = getattr(current_user, "locale", "en") or "en"
    return "zh_CN" if locale.startswith("zh") else "en"


def state_label(order: WorkOrder) -> str:
    """Return the order's state in the user's language."""
    try:
        definition = definition_for(order.workflow_name, order.workflow_version)
        return definition.states[order.state].labels.text(locale_code())
    except (KeyError, LookupError, ValueError):
        return order.state


def state_category(order: WorkOrder) -> str:
    """Return the state's category (new, active, waiting, done, cancelled)."""
    try:
        definition = definition_for(order.workflow_name, order.workflow_version)
        return definition.states[order.state].category
    except (KeyError, LookupError, ValueError):
        return "active"


# --- Deadlines --------------------------------------------------------------------------------


def clock_status(order: WorkOrder, clock: str, now: datetime) -> str:
    """Return ``met``, ``breached``, ``at_risk``, ``ok`` or ``none`` for one deadline clock."""
    due = getattr(order, f"{clock}_by")
    if due is None:
        return "none"
    met = getattr(order, f"{clock}_met_at")
    if met is not None:
        return "breached" if met > due else "met"
    if order.closed_at is not None:
        return "none"
    if now >= due or getattr(order, f"{clock}_breached_at") is not None:
        return "breached"
    start = order.created_at
    if start and due > start and (now - start) >= (due - start) * AT_RISK_SHARE:
        return "at_risk"
    return "ok"


def deadline_status(order: WorkOrder, now: datetime | None = None) -> str:
    """Return the worst status of the order's open clocks (the row colour)."""
    now = now or utcnow()
    statuses = {clock_status(order, clock, now) for clock in DEADLINE_CLOCKS}
    for status in ("breached", "at_risk", "ok"):
        if status in statuses:
            return status
    return "none"


def _epoch(column: Any) -> ColumnElement[Any]:
    """Seconds of a timestamp column, on SQLite (naive UTC text) and PostgreSQL."""
    if db.session.get_bind().dialect.name == "sqlite":
        return (func.julianday(column) * 86400.0).label(None)
    return func.extract("epoch", column)


def deadline_condition(status: str, now: datetime | None = None) -> ColumnElement[bool]:
    """Return the SQL condition of ``status`` (``breached``, ``at_risk``, ``ok``) on open orders."""
    now = now or utcnow()
    is_open = WorkOrder.closed_at.is_(None)
    breached = []
    at_risk = []
    for clock in DEADLINE_CLOCKS:
        due = getattr(WorkOrder, f"{clock}_by")
        unmet = getattr(WorkOrder, f"{clock}_met_at").is_(None)
        breached.append(and_(unmet, due.is_not(None), due <= now))
        # elapsed >= 80% of limit  ⇔  now - created >= 0.8 (due - created)
        now_epoch = _epoch(literal(now, type_=WorkOrder.created_at.type))
        at_risk.append(
            and_(
                unmet,
                due.is_not(None),  # a NULL would make the negation NULL too
                due > now,
                now_epoch - _epoch(WorkOrder.created_at)
                >= (_epoch(due) - _epoch(WorkOrder.created_at)) * AT_RISK_SHARE,
            )
        )
    if status == "breached":
        return and_(is_open, or_(*breached))
    if status == "at_risk":
        return and_(is_open, ~or_(*breached), or_(*at_risk))
    return and_(is_open, ~or_(*breached), ~or_(*at_risk))


def countdown(due: datetime | None, now: datetime | None = None) -> str:
    """Return ``3 h 20 min left`` or ``overdue by 1 h 5 min``, in the user's language."""
    if due is None:
        return ""
    now = now or utcnow()
    delta = due - now
    late = delta < timedelta(0)
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        amount = _("%(days)d d %(hours)d h", days=days, hours=hours)
    elif hours:
        amount = _("%(hours)d h %(minutes)d min", hours=hours, minutes=mins)
    else:
        amount = _("%(minutes)d min", minutes=mins)
    return (
        _("overdue by %(amount)s", amount=amount) if late else _("%(amount)s left", amount=amount)
    )


def change_counter() -> int:
    """Return a number that grows whenever any work order changes (its newest event id).

    Every change to an order appends an event in the same transaction, so pollers compare
    this one indexed MAX to know whether anything moved; nothing else is read.
    """
    return int(db.session.scalar(select(func.max(WorkOrderEvent.id))) or 0)


def _fmt_dt(value: datetime | None, style: str = "short") -> str:
    """Format an aware datetime in the user's zone and language (babel, fewer lookups)."""
    if value is None:
        return ""
    return babel_format_datetime(value, style, tzinfo=get_timezone(), locale=get_locale())


def nav_reports() -> bool:
    """Return True when the reports page is installed and the user may see it."""
    from flask import current_app

    capability = getattr(Capability, "REPORTS_VIEW", None)
    return (
        "console.reports" in current_app.view_functions
        and capability is not None
        and current_user.is_authenticated
        and can(current_user, capability)
    )


def demo_accounts_warning() -> int:
    """Return how many demo accounts (published password) are active, for admins; else 0."""
    if not (current_user.is_authenticated and current_user.role == Role.ADMIN):
        return 0
    from server.services.users import count_users

    return count_users({"is_demo": True, "is_active": True})


@bp.app_context_processor
def _console_helpers() -> dict[str, Any]:
    return {
        "demo_accounts_warning": demo_accounts_warning,
        "priority_labels": {
            "emergency": _("Emergency"),
            "high": _("High"),
            "normal": _("Normal"),
            "low": _("Low"),
        },
        "fmt_dt": _fmt_dt,
        "fmt_date": lambda value, style="medium": format_date(value, style) if value else "",
        "fmt_time": lambda value, style="short": format_time(value, style) if value else "",
        "fmt_num": lambda value: format_decimal(value) if value is not None else "",
        "state_label": state_label,
        "deadline_status": deadline_status,
        "countdown": countdown,
        "locale_code": locale_code,
        "nav_reports": nav_reports,
    }
